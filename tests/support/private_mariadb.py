"""A MariaDB server of the test's own, with binlogs (the machine's shared one runs without): a temp
datadir, its own port and socket, stopped at the end. Needs mariadbd and mariadb-install-db."""

from __future__ import annotations

import contextlib
import getpass
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymysql

from infra.stack.embedded_broker import free_port


@dataclass(frozen=True)
class PrivateServer:
    port: int
    datadir: Path

    def url(self, database: str) -> str:
        return f"mysql+pymysql://root@127.0.0.1:{self.port}/{database}?charset=utf8mb4"

    def execute(self, sql: str) -> tuple:
        with contextlib.closing(pymysql.connect(host="127.0.0.1", port=self.port, user="root")) as connection:
            with connection.cursor() as cursor:
                cursor.execute(sql)
                rows = cursor.fetchall()
            connection.commit()
        return rows

    def binlogs(self) -> list[Path]:
        return sorted(path for path in self.datadir.glob("binlog.[0-9]*"))


def tools_missing() -> list[str]:
    return [
        tool
        for tool in ("mariadbd", "mariadb-install-db", "mariadb-binlog", "mariadb", "mariadb-dump")
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists()
    ]


@contextlib.contextmanager
def private_server(root: Path) -> Iterator[PrivateServer]:
    datadir, user = root / "data", getpass.getuser()
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={datadir}",
            f"--user={user}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    port = free_port()
    with open(root / "mariadb.err", "wb") as errors:  # the child keeps its own copy of the descriptor
        server = _start(datadir, root, port, user, errors)
    try:
        _wait_until_up(port, server, root)
        yield PrivateServer(port, datadir)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _start(datadir: Path, root: Path, port: int, user: str, errors) -> subprocess.Popen:
    return subprocess.Popen(
        [
            shutil.which("mariadbd") or "/usr/sbin/mariadbd",
            "--no-defaults",
            f"--datadir={datadir}",
            f"--socket={root / 'mariadb.sock'}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--pid-file={root / 'mariadb.pid'}",
            f"--user={user}",
            "--log-bin=binlog",
            "--binlog-format=ROW",
            "--server-id=1",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=32M",
        ],
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )


def _wait_until_up(port: int, server: subprocess.Popen, root: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("mariadbd exited: " + (root / "mariadb.err").read_text()[-2000:])
        try:
            pymysql.connect(host="127.0.0.1", port=port, user="root", connect_timeout=1).close()
            return
        except pymysql.err.OperationalError:
            time.sleep(0.2)
    raise TimeoutError("mariadbd did not accept connections within 60 s")
