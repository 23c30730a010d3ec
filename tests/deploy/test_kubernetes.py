"""k8s/: every kustomization renders, every core object passes the Kubernetes schemas of a pinned
version, and the manifests keep the promises of the deployment (hardening, probes, scaling)."""
from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from tests.deploy import support
from tests.deploy.support import containers, named, of_kind, pod_spec

KUBERNETES_VERSION = "1.32.0"  # the kubectl of CI; schemas from kubernetes-validate, strict mode
OVERLAYS = [str(path.relative_to(support.K8S)) for path in support.overlays()]
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")


def core_objects(objects):
    return [obj for obj in objects if not obj["apiVersion"].startswith("kafka.strimzi.io/")]


def workloads(objects):
    return [obj for obj in objects if obj["kind"] in WORKLOAD_KINDS]


def test_there_are_dev_and_prod_overlays():
    assert {"overlays/dev", "overlays/prod"} <= set(OVERLAYS)


@pytest.mark.parametrize("name", ["base", *OVERLAYS])
def test_every_core_object_is_valid_against_the_kubernetes_schema(rendered, name):
    objects = core_objects(rendered[name])
    assert len(objects) > 15
    failures = []
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            failures.append(f"{obj['kind']}/{obj['metadata']['name']} at {list(error.path)}: {error.message}")
    assert not failures, "\n".join(failures)


def test_the_schema_check_rejects_an_unknown_field(rendered):
    deployment = copy.deepcopy(named(rendered["overlays/prod"], "Deployment", "api"))
    pod_spec(deployment)["containers"][0]["livenessProbe"]["httpGet"]["pth"] = "/healthz"
    with pytest.raises(kubernetes_validate.ValidationError, match="pth"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_lives_in_the_overlay_namespace(rendered, overlay):
    objects = rendered[overlay]
    (namespace,) = of_kind(objects, "Namespace")
    name = namespace["metadata"]["name"]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {obj["metadata"].get("namespace") for obj in objects if obj["kind"] != "Namespace"} == {name}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_runs_restricted(rendered, overlay):
    for workload in workloads(rendered[overlay]):
        spec = pod_spec(workload)
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        assert spec["automountServiceAccountToken"] is False, where
        for container in containers(workload):
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert _writable_mounts(workload, container) >= {"/tmp"}, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_prometheus_multiprocess_folder_is_a_writable_volume(rendered, overlay):
    found = 0
    for workload in workloads(rendered[overlay]):
        for container in containers(workload):
            env = {item["name"]: item.get("value") for item in container.get("env", [])}
            if "PROMETHEUS_MULTIPROC_DIR" in env:
                found += 1
                assert env["PROMETHEUS_MULTIPROC_DIR"] in _writable_mounts(workload, container)
    assert found == 1  # the API; the panel's gunicorn conf makes a fresh one in /tmp (see panel.yaml)


def _writable_mounts(workload, container) -> set[str]:
    empty_dirs = {volume["name"] for volume in pod_spec(workload).get("volumes", []) if "emptyDir" in volume}
    return {mount["mountPath"] for mount in container.get("volumeMounts", []) if mount["name"] in empty_dirs}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_requests_and_limits(rendered, overlay):
    for workload in workloads(rendered[overlay]):
        for container in containers(workload):
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[bound]), f"{container['name']} {bound}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_use_the_api_health_endpoints_and_the_worker_metrics_ports(rendered, overlay):
    objects = rendered[overlay]
    for name in ("api", "panel"):
        (web,) = pod_spec(named(objects, "Deployment", name))["containers"]
        assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for name, port in (("processor", 9101), ("results", 9102), ("webhooks", 9103)):
        (container,) = pod_spec(named(objects, "Deployment", name))["containers"]
        env = {item["name"]: item.get("value") for item in container["env"]}
        assert env["METRICS_PORT"] == str(port)
        for probe in ("readinessProbe", "livenessProbe"):
            assert _probe_port(container, probe) == port
    for deployment in of_kind(objects, "Deployment"):
        for container in pod_spec(deployment)["containers"]:
            assert "readinessProbe" in container and "livenessProbe" in container, container["name"]


