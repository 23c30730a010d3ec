"""Configuration drift: every variable a deployment sets is one the process reads, and every
variable the process requires is set.

For each gateway process in docker-compose.yml and in every rendered overlay, the command picks the
Settings class of the contract; Settings.from_env runs over exactly the environment the deployment
gives that container, through an EnvReader that records the names read and required.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

import pytest

from infra.runtime.settings import DEV_CARD_DATA_KEYS, ConfigurationError, EnvReader

from tests.deploy import support
from tests.deploy.support import containers, of_kind
from tests.support.secrets import STRONG_SECRETS

SETTINGS_BY_COMMAND = (
    (re.compile(r"^python -m processor$"), "processor.settings"),
    (re.compile(r"^python -m processor migrate$"), "processor.settings:MigrationSettings"),
    (re.compile(r"^python -m gateway_api migrate$"), "gateway_api.settings:MigrationSettings"),
    (re.compile(r"^python -m gateway_api\.results$"), "gateway_api.settings:ResultsSettings"),
    (re.compile(r"^python -m gateway_api\.webhooks$"), "gateway_api.settings:WebhookSettings"),
    (re.compile(r"^gunicorn -c python:gateway_api\.gunicorn_conf gateway_api:create_app\(\)"), "gateway_api.settings"),
    (re.compile(r"^gunicorn -c python:panel\.gunicorn_conf panel:create_app\(\)"), "panel.settings"),
)

# Variables a process reads outside its Settings class. Only for gunicorn processes.
GUNICORN_PROCESS_LEVEL = {
    # panel.gunicorn_conf reads the worker count for gunicorn (the API's Settings reads it itself).
    "WEB_CONCURRENCY",
    # Read by prometheus_client at import in every worker, and by the gunicorn confs to create it.
    "PROMETHEUS_MULTIPROC_DIR",
}


@dataclass(frozen=True)
class Process:
    where: str
    command: str
    env: dict[str, str]
    # Variables only used to build others (Kubernetes `$(NAME)`, e.g. a password inside DATABASE_URL).
    ingredients: frozenset[str] = frozenset()


def settings_class(command: str):
    modules = [module for pattern, module in SETTINGS_BY_COMMAND if pattern.search(command)]
    assert len(modules) == 1, f"no Settings class of the contract runs {command!r}: map it in SETTINGS_BY_COMMAND"
    (module,) = modules
    module, _, name = module.partition(":")
    return getattr(importlib.import_module(module), name or "Settings")


# --- docker-compose.yml ----------------------------------------------------------------------------


def compose_processes(compose: dict, env_example: dict[str, str]) -> list[Process]:
    """The environment compose gives each gateway container once .env is a copy of .env.example."""
    processes = []
    for name, service in compose["services"].items():
        if support.GATEWAY_IMAGE not in support.interpolate(service.get("image", ""), env_example):
            continue
        env = {}
        for env_file in _env_files(service):
            env |= support.read_env_file(support.ROOT / env_file)
        env |= {
            key: support.interpolate(value, env_example)
            for key, value in support.as_env(service.get("environment")).items()
        }
        command = support.command_line(service["command"])
        processes.append(Process(f"compose:{name}", command, env))
    return processes


def _env_files(service) -> list[str]:
    files = service.get("env_file", [])
    files = [files] if isinstance(files, str) else files
    return [item if isinstance(item, str) else item["path"] for item in files]


# --- kubernetes ------------------------------------------------------------------------------------


def kubernetes_processes(objects: list[dict], base: list[dict], overlay: str) -> list[Process]:
    processes = []
    for workload in objects:
        if workload["kind"] not in {"Deployment", "Job", "StatefulSet", "DaemonSet", "CronJob"}:
            continue
        for container in filter(support.is_gateway, containers(workload)):
            env, ingredients = _expand(_container_env(container, objects, base))
            command = support.command_line(container.get("command", []) + container.get("args", []))
            where = f"{overlay}:{workload['kind']}/{workload['metadata']['name']}/{container['name']}"
            processes.append(Process(where, command, env, ingredients))
    return processes


_DEPENDENT = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def _expand(env: dict[str, str]) -> tuple[dict[str, str], frozenset[str]]:
    """Kubernetes' dependent variables: `$(NAME)` takes the value of a variable defined before."""
    used = set()

    def value_of(match):
        used.add(match.group(1))
        return env.get(match.group(1), match.group(0))

    expanded = {name: _DEPENDENT.sub(value_of, value) for name, value in env.items()}
    return expanded, frozenset(used)


def _container_env(container: dict, objects: list[dict], base: list[dict]) -> dict[str, str]:
    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= _data(objects, "ConfigMap", source["configMapRef"]["name"])
        if "secretRef" in source:
            env |= _data(objects + base, "Secret", source["secretRef"]["name"])
    for item in container.get("env", []):
        env[item["name"]] = (
            item.get("value", "") if "valueFrom" not in item else _value_from(item["valueFrom"], objects, base)
        )
    return env


