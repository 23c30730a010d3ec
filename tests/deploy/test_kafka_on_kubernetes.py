"""Kafka on Kubernetes: every Strimzi object valid against Strimzi 1.0.0's CRD schemas (strict), and
secured in every overlay: TLS + SCRAM-SHA-512 only, one KafkaUser per service with least-privilege
ACLs, each service authenticating as its own user, NetworkPolicies that let only the gateway's pods
reach Kafka and MySQL; brokers spread over hosts and zones; `transactions` kept 24 h."""

from __future__ import annotations

import copy
import re

import pytest

from tests.deploy import strimzi, support
from tests.deploy.support import named, of_kind, pod_spec
from tests.support import skip_or_fail

KAFKA_VERSION = "4.2.0"  # supported by Strimzi 1.0.x to 1.2.x; compose runs the same
OVERLAYS = [str(path.relative_to(support.K8S)) for path in support.overlays()]
KAFKA_CLIENTS = {
    "api": "gateway-api",
    "processor": "gateway-processor",
    "results": "gateway-results",
    "panel": "gateway-panel",
}
# (resource type, name, pattern) -> operations, per KafkaUser: exactly what each service does.
EXPECTED_ACLS = {
    "gateway-api": {
        ("topic", "transactions", "literal"): {"Write", "Describe"},
        ("topic", "refunds", "literal"): {"Write", "Describe"},
    },
    "gateway-processor": {
        ("topic", "transactions", "literal"): {"Read", "Describe"},
        ("topic", "refunds", "literal"): {"Read", "Describe"},
        ("group", "processor", "literal"): {"Read"},
        ("topic", "transactions_result", "literal"): {"Write", "Describe"},
        ("topic", "refunds_result", "literal"): {"Write", "Describe"},
        ("topic", "transactions_dlq", "literal"): {"Write", "Describe"},
    },
    "gateway-results": {
        ("topic", "transactions_result", "literal"): {"Read", "Describe"},
        ("topic", "refunds_result", "literal"): {"Read", "Describe"},
        ("group", "gateway-results", "literal"): {"Read"},
        ("topic", "transactions_dlq", "literal"): {"Write", "Describe"},
    },
    "gateway-panel": {
        ("topic", "transactions_result", "literal"): {"Read", "Describe"},
        ("topic", "refunds_result", "literal"): {"Read", "Describe"},
        ("group", "panel-", "prefix"): {"Read"},
    },
}


def strimzi_objects(objects):
    return [obj for obj in objects if obj["apiVersion"].startswith("kafka.strimzi.io/")]


def validate(objects) -> list[str]:
    try:
        return strimzi.validate_strictly(objects)
    except strimzi.SchemaUnavailable as exc:
        skip_or_fail(str(exc))


