"""The one-shot signal of the request path's waits (infra.runtime.latch.Latch), as threading.Event behaves."""

import threading
import time

from infra.runtime.latch import Latch


def test_a_wait_returns_true_once_set_and_every_later_wait_too():
    latch = Latch()
    assert not latch.is_set()
    latch.set()
    latch.set()  # a second set does nothing (the group commit wakes a request it handed the lead to, then finishes it)
    assert latch.is_set() and latch.wait() and latch.wait(0) and latch.wait(0.01)


def test_a_wait_times_out_with_false_until_set():
    latch = Latch()
    started = time.monotonic()
    assert latch.wait(0.05) is False
    assert latch.wait(0) is False
    assert time.monotonic() - started >= 0.05


def test_waiters_in_other_threads_all_wake_when_set():
    latch, woke = Latch(), []
    waiters = [threading.Thread(target=lambda: woke.append(latch.wait(5))) for _ in range(4)]
    for waiter in waiters:
        waiter.start()
    time.sleep(0.05)
    assert woke == []
    latch.set()
    for waiter in waiters:
        waiter.join(5)
    assert woke == [True] * 4
