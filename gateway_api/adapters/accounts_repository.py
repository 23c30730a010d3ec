from __future__ import annotations

from sqlalchemy import Engine, select, update

from gateway_api.adapters.tables import accounts
from gateway_api.domain.accounts import Account
from gateway_api.use_cases.ports import AccountRepository


class SqlAccounts(AccountRepository):
    def __init__(self, engine: Engine):
        self._engine = engine

    def add(self, account: Account) -> None:
        with self._engine.begin() as connection:
            connection.execute(accounts.insert().values(
                id=account.id, name=account.name, secret_hash=account.secret_hash,
                disabled=account.disabled, created_at=account.created_at))

    def get(self, account_id: str) -> Account | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(accounts).where(accounts.c.id == account_id)).first()
        return _account(row) if row else None

    def list(self) -> list[Account]:
        with self._engine.connect() as connection:
            rows = connection.execute(select(accounts).order_by(accounts.c.created_at, accounts.c.id))
            return [_account(row) for row in rows]

    def set_secret_hash(self, account_id: str, secret_hash: str) -> None:
        self._update(account_id, secret_hash=secret_hash)

    def disable(self, account_id: str) -> None:
        self._update(account_id, disabled=True)

    def _update(self, account_id: str, **values) -> None:
        with self._engine.begin() as connection:
            connection.execute(update(accounts).where(accounts.c.id == account_id).values(**values))


def _account(row) -> Account:
    return Account(row.id, row.name, row.secret_hash, row.created_at, bool(row.disabled))
