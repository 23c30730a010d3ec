import pytest

from panel.use_cases.hub import CLOSED, RESYNC, Hub, LiveEvent, TooManyStreams


def own_account(account_id):
    return lambda event: event.account_id == account_id


def drain(subscription):
    items = []
    while (item := subscription.next_event(0)) is not None:
        items.append(item)
        if item == CLOSED:
            break
    return items


def test_every_subscriber_gets_only_the_events_its_filter_accepts():
    hub = Hub()
    merchant_a = hub.subscribe(own_account("A"))
    merchant_b = hub.subscribe(own_account("B"))
    operator = hub.subscribe(lambda _event: True)
    hub.publish("A", {"id": "t1"})
    hub.publish("B", {"id": "t2"})
    assert [e.data["id"] for e in drain(merchant_a)] == ["t1"]
    assert [e.data["id"] for e in drain(merchant_b)] == ["t2"]
    assert [e.data["id"] for e in drain(operator)] == ["t1", "t2"]


def test_a_reconnecting_stream_resumes_right_after_its_last_event_id():
    hub = Hub()
    first = hub.publish("A", {"id": "t1"})
    hub.publish("A", {"id": "t2"})
    hub.publish("B", {"id": "t3"})
    hub.publish("A", {"id": "t4"})
    resumed = hub.subscribe(own_account("A"), last_event_id=first.event_id)
    assert [e.data["id"] for e in drain(resumed)] == ["t2", "t4"]


def test_an_event_id_from_another_process_or_too_old_asks_for_a_ledger_resync():
    hub = Hub(replay_size=2)
    old = hub.publish("A", {"id": "t1"})
    for number in range(2, 5):
        hub.publish("A", {"id": f"t{number}"})
    assert drain(hub.subscribe(own_account("A"), last_event_id=old.event_id)) == [RESYNC]
    assert drain(hub.subscribe(own_account("A"), last_event_id="otherboot-3")) == [RESYNC]


def test_a_slow_subscriber_loses_events_but_is_told_to_resync():
    hub = Hub(subscriber_capacity=2)
    slow = hub.subscribe(lambda _event: True)
    for number in range(5):
        hub.publish("A", {"id": f"t{number}"})
    items = drain(slow)
    assert [i.data["id"] for i in items if isinstance(i, LiveEvent)] == ["t0", "t1"]
    assert items[-1] == RESYNC


def test_closing_the_hub_ends_every_stream_even_a_full_one():
    hub = Hub(subscriber_capacity=1)
    stream = hub.subscribe(lambda _event: True)
    hub.publish("A", {"id": "t1"})
    hub.close()
    assert stream.next_event(0) == CLOSED
    assert hub.subscriber_count == 0
    assert hub.subscribe(lambda _event: True).next_event(0) == CLOSED


def test_unsubscribed_streams_receive_nothing_more():
    hub = Hub()
    stream = hub.subscribe(lambda _event: True)
    hub.unsubscribe(stream)
    hub.publish("A", {"id": "t1"})
    assert stream.next_event(0) is None


@pytest.mark.parametrize("suffix", ["\u00b2", "\u0661", "1" * 5000, "1" * 19, "-1", "", "+1", " 1"])
def test_a_last_event_id_that_is_not_a_plain_number_of_ours_asks_for_a_resync(suffix):
    hub = Hub()
    hub.publish("A", {"id": "t1"})
    subscription = hub.subscribe(own_account("A"), last_event_id=f"{hub.boot_id}-{suffix}")
    assert drain(subscription) == [RESYNC]


def test_a_session_may_hold_a_few_streams_and_the_process_a_bounded_number():
    hub = Hub(per_session=2, per_process=3, operator_reserved=0)
    kept = [hub.subscribe(own_account("A"), owner="s1"), hub.subscribe(own_account("A"), owner="s1")]
    with pytest.raises(TooManyStreams) as refused:
        hub.subscribe(own_account("A"), owner="s1")
    assert refused.value.per_session
    kept.append(hub.subscribe(own_account("B"), owner="s2"))
    with pytest.raises(TooManyStreams) as full:
        hub.subscribe(own_account("C"), owner="s3")
    assert not full.value.per_session
    hub.unsubscribe(kept[0])
    assert hub.subscribe(own_account("A"), owner="s1").owner == "s1"


def test_merchants_cannot_take_the_streams_kept_for_the_operator():
    hub = Hub(per_session=10, per_process=5, operator_reserved=2)
    merchants = [hub.subscribe(own_account("A"), owner=f"s{i}") for i in range(3)]
    with pytest.raises(TooManyStreams) as full:
        hub.subscribe(own_account("B"), owner="other")
    assert not full.value.per_session
    operator = [hub.subscribe(lambda event: True, owner=f"op{i}", operator=True) for i in range(2)]
    with pytest.raises(TooManyStreams):
        hub.subscribe(lambda event: True, owner="op-more", operator=True)
    hub.unsubscribe(merchants[0])
    assert hub.subscribe(own_account("B"), owner="other").owner == "other"
    assert len(operator) == 2
