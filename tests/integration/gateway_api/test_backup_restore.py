"""The ledger is recoverable: a ledger on MariaDB, dumped by the backup CronJob's own script
(k8s/base/mysql/backup.sh), restored by k8s/base/mysql/restore.sh into a fresh database, reads back
the same: same merchant credentials, same transactions and statuses, at the migration head."""

from __future__ import annotations

import dataclasses
import gzip
import os
import subprocess

import pytest
import sqlalchemy

from infra.kernel.contracts import TransactionResult

from gateway_api import create_app
from tests.conftest import DEFAULT_TEST_MYSQL_URL
from tests.deploy.support import K8S
from tests.integration.gateway_api.support import TEST_CARD, create_merchant, transaction_body
from tests.support import skip_or_fail
from tests.support.mysql import throwaway_database

pytestmark = pytest.mark.mysql
BACKUP = K8S / "base" / "mysql" / "backup.sh"
RESTORE = K8S / "base" / "mysql" / "restore.sh"


def server_env(url: str) -> dict[str, str]:
    """The variables the CronJob sets, pointed at the test server."""
    parsed = sqlalchemy.engine.make_url(url)
    return {
        **os.environ,
        "MYSQL_HOST": parsed.host or "127.0.0.1",
        "MYSQL_PORT": str(parsed.port or 3306),
        "MYSQL_USER": parsed.username or "root",
        "MYSQL_PASSWORD": parsed.password or "",
    }


def run(script, args, env) -> str:
    result = subprocess.run(["bash", str(script), *args], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{script.name} failed: {result.stderr}"
    return result.stdout


def app_on(api_settings, url):
    return create_app(dataclasses.replace(api_settings, database_url=url, auto_migrate=False))


@pytest.fixture
def restored_url():
    for tool in ("mysqldump", "mysql", "gzip"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            skip_or_fail(f"{tool} is needed for the backup test (Debian: mariadb-client)")
    url, drop = throwaway_database(os.environ.get("TEST_MYSQL_URL", DEFAULT_TEST_MYSQL_URL), "gw_restored")
    drop()  # restore.sh must create it: a fresh server has no such database
    yield url
    drop()


def test_a_dumped_ledger_restores_into_a_fresh_database_and_reads_back_the_same(
    api_settings, mysql_url, restored_url, tmp_path
):
    original = create_app(dataclasses.replace(api_settings, database_url=mysql_url, auto_migrate=True))
    client = original.test_client()
    merchant = create_merchant(client, "Shop restored")
    ids = [
        client.post("/v1/transactions", json=transaction_body(amount=amount), auth=merchant).json["id"]
        for amount in ("10.00", "20.00", "5000.00")
    ]
    ledger = original.extensions["gateway_api"].ledger
    ledger.apply_results(
        [
            TransactionResult(
                ids[0], "approved", "", merchant[0], "10.00", "visa", "1111", None, "2026-01-01T00:00:00Z"
            ),
            TransactionResult(
                ids[2],
                "rejected",
                "you dont have limit for this transaction",
                merchant[0],
                "5000.00",
                "visa",
                "1111",
                None,
                "2026-01-01T00:00:00Z",
            ),
        ]
    )
    before = client.get("/v1/transactions", auth=merchant).json["data"]
    original.extensions["gateway_api"].close()

    database = sqlalchemy.engine.make_url(mysql_url).database
    env = server_env(mysql_url) | {"BACKUP_DIR": str(tmp_path), "BACKUP_DATABASES": database}
    run(BACKUP, [], env)
    (dump,) = tmp_path.glob(f"{database}-*.sql.gz")
    text = gzip.decompress(dump.read_bytes()).decode()
    assert "CREATE TABLE" in text and TEST_CARD not in text  # the ledger keeps brand and last 4 only

    run(RESTORE, [str(dump), sqlalchemy.engine.make_url(restored_url).database], server_env(mysql_url))

    restored = app_on(api_settings, restored_url)
    try:
        again = restored.test_client()
        assert again.get("/readyz").json["checks"]["database"] == "ok"  # at the migration head
        after = again.get("/v1/transactions", auth=merchant).json["data"]  # the secret still works
        assert after == before
        assert {row["id"]: row["status"] for row in after} == {
            ids[0]: "approved",
            ids[1]: "pending",
            ids[2]: "rejected",
        }
    finally:
        restored.extensions["gateway_api"].close()


def test_a_failed_dump_fails_the_job_and_leaves_no_complete_looking_file(tmp_path):
    env = {
        **os.environ,
        "MYSQL_HOST": "127.0.0.1",
        "MYSQL_PORT": "1",
        "BACKUP_DIR": str(tmp_path),
        "BACKUP_DATABASES": "gateway",
    }
    result = subprocess.run(["bash", str(BACKUP)], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert list(tmp_path.glob("*.sql.gz")) == []
