"""`make run` as a person uses it: start, paste the printed curl, read the outcome, Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from infra.stack.embedded_broker import free_port

from tests.support import wait_until
from tests.support.ports import PortTaken, lost_a_port_race, retry_on_port_collision
from tests.support.stack import STACK_PORT_VARIABLES

pytestmark = pytest.mark.slow


class RunningMakeRun:
    def __init__(self, var_dir: Path):
        self.ports = {
            name: free_port()
            # Every port the stack listens on: left out, the API's and the panel's metrics took their
            # defaults (9100, 9104), and two of these tests running at once on xdist workers collided
            # there on every retry (a fresh-clone CI run: "port 9100 ... is already in use").
            for name in STACK_PORT_VARIABLES
        }
        self.with_prometheus = shutil.which("prometheus") is not None
        env = {k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"}
        env |= {name: str(port) for name, port in self.ports.items()}
        env |= {
            "STACK_VAR_DIR": str(var_dir),
            "STACK_PROMETHEUS": str(self.with_prometheus).lower(),
            "PYTHONUNBUFFERED": "1",
        }
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.stack"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        with self.process.stdout:
            for line in self.process.stdout:
                self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def printed_curl(self) -> str:
        """The ready-to-paste curl of the welcome banner (two lines joined by a backslash)."""
        text = self.output()
        match = re.search(r"^\s*(curl .*\\\n.*/v1/transactions)$", text, re.MULTILINE)
        return match.group(1) if match else ""

    def printed_receiver(self) -> str:
        """The banner's local webhook receiver command (two lines joined by a backslash)."""
        match = re.search(
            r"^\s*(\S+ -m gateway_api\.webhooks\.receiver .*\\\n.*--secret \S+)$", self.output(), re.MULTILINE
        )
        return match.group(1) if match else ""

    def printed_poll(self) -> str:
        """The banner's loop that reads the newest transaction back until it is decided."""
        match = re.search(r"^\s*(until curl .*done)$", self.output(), re.MULTILINE)
        return match.group(1) if match else ""

    def printed_cli(self) -> str:
        match = re.search(r"^\s*(set -a; \. .*gateway_api accounts create --name Shop)$", self.output(), re.MULTILINE)
        return match.group(1) if match else ""

    def credentials(self) -> tuple[str, str]:
        text = self.output()
        return (re.search(r"account id\s+(\S+)", text).group(1), re.search(r"secret\s+(\S+)", text).group(1))

    def descendants(self) -> set[int]:
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                parents[int(stat.parent.name)] = int(fields[1])
            except (OSError, IndexError):
                continue
        found, frontier = set(), {self.process.pid}
        while frontier:
            frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
            found |= frontier
        return found


@pytest.fixture
def make_run(tmp_path):
    """`make run`, once it printed its welcome banner; run again on fresh ports if a child lost one."""
    started: list[RunningMakeRun] = []

    def attempt(number: int) -> RunningMakeRun:
        running = RunningMakeRun(tmp_path / f"var-{number}")
        started.append(running)
        wait_until(
            lambda: running.printed_curl() or running.process.poll() is not None,
            120,
            interval=0.2,
            message="the welcome banner",
        )
        if running.printed_curl():
            return running
        running.reader.join(5)
        if lost_a_port_race(running.output()):
            raise PortTaken(running.output()[-2000:])
        pytest.fail(f"make run exited with {running.process.returncode}:\n{running.output()[-3000:]}")

    yield retry_on_port_collision(attempt)
    for running in started:
        _stop_as_a_person_would(running)


def _stop_as_a_person_would(running: RunningMakeRun) -> None:
    """Ctrl-C: the stack stops its services. Killing only the stack process would leave them running,
    each in a session of its own, after a failed test."""
    if running.process.poll() is None:
        children = running.descendants()
        running.process.send_signal(signal.SIGINT)
        try:
            running.process.wait(15)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    running.reader.join(5)


def test_printed_curl_is_approved_printed_receiver_gets_its_event_and_ctrl_c_stops_everything(make_run):
    # The services run on public development secrets only because the stack opts in, and says so.
    assert re.search(r"Secrets\s+DEVELOPMENT values \(ALLOW_DEVELOPMENT_SECRETS=true\)", make_run.output())
    account, secret = make_run.credentials()
    api = f"http://127.0.0.1:{make_run.ports['GATEWAY_API_PORT']}"

    curl = subprocess.run(["bash", "-c", make_run.printed_curl()], capture_output=True, text=True)
    assert curl.returncode == 0, (
        f"the printed curl exited {curl.returncode}; make run said:\n{make_run.output()[-4000:]}"
    )
    accepted = json.loads(curl.stdout)
    assert accepted["status"] == "pending", accepted
    started = time.monotonic()
    approved = wait_until(lambda: _final(api, account, secret, accepted["id"]), 10, message="approval")
    print(f"printed curl: approved visible through GET {time.monotonic() - started:.3f}s after the 202")
    assert approved["status"] == "approved"
    check_the_printed_poll_and_cli(make_run, api)

    over_limit = _curl(api, account, secret, "POST", '{"amount": 1000.01, "credit_card": %s}' % _card_json(make_run))
    rejected = wait_until(lambda: _final(api, account, secret, over_limit["id"]), 10, message="rejection")
    assert (rejected["status"], rejected["error_message"]) == ("rejected", "you dont have limit for this transaction")

    if make_run.with_prometheus:
        assert f"127.0.0.1:{make_run.ports['PROMETHEUS_PORT']}" in make_run.output()
        health = wait_until(
            lambda: _scraped_jobs_up(make_run.ports["PROMETHEUS_PORT"]),
            20,
            interval=0.5,
            message="Prometheus to scrape every service",
        )
        assert health == {"api": "up", "processor": "up", "results": "up", "panel": "up", "webhooks": "up"}

    check_the_printed_webhook_receiver(make_run)
    children = make_run.descendants()
    assert len(children) >= 6, "broker, processor, results consumer, dispatcher, API and panel run as processes"
    make_run.process.send_signal(signal.SIGINT)
    started = time.monotonic()
    assert make_run.process.wait(15) == 0, make_run.output()[-3000:]
    stopped_in = time.monotonic() - started
    print(f"Ctrl-C: everything stopped in {stopped_in:.2f}s")
    assert stopped_in < 10
    assert [pid for pid in children if Path(f"/proc/{pid}").exists()] == []


