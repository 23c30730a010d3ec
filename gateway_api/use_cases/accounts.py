"""Creating, rotating, disabling and authenticating merchant accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from gateway_api.domain.accounts import Account, IssuedSecret, SecretHasher, new_account_id, new_secret
from gateway_api.domain.errors import InvalidParameter, NotFound
from gateway_api.domain.rate_limits import MAX_REQUESTS_PER_SECOND, valid_override
from gateway_api.use_cases.ports import AccountRepository

MAX_NAME_LENGTH = 200


class Accounts:
    def __init__(self, repository: AccountRepository, hasher: SecretHasher, now: Callable[[], datetime]):
        self._repository = repository
        self._hasher = hasher
        self._now = now

    def create(self, name: str) -> IssuedSecret:
        name = name.strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidParameter(f"name must be 1 to {MAX_NAME_LENGTH} characters", param="name")
        secret = new_secret()
        account = Account(new_account_id(), name, self._hasher.digest(secret), self._now())
        self._repository.add(account)
        return IssuedSecret(account, secret)

    def rotate_secret(self, account_id: str) -> IssuedSecret:
        account = self.get(account_id)
        secret = new_secret()
        self._repository.set_secret_hash(account.id, self._hasher.digest(secret))
        return IssuedSecret(account, secret)

    def disable(self, account_id: str) -> Account:
        account = self.get(account_id)
        self._repository.disable(account.id)
        return self.get(account_id)

    def set_rate_limit(self, account_id: str, requests_per_second: int | None) -> Account:
        """The operator's override of the account's request rate; None goes back to the default."""
        if not valid_override(requests_per_second):
            raise InvalidParameter(
                f"rate_limit_per_second must be 1 to {MAX_REQUESTS_PER_SECOND} or null", param="rate_limit_per_second"
            )
        account = self.get(account_id)
        self._repository.set_rate_limit(account.id, requests_per_second)
        return self.get(account_id)

    def get(self, account_id: str) -> Account:
        account = self._repository.get(account_id)
        if account is None:
            raise NotFound("No such account.", param="id")
        return account

    def every_account(self) -> list[Account]:
        return self._repository.every_account()

    def authenticate(self, account_id: str, secret: str) -> Account | None:
        """The enabled account whose secret this is; the same None for every kind of failure."""
        account = self._repository.get(account_id) if len(account_id) <= 64 else None
        return account if self._hasher.verify(secret, account) else None
