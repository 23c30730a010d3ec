"""checkov, a Kubernetes linter, over every rendered overlay: no finding but the waived ones
(checkov_waivers.yaml, each with its reason), and no waiver that no longer matches a finding."""

from __future__ import annotations

import copy
import sys

import pytest

from tests.deploy import checkov, support
from tests.deploy.support import named, pod_spec
from tests.support import skip_or_fail

OVERLAYS = [path.name for path in support.overlays()]


def findings(objects) -> list[checkov.Finding]:
    try:
        return checkov.failed_checks(objects)
    except checkov.CheckovUnavailable as exc:
        skip_or_fail(str(exc))


def test_every_waiver_says_why():
    for rule in checkov.waivers():
        assert set(rule) == {"check", "overlays", "resources", "reason"}, rule
        assert len(rule["reason"]) > 80 and set(rule["overlays"]) <= set(OVERLAYS), rule["check"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_finds_nothing_but_the_waived_checks(rendered, overlay):
    rules = checkov.waivers()
    found = findings(rendered[f"overlays/{overlay}"])
    unwaived = sorted({f"{f.check} {f.resource}: {f.title}" for f in found if not checkov.waived(f, overlay, rules)})
    assert unwaived == []
    used = {id(checkov.waived(f, overlay, rules)) for f in found}
    stale = [rule["check"] for rule in rules if overlay in rule["overlays"] and id(rule) not in used]
    assert stale == [], f"waivers that match nothing in {overlay} any more: remove them"


def test_the_linter_catches_a_privileged_container(rendered):
    objects = copy.deepcopy(rendered["overlays/prod"])
    pod_spec(named(objects, "Deployment", "panel"))["containers"][0]["securityContext"]["privileged"] = True
    assert any(f.check == "CKV_K8S_16" and f.resource == "Deployment.panel" for f in findings(objects))


def test_checkov_is_installed_once_per_machine_not_once_per_clone():
    """A fresh clone (a new .venv) reuses the checkov virtualenv: it is outside the project's."""
    assert not checkov.HOME.is_relative_to(sys.prefix)
    assert checkov.HOME.is_relative_to(checkov.CACHE) and checkov.CHECKOV_VERSION in checkov.HOME.name
