"""`make run`'s supervisor killed with SIGKILL (the OOM killer, ``kill -9``, a closed CI runner): the
services it started stop too, instead of running on holding the stack's ports and CPU.

Each service runs in a session of its own (Ctrl-C reaches only the supervisor, which stops them in
order), so nothing else tells them their supervisor is gone: its reaper does (infra/stack/reaper.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from infra.runtime.settings import DEVELOPMENT_SECRETS_OPT_IN
from infra.stack.embedded_broker import free_port

from tests.support.stack import STACK_PORT_VARIABLES, processes_marked

pytestmark = pytest.mark.slow
MARK = "STACK_TEST_MARK"


def test_the_services_stop_when_the_supervisor_is_killed(tmp_path):
    mark = f"supervisor-kill-{uuid.uuid4().hex}"  # every process the stack starts inherits its environment
    env = os.environ | {name: str(free_port()) for name in STACK_PORT_VARIABLES}
    env |= {"STACK_VAR_DIR": str(tmp_path / "var"), DEVELOPMENT_SECRETS_OPT_IN: "true", MARK: mark}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)  # its own embedded broker, as `make run`
    with subprocess.Popen(
        [sys.executable, "-m", "infra.stack"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as supervisor:
        try:
            assert supervisor.stdout is not None
            banner = next((line for line in supervisor.stdout if "Payment gateway running" in line), None)
            assert banner is not None, f"the stack ended before its banner (exit {supervisor.wait(10)})"
            started = processes_marked(MARK, mark)
            assert len(started) >= 6  # broker, API, processor, results, webhooks, panel and their workers

            supervisor.kill()
            supervisor.wait(10)

            deadline = time.monotonic() + 20
            while processes_marked(MARK, mark) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert processes_marked(MARK, mark) == []
        finally:
            supervisor.kill()
            for pid in processes_marked(MARK, mark):
                os.kill(pid, signal.SIGKILL)
