"""k8s/: every kustomization renders, every core object passes the Kubernetes schemas of a pinned
version, and the manifests keep the promises of the deployment (hardening, probes, scaling)."""

from __future__ import annotations

import copy
import re

import kubernetes_validate
import pytest

from tests.deploy import support
from tests.deploy.support import containers, named, of_kind, pod_spec

KUBERNETES_VERSION = "1.32.0"  # the kubectl of CI; schemas from kubernetes-validate, strict mode
OVERLAYS = [str(path.relative_to(support.K8S)) for path in support.overlays()]
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job")
POD_WORKLOAD_KINDS = (*WORKLOAD_KINDS, "CronJob")


def core_objects(objects):
    return [obj for obj in objects if not obj["apiVersion"].startswith("kafka.strimzi.io/")]


def workloads(objects):
    return [obj for obj in objects if obj["kind"] in WORKLOAD_KINDS]


def pod_workloads(objects):
    """Workloads including CronJobs (their pods are one level deeper)."""
    return [obj for obj in objects if obj["kind"] in POD_WORKLOAD_KINDS]


def pod_template(workload) -> dict:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]
    return workload["spec"]["template"]


def pod_containers(workload) -> list[dict]:
    spec = pod_template(workload)["spec"]
    return spec.get("initContainers", []) + spec["containers"]


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
def test_every_pod_is_hardened_beyond_restricted(rendered, overlay):
    """On top of the restricted profile (test_pod_security.py): no API token, read-only root."""
    for workload in pod_workloads(rendered[overlay]):
        spec = pod_template(workload)["spec"]
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        assert spec["automountServiceAccountToken"] is False, where
        for container in pod_containers(workload):
            assert container["securityContext"]["readOnlyRootFilesystem"] is True, where
            assert _writable_mounts(spec, container) >= {"/tmp"}, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_prometheus_multiprocess_folder_is_a_writable_volume(rendered, overlay):
    found = 0
    for workload in workloads(rendered[overlay]):
        for container in containers(workload):
            env = {item["name"]: item.get("value") for item in container.get("env", [])}
            if "PROMETHEUS_MULTIPROC_DIR" in env:
                found += 1
                assert env["PROMETHEUS_MULTIPROC_DIR"] in _writable_mounts(pod_spec(workload), container)
    assert found == 1  # the API; the panel's gunicorn conf makes a fresh one in /tmp (see panel.yaml)


