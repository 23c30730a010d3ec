"""The signature scheme and the verify() merchants copy: what passes and what must fail."""

import hashlib
import hmac

import pytest

from gateway_api.domain.webhook_signature import sign, signature_header, verify

SECRET = "whsec_test_secret"
PAYLOAD = b'{"id":"evt_1","type":"transaction.approved","data":{"object":{"id":"tx"}}}'
NOW = 1_800_000_000


def test_the_header_is_t_and_v1_hmac_sha256_of_timestamp_dot_body():
    header = signature_header(PAYLOAD, SECRET, NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + PAYLOAD, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}" and sign(PAYLOAD, SECRET, NOW) == expected


def test_a_fresh_signature_of_the_exact_body_verifies():
    assert verify(PAYLOAD, signature_header(PAYLOAD, SECRET, NOW), SECRET, now=NOW + 299)


@pytest.mark.parametrize(
    "payload, header_time, secret, now",
    [
        (PAYLOAD.replace(b"approved", b"rejected"), NOW, SECRET, NOW),  # tampered body
        (PAYLOAD + b" ", NOW, SECRET, NOW),  # one byte more
        (PAYLOAD, NOW, "whsec_another", NOW),  # another endpoint's secret
        (PAYLOAD, NOW - 301, SECRET, NOW),  # stale: a replayed capture
        (PAYLOAD, NOW + 301, SECRET, NOW),  # from the future
    ],
)
def test_a_changed_body_another_secret_or_an_old_timestamp_fail(payload, header_time, secret, now):
    header = signature_header(PAYLOAD, SECRET, header_time)
    assert not verify(payload, header, secret, now=now)


def test_a_changed_timestamp_fails_even_when_fresh():
    _, signature = signature_header(PAYLOAD, SECRET, NOW).split(",")
    assert not verify(PAYLOAD, f"t={NOW + 10},{signature}", SECRET, now=NOW + 10)


@pytest.mark.parametrize("header", ["", "garbage", f"t={NOW}", "v1=abc", f"t=soon,v1={'0' * 64}", f"t={NOW},v0=abc"])
def test_malformed_headers_fail(header):
    assert not verify(PAYLOAD, header, SECRET, now=NOW)


def test_any_of_several_v1_signatures_may_match():
    good = sign(PAYLOAD, SECRET, NOW)
    assert verify(PAYLOAD, f"t={NOW},v1={'0' * 64},v1={good}", SECRET, now=NOW)


def test_the_tolerance_is_the_callers():
    header = signature_header(PAYLOAD, SECRET, NOW)
    assert verify(PAYLOAD, header, SECRET, tolerance_s=3600, now=NOW + 3000)
    assert not verify(PAYLOAD, header, SECRET, tolerance_s=60, now=NOW + 61)


@pytest.mark.parametrize(
    "header",
    [
        "t=\u00b2,v1=abc",
        "t=" + "9" * 5000 + ",v1=abc",
        "t=1800000000,v1=\u00e9",
        "t=\u0661\u0662,v1=abc",
        "t=1800000000,v1=" + "\u00e9" * 64,
        "t=-5,v1=abc",
    ],
)
def test_verify_returns_false_and_never_raises_on_a_hostile_header(header):
    assert verify(b"{}", header, "whsec_s3cret", now=1_800_000_000) is False
