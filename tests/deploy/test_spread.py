"""Every Deployment spreads its replicas over nodes (hard) and zones (soft), prefers not to share a
node, and has a PodDisruptionBudget over exactly its pods that lets a drain take one at a time."""

from __future__ import annotations

import pytest

from tests.deploy import support
from tests.deploy.support import of_kind, pod_spec

OVERLAYS = [str(path.relative_to(support.K8S)) for path in support.overlays()]


def deployments(rendered, overlay) -> list[dict]:
    found = of_kind(rendered[overlay], "Deployment")
    assert {d["metadata"]["name"] for d in found} == {"api", "processor", "results", "webhooks", "panel", "redis"}
    return found


def own_pods(deployment: dict) -> dict:
    return {"matchLabels": deployment["spec"]["selector"]["matchLabels"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_spreads_over_nodes_and_zones(rendered, overlay):
    for deployment in deployments(rendered, overlay):
        spread = {c["topologyKey"]: c for c in pod_spec(deployment).get("topologySpreadConstraints", [])}
        name = deployment["metadata"]["name"]
        assert set(spread) == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}, name
        assert spread["kubernetes.io/hostname"]["whenUnsatisfiable"] == "DoNotSchedule", name
        for constraint in spread.values():
            assert constraint["maxSkew"] == 1 and constraint["labelSelector"] == own_pods(deployment), name
            assert constraint.get("matchLabelKeys") == ["pod-template-hash"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_prefers_a_node_of_its_own_per_replica(rendered, overlay):
    for deployment in deployments(rendered, overlay):
        terms = (
            pod_spec(deployment)
            .get("affinity", {})
            .get("podAntiAffinity", {})
            .get("preferredDuringSchedulingIgnoredDuringExecution", [])
        )
        assert any(
            term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
            and term["podAffinityTerm"]["labelSelector"] == own_pods(deployment)
            for term in terms
        ), deployment["metadata"]["name"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_deployment_has_a_budget_over_its_pods_that_never_blocks_a_drain(rendered, overlay):
    budgets = {b["metadata"]["name"]: b for b in of_kind(rendered[overlay], "PodDisruptionBudget")}
    for deployment in deployments(rendered, overlay):
        budget = budgets[deployment["metadata"]["name"]]["spec"]
        assert budget["selector"] == own_pods(deployment)
        # One at a time, at one replica too (minAvailable would block every drain of a single replica);
        # the spread above keeps replicas even over nodes, so a drain rarely needs more than one.
        assert budget.get("maxUnavailable") == 1 and "minAvailable" not in budget
