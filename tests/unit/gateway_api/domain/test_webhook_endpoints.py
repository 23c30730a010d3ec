"""Webhook rules as plain code: URLs and addresses, event subscriptions, retry schedule, events."""
import json
import random
from datetime import datetime, timedelta

import pytest

from gateway_api.domain.deliveries import (
    DEFAULT_RETRY_SCHEDULE,
    AttemptResult,
    RetrySchedule,
    after_attempt,
    clipped_body,
    first_delivery_id,
)
from gateway_api.domain.errors import InvalidParameter
from gateway_api.domain.events import event_id, transaction_event
from gateway_api.domain.webhook_endpoints import WebhookEndpoint, address_allowed, enabled_events, parse_url

T0 = datetime(2026, 11, 23, 10, 0, 0)


@pytest.mark.parametrize("address, public", [
    ("93.184.216.34", True), ("2606:4700::1111", True),
    ("127.0.0.1", False), ("10.0.0.5", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
    ("255.255.255.255", False), ("::1", False), ("fe80::1", False), ("fc00::1", False), ("::", False),
    ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False),
    ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
    ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
    ("::a9fe:a9fe", False), ("::0a00:0001", False), ("::5db8:d822", False),  # IPv4-compatible (::/96), refused whole
])
def test_only_public_unicast_addresses_are_allowed(address, public):
    assert address_allowed(address, allow_private=False) is public
    assert address_allowed(address, allow_private=True) is True


@pytest.mark.parametrize("url, reason", [
    ("http://shop.example.com/hook", "https://"), ("ftp://shop.example.com", "https://"), ("shop.example.com/hook", "https://"),
    ("https:///hook", "no host"), ("https://user:pw@shop.example.com/", "credentials"),
    ("https://shop.example.com/#frag", "fragment"), ("https://shop.example.com:99999/", "not a valid URL"),
    ("https://shop.example.com/a b", "spaces"), ("https://shop.example.com/" + "a" * 2048, "2048"),
])
def test_bad_urls_are_refused_with_a_reason(url, reason):
    with pytest.raises(InvalidParameter, match=reason):
        parse_url(url, allow_private=False)


def test_a_good_url_gives_host_port_and_request_target():
    parts = parse_url("https://Shop.Example.com/hooks/gw?key=1", allow_private=False)
    assert (parts.scheme, parts.host, parts.port, parts.target) == ("https", "shop.example.com", 443, "/hooks/gw?key=1")
    assert parse_url("http://127.0.0.1:8010", allow_private=True).target == "/"


@pytest.mark.parametrize("requested, stored", [
    (["*"], ("*",)),
    (["transaction.rejected", "transaction.approved"], ("transaction.approved", "transaction.rejected")),
    (["transaction.approved", "transaction.approved"], ("transaction.approved",)),
])
def test_enabled_events(requested, stored):
    assert enabled_events(requested) == stored


@pytest.mark.parametrize("requested", [[], ["*", "transaction.approved"], ["transaction.refunded"]])
def test_bad_enabled_events_are_refused(requested):
    with pytest.raises(InvalidParameter):
        enabled_events(requested)


def test_an_endpoint_subscribes_to_its_events_while_enabled():
    approved = WebhookEndpoint("we_1", "a", "https://x", ("transaction.approved",), T0)
    assert approved.subscribes_to("transaction.approved") and not approved.subscribes_to("transaction.rejected")
    every = WebhookEndpoint("we_2", "a", "https://x", ("*",), T0)
    assert every.subscribes_to("transaction.rejected")
    deleted = WebhookEndpoint("we_3", "a", "https://x", ("*",), T0, status="deleted")
    assert not deleted.subscribes_to("transaction.approved")


def test_the_default_schedule_retries_for_up_to_3_days_with_growing_waits():
    schedule = RetrySchedule.parse(DEFAULT_RETRY_SCHEDULE)
    assert timedelta(days=2.9) < schedule.total <= timedelta(days=3)
    assert list(schedule.delays) == sorted(schedule.delays) and schedule.max_attempts == 11


@pytest.mark.parametrize("text, seconds", [("1s,2s", [1, 2]), ("30, 1.5m ,2h,1d", [30, 90, 7200, 86400])])
def test_schedules_parse_units(text, seconds):
    assert [d.total_seconds() for d in RetrySchedule.parse(text).delays] == seconds


@pytest.mark.parametrize("text", ["", "soon", "1w", "0s", "1s,,2s", "-1m"])
def test_bad_schedules_are_refused(text):
    with pytest.raises(ValueError):
        RetrySchedule.parse(text)


def test_jitter_only_shortens_a_wait_by_up_to_a_fifth():
    schedule = RetrySchedule.parse("100s,100s")
    rng = random.Random(7)
    waits = [(schedule.next_attempt_at(1, T0, rng) - T0).total_seconds() for _ in range(500)]
    assert 80 <= min(waits) < 85 and 95 < max(waits) <= 100


def test_a_delivery_is_retried_until_the_schedule_runs_out_then_fails():
    schedule = RetrySchedule.parse("1s,1s")
    failure, success = AttemptResult("http_error", 0.1, 500), AttemptResult("delivered", 0.1, 200)
    assert after_attempt(1, failure, schedule, T0).status == "pending"
    assert after_attempt(2, failure, schedule, T0).status == "pending"
    assert after_attempt(3, failure, schedule, T0) == after_attempt(3, failure, schedule, T0)
    assert after_attempt(3, failure, schedule, T0).status == "failed"
    assert after_attempt(3, success, schedule, T0).status == "delivered"


def test_an_event_is_the_transaction_json_wrapped_once_with_a_derived_id():
    transaction = {"id": "tx-1", "status": "approved", "amount": "10.00"}
    event = transaction_event(transaction, "approved", "acct_a", T0)
    body = json.loads(event.payload)
    assert body == {"id": event.id, "type": "transaction.approved", "created_at": "2026-11-23T10:00:00.000000Z",
                    "data": {"object": transaction}}
    assert event.id == event_id("transaction.approved", "tx-1") != event_id("transaction.rejected", "tx-1")
    first = first_delivery_id(event.id, "we_1")
    assert first == first_delivery_id(event.id, "we_1") != first_delivery_id(event.id, "we_2")


def test_a_response_body_is_kept_to_1_kib():
    assert len(clipped_body(b"a" * 5000)) == 1024 and clipped_body(b"\xff ok") == "\ufffd ok"


@pytest.mark.parametrize("url", ["https://own.example/\u00e9", "https://b\u00fccher.example/"])
def test_a_url_that_is_not_ascii_is_refused_when_sent(url):
    with pytest.raises(InvalidParameter, match="ASCII"):
        parse_url(url, allow_private=False)


@pytest.mark.parametrize("url, allowed, ports", [
    ("https://shop.example.com/", True, (443,)), ("https://shop.example.com:443/", True, (443,)),
    ("https://shop.example.com:22/", False, (443,)), ("https://shop.example.com:8443/", False, (443,)),
    ("https://shop.example.com:8443/", True, (443, 8443)),
])
def test_only_the_allowed_ports(url, allowed, ports):
    if allowed:
        assert parse_url(url, allow_private=False, allowed_ports=ports).host == "shop.example.com"
    else:
        with pytest.raises(InvalidParameter, match="port"):
            parse_url(url, allow_private=False, allowed_ports=ports)
