"""Helpers shared by the test suites: external-dependency policy, free ports, waiting."""

from __future__ import annotations

import os
import time
from datetime import date, datetime, timezone

import pytest


def strict() -> bool:
    """In CI (or with GATEWAY_TEST_STRICT=1) a missing MariaDB, browser or Prometheus fails the run."""
    return os.environ.get("GATEWAY_TEST_STRICT", "") == "1" or os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    if strict():
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


def utc_today() -> date:
    """Today as the services count it (UTC): a local date.today() is another day for hours around midnight."""
    return datetime.now(timezone.utc).date()


def wait_until(condition, timeout: float, interval: float = 0.05, message: str = "condition"):
    """Poll ``condition`` until it returns a truthy value; return that value or fail."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)
