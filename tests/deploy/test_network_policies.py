"""NetworkPolicies, evaluated as the API server would for pods of one namespace: default deny, only
the gateway's pods reach Kafka and MySQL, the gateway's pods reach nothing else."""

from __future__ import annotations

import pytest

from tests.deploy import support
from tests.deploy.support import of_kind

OVERLAYS = [str(path.relative_to(support.K8S)) for path in support.overlays()]
BROKER = {
    "strimzi.io/cluster": "gateway-kafka",
    "strimzi.io/kind": "Kafka",
    "strimzi.io/broker-role": "true",
    "strimzi.io/pool-name": "dual-role",
}
MYSQL = {"app.kubernetes.io/name": "mysql"}
APPS = ("api", "processor", "results", "panel", "webhooks", "migrate", "mysql-backup")
REACHES_KAFKA = {"api", "processor", "results", "panel"}
REACHES_MYSQL = {"api", "processor", "results", "webhooks", "migrate", "mysql-backup"}
STRANGER = {"app.kubernetes.io/name": "debug-shell"}  # any other pod in the namespace


def app(name: str) -> dict:
    return {"app.kubernetes.io/name": name}


def selects(selector: dict, labels: dict) -> bool:
    """A LabelSelector (matchLabels and matchExpressions In/NotIn/Exists/DoesNotExist) on labels."""
    if any(labels.get(key) != value for key, value in selector.get("matchLabels", {}).items()):
        return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        if not {
            "In": present and labels[key] in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]:
            return False
    return True


def _port_matches(rules: list[dict] | None, port: int) -> bool:
    return not rules or any(rule.get("port") in (None, port) for rule in rules)


def _peer_matches(peers: list[dict] | None, labels: dict | None) -> bool:
    """Same-namespace pod peers only (labels None means: a pod outside the namespace)."""
    if peers is None:
        return True
    for peer in peers:
        if "namespaceSelector" in peer or "ipBlock" in peer:
            continue  # other namespaces: not a pod of ours
        if labels is not None and selects(peer["podSelector"], labels):
            return True
    return False


def allowed(policies: list[dict], direction: str, subject: dict, peer: dict, port: int) -> bool:
    """Whether ``subject`` may receive from (Ingress) or send to (Egress) ``peer`` on ``port``."""
    relevant = [
        p
        for p in policies
        if direction in p["spec"].get("policyTypes", ["Ingress"]) and selects(p["spec"]["podSelector"], subject)
    ]
    if not relevant:
        return True  # no policy isolates this pod in that direction
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return any(
        _peer_matches(rule.get(peers_key), peer) and _port_matches(rule.get("ports"), port)
        for policy in relevant
        for rule in policy["spec"].get(key, [])
    )


def can_connect(policies, source: dict, target: dict, port: int) -> bool:
    return allowed(policies, "Egress", source, target, port) and allowed(policies, "Ingress", target, source, port)


@pytest.fixture(params=OVERLAYS)
def policies(request, rendered) -> list[dict]:
    return of_kind(rendered[request.param], "NetworkPolicy")


def test_every_pod_is_isolated_by_a_default_deny(policies):
    (deny,) = [p for p in policies if p["metadata"]["name"] == "default-deny"]
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


@pytest.mark.parametrize("source", APPS)
def test_only_the_gateways_pods_reach_kafka_and_mysql(policies, source):
    assert can_connect(policies, app(source), BROKER, 9093) == (source in REACHES_KAFKA)
    assert can_connect(policies, app(source), MYSQL, 3306) == (source in REACHES_MYSQL)


def test_any_other_pod_reaches_neither_kafka_nor_mysql_nor_the_workers(policies):
    for target, port in (
        (BROKER, 9093),
        (MYSQL, 3306),
        (app("processor"), 9101),
        (app("results"), 9102),
        (app("api"), 8000),
    ):
        assert not can_connect(policies, STRANGER, target, port), target


