"""Large quotas are counted in blocks reserved from the shared store (infra.runtime.rate_limits.Reservations):
one store write per block, and still never more than the quota across the processes sharing it."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import pytest

from infra.runtime.rate_limits import RateLimiter, Reservations, reservation_size


@dataclass(frozen=True)
class Policy:
    name: str
    quota: int
    window_seconds: int


BIG = Policy("account", 5_000, 60)  # blocks of 5
SMALL = Policy("account", 4, 60)


@pytest.fixture
def store_url(tmp_path):
    return f"sqlite:///{tmp_path}/rate-limits.db"


def counting_writes(limiter: RateLimiter) -> list[int]:
    """Every amount the limiter adds in the store, in order."""
    amounts, write = [], limiter._incr_with_expiry

    def counted(key, expiry, amount=1):
        amounts.append(amount)
        return write(key, expiry, amount)

    limiter._incr_with_expiry = counted
    return amounts


def test_a_large_quota_writes_to_the_store_once_per_block(store_url):
    limiter = RateLimiter(store_url)
    writes = counting_writes(limiter)
    decisions = [limiter.hit(BIG, "acct_1") for _ in range(1000)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions[:3]] == [4999, 4998, 4997]  # numbered as if counted one by one
    assert writes == [5] * 200


@pytest.mark.parametrize("policy", [SMALL, Policy("account", 1999, 60)])
def test_a_quota_below_2000_counts_every_hit_in_the_store(store_url, policy):
    limiter = RateLimiter(store_url)
    writes = counting_writes(limiter)
    for _ in range(10):
        limiter.hit(policy, "acct_1")
    assert writes == [1] * 10 and reservation_size(policy.quota) == 1


@pytest.mark.parametrize("policy", [SMALL, BIG])
def test_workers_sharing_the_store_never_pass_more_than_the_quota(store_url, policy):
    """Two limiters (two gunicorn workers) with 8 threads each hit one account 1.2x its quota."""
    workers = [RateLimiter(store_url), RateLimiter(store_url)]
    allowed, numbers, lock = [], [], threading.Lock()
    per_thread = policy.quota * 12 // 10 // 16 + 1

    def hammer(limiter):
        for _ in range(per_thread):
            decision = limiter.hit(policy, "acct_1")
            with lock:
                allowed.append(decision.allowed)
                numbers.append(policy.quota - decision.remaining)

    threads = [threading.Thread(target=hammer, args=(w,)) for w in workers for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    block = reservation_size(policy.quota)
    # Never more than the quota; fewer by at most the block each worker may hold when hits stop.
    assert policy.quota - 2 * block <= allowed.count(True) <= policy.quota
    passed = [n for n in numbers if n < policy.quota]
    assert len(passed) == len(set(passed))  # no number handed out twice below the quota


def test_a_block_ends_with_its_window():
    now, writes = [100.0], []

    def count(amount):
        writes.append(amount)
        return sum(writes), 101.0 if len(writes) == 1 else 102.0

    reservations = Reservations(clock=lambda: now[0])
    assert [reservations.take("k", 5, count)[0] for _ in range(3)] == [1, 2, 3]
    now[0] = 101.0  # the window is over: the two numbers left are not used in the next one
    assert reservations.take("k", 5, count) == (6, 102.0)
    assert writes == [5, 5]


def test_a_failed_reservation_is_tried_again_by_the_next_hit():
    calls = []

    def failing_once(amount):
        calls.append(amount)
        if len(calls) == 1:
            raise ConnectionError("store down")
        return amount, 1e12

    reservations = Reservations()
    with pytest.raises(ConnectionError):
        reservations.take("k", 5, failing_once)
    assert reservations.take("k", 5, failing_once) == (1, 1e12)
    assert calls == [5, 5]


def test_while_one_thread_reserves_the_others_count_alone_instead_of_waiting():
    reserving, release = threading.Event(), threading.Event()
    calls = []

    def slow_block(amount):
        calls.append(amount)
        if amount > 1:
            reserving.set()
            release.wait(5)
        return sum(calls), 1e12

    reservations = Reservations()
    first = threading.Thread(target=reservations.take, args=("k", 5, slow_block))
    first.start()
    assert reserving.wait(5)
    assert reservations.take("k", 5, slow_block) == (6, 1e12)  # one hit of its own, no wait
    release.set()
    first.join()
    assert calls == [5, 1]
