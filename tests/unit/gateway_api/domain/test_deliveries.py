"""Deliveries as plain code: the retry schedule, its jitter, a delivery's outcome, the kept response body."""

import random
from datetime import datetime, timedelta

import pytest

from gateway_api.domain.deliveries import (
    DEFAULT_RETRY_SCHEDULE,
    AttemptResult,
    RetrySchedule,
    after_attempt,
    clipped_body,
)

T0 = datetime(2026, 11, 23, 10, 0, 0)


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


def test_a_response_body_is_kept_to_1_kib():
    assert len(clipped_body(b"a" * 5000)) == 1024 and clipped_body(b"\xff ok") == "\ufffd ok"
