"""Run one release's code (a checkout of any commit) against a database, as its pod would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# What a pod of the release does: /readyz, a merchant and a payment if ready, and whether its
# workers would start consuming (wait_for_schema, given ``wait`` seconds).
POD = """
import json, sys, threading
from gateway_api import create_app
from gateway_api.migrations import SCRIPT_LOCATION, VERSION_TABLE
from gateway_api.settings import Settings
from infra.runtime.db import wait_for_schema
from tests.integration.gateway_api.support import create_merchant, transaction_body

app = create_app(Settings.from_env())
client = app.test_client()
ready = client.get("/readyz")
seen = {"code": __import__("gateway_api").__file__, "ready": ready.status_code, "checks": ready.json["checks"]}
if ready.status_code == 200:
    merchant = create_merchant(client, "Release shop")
    seen["posted"] = client.post("/v1/transactions", json=transaction_body(), auth=merchant).status_code
stop = threading.Event()
threading.Timer(float(sys.argv[1]), stop.set).start()
seen["workers_start"] = wait_for_schema(app.extensions["gateway_api"].engine, SCRIPT_LOCATION, VERSION_TABLE,
                                        stop, interval=0.2)
stop.set()
app.extensions["gateway_api"].publisher.close()
print(json.dumps(seen))
"""


def run_pod(code: Path, env: dict, wait: float = 2.0) -> dict:
    answer = subprocess.run(
        [sys.executable, "-c", POD, str(wait)],
        cwd=code,
        env=env | {"PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    seen = json.loads(answer.stdout.strip().splitlines()[-1])
    assert seen["code"].startswith(str(code)), seen["code"]
    return seen


def migrate_with(code: Path, env: dict) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "gateway_api", "migrate"],
        cwd=code,
        env=env | {"PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]


def commit_before_newest_migration(root: Path, newest: Path) -> str | None:
    """The commit before the one that brought ``newest`` to this branch (None outside a git checkout or in
    a shallow one). First-parent history: when a branch's migration is merged, the previous release is the
    main line before that merge, not the branch's own older base."""
    added = _git(
        root, "log", "--first-parent", "--diff-filter=A", "--format=%H", "-1", "--", str(newest.relative_to(root))
    )
    if not added:
        return None
    parent = _git(root, "rev-parse", "--verify", "--quiet", f"{added}^")
    return parent or None


def _git(root: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