def check_the_printed_poll_and_cli(make_run, api: str) -> None:
    """The banner's polling GET ends with the decision; its operator command creates an account
    that signs in to the running API (same pepper, same database); probes never reach the console."""
    subprocess.run(["bash", "-c", make_run.printed_curl()], capture_output=True, check=True)
    started = time.monotonic()
    polled = subprocess.run(["bash", "-c", make_run.printed_poll()], capture_output=True, text=True, timeout=20)
    print(f"printed poll: decided after {time.monotonic() - started:.3f}s")
    assert json.loads(polled.stdout)["data"][0]["status"] == "approved", polled.stdout
    created = subprocess.run(["bash", "-c", make_run.printed_cli()], capture_output=True, text=True, timeout=60)
    assert created.returncode == 0 and created.stderr == "", created.stderr
    account = json.loads(created.stdout)
    assert _curl(api, account["id"], account["secret"], "GET", path="/v1/me")["account_id"] == account["id"]
    var_dir = Path(make_run.env["STACK_VAR_DIR"])
    for name in ("gateway.env", "demo-merchant.json"):
        assert (var_dir / name).stat().st_mode & 0o777 == 0o600, name
    probes = [line for line in make_run.lines if re.search(r'"path": "/(metrics|healthz|readyz)"', line)]
    assert probes == [], probes[:3]


def check_the_printed_webhook_receiver(make_run) -> None:
    """The banner's receiver command registers itself, gets the printed curl's event with a valid
    signature, and deletes its endpoint on Ctrl-C."""
    assert "WEBHOOK_ALLOW_PRIVATE_URLS=true" in make_run.output()
    command = make_run.printed_receiver()
    assert "--port 8010" in command
    receiver = subprocess.Popen(
        ["bash", "-c", command.replace("--port 8010", f"--port {free_port()}")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []

    def read():
        with receiver.stdout:
            lines.extend(line.rstrip() for line in receiver.stdout)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        wait_until(lambda: any(line.startswith("listening on") for line in lines), 15, message="the receiver")
        accepted = json.loads(
            subprocess.run(["bash", "-c", make_run.printed_curl()], capture_output=True, text=True, check=True).stdout
        )
        started = time.monotonic()
        delivered = wait_until(lambda: [line for line in lines if accepted["id"] in line], 15, message="the event")
        print(f"printed receiver: event printed {time.monotonic() - started:.3f}s after the 202")
        assert delivered[0].endswith("signature ok") and "transaction.approved" in delivered[0]
    finally:
        receiver.send_signal(signal.SIGINT)
        receiver.wait(10)
        reader.join(5)
    assert any(line.startswith("deleted endpoint") for line in lines), lines


def test_a_restart_reuses_the_demo_merchant_and_prints_it_again(tmp_path):
    var_dir = tmp_path / "var"
    first = _started(RunningMakeRun(var_dir))
    credentials = first.credentials()
    _stop_as_a_person_would(first)
    second = _started(RunningMakeRun(var_dir))
    try:
        assert second.credentials() == credentials
        assert "the next `make run` reuses it" in second.output()
    finally:
        _stop_as_a_person_would(second)


def _started(running: RunningMakeRun) -> RunningMakeRun:
    wait_until(
        lambda: running.printed_curl() or running.process.poll() is not None,
        120,
        interval=0.2,
        message="the welcome banner",
    )
    if not running.printed_curl():
        _stop_as_a_person_would(running)
        pytest.fail(f"make run exited with {running.process.returncode}:\n{running.output()[-3000:]}")
    return running


def _card_json(make_run) -> str:
    return re.search(r'"credit_card": (\{.*?\})', make_run.printed_curl()).group(1)


def _curl(api: str, account: str, secret: str, method: str, body: str | None = None, path: str = "/v1/transactions"):
    argv = ["curl", "-s", "-u", f"{account}:{secret}", "-X", method, api + path]
    if body:
        argv += ["-H", "Content-Type: application/json", "-d", body]
    return json.loads(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


def _final(api, account, secret, transaction_id):
    body = _curl(api, account, secret, "GET", path=f"/v1/transactions/{transaction_id}")
    return body if body.get("status") not in (None, "pending") else None


def _scraped_jobs_up(port: int) -> dict | None:
    """The health of each job on Prometheus' targets page (its API), once every target was scraped."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets", timeout=2) as response:
        targets = json.loads(response.read())["data"]["activeTargets"]
    health = {t["labels"]["job"]: t["health"] for t in targets if t["labels"]["job"] != "prometheus"}
    return health if health and all(value == "up" for value in health.values()) else None
