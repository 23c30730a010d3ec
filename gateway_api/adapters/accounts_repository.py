from __future__ import annotations

import threading
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
    repository drop their entry (and a lookup that overlapped a change is not kept). Unknown ids are
    remembered too (a flood of bad ids stays off the database); at most ``max_entries`` are kept, the
    cache starts over when full.

    When an entry expires, one lookup refreshes it and the requests that ask meanwhile wait for that
    one instead of each reading the row: a worker's 16 threads all found the entry expired at once
    and read it together, twice a second per merchant (~4% of the API's CPU on MariaDB under load).
    """

    def __init__(self, inner: AccountRepository, ttl: float, clock=time.monotonic, max_entries: int = 10_000):
        self._inner = inner
        self._ttl = ttl
        self._clock = clock
        self._max_entries = max_entries
        self._entries: dict[str, tuple[float, Account | None]] = {}
        self._lock = threading.Lock()  # guards _lookups, _changes and writes to _entries
        self._lookups: dict[str, _Lookup] = {}  # the lookups under way, by id: at most one each
        self._changes = 0  # changes made through here so far

    def get(self, account_id: str) -> Account | None:
        entry = self._entries.get(account_id)
        if entry is not None and self._clock() < entry[0]:
            return entry[1]
        with self._lock:
            lookup = self._lookups.get(account_id)
            leads = lookup is None
            if lookup is None:
                lookup = self._lookups[account_id] = _Lookup(self._changes)
        if leads:
            return self._look_up(account_id, lookup)
        lookup.done.wait()
        if lookup.succeeded:
            return lookup.account
        # That lookup failed (the database is down...): this request tries once on its own, and fails on its own.
        return self._inner.get(account_id)

    def _look_up(self, account_id: str, lookup: "_Lookup") -> Account | None:
        try:
            lookup.account = self._inner.get(account_id)
            lookup.succeeded = True
        finally:
            with self._lock:
                del self._lookups[account_id]
                if lookup.succeeded and lookup.changes == self._changes:  # no change since it started
                    if len(self._entries) >= self._max_entries:
                        self._entries.clear()
                    self._entries[account_id] = (self._clock() + self._ttl, lookup.account)
            lookup.done.set()
        return lookup.account

    def _changed(self, account_id: str) -> None:
        with self._lock:
            self._changes += 1
            self._entries.pop(account_id, None)

    def add(self, account: Account) -> None:
        self._inner.add(account)
        self._changed(account.id)

    def every_account(self) -> list[Account]:
        return self._inner.every_account()

    def set_secret_hash(self, account_id: str, secret_hash: str) -> None:
        self._inner.set_secret_hash(account_id, secret_hash)
        self._changed(account_id)

    def disable(self, account_id: str) -> None:
        self._inner.disable(account_id)
        self._changed(account_id)

    def set_rate_limit(self, account_id: str, requests_per_second: int | None) -> None:
        self._inner.set_rate_limit(account_id, requests_per_second)
        self._changed(account_id)


class _Lookup:
    """One lookup of an account row, shared by the requests that asked while it ran."""

    def __init__(self, changes: int):
        self.changes = changes  # CachedAccounts._changes when it started
        self.done = threading.Event()
        self.succeeded = False
        self.account: Account | None = None
