"""The `restricted` Pod Security Standard as a function of a pod spec, and the pods we ask for.

The rules are those of the Kubernetes Pod Security Standards (kubernetes.io/docs/concepts/security/
pod-security-standards/, policy version "latest"): every baseline control plus the restricted ones.
`violations(spec)` returns what the API server's PodSecurity admission would refuse, in words.

The pods come from two places: the workloads the overlays render (Deployments, StatefulSets, Jobs,
CronJobs), and the pods Strimzi will create from our `Kafka`/`KafkaNodePool` resources, modelled
from the templates we set (`template.pod`, `template.kafkaContainer`, `template.initContainer`, the
entity operator's containers): with no template, Strimzi's default pod security provider sets only
`fsGroup` on the pod, which `restricted` refuses.
"""

from __future__ import annotations

ALLOWED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job")


def containers_of(spec: dict) -> list[dict]:
    return spec.get("initContainers", []) + spec.get("containers", []) + spec.get("ephemeralContainers", [])


def violations(spec: dict) -> list[str]:
    """Every way ``spec`` (a PodSpec) breaks the restricted profile; empty when it complies."""
    pod = spec.get("securityContext") or {}
    found = _host_namespaces(spec) + _volumes(spec) + _pod_context(pod)
    for container in containers_of(spec):
        found += [f"container {container['name']}: {problem}" for problem in _container(container, pod)]
    return found


def _host_namespaces(spec: dict) -> list[str]:
    return [f"{field} is true" for field in ("hostNetwork", "hostPID", "hostIPC") if spec.get(field)]


def _volumes(spec: dict) -> list[str]:
    found = []
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUME_TYPES:
            found.append(f"volume {volume['name']} is of type {sorted(kinds - ALLOWED_VOLUME_TYPES)}")
    return found


def _pod_context(pod: dict) -> list[str]:
    found = []
    if pod.get("windowsOptions", {}).get("hostProcess"):
        found.append("pod: windowsOptions.hostProcess is true")
    if pod.get("runAsUser") == 0:
        found.append("pod: runAsUser is 0")
    if pod.get("seccompProfile", {}).get("type") == "Unconfined":
        found.append("pod: seccompProfile is Unconfined")
    found += [
        f"pod: sysctl {item['name']} is not in the safe set"
        for item in pod.get("sysctls", [])
        if item["name"] not in SAFE_SYSCTLS
    ]
    found += [f"pod: {problem}" for problem in _selinux_and_apparmor(pod)]
    return found


def _container(container: dict, pod: dict) -> list[str]:
    context = container.get("securityContext") or {}
    found = _selinux_and_apparmor(context)
    if context.get("privileged"):
        found.append("privileged is true")
    if context.get("windowsOptions", {}).get("hostProcess"):
        found.append("windowsOptions.hostProcess is true")
    if context.get("procMount", "Default") != "Default":
        found.append(f"procMount is {context['procMount']}")
    if any(port.get("hostPort") for port in container.get("ports", [])):
        found.append("uses a hostPort")
    if context.get("allowPrivilegeEscalation") is not False:
        found.append("allowPrivilegeEscalation is not false")
    if context.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
        found.append("runAsNonRoot is not true (pod or container)")
    if context.get("runAsUser") == 0:
        found.append("runAsUser is 0")
    found += _seccomp(context, pod) + _capabilities(context)
    return found


def _seccomp(context: dict, pod: dict) -> list[str]:
    profile = context.get("seccompProfile", pod.get("seccompProfile", {})).get("type")
    if profile not in ("RuntimeDefault", "Localhost"):
        return [f"seccompProfile is {profile or 'unset'} (pod or container), not RuntimeDefault or Localhost"]
    return []


def _capabilities(context: dict) -> list[str]:
    capabilities = context.get("capabilities") or {}
    found = []
    if "ALL" not in capabilities.get("drop", []):
        found.append("capabilities do not drop ALL")
    added = set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}
    if added:
        found.append(f"adds capabilities {sorted(added)}")
    return found