def _probe_port(container, probe) -> int:
    port = container[probe]["httpGet"]["port"]
    if isinstance(port, int):
        return port
    return next(item["containerPort"] for item in container["ports"] if item["name"] == port)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_scrape_annotations_point_at_a_container_port(rendered, overlay):
    for deployment in of_kind(rendered[overlay], "Deployment"):
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        ports = {port["containerPort"] for c in pod_spec(deployment)["containers"] for port in c.get("ports", [])}
        assert int(annotations["prometheus.io/port"]) in ports


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_api_and_processor_autoscale_and_processors_stop_at_the_partition_count(rendered, overlay):
    objects = rendered[overlay]
    hpas = {hpa["spec"]["scaleTargetRef"]["name"]: hpa["spec"] for hpa in of_kind(objects, "HorizontalPodAutoscaler")}
    assert set(hpas) == {"api", "processor"}
    partitions = _topic(objects, "transactions")["spec"]["partitions"]
    assert 1 <= hpas["processor"]["minReplicas"] <= hpas["processor"]["maxReplicas"] <= partitions
    for name in hpas:
        assert "replicas" not in named(objects, "Deployment", name)["spec"], f"{name}: the HPA owns replicas"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_disruption_budget_and_a_selecting_service(rendered, overlay):
    objects = rendered[overlay]
    budgets = [pdb["spec"]["selector"]["matchLabels"] for pdb in of_kind(objects, "PodDisruptionBudget")]
    services = [svc["spec"]["selector"] for svc in of_kind(objects, "Service")]
    for deployment in of_kind(objects, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        name = deployment["metadata"]["name"]
        assert any(_selects(selector, labels) for selector in budgets), f"no PodDisruptionBudget for {name}"
        assert any(_selects(selector, labels) for selector in services), f"no Service for {name}"


def _selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_and_ingress_reach_named_ports_that_exist(rendered, overlay):
    objects = rendered[overlay]
    pods = [obj["spec"]["template"] for obj in workloads(objects)]
    for service in of_kind(objects, "Service"):
        pod = next(p for p in pods if _selects(service["spec"]["selector"], p["metadata"]["labels"]))
        names = {port.get("name") for c in pod["spec"]["containers"] for port in c.get("ports", [])}
        assert {port["targetPort"] for port in service["spec"]["ports"]} <= names, service["metadata"]["name"]
    (ingress,) = of_kind(objects, "Ingress")
    for rule in ingress["spec"]["rules"]:
        for path in rule["http"]["paths"]:
            backend = path["backend"]["service"]
            service = named(objects, "Service", backend["name"])
            assert backend["port"]["name"] in {port["name"] for port in service["spec"]["ports"]}
            assert path["path"] != "/metrics"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_migration_job_migrates_both_databases(rendered, overlay):
    (job,) = of_kind(rendered[overlay], "Job")
    commands = [support.command_line(c["command"]) for c in containers(job)]
    assert commands == ["python -m processor migrate", "python -m gateway_api migrate"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_mysql_is_a_statefulset_with_a_headless_service_and_a_volume_per_pod(rendered, overlay):
    objects = rendered[overlay]
    mysql = named(objects, "StatefulSet", "mysql")
    service = named(objects, "Service", mysql["spec"]["serviceName"])
    assert service["spec"]["clusterIP"] == "None"
    (claim,) = mysql["spec"]["volumeClaimTemplates"]
    mounts = {mount["name"]: mount["mountPath"] for mount in pod_spec(mysql)["containers"][0]["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == "/var/lib/mysql"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_webhook_dispatcher_probes_readiness_and_liveness_and_outlives_a_delivery_on_shutdown(rendered, overlay):
    dispatcher = named(rendered[overlay], "Deployment", "webhooks")
    (container,) = pod_spec(dispatcher)["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert pod_spec(dispatcher)["terminationGracePeriodSeconds"] > 10  # the delivery timeout
    assert {e["name"] for e in container["env"]} >= {"DATABASE_URL", "WEBHOOK_SECRETS_KEY"}
    assert "WEBHOOK_ALLOW_PRIVATE_URLS" not in {e["name"] for e in container["env"]}


def test_the_panel_cookie_is_secure_behind_the_tls_ingress_only(rendered):
    for overlay, expected in (("overlays/prod", "true"), ("overlays/dev", "false")):
        (panel,) = pod_spec(named(rendered[overlay], "Deployment", "panel"))["containers"]
        assert {e["name"]: e.get("value") for e in panel["env"]}["PANEL_COOKIE_SECURE"] == expected
    (ingress,) = of_kind(rendered["overlays/prod"], "Ingress")
    assert ingress["spec"]["tls"]


def test_prod_applies_no_template_secret_and_dev_applies_them(rendered):
    assert of_kind(rendered["overlays/prod"], "Secret") == []
    assert {s["metadata"]["name"] for s in of_kind(rendered["overlays/dev"], "Secret")} == {
        "gateway-secrets", "mysql-secrets"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_reference_names_a_key_of_the_secret_template(rendered, overlay):
    template = {(s["metadata"]["name"], key) for s in of_kind(rendered["base"], "Secret") for key in s["stringData"]}
    for workload in workloads(rendered[overlay]):
        for container in containers(workload):
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert (ref["name"], ref["key"]) in template, f"{container['name']}: {ref}"
            assert all("secretRef" not in source for source in container.get("envFrom", []))


def test_the_secret_template_holds_no_real_secret(rendered):
    for secret in of_kind(rendered["base"], "Secret"):
        for key, value in secret["stringData"].items():
            assert "change-me" in value, f"{secret['metadata']['name']}.{key} must stay a placeholder"


# --- Strimzi custom resources: checked structurally (no CRD schemas offline) -----------------------

def _topic(objects, topic_name):
    return next(t for t in of_kind(objects, "KafkaTopic") if t["spec"]["topicName"] == topic_name)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_runs_in_kraft_mode_on_node_pools(rendered, overlay):
    objects = rendered[overlay]
    (kafka,) = of_kind(objects, "Kafka")
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1beta2"
    assert kafka["metadata"]["annotations"] == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
    assert "zookeeper" not in kafka["spec"]
    for listener in kafka["spec"]["kafka"]["listeners"]:
        assert {"name", "port", "type", "tls"} <= set(listener)
    pools = of_kind(objects, "KafkaNodePool")
    assert pools
    for pool in pools:
        assert pool["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert pool["spec"]["replicas"] >= 1
        assert set(pool["spec"]["roles"]) <= {"controller", "broker"}
        assert pool["spec"]["storage"]["type"] in {"jbod", "persistent-claim", "ephemeral"}
    roles = {role for pool in pools for role in pool["spec"]["roles"]}
    assert roles == {"controller", "broker"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_topics_match_the_contract_and_the_cluster_size(rendered, overlay):
    objects = rendered[overlay]
    (kafka,) = of_kind(objects, "Kafka")
    brokers = sum(p["spec"]["replicas"] for p in of_kind(objects, "KafkaNodePool") if "broker" in p["spec"]["roles"])
    topics = of_kind(objects, "KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics} == {"transactions", "transactions_result", "transactions_dlq"}
    config = _gateway_config(objects)
    for topic in topics:
        spec = topic["spec"]
        assert topic["apiVersion"] == "kafka.strimzi.io/v1beta2"
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert spec["partitions"] == int(config["KAFKA_TOPIC_PARTITIONS"]) == 6
        assert spec["replicas"] == int(config["KAFKA_REPLICATION_FACTOR"]) <= brokers
        assert 1 <= spec["config"]["min.insync.replicas"] <= max(spec["replicas"] - 1, 1)
    assert kafka["spec"]["kafka"]["config"]["default.replication.factor"] <= brokers
    assert kafka["spec"]["kafka"]["config"]["offsets.topic.replication.factor"] <= brokers


def _gateway_config(objects) -> dict:
    (config,) = [c for c in of_kind(objects, "ConfigMap") if c["metadata"]["name"].startswith("gateway-config")]
    return config["data"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_connect_to_the_strimzi_bootstrap_service(rendered, overlay):
    objects = rendered[overlay]
    (kafka,) = of_kind(objects, "Kafka")
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    expected = f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"
    assert _gateway_config(objects)["KAFKA_BOOTSTRAP_SERVERS"] == expected