def _value_from(value_from: dict, objects, base) -> str:
    if "configMapKeyRef" in value_from:
        ref = value_from["configMapKeyRef"]
        return _data(objects, "ConfigMap", ref["name"])[ref["key"]]
    if "secretKeyRef" in value_from:
        # Prod creates its Secrets outside git: their keys are those of the template in k8s/base.
        # Strimzi's User Operator writes one Secret per KafkaUser, with the SCRAM password.
        ref = value_from["secretKeyRef"]
        if any(user["metadata"]["name"] == ref["name"] for user in of_kind(objects, "KafkaUser")):
            assert ref["key"] == "password", f"a KafkaUser Secret has no key {ref['key']}"
            return "scram-password-written-by-strimzi"
        return _data(objects + base, "Secret", ref["name"])[ref["key"]]
    raise AssertionError(f"unsupported valueFrom {value_from}")


def _data(objects: list[dict], kind: str, name: str) -> dict[str, str]:
    matches = [obj for obj in of_kind(objects, kind) if obj["metadata"]["name"] == name]
    assert matches, f"{kind} {name} is referenced but not defined"
    obj = matches[0]
    return {**obj.get("data", {}), **obj.get("stringData", {})}


# --- the checks ------------------------------------------------------------------------------------


def assert_no_drift(process: Process) -> None:
    # Names, not values: the templates hold placeholders on purpose, which the services refuse at
    # start (tests/deploy/test_secrets.py proves that).
    reader = EnvReader(process.env, check_secrets=False)
    try:
        settings_class(process.command).from_env(reader)
    except ConfigurationError as error:
        pytest.fail(f"{process.where}: {process.command!r} does not start with this environment: {error}")
    allowed = GUNICORN_PROCESS_LEVEL if process.command.startswith("gunicorn ") else set()
    unread = set(process.env) - reader.names_read - allowed - process.ingredients
    assert not unread, f"{process.where} sets variables {process.command!r} never reads: {sorted(unread)}"
    unset = {name for name in reader.names_required if not process.env.get(name, "").strip()}
    assert not unset, f"{process.where} leaves required variables unset: {sorted(unset)}"


def test_every_compose_process_reads_what_it_is_given_and_gets_what_it_requires(compose, env_example):
    processes = compose_processes(compose, env_example)
    assert len(processes) == 7
    for process in processes:
        assert_no_drift(process)


@pytest.mark.parametrize("overlay", [str(path.relative_to(support.K8S)) for path in support.overlays()])
def test_every_kubernetes_process_reads_what_it_is_given_and_gets_what_it_requires(rendered, overlay):
    processes = kubernetes_processes(rendered[overlay], rendered["base"], overlay)
    assert len(processes) == 7  # api, processor, results, webhooks, panel, and the Job's two migrations
    for process in processes:
        assert_no_drift(process)


def test_a_variable_the_process_does_not_read_is_drift():
    process = Process(
        "example",
        "python -m processor",
        {"DATABASE_URL": "sqlite://", "PROCESSOR_BATCH": "10", "CARD_DATA_KEYS": DEV_CARD_DATA_KEYS},
    )
    with pytest.raises(AssertionError, match="never reads: \\['PROCESSOR_BATCH'\\]"):
        assert_no_drift(process)


def test_a_missing_required_variable_is_drift():
    process = Process(
        "example",
        "gunicorn -c python:gateway_api.gunicorn_conf gateway_api:create_app() --bind :8000",
        {"GATEWAY_ADMIN_TOKEN": "x"},
    )
    with pytest.raises(pytest.fail.Exception, match="GATEWAY_SECRET_PEPPER is required"):
        assert_no_drift(process)


def test_an_unknown_command_must_be_mapped_to_a_settings_class():
    with pytest.raises(AssertionError, match="map it in SETTINGS_BY_COMMAND"):
        settings_class("python -m something_else")


@pytest.mark.parametrize(
    "module",
    [
        "gateway_api.settings",
        "gateway_api.settings:ResultsSettings",
        "gateway_api.settings:WebhookSettings",
        "processor.settings",
        "panel.settings",
        "infra.stack.settings:StackSettings",
    ],
)
def test_every_variable_a_service_reads_is_documented_on_the_configuration_page(module):
    env = EnvReader(STRONG_SECRETS | {"PANEL_GATEWAY_URL": "http://api:8000"})
    module, _, name = module.partition(":")
    getattr(importlib.import_module(module), name or "Settings").from_env(env)
    page = (support.ROOT / "docs" / "configuration.md").read_text()
    assert [name for name in sorted(env.names_read) if f"`{name}`" not in page] == []
