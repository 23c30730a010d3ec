"""Point-in-time recovery of the ledger, end to end, on a MariaDB server with binlogs that the test
starts itself: the nightly dump (backup.sh, with the binlog position), writes after it, a mistake
(every transaction deleted), then restore.sh and replay-binlogs.sh up to the moment before the
mistake: every write of the day is back, the mistake is not, and the API serves the restored ledger.

Production runs MySQL 8.4 (k8s/base/mysql/mysql.yaml: --log-bin, --sync-binlog=1, 7 days of
binlogs; the CronJob dumps with --source-data=2); this machine has MariaDB's tools, which the
scripts take through MYSQLDUMP, MYSQL and MYSQLBINLOG."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time

import pytest

from infra.kernel.contracts import TransactionResult

from gateway_api import create_app
from tests.deploy.support import K8S
from tests.integration.gateway_api.support import create_merchant, transaction_body
from tests.support import skip_or_fail
from tests.support.private_mariadb import private_server, tools_missing

pytestmark = [pytest.mark.mysql, pytest.mark.slow]
SCRIPTS = K8S / "base" / "mysql"
MARIADB_TOOLS = {
    "MYSQLDUMP": "mariadb-dump",
    "MYSQL": "mariadb",
    "MYSQLBINLOG": "mariadb-binlog",
    "BACKUP_DUMP_OPTIONS": "--master-data=2",
}


@pytest.fixture
def server(tmp_path):
    if tools_missing():
        skip_or_fail(f"{', '.join(tools_missing())} needed (Debian: mariadb-server, mariadb-client)")
    with private_server(tmp_path / "mariadb") as running:
        running.execute("CREATE DATABASE gateway CHARACTER SET utf8mb4")
        yield running


def run(script: str, *args: str, env: dict) -> None:
    result = subprocess.run(
        ["bash", str(SCRIPTS / script), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{script}: {result.stderr}"


def decide(app, merchant, id_: str, status: str) -> None:
    app.extensions["gateway_api"].ledger.apply_results(
        [
            TransactionResult(
                id_,
                status,
                "" if status == "approved" else "credit card expired",
                merchant[0],
                "10.50",
                "visa",
                "1111",
                None,
                "2026-01-01T00:00:00Z",
            )
        ]
    )


def test_the_ledger_comes_back_as_it_was_just_before_a_mistake(api_settings, server, tmp_path):
    env = (
        os.environ
        | MARIADB_TOOLS
        | {
            "MYSQL_HOST": "127.0.0.1",
            "MYSQL_PORT": str(server.port),
            "MYSQL_USER": "root",
            "MYSQL_PASSWORD": "",
            "BACKUP_DIR": str(tmp_path),
            "BACKUP_DATABASES": "gateway",
        }
    )
    settings = dataclasses.replace(api_settings, database_url=server.url("gateway"), auto_migrate=True)
    app = create_app(settings)
    client = app.test_client()
    merchant = create_merchant(client, "Shop PITR")
    post = lambda: client.post("/v1/transactions", json=transaction_body(), auth=merchant).json["id"]  # noqa: E731
    in_the_dump = post()
    decide(app, merchant, in_the_dump, "approved")
    run("backup.sh", env=env)  # the nightly dump
    (dump,) = tmp_path.glob("gateway-*.sql.gz")
    after_the_dump, still_pending = post(), post()
    decide(app, merchant, after_the_dump, "rejected")
    before = client.get("/v1/transactions", auth=merchant).json["data"]
    time.sleep(1.2)  # binlog times have whole seconds
    (((moment,),)) = server.execute("SELECT DATE_FORMAT(NOW(), '%Y-%m-%d %H:%i:%s')")
    time.sleep(1.2)
    server.execute("DELETE FROM gateway.gateway_transactions")  # the mistake
    app.extensions["gateway_api"].engine.dispose()

    # Into a new database next to the live one (k8s/README.md), then DATABASE_URL points at it.
    run("restore.sh", str(dump), "gateway_restored", env=env)
    run(
        "replay-binlogs.sh",
        str(dump),
        "gateway",
        moment,
        *map(str, server.binlogs()),
        env=env | {"REPLAY_INTO": "gateway_restored"},
    )

    restored = create_app(
        dataclasses.replace(settings, database_url=server.url("gateway_restored"), auto_migrate=False)
    )
    try:
        again = restored.test_client()
        assert again.get("/readyz").json["checks"]["database"] == "ok"
        after = again.get("/v1/transactions", auth=merchant).json["data"]
        assert after == before
        assert {row["id"]: row["status"] for row in after} == {
            in_the_dump: "approved",
            after_the_dump: "rejected",
            still_pending: "pending",
        }
    finally:
        restored.extensions["gateway_api"].close()
        app.extensions["gateway_api"].close()


def test_a_dump_without_a_binlog_position_is_refused(tmp_path):
    dump = tmp_path / "gateway-x.sql.gz"
    subprocess.run(["bash", "-c", f"echo 'CREATE TABLE t (id INT);' | gzip -c > {dump}"], check=True)
    result = subprocess.run(
        ["bash", str(SCRIPTS / "replay-binlogs.sh"), str(dump), "gateway", "2026-01-01 00:00:00", "binlog.000001"],
        env=os.environ | {"MYSQL_HOST": "127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1 and "has no binlog position" in result.stderr
