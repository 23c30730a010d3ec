"""Running checkov (PyPI, Apache-2.0), a Kubernetes linter, over rendered manifests.

It gets a virtualenv of its own (its pinned dependencies would otherwise fight the gateway's), made
once per machine in the user's cache (``$XDG_CACHE_HOME`` or ~/.cache, ``payment-gateway/``), not in
the project's virtualenv: making it took 145 s of a 15-minute CI run on a fresh clone (2026-12-07), and
every fresh clone made it again. One per checkov version and Python. Findings are compared with the waivers in
checkov_waivers.yaml, the one list of checks we deliberately do not follow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import venv
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.support.once import one_worker_at_a_time

CHECKOV_VERSION = "3.3.30"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "payment-gateway"
HOME = CACHE / f"checkov-{CHECKOV_VERSION}-{sys.implementation.cache_tag}"
WAIVERS = Path(__file__).with_name("checkov_waivers.yaml")


class CheckovUnavailable(RuntimeError):
    pass


@dataclass(frozen=True)
class Finding:
    check: str
    resource: str  # Kind.name
    title: str


def executable() -> Path:
    binary, complete = HOME / "bin" / "checkov", HOME / ".installed"
    with one_worker_at_a_time(HOME):
        # Made completely (not cut short by a killed run), and its Python is still there.
        if not (complete.exists() and _runs(HOME / "bin" / "python")):
            venv.create(HOME, with_pip=True, clear=True)
            result = subprocess.run(
                [
                    str(HOME / "bin" / "python"),
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    f"checkov=={CHECKOV_VERSION}",
                ],
                capture_output=True,
                text=True,
                timeout=900,
            )
            if result.returncode != 0 or not binary.exists():
                raise CheckovUnavailable(
                    f"pip install checkov=={CHECKOV_VERSION} failed: {result.stderr.strip()[-500:]}"
                )
            complete.touch()
    return binary


def _runs(python: Path) -> bool:
    try:
        return subprocess.run([str(python), "-c", ""], capture_output=True, timeout=60).returncode == 0
    except OSError:
        return False


def failed_checks(objects: list[dict]) -> list[Finding]:
    """checkov's failed checks for these Kubernetes objects."""
    with tempfile.TemporaryDirectory() as folder:
        manifest = Path(folder) / "rendered.yaml"
        manifest.write_text(yaml.safe_dump_all(objects))
        result = subprocess.run(
            [
                str(executable()),
                "--file",
                str(manifest),
                "--framework",
                "kubernetes",
                "--output",
                "json",
                "--quiet",
                "--compact",
                "--skip-download",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=folder,
        )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise AssertionError(f"checkov failed ({result.returncode}): {result.stderr.strip()[-1000:]}")
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    return [
        Finding(item["check_id"], _resource(item["resource"]), item["check_name"])
        for report in reports
        for item in report.get("results", {}).get("failed_checks", [])
    ]


def _resource(checkov_name: str) -> str:
    """checkov names a resource `Kind.namespace.name` (pods of workloads get longer names)."""
    kind, _namespace, name = checkov_name.split(".", 2)
    return f"{kind}.{name}"


def waivers() -> list[dict]:
    return yaml.safe_load(WAIVERS.read_text())


def waived(finding: Finding, overlay: str, rules: list[dict]) -> dict | None:
    for rule in rules:
        if (
            rule["check"] == finding.check
            and overlay in rule["overlays"]
            and ("*" in rule["resources"] or finding.resource in rule["resources"])
        ):
            return rule
    return None
