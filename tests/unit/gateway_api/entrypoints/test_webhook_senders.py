"""The dispatcher's sending threads: what goes in comes out once, unstarted work can be taken back."""

import threading

from gateway_api.entrypoints.webhook_senders import Senders


def test_every_submitted_delivery_comes_back_once_even_when_sending_blows_up():
    def attempt(delivery):
        if delivery == "bug":
            raise RuntimeError("a bug")
        return f"sent {delivery}"

    senders = Senders(attempt, count=4)
    senders.submit(["a", "b", "bug", "c"])
    collected = senders.finish(timeout_s=5)
    senders.close()
    assert sorted(collected) == ["sent a", "sent b", "sent c"] and senders.in_flight == 0


def test_collect_waits_for_the_first_then_gathers_and_unstarted_work_is_taken_back():
    gate = threading.Event()
    senders = Senders(lambda delivery: gate.wait(5) and delivery, count=1)
    senders.submit(["first", "second", "third"])
    assert senders.collect(wait_s=0.05) == []  # nothing finished yet
    unstarted = senders.unstarted()  # the one thread holds "first"; the rest never started
    assert unstarted == ["second", "third"] and senders.in_flight == 1
    gate.set()
    assert senders.collect(wait_s=5, gather_s=0.01) == ["first"] and senders.in_flight == 0
    senders.close()
