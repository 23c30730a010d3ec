"""The accounts cache in front of the accounts repository: expiry, writes seen at once, bounded size."""

from dataclasses import replace
from datetime import datetime

from gateway_api.adapters.accounts_repository import CachedAccounts
from gateway_api.domain.accounts import Account, SecretHasher
from gateway_api.use_cases.ports import AccountRepository


def account(hasher, secret, disabled=False):
    return Account("acct_1", "Shop", hasher.digest(secret), datetime(2026, 1, 1), disabled)


class CountingAccounts(AccountRepository):
    """An in-memory repository that counts lookups (a fake of the port, for the cache in front of it)."""

    def __init__(self, *accounts):
        self.rows = {a.id: a for a in accounts}
        self.lookups = 0

    def add(self, account):
        self.rows[account.id] = account

    def get(self, account_id):
        self.lookups += 1
        return self.rows.get(account_id)

    def every_account(self):
        return list(self.rows.values())

    def set_secret_hash(self, account_id, secret_hash):
        self.rows[account_id] = replace(self.rows[account_id], secret_hash=secret_hash)

    def disable(self, account_id):
        self.rows[account_id] = replace(self.rows[account_id], disabled=True)

    def set_rate_limit(self, account_id, requests_per_second):
        self.rows[account_id] = replace(self.rows[account_id], rate_limit_per_second=requests_per_second)


def test_cached_lookups_expire_after_the_ttl_and_unknown_ids_are_cached_too():
    hasher, clock = SecretHasher("pepper"), [100.0]
    inner = CountingAccounts(account(hasher, "sk_1"))
    cached = CachedAccounts(inner, ttl=0.5, clock=lambda: clock[0])
    assert cached.get("acct_1") == cached.get("acct_1") and cached.get("nobody") is cached.get("nobody") is None
    assert inner.lookups == 2
    inner.disable("acct_1")  # changed behind the cache's back (another worker)
    clock[0] += 0.49
    assert not cached.get("acct_1").disabled
    clock[0] += 0.02
    assert cached.get("acct_1").disabled and inner.lookups == 3


def test_a_change_through_the_cache_is_seen_at_once():
    hasher = SecretHasher("pepper")
    cached = CachedAccounts(CountingAccounts(account(hasher, "sk_1")), ttl=0.5)
    assert not cached.get("acct_1").disabled
    cached.set_secret_hash("acct_1", hasher.digest("sk_2"))
    assert cached.get("acct_1").secret_hash == hasher.digest("sk_2")
    cached.disable("acct_1")
    assert cached.get("acct_1").disabled


def test_the_cache_keeps_a_bounded_number_of_entries():
    cached = CachedAccounts(CountingAccounts(), ttl=0.5, max_entries=10)
    for n in range(25):
        cached.get(f"acct_{n}")
    assert len(cached._entries) <= 10