def _writable_mounts(spec, container) -> set[str]:
    empty_dirs = {volume["name"] for volume in spec.get("volumes", []) if "emptyDir" in volume}
    return {mount["mountPath"] for mount in container.get("volumeMounts", []) if mount["name"] in empty_dirs}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_requests_and_limits(rendered, overlay):
    for workload in pod_workloads(rendered[overlay]):
        for container in pod_containers(workload):
            resources = container["resources"]
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[bound]), f"{container['name']} {bound}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_use_the_health_endpoints_of_each_process(rendered, overlay):
    """/readyz = can serve (migration head, broker); the workers' /healthz = the loop's heartbeat,
    on their metrics port (not /metrics, which answers even when the loop is stuck)."""
    objects = rendered[overlay]
    for name in ("api", "panel"):
        (web,) = pod_spec(named(objects, "Deployment", name))["containers"]
        assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    for name, port in (("processor", 9101), ("results", 9102), ("webhooks", 9103)):
        (container,) = pod_spec(named(objects, "Deployment", name))["containers"]
        env = {item["name"]: item.get("value") for item in container["env"]}
        assert env["METRICS_PORT"] == str(port)
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
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
    gateway = [d for d in of_kind(rendered[overlay], "Deployment") if d["metadata"]["name"] != "redis"]  # not ours
    for deployment in gateway:
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        ports = {port["containerPort"] for c in pod_spec(deployment)["containers"] for port in c.get("ports", [])}
        assert int(annotations["prometheus.io/port"]) in ports


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_metrics_ports_are_behind_no_service_and_only_monitoring_reaches_them(rendered, overlay):
    """/metrics is scraped on the pod's metrics port: no Service the ingress routes to forwards to it,
    and the network policy lets only the monitoring namespace reach it."""
    objects = rendered[overlay]
    policies = of_kind(objects, "NetworkPolicy")
    (ingress,) = of_kind(objects, "Ingress")
    routed = {path["backend"]["service"]["name"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}
    for deployment in of_kind(objects, "Deployment"):
        name = deployment["metadata"]["name"]
        if name == "redis":  # not ours: no /metrics (the rate limit counters' store)
            continue
        port = int(deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"])
        (container,) = pod_spec(deployment)["containers"]
        env = {item["name"]: item.get("value") for item in container.get("env", [])}
        assert env.get("METRICS_PORT") == str(port), name
        named_ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        for service in of_kind(objects, "Service"):
            if service["metadata"]["name"] in routed and _selects(service["spec"]["selector"], labels):
                forwarded = {named_ports.get(p["targetPort"], p["targetPort"]) for p in service["spec"]["ports"]}
                assert port not in forwarded, (name, service["metadata"]["name"])
        for policy in policies:
            if not _selects(policy["spec"]["podSelector"].get("matchLabels", {"-": "-"}), labels):
                continue
            for rule in policy["spec"].get("ingress", []):
                if port in {p["port"] for p in rule.get("ports", [])}:
                    sources = [s.get("namespaceSelector", {}).get("matchLabels", {}) for s in rule["from"]]
                    assert sources == [{"gateway.example.com/monitoring": "true"}], (name, policy["metadata"]["name"])


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
    for deployment in of_kind(objects, "Deployment") + of_kind(objects, "StatefulSet"):
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
def test_the_migration_job_migrates_both_databases_once_per_release(rendered, overlay):
    (job,) = of_kind(rendered[overlay], "Job")
    commands = [support.command_line(c["command"]) for c in containers(job)]
    assert commands == ["python -m processor migrate", "python -m gateway_api migrate"]
    release = job["metadata"]["labels"]["app.kubernetes.io/version"]
    assert job["metadata"]["name"] == f"migrate-{release}", "a new release must create a new Job"
    for deployment in of_kind(rendered[overlay], "Deployment"):
        assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == release
    for container in containers(job):
        assert "envFrom" not in container, "the Job's template must change only with the release"


def test_releases_name_their_migration_job_after_themselves(rendered):
    names = {overlay: of_kind(rendered[overlay], "Job")[0]["metadata"]["name"] for overlay in OVERLAYS}
    assert names["overlays/prod"] == "migrate-0.1.0" and names["overlays/dev"] == "migrate-dev"


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


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_overlay_applies_a_template_secret(rendered, overlay):
    """The templates hold placeholders the services refuse: prod takes its Secrets from a secret
    manager, dev from k8s/overlays/dev/create-secrets.sh (tests/deploy/test_secrets.py)."""
    assert of_kind(rendered[overlay], "Secret") == []


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_secret_reference_names_a_key_of_the_secret_template(rendered, overlay):
    template = {(s["metadata"]["name"], key) for s in of_kind(rendered["base"], "Secret") for key in s["stringData"]}
    template |= {(user["metadata"]["name"], "password") for user in of_kind(rendered[overlay], "KafkaUser")}
    for workload in pod_workloads(rendered[overlay]):
        for container in pod_containers(workload):
            for item in container.get("env", []):
                ref = item.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert (ref["name"], ref["key"]) in template, f"{container['name']}: {ref}"
            assert all("secretRef" not in source for source in container.get("envFrom", []))


def test_the_secret_template_holds_no_real_secret(rendered):
    for secret in of_kind(rendered["base"], "Secret"):
        for key, value in secret["stringData"].items():
            assert "change-me" in value, f"{secret['metadata']['name']}.{key} must stay a placeholder"


def _topic(objects, topic_name):
    return next(t for t in of_kind(objects, "KafkaTopic") if t["spec"]["topicName"] == topic_name)


# --- drains, images, passwords, backups -------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_disruption_budget_lets_a_drain_evict_a_pod_at_the_smallest_scale(rendered, overlay):
    objects = rendered[overlay]
    hpas = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa["spec"]["minReplicas"]
        for hpa in of_kind(objects, "HorizontalPodAutoscaler")
    }
    for budget in of_kind(objects, "PodDisruptionBudget"):
        (target,) = [
            w
            for w in of_kind(objects, "Deployment") + of_kind(objects, "StatefulSet")
            if _selects(budget["spec"]["selector"]["matchLabels"], w["spec"]["template"]["metadata"]["labels"])
        ]
        smallest = hpas.get(target["metadata"]["name"], target["spec"].get("replicas", 1))
        spec = budget["spec"]
        allowed = spec["maxUnavailable"] if "maxUnavailable" in spec else smallest - spec["minAvailable"]
        assert allowed >= 1, f"{budget['metadata']['name']}: a drain could never evict its pod at {smallest} replica(s)"


def test_prod_pins_every_image_by_digest_and_dev_may_use_tags(rendered):
    images = [c["image"] for w in pod_workloads(rendered["overlays/prod"]) for c in pod_containers(w)]
    assert {support.image_name(image) for image in images} == {"payment-gateway", "mysql", "redis"}
    for image in images:
        assert re.fullmatch(r"[\w./-]+@sha256:[0-9a-f]{64}", image), image
    assert all(
        c["imagePullPolicy"] == "IfNotPresent"
        for w in pod_workloads(rendered["overlays/prod"])
        for c in pod_containers(w)
        if "payment-gateway" in c["image"]
    )  # a digest never changes


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_database_passwords_have_one_source_the_mysql_secret(rendered, overlay):
    """MySQL creates its users from mysql-secrets and every DATABASE_URL is built from the same keys."""
    objects = rendered[overlay]
    for secret in of_kind(rendered["base"], "Secret"):
        assert not any("mysql+pymysql://" in value for value in secret["stringData"].values()), secret["metadata"][
            "name"
        ]
    mysql_env = {
        e["name"]: e["valueFrom"]["secretKeyRef"]
        for e in pod_spec(named(objects, "StatefulSet", "mysql"))["containers"][0]["env"]
    }
    urls = 0
    for workload in pod_workloads(objects):
        for container in pod_containers(workload):
            env = {e["name"]: e for e in container.get("env", [])}
            if "DATABASE_URL" not in env:
                continue
            urls += 1
            user = re.match(
                r"mysql\+pymysql://(\w+):\$\(DB_PASSWORD\)@mysql:3306/\1\?", env["DATABASE_URL"]["value"]
            ).group(1)
            assert env["DB_PASSWORD"]["valueFrom"]["secretKeyRef"] == mysql_env[f"{user.upper()}_DB_PASSWORD"]
            assert list(env).index("DB_PASSWORD") < list(env).index("DATABASE_URL"), "defined before use"
    assert urls == 6  # api, processor, results, webhooks, and the two migrations


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_nightly_backup_runs_the_tested_script_and_binlogs_last_as_long(rendered, overlay):
    objects = rendered[overlay]
    cron = named(objects, "CronJob", "mysql-backup")
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    (container,) = pod_spec(cron)["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    scripts = named_prefix(objects, "ConfigMap", "mysql-scripts")
    assert container["command"] == ["/scripts/backup.sh"]
    assert scripts["data"]["backup.sh"] == (support.K8S / "base/mysql/backup.sh").read_text()
    assert set(env["BACKUP_DATABASES"].split()) == {"processor", "gateway"}
    volume = next(v for v in pod_spec(cron)["volumes"] if v["name"] == "backups")
    named(objects, "PersistentVolumeClaim", volume["persistentVolumeClaim"]["claimName"])
    args = pod_spec(named(objects, "StatefulSet", "mysql"))["containers"][0]["args"]
    assert "--log-bin=binlog" in args
    assert f"--binlog-expire-logs-seconds={int(env['BACKUP_KEEP_DAYS']) * 86400}" in args
    assert "--source-data=2" in env["BACKUP_DUMP_OPTIONS"]


def named_prefix(objects, kind, prefix):
    (match,) = [o for o in of_kind(objects, kind) if o["metadata"]["name"].startswith(prefix)]
    return match


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_api_counts_rate_limits_in_the_one_redis_with_the_secrets_password(rendered, overlay):
    objects = rendered[overlay]
    redis = pod_spec(named(objects, "Deployment", "redis"))
    (container,) = redis["containers"]
    assert "$(REDIS_PASSWORD)" in container["args"] and container["readinessProbe"] and container["livenessProbe"]
    assert {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}["REDIS_PASSWORD"] == {
        "name": "gateway-secrets",
        "key": "redis-password",
    }
    api_env = {e["name"]: e for e in pod_spec(named(objects, "Deployment", "api"))["containers"][0]["env"]}
    assert api_env["RATE_LIMIT_STORAGE_URL"]["value"] == "redis://:$(REDIS_PASSWORD)@redis:6379/0"
    assert api_env["REDIS_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": "gateway-secrets",
        "key": "redis-password",
    }
