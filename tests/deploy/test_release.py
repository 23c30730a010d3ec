"""The release step (k8s/release.py) on a copy of each overlay: the new version label lands on the
objects and their pod templates, the Job is named after it, the images are set, and no selector
moves: every Service and NetworkPolicy selects the same pods as before, ours and Strimzi's."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy import support
from tests.deploy.strimzi_pods import kafka_pods
from tests.deploy.support import of_kind, pod_spec
from tests.deploy.test_network_policies import selects

OVERLAYS = [path.name for path in support.overlays()]
VERSION = "7.3.1-rc.1"
DIGEST = "sha256:" + "ab" * 32
IMAGE = f"registry.example.com/payment-gateway@{DIGEST}"
# Dev names its migration Job after the image tag (each dev image migrates): images by tag there.
IMAGES = {"prod": IMAGE, "dev": f"registry.example.com/payment-gateway:{VERSION}"}
SELECTOR_KEYS = {"selector", "podSelector", "labelSelector", "namespaceSelector"}
WORKLOADS = ("Deployment", "StatefulSet", "Job", "CronJob")


def release(overlay: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(support.K8S / "release.py"), str(overlay), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(params=OVERLAYS)
def renders(request, kubectl, tmp_path) -> tuple[list[dict], list[dict]]:
    """(the overlay rendered as in git, rendered after the release step on a copy)."""
    copy = tmp_path / "k8s"
    shutil.copytree(support.K8S, copy)
    answer = release(copy / "overlays" / request.param, VERSION, f"payment-gateway={IMAGES[request.param]}")
    assert answer.returncode == 0, answer.stderr
    request.node.image = IMAGES[request.param]
    return support.render(support.K8S / "overlays" / request.param), support.render(copy / "overlays" / request.param)


def key(obj: dict) -> tuple[str, str]:
    """Kind and name, the release's version taken out of the migration Job's name."""
    name = obj["metadata"]["name"]
    return obj["kind"], "migrate" if obj["kind"] == "Job" and name.startswith("migrate-") else name


def selectors(node, path: str = "") -> dict[str, object]:
    """Every selector in an object, by where it is."""
    found = {}
    if isinstance(node, dict):
        for name, value in node.items():
            where = f"{path}.{name}"
            found.update({where: value} if name in SELECTOR_KEYS else selectors(value, where))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.update(selectors(value, f"{path}[{index}]"))
    return found


def pods(objects: list[dict]) -> dict[str, dict]:
    """Every pod the render makes (one per workload) and Strimzi's, by name -> labels."""
    ours = {}
    for workload in (obj for obj in objects if obj["kind"] in WORKLOADS):
        template = (
            workload["spec"]["jobTemplate"]["spec"]["template"]
            if workload["kind"] == "CronJob"
            else workload["spec"]["template"]
        )
        ours[key(workload)[1]] = template["metadata"].get("labels", {})
    return ours | kafka_pods(objects)


def selected_pods(objects: list[dict]) -> dict[tuple, set[str]]:
    """For every Service selector and NetworkPolicy pod selector (subject and peers): the pods it selects."""
    everyone, found = pods(objects), {}
    for service in of_kind(objects, "Service"):
        selector = service["spec"].get("selector")
        if selector:
            found[key(service)] = {
                name for name, labels in everyone.items() if selects({"matchLabels": selector}, labels)
            }
    for policy in of_kind(objects, "NetworkPolicy"):
        for where, selector in selectors(policy["spec"]).items():
            if where.endswith("podSelector"):
                found[(*key(policy), where)] = {name for name, labels in everyone.items() if selects(selector, labels)}
    return found


def test_the_release_step_changes_no_selector(renders):
    before, after = renders
    assert {key(obj): selectors(obj) for obj in after} == {key(obj): selectors(obj) for obj in before}


def test_every_service_and_network_policy_selects_the_pods_it_did(renders):
    before, after = renders
    assert selected_pods(after) == selected_pods(before)
    services = {name: chosen for name, chosen in selected_pods(after).items() if name[0] == "Service"}
    assert services and all(services.values()), f"a Service selects no pod: {services}"


def test_the_version_lands_on_every_workload_and_names_the_migration_job_but_restarts_no_mysql(renders, request):
    before, after = renders
    for workload in (obj for obj in after if obj["kind"] in WORKLOADS):
        assert workload["metadata"]["labels"]["app.kubernetes.io/version"] == VERSION
    mysql = [support.named(render, "StatefulSet", "mysql")["spec"]["template"] for render in (before, after)]
    assert mysql[0] == mysql[1], "a release must not roll the database"
    (job,) = of_kind(after, "Job")
    assert job["metadata"]["name"] == f"migrate-{VERSION}"
    images = {
        container["image"]
        for workload in after
        if workload["kind"] in WORKLOADS
        for container in pod_spec(workload)["containers"]
        if support.is_gateway(container)
    }
    assert images == {request.node.image}


def test_each_new_dev_image_gets_a_migration_job_of_its_own(kubectl, tmp_path):
    """Only the image changes (a dev build): a Job named migrate-dev would already exist and never run again."""
    copy = tmp_path / "k8s"
    shutil.copytree(support.K8S, copy)
    dev = copy / "overlays" / "dev" / "kustomization.yaml"
    names = []
    for tag in ("dev-1a2b3c", "dev-4d5e6f"):
        dev.write_text(re.sub(r"newTag: .*", f"newTag: {tag}", dev.read_text(), count=1))
        names.append(support.named(support.render(dev.parent), "Job", f"migrate-{tag}")["metadata"]["name"])
    assert names == ["migrate-dev-1a2b3c", "migrate-dev-4d5e6f"]


def test_the_release_step_refuses_common_labels_and_a_version_that_cannot_name_a_job(tmp_path):
    copy = tmp_path / "k8s"
    shutil.copytree(support.K8S, copy)
    prod = copy / "overlays" / "prod"
    assert "lower-case" in release(prod, "Release 2", f"payment-gateway={IMAGE}").stderr
    (prod / "kustomization.yaml").write_text(
        (prod / "kustomization.yaml").read_text() + "commonLabels:\n  team: payments\n"
    )
    assert "commonLabels go into selectors" in release(prod, VERSION).stderr


def test_the_readme_documents_the_release_step_and_not_kustomize_edit_set_label():
    readme = (support.K8S / "README.md").read_text()
    assert "k8s/release.py" in readme and "edit set label app.kubernetes.io" not in readme