def test_the_gateways_pods_reach_nothing_but_dns_kafka_mysql_and_the_api(policies):
    for source in APPS:
        assert not allowed(policies, "Egress", app(source), STRANGER, 443), source
        assert not allowed(policies, "Egress", app(source), BROKER, 9092), "no plaintext port"
    assert can_connect(policies, app("panel"), app("api"), 8000)
    assert not can_connect(policies, app("panel"), MYSQL, 3306)


def test_the_webhook_dispatcher_reaches_public_addresses_only(policies):
    (egress,) = [p for p in policies if p["metadata"]["name"] == "webhooks-egress"]
    blocks = {
        peer["ipBlock"]["cidr"]: set(peer["ipBlock"]["except"])
        for rule in egress["spec"]["egress"]
        for peer in rule.get("to", [])
        if "ipBlock" in peer
    }
    assert set(blocks) == {"0.0.0.0/0", "::/0"}
    assert {
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "169.254.0.0/16",
        "127.0.0.0/8",
        "100.64.0.0/10",
    } <= blocks["0.0.0.0/0"]
    assert {"fc00::/7", "fe80::/10", "::1/128", "::ffff:0:0/96"} <= blocks["::/0"]
    assert can_connect(policies, app("webhooks"), MYSQL, 3306)
    assert not can_connect(policies, app("webhooks"), BROKER, 9093)
    assert not can_connect(policies, app("webhooks"), app("api"), 8000)


def test_the_check_sees_a_policy_that_lets_everyone_in(policies):
    open_door = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "oops"},
        "spec": {
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "mysql"}},
            "policyTypes": ["Ingress"],
            "ingress": [{}],
        },
    }
    assert not allowed(policies, "Ingress", MYSQL, STRANGER, 3306)
    assert allowed([*policies, open_door], "Ingress", MYSQL, STRANGER, 3306)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_strimzi_lets_only_the_gateways_pods_into_the_listener(rendered, overlay):
    (kafka,) = of_kind(rendered[overlay], "Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    peers = listener["networkPolicyPeers"]
    for source in APPS:
        assert _peer_matches(peers, app(source)) == (source in REACHES_KAFKA)
    assert not _peer_matches(peers, STRANGER)


KUBE_DNS = [
    {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
]
ENTITY_OPERATOR = {
    "strimzi.io/cluster": "gateway-kafka",
    "strimzi.io/kind": "Kafka",
    "strimzi.io/name": "gateway-kafka-entity-operator",
}


def test_port_53_is_open_to_the_cluster_dns_only(policies):
    for policy in policies:
        for rule in policy["spec"].get("egress", []):
            if any(port.get("port") == 53 for port in rule.get("ports", [])):
                assert rule.get("to") == KUBE_DNS, policy["metadata"]["name"]


@pytest.mark.parametrize(
    "subject",
    [*(app(name) for name in APPS), app("webhooks"), MYSQL, BROKER, ENTITY_OPERATOR],
    ids=[*APPS, "webhooks", "mysql", "broker", "entity-operator"],
)
def test_every_pod_of_ours_and_kafkas_is_egress_isolated(policies, subject):
    assert [
        p
        for p in policies
        if "Egress" in p["spec"].get("policyTypes", []) and selects(p["spec"]["podSelector"], subject)
    ], subject


def test_kafka_reaches_its_own_pods_only_and_mysql_nobody(policies):
    for port in (9090, 9091):
        assert allowed(policies, "Egress", BROKER, BROKER, port)
        assert allowed(policies, "Egress", ENTITY_OPERATOR, BROKER, port)
    for source in (BROKER, MYSQL):
        for target, port in ((MYSQL, 3306), (app("api"), 8000), (STRANGER, 443), (STRANGER, 80), (BROKER, 9093)):
            assert not allowed(policies, "Egress", source, target, port), (source, target, port)