# --- the CRD schemas ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["base", *OVERLAYS])
def test_every_strimzi_object_is_valid_against_the_strimzi_1_crd_schemas(rendered, name):
    objects = strimzi_objects(rendered[name])
    assert {obj["kind"] for obj in objects} == {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser"}
    assert validate(objects) == []


@pytest.mark.parametrize(
    "breakage, complaint",
    [
        (
            lambda kafka: kafka["spec"]["kafka"]["listeners"][0].update(tlss=True),
            r"listeners\[0\]\.tlss: unknown field",
        ),
        (lambda kafka: kafka["spec"]["kafka"].update(zookeeper={}), r"spec\.kafka\.zookeeper: unknown field"),
        (lambda kafka: kafka["spec"]["kafka"]["listeners"][0].update(port=80), r"port minimum"),
        (
            lambda kafka: kafka["spec"]["kafka"]["authorization"].update(type="acl"),
            r"authorization type enum|authorization/type enum",
        ),
        (
            lambda kafka: kafka.update(apiVersion="kafka.strimzi.io/v1beta2"),
            r"Strimzi 1\.0\.0 serves kafka\.strimzi\.io/v1",
        ),
        (
            lambda kafka: kafka["spec"]["kafka"]["template"]["pod"].update(securityContextt={}),
            r"securityContextt: unknown",
        ),
    ],
    ids=["misspelled-field", "zookeeper", "port-below-9092", "authorization-type", "v1beta2", "template-typo"],
)
def test_the_strimzi_check_rejects_unknown_fields_bad_values_and_old_api_versions(rendered, breakage, complaint):
    kafka = copy.deepcopy(named(rendered["overlays/prod"], "Kafka", "gateway-kafka"))
    breakage(kafka)
    errors = validate([kafka])
    assert any(re.search(complaint, error) for error in errors), errors


def test_a_v1beta2_style_acl_is_refused(rendered):
    """`operation` (singular) was removed from KafkaUser ACLs in v1."""
    user = copy.deepcopy(named(rendered["overlays/prod"], "KafkaUser", "gateway-api"))
    acl = user["spec"]["authorization"]["acls"][0]
    acl["operation"] = acl.pop("operations")[0]
    assert any("operation: unknown field" in error for error in validate([user]))


# --- the cluster ----------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_4_runs_in_kraft_on_node_pools_with_the_same_version_as_compose(rendered, overlay, compose):
    objects = rendered[overlay]
    (kafka,) = of_kind(objects, "Kafka")
    assert kafka["spec"]["kafka"]["version"] == KAFKA_VERSION
    assert compose["services"]["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}"
    pools = of_kind(objects, "KafkaNodePool")
    assert {role for pool in pools for role in pool["spec"]["roles"]} == {"controller", "broker"}
    for pool in pools:
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]


def test_prod_brokers_spread_over_hosts_and_zones_and_drain_one_at_a_time(rendered):
    objects = rendered["overlays/prod"]
    (kafka,) = of_kind(objects, "Kafka")
    (pool,) = of_kind(objects, "KafkaNodePool")
    assert pool["spec"]["replicas"] == 3 and kafka["spec"]["kafka"]["config"]["min.insync.replicas"] == 2
    (rule,) = pool["spec"]["template"]["pod"]["affinity"]["podAntiAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert rule["topologyKey"] == "kubernetes.io/hostname"
    assert rule["labelSelector"]["matchLabels"] == {
        "strimzi.io/cluster": "gateway-kafka",
        "strimzi.io/pool-name": pool["metadata"]["name"],
    }
    assert kafka["spec"]["kafka"]["rack"]["topologyKey"] == "topology.kubernetes.io/zone"
    assert kafka["spec"]["kafka"]["template"]["podDisruptionBudget"]["maxUnavailable"] == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_transactions_are_kept_24_hours_results_and_refunds_7_days(rendered, overlay):
    retention = {
        t["spec"]["topicName"]: t["spec"]["config"]["retention.ms"] for t in of_kind(rendered[overlay], "KafkaTopic")
    }
    assert retention == {
        "transactions": 24 * 3600 * 1000,
        "transactions_result": 7 * 24 * 3600 * 1000,
        "transactions_dlq": 30 * 24 * 3600 * 1000,
        "refunds": 7 * 24 * 3600 * 1000,
        "refunds_result": 7 * 24 * 3600 * 1000,
    }


# --- TLS + SCRAM + ACLs -----------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_only_listener_is_tls_with_scram_and_clients_use_it(rendered, overlay):
    objects = rendered[overlay]
    (kafka,) = of_kind(objects, "Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]  # no plaintext listener next to it
    assert listener["tls"] is True and listener["authentication"] == {"type": "scram-sha-512"}
    assert kafka["spec"]["kafka"]["authorization"]["type"] == "simple"
    config = _gateway_config(objects)
    assert config["KAFKA_BOOTSTRAP_SERVERS"] == f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"
    assert (config["KAFKA_SECURITY_PROTOCOL"], config["KAFKA_SASL_MECHANISM"]) == ("SASL_SSL", "SCRAM-SHA-512")
    assert config["KAFKA_SSL_CA_LOCATION"] == "/etc/kafka-ca/ca.crt"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_kafka_user_has_exactly_the_acls_its_service_needs(rendered, overlay):
    users = {user["metadata"]["name"]: user for user in of_kind(rendered[overlay], "KafkaUser")}
    assert set(users) == set(EXPECTED_ACLS)
    for name, user in users.items():
        assert user["spec"]["authentication"] == {"type": "scram-sha-512"}
        assert user["spec"]["authorization"]["type"] == "simple"
        acls = {}
        for acl in user["spec"]["authorization"]["acls"]:
            resource = acl["resource"]
            assert acl.get("host", "*") == "*"
            acls.setdefault((resource["type"], resource["name"], resource.get("patternType", "literal")), set()).update(
                acl["operations"]
            )
        assert acls == EXPECTED_ACLS[name], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_authenticates_as_its_own_user_and_trusts_the_cluster_ca(rendered, overlay):
    objects = rendered[overlay]
    (kafka,) = of_kind(objects, "Kafka")
    for app, user in KAFKA_CLIENTS.items():
        spec = pod_spec(named(objects, "Deployment", app))
        (container,) = spec["containers"]
        env = {item["name"]: item for item in container["env"]}
        assert env["KAFKA_SASL_USERNAME"]["value"] == user
        assert env["KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": user, "key": "password"}
        (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/etc/kafka-ca"]
        (volume,) = [v for v in spec["volumes"] if v["name"] == mount["name"]]
        assert volume["secret"]["secretName"] == f"{kafka['metadata']['name']}-cluster-ca-cert"
        assert volume["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_acls_match_the_groups_and_topics_the_services_are_configured_with(rendered, overlay):
    objects = rendered[overlay]
    groups = {
        app: {e["name"]: e.get("value") for e in pod_spec(named(objects, "Deployment", app))["containers"][0]["env"]}
        for app in ("processor", "results")
    }
    assert ("group", groups["processor"]["PROCESSOR_GROUP_ID"], "literal") in EXPECTED_ACLS["gateway-processor"]
    assert ("group", groups["results"]["RESULTS_GROUP_ID"], "literal") in EXPECTED_ACLS["gateway-results"]
    assert _gateway_config(objects)["KAFKA_TOPIC_PREFIX"] == ""  # the ACLs name the unprefixed topics


def _gateway_config(objects) -> dict:
    (config,) = [c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].startswith("gateway-config")]
    return config["data"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_topics_match_the_contract_and_the_cluster_size(rendered, overlay):
    objects = rendered[overlay]
    (kafka,) = of_kind(objects, "Kafka")
    brokers = sum(p["spec"]["replicas"] for p in of_kind(objects, "KafkaNodePool") if "broker" in p["spec"]["roles"])
    topics = of_kind(objects, "KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics} == {
        "transactions",
        "transactions_result",
        "transactions_dlq",
        "refunds",
        "refunds_result",
    }
    config = _gateway_config(objects)
    for topic in topics:
        spec = topic["spec"]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert spec["partitions"] == int(config["KAFKA_TOPIC_PARTITIONS"]) == 6
        assert spec["replicas"] == int(config["KAFKA_REPLICATION_FACTOR"]) <= brokers
        assert 1 <= spec["config"]["min.insync.replicas"] <= max(spec["replicas"] - 1, 1)
    assert kafka["spec"]["kafka"]["config"]["default.replication.factor"] <= brokers
    assert kafka["spec"]["kafka"]["config"]["offsets.topic.replication.factor"] <= brokers


def topic_prefix_refusal(objects: list[dict]) -> str | None:
    """Why an overlay cannot run with its KAFKA_TOPIC_PREFIX (None: it can)."""
    config = named(
        objects,
        "ConfigMap",
        next(
            c["metadata"]["name"]
            for c in of_kind(objects, "ConfigMap")
            if c["metadata"]["name"].startswith("gateway-config")
        ),
    )
    prefix = config["data"].get("KAFKA_TOPIC_PREFIX", "")
    if not prefix:
        return None
    return (
        f"KAFKA_TOPIC_PREFIX={prefix!r}: the KafkaTopics and the KafkaUsers' ACLs name literal topics, "
        "so every service would be locked out of its topics; leave it empty on Kubernetes (k8s/README.md)"
    )


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_overlay_sets_a_topic_prefix_the_acls_would_lock_out(rendered, overlay):
    refusal = topic_prefix_refusal(rendered[overlay])
    assert refusal is None, refusal


def test_a_topic_prefix_is_refused_by_name(rendered):
    objects = copy.deepcopy(rendered["overlays/prod"])
    for config in of_kind(objects, "ConfigMap"):
        if config["metadata"]["name"].startswith("gateway-config"):
            config["data"]["KAFKA_TOPIC_PREFIX"] = "staging_"
    assert "KAFKA_TOPIC_PREFIX='staging_'" in topic_prefix_refusal(objects)
