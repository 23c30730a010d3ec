from __future__ import annotations

import time

from sqlalchemy import Engine, select, update

from gateway_api.adapters.tables import accounts
from gateway_api.domain.accounts import Account
from gateway_api.use_cases.ports import AccountRepository


class SqlAccounts(AccountRepository):
    def __init__(self, engine: Engine):
        self._engine = engine

    def add(self, account: Account) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                accounts.insert().values(
                    id=account.id,
                    name=account.name,
                    secret_hash=account.secret_hash,
                    disabled=account.disabled,
                    created_at=account.created_at,
                )
            )

    def get(self, account_id: str) -> Account | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(accounts).where(accounts.c.id == account_id)).first()
        return _account(row) if row else None

    def every_account(self) -> list[Account]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(accounts).order_by(accounts.c.created_at, accounts.c.id))
            return [_account(row) for row in rows]

    def set_secret_hash(self, account_id: str, secret_hash: str) -> None:
        self._update(account_id, secret_hash=secret_hash)

    def disable(self, account_id: str) -> None:
        self._update(account_id, disabled=True)

    def set_rate_limit(self, account_id: str, requests_per_second: int | None) -> None:
        self._update(account_id, rate_limit_per_second=requests_per_second)

    def _update(self, account_id: str, **values) -> None:
        with self._engine.begin() as connection:
            connection.execute(update(accounts).where(accounts.c.id == account_id).values(**values))


def _account(row) -> Account:
    return Account(row.id, row.name, row.secret_hash, row.created_at, bool(row.disabled), row.rate_limit_per_second)


class CachedAccounts(AccountRepository):
    """Account lookups remembered for at most ``ttl`` seconds, so authentication is not a DB read.

    Every request authenticates, and the account row almost never changes. A rotated secret or a
    disabled account is seen by this process once its entry is older than ``ttl`` (by every other
    worker too: each keeps its own cache), and at once here, since changes made through this
    repository drop their entry. Unknown ids are remembered too (a flood of bad ids stays off the
    database); at most ``max_entries`` are kept, the cache starts over when full.
    """

    def __init__(self, inner: AccountRepository, ttl: float, clock=time.monotonic, max_entries: int = 10_000):
        self._inner = inner
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, Account | None]] = {}

    def get(self, account_id: str) -> Account | None:
        now = self._clock()
        entry = self._entries.get(account_id)
        if entry is not None and now < entry[0]:
            return entry[1]
        account = self._inner.get(account_id)
        if len(self._entries) >= self._max_entries:
            self._entries.clear()
        self._entries[account_id] = (now + self._ttl, account)
        return account

    def add(self, account: Account) -> None:
        self._inner.add(account)
        self._entries.pop(account.id, None)

    def every_account(self) -> list[Account]:
        return self._inner.every_account()

    def set_secret_hash(self, account_id: str, secret_hash: str) -> None:
        self._inner.set_secret_hash(account_id, secret_hash)
        self._entries.pop(account_id, None)

    def disable(self, account_id: str) -> None:
        self._inner.disable(account_id)
        self._entries.pop(account_id, None)

    def set_rate_limit(self, account_id: str, requests_per_second: int | None) -> None:
        self._inner.set_rate_limit(account_id, requests_per_second)
        self._entries.pop(account_id, None)
