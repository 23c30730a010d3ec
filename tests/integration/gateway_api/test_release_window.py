"""A release with a migration, and its rollback, on MariaDB with the previous release's real code.

"The previous release" is a git worktree at the commit before the newest migration: its pods keep
serving once the new release's migration Job ran (an expand step declares their head compatible),
the new release's pods are not ready before it ran, and a rollback (old pods back, then the expand
step undone) leaves the old release serving and the new one unready."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from infra.runtime.db import migrate

from gateway_api.migrations import SCRIPT_LOCATION
from tests.integration.gateway_api.support import ADMIN_TOKEN
from tests.support import skip_or_fail
from tests.support.release import commit_before_newest_migration, migrate_with, run_pod
from tests.support.secrets import STRONG_SECRETS

pytestmark = [pytest.mark.mysql, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


def scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return ScriptDirectory.from_config(config)


@pytest.fixture(scope="module")
def previous_release(tmp_path_factory):
    """(its checkout, its head): the code `kubectl rollout undo` brings back."""
    newest = scripts().get_revision(scripts().get_current_head())
    commit = commit_before_newest_migration(ROOT, Path(newest.path))
    if commit is None:
        skip_or_fail("the previous release needs the git history (not a shallow clone)")
    checkout = tmp_path_factory.mktemp("releases") / f"previous-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(checkout), commit], cwd=ROOT, check=True, capture_output=True
    )
    yield checkout, code_head(checkout)
    subprocess.run(["git", "worktree", "remove", "--force", str(checkout)], cwd=ROOT, capture_output=True)


def code_head(checkout: Path) -> str:
    """The migration head the checkout's code expects (what its pods need, at least)."""
    script = (
        "from infra.runtime.db import schema_heads; from gateway_api.migrations import SCRIPT_LOCATION; "
        "print(*schema_heads(SCRIPT_LOCATION))"
    )
    answer = subprocess.run(
        [sys.executable, "-c", script],
        cwd=checkout,
        env=os.environ | {"PYTHONPATH": str(checkout)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return answer.stdout.strip()


@pytest.fixture
def env(kafka_settings, mysql_url, tmp_path):
    prefix = kafka_settings.topics.transactions[: -len("transactions")]
    return os.environ | {
        "RATE_LIMIT_STORAGE_URL": f"sqlite:///{tmp_path / 'rate-limits.db'}",  # not the checkout's var/
        **STRONG_SECRETS,
        "GATEWAY_ADMIN_TOKEN": ADMIN_TOKEN,
        "DATABASE_URL": mysql_url,
        "AUTO_MIGRATE": "false",
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.bootstrap_servers,
        "KAFKA_TOPIC_PREFIX": prefix,
        "LOG_LEVEL": "WARNING",
    }


def serving(seen: dict) -> bool:
    return seen["ready"] == 200 and seen["posted"] == 202 and seen["workers_start"]


def test_a_release_and_its_rollback_keep_the_previous_release_serving(previous_release, env, mysql_url):
    old, old_head = previous_release
    migrate_with(old, env)
    assert serving(run_pod(old, env))

    new_before_its_migration = run_pod(ROOT, env, wait=1)
    assert (new_before_its_migration["ready"], new_before_its_migration["workers_start"]) == (503, False)

    migrate(mysql_url, SCRIPT_LOCATION)  # the new release's migration Job
    assert serving(run_pod(old, env)), "the previous release stops serving on the new schema"
    assert serving(run_pod(ROOT, env))

    config = Config()  # the rollback: old pods back (above), then the expand step undone
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("sqlalchemy.url", mysql_url.replace("%", "%%"))
    command.downgrade(config, old_head)
    assert serving(run_pod(old, env))
    assert run_pod(ROOT, env, wait=1)["ready"] == 503
