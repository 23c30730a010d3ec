"""This machine's Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379), for the rate limit tests.

Tests never flush it: each keeps its keys under a prefix of its own (a uuid). Without a Redis the
tests skip, except under GATEWAY_TEST_STRICT=1 (CI, where .ci/run starts one), where they fail."""

from __future__ import annotations

import os

import pytest
import redis


def redis_url_or_skip() -> str:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
    try:
        redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis not reachable at {url}: {exc}"
        if os.environ.get("GATEWAY_TEST_STRICT") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return url
