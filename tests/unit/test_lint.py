"""`make lint` inside the suite: CI runs `make test`, so a broken rule, layer contract or type fails the build.

The rules, the contracts and the type checker's settings live in pyproject.toml (``[tool.ruff]``,
``[tool.importlinter]``, ``[tool.mypy]``); mypy's known errors in mypy-baseline.txt.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_ruff_finds_nothing():
    done = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_code_is_as_ruff_format_writes_it():
    """One layout for every file (`ruff format .` applies it); import order is ruff check's `I` rule."""
    done = run(str(BIN / "ruff"), "format", "--check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_import_contract_is_kept():
    done = run(str(BIN / "lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_mypy_reports_exactly_the_baseline():
    """No error beyond mypy-baseline.txt, and no entry there that no longer occurs (it only shrinks)."""
    done = run(sys.executable, "tools/mypy_baseline.py")
    assert done.returncode == 0, done.stdout + done.stderr
