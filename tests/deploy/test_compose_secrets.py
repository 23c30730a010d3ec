"""Compose refuses to start with .env.example's infrastructure passwords: the one-shot
`check-secrets` (run here by bash, as its container would) names each, and everything else waits
for it, directly or through Kafka, MySQL, Redis and Grafana."""

from __future__ import annotations

import os
import secrets
import subprocess

import pytest

from tests.deploy import support

INFRASTRUCTURE_PASSWORDS = [
    "KAFKA_ADMIN_PASSWORD",
    "KAFKA_API_PASSWORD",
    "KAFKA_PROCESSOR_PASSWORD",
    "KAFKA_RESULTS_PASSWORD",
    "KAFKA_PANEL_PASSWORD",
    "MYSQL_ROOT_PASSWORD",
    "PROCESSOR_DB_PASSWORD",
    "GATEWAY_DB_PASSWORD",
    "BACKUP_DB_PASSWORD",
    "GRAFANA_ADMIN_PASSWORD",
    "REDIS_PASSWORD",
]


def check(compose, values: dict) -> subprocess.CompletedProcess:
    service = compose["services"]["check-secrets"]
    script = support.interpolate(support.command_line(service["command"]), values)
    environment = {name: support.interpolate(str(value), values) for name, value in service["environment"].items()}
    return subprocess.run(
        ["bash", "-c", script],
        env={"PATH": os.environ["PATH"], **environment},
        capture_output=True,
        text=True,
        timeout=30,
    )


def strong(env_example: dict) -> dict:
    return env_example | {name: secrets.token_urlsafe(24) for name in INFRASTRUCTURE_PASSWORDS}


def test_the_example_passwords_are_refused_each_by_name(compose, env_example):
    answer = check(compose, env_example)
    assert answer.returncode != 0
    for name in INFRASTRUCTURE_PASSWORDS:
        assert f"refusing to start: {name} " in answer.stderr


@pytest.mark.parametrize("name", INFRASTRUCTURE_PASSWORDS)
def test_one_example_or_short_password_among_strong_ones_is_refused_by_name(compose, env_example, name):
    for weak in (env_example[name], "short-pass"):
        answer = check(compose, strong(env_example) | {name: weak})
        assert answer.returncode != 0 and answer.stderr.count("refusing to start") == 1 and name in answer.stderr


def test_strong_passwords_pass(compose, env_example):
    assert check(compose, strong(env_example)).returncode == 0


def test_every_other_service_waits_for_the_check(compose):
    services = compose["services"]

    def waits(name: str, seen=()) -> bool:
        needs = services[name].get("depends_on", {})
        return "check-secrets" in needs or any(waits(other, (*seen, name)) for other in needs if other not in seen)

    assert services["check-secrets"]["restart"] == "no"
    for name in ("kafka", "mysql", "redis", "grafana"):
        assert services[name]["depends_on"]["check-secrets"]["condition"] == "service_completed_successfully"
    assert [name for name in services if name != "check-secrets" and not waits(name)] == []
