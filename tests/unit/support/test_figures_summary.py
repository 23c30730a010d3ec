"""The ``figures`` fixture: a figure a test shows but does not assert reaches the end of the run's output,
from the test process and from xdist workers alike (a passing test's print() is captured and never seen)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

A_TEST = """
def test_reports_a_latency(figures):
    figures("p50 12.5 ms")
    print("a print nobody sees")
"""


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_figure_is_shown_in_its_own_section_at_the_end(tmp_path, workers):
    (tmp_path / "test_shows.py").write_text(A_TEST)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-n",
            workers,
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "-p",
            "tests.conftest",
            f"--rootdir={ROOT}",
            "-c",
            str(ROOT / "pyproject.toml"),
            str(tmp_path / "test_shows.py"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    summary = result.stdout.split("figures (printed, not asserted)", 1)
    assert len(summary) == 2, result.stdout[-2000:]
    assert "test_reports_a_latency: p50 12.5 ms" in summary[1]
    assert "a print nobody sees" not in result.stdout
