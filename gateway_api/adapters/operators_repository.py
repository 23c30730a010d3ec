from __future__ import annotations

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from gateway_api.adapters.tables import operators
from gateway_api.domain.operators import Operator
from gateway_api.use_cases.ports import NameTaken, OperatorRepository


class SqlOperators(OperatorRepository):
    def __init__(self, engine: Engine):
        self._engine = engine

    def add(self, operator: Operator) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    operators.insert().values(
                        id=operator.id, name=operator.name, **_mutable(operator), created_at=operator.created_at
                    )
                )
        except IntegrityError:
            raise NameTaken(operator.name) from None

    def get(self, operator_id: str) -> Operator | None:
        return self._one(operators.c.id == operator_id)

    def get_by_name(self, name: str) -> Operator | None:
        return self._one(operators.c.name == name)

    def every_operator(self) -> list[Operator]:
        with self._engine.connect() as connection:
            return [_operator(row) for row in connection.execute(select(operators).order_by(operators.c.name))]

    def save(self, operator: Operator) -> None:
        with self._engine.begin() as connection:
            connection.execute(update(operators).where(operators.c.id == operator.id).values(**_mutable(operator)))

    def _one(self, condition) -> Operator | None:
        with self._engine.connect() as connection:
            row = connection.execute(select(operators).where(condition)).first()
        return _operator(row) if row else None


def _mutable(operator: Operator) -> dict:
    return {
        "credential_hash": operator.credential_hash,
        "expires_at": operator.expires_at,
        "disabled_at": operator.disabled_at,
        "totp_secret": operator.totp_secret,
        "totp_required": operator.totp_required,
    }


def _operator(row) -> Operator:
    return Operator(
        row.id,
        row.name,
        row.credential_hash,
        row.created_at,
        row.expires_at,
        row.disabled_at,
        row.totp_secret,
        bool(row.totp_required),
    )
