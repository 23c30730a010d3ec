"""Every pod the overlays render, and every pod Strimzi will create from our Kafka resources, passes
the `restricted` Pod Security Standard that the namespace enforces (tests/deploy/pod_security.py)."""

from __future__ import annotations

import copy

import pytest

from tests.deploy import pod_security, support
from tests.deploy.support import named

OVERLAYS = [str(path.relative_to(support.K8S)) for path in support.overlays()]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_pod_passes_the_restricted_profile(rendered, overlay):
    pods = pod_security.rendered_pods(rendered[overlay])
    assert {name.split("/")[0] for name in pods} == {"Deployment", "StatefulSet", "Job", "CronJob"}
    assert {name: pod_security.violations(spec) for name, spec in pods.items() if pod_security.violations(spec)} == {}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_strimzi_creates_passes_the_restricted_profile(rendered, overlay):
    pods = pod_security.strimzi_pods(rendered[overlay])
    assert set(pods) == {"KafkaNodePool/dual-role", "Kafka/gateway-kafka/entity-operator"}
    operator = pods["Kafka/gateway-kafka/entity-operator"]
    assert [c["name"] for c in operator["containers"]] == ["topic-operator", "user-operator"]
    assert {name: pod_security.violations(spec) for name, spec in pods.items() if pod_security.violations(spec)} == {}


def test_with_rack_awareness_the_init_container_is_checked_too(rendered):
    (pod,) = [
        spec
        for name, spec in pod_security.strimzi_pods(rendered["overlays/prod"]).items()
        if name.startswith("KafkaNodePool/")
    ]
    assert [c["name"] for c in pod["initContainers"]] == ["kafka-init"]


def test_strimzi_pods_without_our_templates_are_refused(rendered):
    """What the issue found: Strimzi's default provider sets only fsGroup, `restricted` refuses it."""
    objects = copy.deepcopy(rendered["overlays/prod"])
    named(objects, "Kafka", "gateway-kafka")["spec"]["kafka"].pop("template")
    named(objects, "KafkaNodePool", "dual-role")["spec"].pop("template")
    problems = pod_security.violations(pod_security.strimzi_pods(objects)["KafkaNodePool/dual-role"])
    assert "container kafka: allowPrivilegeEscalation is not false" in problems
    assert "container kafka: capabilities do not drop ALL" in problems
    assert any("seccompProfile is unset" in problem for problem in problems)


GOOD_POD = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {"name": "app", "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}
    ],
    "volumes": [{"name": "tmp", "emptyDir": {}}],
}


def _break(path: str, value):
    spec = copy.deepcopy(GOOD_POD)
    *parents, leaf = path.split(".")
    node = spec
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    node[leaf] = value
    return spec


@pytest.mark.parametrize(
    "path, value, complaint",
    [
        ("hostNetwork", True, "hostNetwork is true"),
        ("hostPID", True, "hostPID is true"),
        ("volumes", [{"name": "host", "hostPath": {"path": "/"}}], "volume host is of type ['hostPath']"),
        ("securityContext.runAsNonRoot", False, "runAsNonRoot is not true"),
        ("securityContext.runAsUser", 0, "pod: runAsUser is 0"),
        ("securityContext.seccompProfile", {"type": "Unconfined"}, "seccompProfile is Unconfined"),
        ("securityContext.sysctls", [{"name": "kernel.msgmax", "value": "1"}], "sysctl kernel.msgmax"),
        ("containers.0.securityContext.privileged", True, "privileged is true"),
        ("containers.0.securityContext.allowPrivilegeEscalation", True, "allowPrivilegeEscalation is not false"),
        ("containers.0.securityContext.capabilities", {"drop": ["NET_RAW"]}, "do not drop ALL"),
        (
            "containers.0.securityContext.capabilities",
            {"drop": ["ALL"], "add": ["SYS_ADMIN"]},
            "adds capabilities ['SYS_ADMIN']",
        ),
        ("containers.0.securityContext.procMount", "Unmasked", "procMount is Unmasked"),
        ("containers.0.securityContext.seLinuxOptions", {"user": "root"}, "seLinuxOptions.user is set"),
        ("containers.0.securityContext.appArmorProfile", {"type": "Unconfined"}, "appArmorProfile is Unconfined"),
        ("containers.0.ports", [{"containerPort": 80, "hostPort": 80}], "uses a hostPort"),
    ],
)
def test_the_check_refuses_what_the_restricted_profile_refuses(path, value, complaint):
    assert pod_security.violations(GOOD_POD) == []
    assert any(complaint in problem for problem in pod_security.violations(_break(path, value)))


def test_net_bind_service_is_the_one_capability_a_restricted_pod_may_add():
    spec = _break("containers.0.securityContext.capabilities", {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]})
    assert pod_security.violations(spec) == []
