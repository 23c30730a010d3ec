"""Webhook endpoints as plain code: URLs and addresses, allowed ports, event subscriptions."""

from datetime import datetime

import pytest

from gateway_api.domain.errors import InvalidParameter
from gateway_api.domain.webhook_endpoints import WebhookEndpoint, address_allowed, enabled_events, parse_url

T0 = datetime(2026, 11, 23, 10, 0, 0)


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.5", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::a00:1", False),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("::a9fe:a9fe", False),
        ("::0a00:0001", False),
        ("::5db8:d822", False),  # IPv4-compatible (::/96), refused whole
    ],
)
def test_only_public_unicast_addresses_are_allowed(address, public):
    assert address_allowed(address, allow_private=False) is public
    assert address_allowed(address, allow_private=True) is True


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://shop.example.com/hook", "https://"),
        ("ftp://shop.example.com", "https://"),
        ("shop.example.com/hook", "https://"),
        ("https:///hook", "no host"),
        ("https://user:pw@shop.example.com/", "credentials"),
        ("https://shop.example.com/#frag", "fragment"),
        ("https://shop.example.com:99999/", "not a valid URL"),
        ("https://shop.example.com/a b", "spaces"),
        ("https://shop.example.com/" + "a" * 2048, "2048"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url, reason):
    with pytest.raises(InvalidParameter, match=reason):
        parse_url(url, allow_private=False)


def test_a_good_url_gives_host_port_and_request_target():
    parts = parse_url("https://Shop.Example.com/hooks/gw?key=1", allow_private=False)
    assert (parts.scheme, parts.host, parts.port, parts.target) == ("https", "shop.example.com", 443, "/hooks/gw?key=1")
    assert parse_url("http://127.0.0.1:8010", allow_private=True).target == "/"


@pytest.mark.parametrize(
    "requested, stored",
    [
        (["*"], ("*",)),
        (["transaction.rejected", "transaction.approved"], ("transaction.approved", "transaction.rejected")),
        (["transaction.approved", "transaction.approved"], ("transaction.approved",)),
    ],
)
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


@pytest.mark.parametrize("url", ["https://own.example/\u00e9", "https://b\u00fccher.example/"])
def test_a_url_that_is_not_ascii_is_refused_when_sent(url):
    with pytest.raises(InvalidParameter, match="ASCII"):
        parse_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url, allowed, ports",
    [
        ("https://shop.example.com/", True, (443,)),
        ("https://shop.example.com:443/", True, (443,)),
        ("https://shop.example.com:22/", False, (443,)),
        ("https://shop.example.com:8443/", False, (443,)),
        ("https://shop.example.com:8443/", True, (443, 8443)),
    ],
)
def test_only_the_allowed_ports(url, allowed, ports):
    if allowed:
        assert parse_url(url, allow_private=False, allowed_ports=ports).host == "shop.example.com"
    else:
        with pytest.raises(InvalidParameter, match="port"):
            parse_url(url, allow_private=False, allowed_ports=ports)
