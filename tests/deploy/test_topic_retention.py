"""Retention as documented: Kafka deletes closed segments only, and a segment closes after
``segment.ms`` (7 days by default) however quiet the topic, so every topic's records are gone by
``retention.ms + segment.ms``: 25 h for `transactions` (the card data, sealed), in k8s and compose."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.deploy import support
from tests.deploy.support import of_kind

OVERLAYS = [str(path.relative_to(support.K8S)) for path in support.overlays()]
HOUR, DAY = 3600 * 1000, 24 * 3600 * 1000
# topic -> (retention.ms, the latest a record may still be on disk)
KEPT = {
    "transactions": (DAY, DAY + HOUR),
    "transactions_result": (7 * DAY, 8 * DAY),
    "transactions_dlq": (30 * DAY, 31 * DAY),
    "refunds": (7 * DAY, 8 * DAY),
    "refunds_result": (7 * DAY, 8 * DAY),
}


def gone_by(config: dict) -> tuple[int, int]:
    retention, segment = int(config["retention.ms"]), int(config.get("segment.ms", 7 * DAY))
    return retention, retention + segment


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_topics_delete_records_within_their_documented_time(rendered, overlay):
    topics = {t["spec"]["topicName"]: gone_by(t["spec"]["config"]) for t in of_kind(rendered[overlay], "KafkaTopic")}
    assert topics == KEPT


def test_compose_topics_delete_records_within_their_documented_time(compose, env_example, tmp_path):
    """The kafka-topics one-shot's script, run by bash with Kafka's tools replaced by recorders."""
    script = support.interpolate(support.command_line(compose["services"]["kafka-topics"]["command"]), env_example)
    calls = tmp_path / "calls"
    for tool in ("kafka-topics.sh", "kafka-acls.sh"):
        (tmp_path / tool).write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
        (tmp_path / tool).chmod(0o755)
    script = script.replace("bin=/opt/kafka/bin", f"bin={tmp_path}").replace("admin=/tmp/", f"admin={tmp_path}/")
    subprocess.run(["bash", "-c", script], check=True, env=os.environ | {"KAFKA_ADMIN_PASSWORD": "x"}, timeout=30)
    created = {}
    for line in calls.read_text().splitlines():
        words = line.split()
        if "--create" in words:
            configs = dict(words[i + 1].split("=") for i, word in enumerate(words) if word == "--config")
            created[words[words.index("--topic") + 1]] = gone_by(configs)
    assert created == KEPT
