"""Child processes of the local stack: started in their own session, output prefixed and kept in a file."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from infra.stack import reaper


class ManagedProcess:
    """One service process whose every output line goes to the console (prefixed) and to its log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        env: Mapping[str, str],
        log_dir: Path,
        console: TextIO | None,
        for_console: Callable[[str], str] = str,
        pass_fds: Sequence[int] = (),
    ):
        """``for_console``: how a line is shown on the console (the log file keeps it as written)."""
        self.name = name
        self.argv = list(argv)
        self.log_path = log_dir / f"{name}.log"
        self._env = dict(env)
        self._console = console
        self._for_console = for_console
        self._pass_fds = tuple(pass_fds)  # inherited by the child (a listening socket for gunicorn)
        self._console_lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._pump: threading.Thread | None = None

    def start(self) -> "ManagedProcess":
        # A session of its own: Ctrl-C in the terminal reaches only the stack, which then stops
        # the services in order instead of all of them racing at once.
        self._process = subprocess.Popen(
            self.argv,
            env=self._env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            pass_fds=self._pass_fds,
        )
        reaper.watch(self._process)  # stopped even if the stack's process is killed outright
        self._pump = threading.Thread(target=self._copy_output, name=f"log-{self.name}", daemon=True)
        self._pump.start()
        return self

    def _copy_output(self) -> None:
        """Copy what the process writes as it comes, a chunk at a time: the services write their lines
        in batches (infra.runtime.logs), so a chunk is usually many lines and costs one write to the log
        file, not one per line (per line it was ~0.5 ms of the stack's CPU per transaction at 150/s).
        The console gets whole lines, each prefixed with the process's name."""
        prefix = f"{self.name:<10}| "
        partial = b""
        output = self._process.stdout if self._process is not None else None
        assert output is not None, "the pump starts after Popen(stdout=PIPE)"
        with output, open(self.log_path, "ab") as log_file:
            while chunk := os.read(output.fileno(), 1 << 16):
                log_file.write(chunk)
                log_file.flush()
                if self._console is not None:
                    *lines, partial = (partial + chunk).split(b"\n")
                    self._show(prefix, lines)
            if partial and self._console is not None:
                self._show(prefix, [partial])

    def _show(self, prefix: str, lines: list[bytes]) -> None:
        console = self._console
        if not lines or console is None:
            return
        text = "".join(prefix + self._for_console(line.decode("utf-8", errors="replace")) + "\n" for line in lines)
        with self._console_lock:
            console.write(text)
            console.flush()

    def restart(self) -> "ManagedProcess":
        """Start the same command again once it has exited (tests kill services and bring them back)."""
        if self.is_running():
            raise RuntimeError(f"{self.name} is still running")
        if self._pump is not None:
            self._pump.join(1)
        return self.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def exit_code(self) -> int | None:
        return None if self._process is None else self._process.poll()

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def signal(self, signum: int = signal.SIGTERM) -> None:
        if self._process is not None and self._process.poll() is None:  # is_running(), spelled out so the type narrows
            os.killpg(self._process.pid, signum)

    def wait(self, timeout: float) -> bool:
        """True when the process (and its output) ended within ``timeout`` seconds."""
        if self._process is None:
            return True
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        if self._pump is not None:
            self._pump.join(1)
        return True


def stop_all(processes: Sequence[ManagedProcess], grace: float) -> list[str]:
    """SIGTERM every process at once, SIGKILL what is left after ``grace`` s; return those killed."""
    for process in processes:
        process.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    killed = []
    for process in processes:
        if not process.wait(max(deadline - time.monotonic(), 0)):
            process.signal(signal.SIGKILL)
            process.wait(2)
            killed.append(process.name)
    return killed


def run_to_completion(name: str, argv: Sequence[str], env: Mapping[str, str], timeout: float) -> None:
    """Run a one-shot command (a migration); raise with its output when it fails."""
    result = subprocess.run(argv, env=dict(env), capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-3000:]
        raise RuntimeError(f"{name} failed with exit code {result.returncode}:\n{output}")
