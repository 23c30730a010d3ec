"""The pods Strimzi builds from our custom resources, as its cluster operator builds them (1.0-1.2).

Labels: Strimzi's own (``strimzi.io/*`` and the ``app.kubernetes.io`` set it writes, see "Labels
and annotations" in Strimzi's docs) plus the custom resources' labels minus its default
``STRIMZI_LABELS_EXCLUSION_PATTERN`` (operator-common ``Labels.java``: every ``app.kubernetes.io/``
key but ``part-of``) plus ``template.pod.metadata.labels``. Pod security context: a template's
``securityContext`` *replaces* the one Strimzi's ``BaselinePodSecurityProvider`` would set
(``fsGroup: 0`` for pods with persistent storage), it is not merged with it.
"""

from __future__ import annotations

import re

from tests.deploy.support import of_kind

EXCLUDED = re.compile(r"^app\.kubernetes\.io/(?!part-of).*|^kustomize\.toolkit\.fluxcd\.io.*")
# What BaselinePodSecurityProvider sets for a Kafka pod with persistent-claim (or JBOD) storage.
BASELINE_WITH_PERSISTENT_STORAGE = {"fsGroup": 0}


def copied(labels: dict | None) -> dict:
    return {key: value for key, value in (labels or {}).items() if not EXCLUDED.match(key)}


def kafka_pods(objects: list[dict]) -> dict[str, dict]:
    """Pod name (one per node pool and the entity operator) -> its labels."""
    pods = {}
    for kafka in of_kind(objects, "Kafka"):
        cluster = kafka["metadata"]["name"]
        for pool in of_kind(objects, "KafkaNodePool"):
            if pool["metadata"].get("labels", {}).get("strimzi.io/cluster") != cluster:
                continue
            roles = pool["spec"]["roles"]
            template = pool["spec"].get("template", {}).get("pod", {}).get("metadata", {}).get("labels", {})
            pods[f"{cluster}-{pool['metadata']['name']}-0"] = {
                **copied(kafka["metadata"].get("labels")),
                **copied(pool["metadata"].get("labels")),
                **template,
                **_strimzi(cluster, f"{cluster}-kafka", "kafka"),
                "strimzi.io/pool-name": pool["metadata"]["name"],
                "strimzi.io/broker-role": str("broker" in roles).lower(),
                "strimzi.io/controller-role": str("controller" in roles).lower(),
            }
        if "entityOperator" in kafka["spec"]:
            pods[f"{cluster}-entity-operator"] = {
                **copied(kafka["metadata"].get("labels")),
                **_strimzi(cluster, f"{cluster}-entity-operator", "entity-operator"),
            }
    return pods


def _strimzi(cluster: str, name: str, component: str) -> dict:
    return {
        "strimzi.io/cluster": cluster,
        "strimzi.io/kind": "Kafka",
        "strimzi.io/name": name,
        "strimzi.io/component-type": component,
        "app.kubernetes.io/name": component,
        "app.kubernetes.io/instance": cluster,
        "app.kubernetes.io/part-of": f"strimzi-{cluster}",
        "app.kubernetes.io/managed-by": "strimzi-cluster-operator",
    }


def pod_security_context(pool: dict, kafka: dict) -> dict:
    """A node pool's pods' securityContext: its template's if it has one, else the Kafka resource's
    ``spec.kafka.template`` one, else the baseline provider's (each replaces, none is merged)."""
    for template in (pool["spec"].get("template", {}), kafka["spec"]["kafka"].get("template", {})):
        if "securityContext" in template.get("pod", {}):
            return template["pod"]["securityContext"]
    return dict(BASELINE_WITH_PERSISTENT_STORAGE) if persistent(pool) else {}


def persistent(pool: dict) -> bool:
    storage = pool["spec"]["storage"]
    volumes = storage.get("volumes", [storage])
    return any(volume["type"] == "persistent-claim" for volume in volumes)
