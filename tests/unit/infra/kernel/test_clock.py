"""One clock for every service: naive UTC inside, RFC 3339 with a Z at the edges."""

from datetime import datetime, timedelta, timezone

import pytest

from infra.kernel.clock import naive, parse_rfc3339, rfc3339, utc_now

PARIS_SUMMER = timezone(timedelta(hours=2))


def test_now_is_naive_utc():
    before = datetime.now(timezone.utc).replace(tzinfo=None)
    now = utc_now()
    assert now.tzinfo is None and before <= now <= datetime.now(timezone.utc).replace(tzinfo=None)


@pytest.mark.parametrize(
    "moment, text",
    [
        (datetime(2026, 11, 23, 10, 0), "2026-11-23T10:00:00.000000Z"),
        (datetime(2026, 11, 23, 10, 0, 0, 123456), "2026-11-23T10:00:00.123456Z"),
        (datetime(2026, 11, 23, 10, 0, tzinfo=timezone.utc), "2026-11-23T10:00:00.000000Z"),
        # An aware moment elsewhere is the same instant in UTC, not its wall clock with a Z stuck on.
        (datetime(2026, 7, 1, 12, 0, tzinfo=PARIS_SUMMER), "2026-07-01T10:00:00.000000Z"),
    ],
)
def test_writes_rfc3339_in_utc_with_microseconds(moment, text):
    assert rfc3339(moment) == text


@pytest.mark.parametrize(
    "text, moment",
    [
        ("2026-11-23T10:00:00.123456Z", datetime(2026, 11, 23, 10, 0, 0, 123456)),
        ("2026-07-01T12:00:00+02:00", datetime(2026, 7, 1, 10, 0)),
        ("2026-11-23T10:00:00", datetime(2026, 11, 23, 10, 0)),  # no offset: taken as UTC
        ("2026-11-23 10:00:00", datetime(2026, 11, 23, 10, 0)),
    ],
)
def test_reads_rfc3339_as_naive_utc(text, moment):
    assert parse_rfc3339(text) == moment


@pytest.mark.parametrize("value", [None, "", "yesterday", 1700000000, "0001-01-01T00:00:00+01:00"])
def test_anything_else_reads_as_none(value):
    assert parse_rfc3339(value) is None


def test_round_trips():
    moment = datetime(2026, 11, 23, 10, 0, 0, 7)
    assert parse_rfc3339(rfc3339(moment)) == moment


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=timezone.utc),
        datetime(2026, 7, 1, 12, 0, tzinfo=PARIS_SUMMER),
        datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS_SUMMER),
        datetime(9999, 12, 31, 23, 59, 59, 999999),
    ],
)
def test_naive_is_the_same_fields_without_the_zone(moment):
    expected = moment.replace(tzinfo=None)
    assert naive(moment) == expected and naive(moment).tzinfo is None and naive(moment).fold == expected.fold
