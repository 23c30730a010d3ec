"""Secrets in the deployments: the templates' placeholders stop every gateway process at start, real
values let it start, nothing opts in to development secrets, and the two readers of the idempotency
TTL (the API replays, the results consumer purges) agree."""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess

import pytest
import yaml

from infra.runtime.card_cipher import CardDataKeys
from infra.runtime.settings import DEVELOPMENT_SECRETS_OPT_IN, ConfigurationError, EnvReader

from tests.deploy import support
from tests.deploy.test_config_drift import Process, compose_processes, kubernetes_processes, settings_class

OVERLAYS = [str(path.relative_to(support.K8S)) for path in support.overlays()]
_PLACEHOLDER = re.compile(r"change-me[A-Za-z0-9_-]*")


@pytest.fixture(scope="module")
def deployed(compose, env_example, rendered) -> list[Process]:
    """Every gateway process of compose (.env = .env.example) and of every overlay, with its environment."""
    processes = compose_processes(compose, env_example)
    for overlay in OVERLAYS:
        processes += kubernetes_processes(rendered[overlay], rendered["base"], overlay)
    return processes


def with_real_secrets(env: dict[str, str]) -> dict[str, str]:
    """The environment once an operator replaced every placeholder with a generated value."""
    real = {name: _PLACEHOLDER.sub(lambda _: secrets.token_urlsafe(32), value) for name, value in env.items()}
    if "CARD_DATA_KEYS" in env:
        real["CARD_DATA_KEYS"] = CardDataKeys.generate("k1").to_env_value()
    if "WEBHOOK_SECRETS_KEY" in env:
        real["WEBHOOK_SECRETS_KEY"] = base64.b64encode(os.urandom(32)).decode()
    return real


def test_every_gateway_process_refuses_to_start_on_the_templates_placeholders(deployed):
    assert len(deployed) == 7 * (1 + len(OVERLAYS))  # with the webhook dispatcher
    for process in deployed:
        with pytest.raises(ConfigurationError, match="is a template placeholder") as refused:
            settings_class(process.command).from_env(EnvReader(process.env))
        assert any(name in str(refused.value) for name in process.env), f"{process.where}: {refused.value}"


def test_every_gateway_process_starts_once_the_placeholders_are_replaced(deployed):
    for process in deployed:
        settings_class(process.command).from_env(EnvReader(with_real_secrets(process.env)))


def test_no_deployment_opts_in_to_development_secrets(compose, env_example, rendered):
    documents = {
        "docker-compose.yml": yaml.safe_dump(compose),
        ".env.example": "\n".join(env_example),
        "Dockerfile": (support.ROOT / "Dockerfile").read_text(),
    }
    documents |= {f"k8s/{name}": yaml.safe_dump_all(objects) for name, objects in rendered.items()}
    for name, text in documents.items():
        assert DEVELOPMENT_SECRETS_OPT_IN not in text, f"{name} opts in to development secrets"


def test_the_api_and_the_purging_results_consumer_use_one_idempotency_ttl(deployed):
    """The results consumer deletes keys older than its TTL: a shorter one would drop keys the API
    still replays, and a retry would then charge twice."""
    readers = ("gunicorn -c python:gateway_api.gunicorn_conf", "python -m gateway_api.results")
    for deployment in {process.where.split(":")[0] for process in deployed}:
        ttls = {
            process.command.split(" ")[2]: _settings(process).idempotency_ttl_hours
            for process in deployed
            if process.where.startswith(deployment + ":") and process.command.startswith(readers)
        }
        assert len(ttls) == 2 and len(set(ttls.values())) == 1, f"{deployment}: {ttls}"


def _settings(process: Process):
    return settings_class(process.command).from_env(EnvReader(process.env, check_secrets=False))


DEV_SECRETS_SCRIPT = support.K8S / "overlays" / "dev" / "create-secrets.sh"


def generated_dev_secrets() -> list[dict]:
    printed = subprocess.run([str(DEV_SECRETS_SCRIPT), "--print"], check=True, capture_output=True, text=True).stdout
    return [document for document in yaml.safe_load_all(printed) if document]


def test_the_dev_secrets_script_makes_the_template_secrets_with_fresh_values(rendered):
    template = {s["metadata"]["name"]: set(s["stringData"]) for s in rendered["base"] if s["kind"] == "Secret"}
    first, second = generated_dev_secrets(), generated_dev_secrets()
    assert {s["metadata"]["name"]: set(s["stringData"]) for s in first} == template
    assert all(s["metadata"]["namespace"] == "payment-gateway-dev" for s in first)
    values = [value for s in first for value in s["stringData"].values()]
    assert len(set(values)) == len(values)  # no value reused between keys
    assert not set(values) & {value for s in second for value in s["stringData"].values()}  # random per run
    assert not any(_PLACEHOLDER.search(value) for value in values)


def test_every_dev_process_starts_with_the_generated_secrets(rendered):
    processes = kubernetes_processes(rendered["overlays/dev"], generated_dev_secrets(), "overlays/dev")
    assert len(processes) == 7
    for process in processes:
        settings_class(process.command).from_env(EnvReader(process.env))