def _selinux_and_apparmor(context: dict) -> list[str]:
    found = []
    selinux = context.get("seLinuxOptions") or {}
    if selinux.get("type", "") not in SELINUX_TYPES:
        found.append(f"seLinuxOptions.type {selinux['type']}")
    found += [f"seLinuxOptions.{field} is set" for field in ("user", "role") if selinux.get(field)]
    if (context.get("appArmorProfile") or {}).get("type", "RuntimeDefault") not in ("RuntimeDefault", "Localhost"):
        found.append(f"appArmorProfile is {context['appArmorProfile']['type']}")
    return found


# --- the pods the manifests ask for ------------------------------------------------------------------


def rendered_pods(objects: list[dict]) -> dict[str, dict]:
    """Pod specs of every workload, by `Kind/name`."""
    pods = {}
    for obj in objects:
        if obj["kind"] in WORKLOAD_KINDS:
            pods[f"{obj['kind']}/{obj['metadata']['name']}"] = obj["spec"]["template"]["spec"]
        elif obj["kind"] == "CronJob":
            pods[f"CronJob/{obj['metadata']['name']}"] = obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif obj["kind"] == "Pod":
            pods[f"Pod/{obj['metadata']['name']}"] = obj["spec"]
    return pods


# Strimzi's default (baseline) pod security provider: fsGroup on the pod, nothing on containers.
STRIMZI_DEFAULT_POD_CONTEXT = {"fsGroup": 0}


def strimzi_pods(objects: list[dict]) -> dict[str, dict]:
    """The pods Strimzi creates for each node pool (kafka, plus kafka-init with rack awareness) and
    for the entity operator, from our templates (a node pool's template section wins over the
    Kafka's, as in Strimzi)."""
    pods = {}
    for kafka in (obj for obj in objects if obj["kind"] == "Kafka"):
        cluster = kafka["metadata"]["name"]
        kafka_template = kafka["spec"]["kafka"].get("template", {})
        rack = bool(kafka["spec"]["kafka"].get("rack"))
        for pool in (
            o
            for o in objects
            if o["kind"] == "KafkaNodePool" and o["metadata"].get("labels", {}).get("strimzi.io/cluster") == cluster
        ):
            template = {**kafka_template, **pool["spec"].get("template", {})}
            containers = [_strimzi_container("kafka", template.get("kafkaContainer"))]
            init = [_strimzi_container("kafka-init", template.get("initContainer"))] if rack else []
            pods[f"KafkaNodePool/{pool['metadata']['name']}"] = _strimzi_pod(template.get("pod"), containers, init)
        operator = kafka["spec"].get("entityOperator")
        if operator:
            template = operator.get("template", {})
            containers = [
                _strimzi_container(f"{name}-operator", template.get(f"{name}OperatorContainer"))
                for name in ("topic", "user")
                if f"{name}Operator" in operator
            ]
            pods[f"Kafka/{cluster}/entity-operator"] = _strimzi_pod(template.get("pod"), containers, [])
    return pods


def _strimzi_container(name: str, template: dict | None) -> dict:
    return {"name": name, "securityContext": (template or {}).get("securityContext", {})}


def _strimzi_pod(template: dict | None, containers: list[dict], init: list[dict]) -> dict:
    # Strimzi's pods mount a PVC (data), emptyDir (/tmp), Secrets (certificates) and a ConfigMap
    # (logging): all allowed volume types. Only what the templates set can break the profile.
    volumes = [
        {"name": "data", "persistentVolumeClaim": {}},
        {"name": "strimzi-tmp", "emptyDir": {}},
        {"name": "cluster-ca", "secret": {}},
        {"name": "config", "configMap": {}},
    ]
    context = (template or {}).get("securityContext", STRIMZI_DEFAULT_POD_CONTEXT)
    return {"securityContext": context, "initContainers": init, "containers": containers, "volumes": volumes}
