"""The accounts cache in front of the accounts repository: expiry, writes seen at once, bounded size,
one lookup for the requests that find an entry expired together."""

import threading
import time
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


class GatedAccounts(CountingAccounts):
    """Lookups that wait for ``gate`` (held by the test) and can be made to fail."""

    def __init__(self, *accounts):
        super().__init__(*accounts)
        self.gate = threading.Event()
        self.failing = False
        self.started = threading.Semaphore(0)

    def get(self, account_id):
        self.lookups += 1
        row = self.rows.get(account_id)  # read now; answered once the gate opens
        self.started.release()
        assert self.gate.wait(10), "the test never opened the gate"
        if self.failing:
            raise ConnectionError("the database is down")
        return row


def ask_concurrently(cached, count: int) -> tuple[list, list, list]:
    """``count`` threads asking for acct_1 at once: (the threads, their answers, their errors so far)."""
    answers, errors = [], []

    def ask():
        try:
            answers.append(cached.get("acct_1"))
        except ConnectionError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(count)]
    for thread in threads:
        thread.start()
    return threads, answers, errors


def test_requests_that_find_an_entry_expired_together_share_one_lookup():
    hasher = SecretHasher("pepper")
    inner = GatedAccounts(account(hasher, "sk_1"))
    cached = CachedAccounts(inner, ttl=0.5, clock=lambda: 100.0)
    threads, answers, errors = ask_concurrently(cached, 8)
    assert inner.started.acquire(timeout=10)
    time.sleep(0.2)  # the other seven find the lookup under way (or, started late, the fresh entry)
    inner.gate.set()
    for thread in threads:
        thread.join(10)
    assert inner.lookups == 1 and errors == []
    assert [a.id for a in answers] == ["acct_1"] * 8


def test_when_the_shared_lookup_fails_each_waiting_request_tries_once_on_its_own():
    inner = GatedAccounts(account(SecretHasher("pepper"), "sk_1"))
    inner.failing = True
    cached = CachedAccounts(inner, ttl=0.5, clock=lambda: 100.0)
    threads, answers, errors = ask_concurrently(cached, 4)
    assert inner.started.acquire(timeout=10)
    time.sleep(0.2)
    inner.gate.set()
    for thread in threads:
        thread.join(10)
    assert len(errors) == 4 and answers == [] and inner.lookups == 4  # the shared one, then one each
    inner.failing = False
    assert cached.get("acct_1").id == "acct_1"  # nothing was cached by the failures


def test_a_lookup_that_overlapped_a_change_through_the_cache_is_not_kept():
    hasher = SecretHasher("pepper")
    inner = GatedAccounts(account(hasher, "sk_1"))
    cached = CachedAccounts(inner, ttl=0.5, clock=lambda: 100.0)
    threads, answers, _ = ask_concurrently(cached, 1)
    assert inner.started.acquire(timeout=10)  # it is reading the row as it was
    cached.disable("acct_1")  # meanwhile, an operator disables the account through this worker
    inner.gate.set()
    threads[0].join(10)
    assert not answers[0].disabled  # it asked before the change was made
    assert cached.get("acct_1").disabled and inner.lookups == 2
