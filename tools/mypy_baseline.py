"""mypy over the services, held to a baseline that only shrinks (`make lint`, tests/unit/test_lint.py).

Runs mypy as configured in pyproject.toml ``[tool.mypy]`` and compares its errors with
``mypy-baseline.txt``: one error a line, ``path: error: message  [code]`` without the line number, so an
edit elsewhere in a file does not churn it (an error that occurs twice in a file is listed twice).
It fails when mypy reports an error the baseline does not list (fix it) and when the baseline lists one
mypy no longer reports (remove it: ``--shrink`` does), so the list only ever gets shorter.

    python tools/mypy_baseline.py            # the check
    python tools/mypy_baseline.py --shrink   # drop the entries that no longer occur, add nothing
    python tools/mypy_baseline.py --rewrite  # the baseline := every current error (a mypy upgrade, its own commit)
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "mypy-baseline.txt"
_ERROR = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+)(?::\d+)?: error: (?P<rest>.*)$")
_LINE_REFERENCE = re.compile(r"\bon line \d+\b")  # "already defined on line 12" moves with edits too


def run_mypy() -> list[str]:
    """mypy's error lines, as it prints them (notes left out)."""
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--no-pretty"], cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode not in (0, 1):  # 2: mypy itself failed (configuration, crash)
        sys.exit(f"mypy failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    return [line for line in done.stdout.splitlines() if _ERROR.match(line)]


def normalize(line: str) -> str:
    """``infra/x.py:12: error: msg  [code]`` -> ``infra/x.py: error: msg  [code]``."""
    match = _ERROR.match(line)
    assert match is not None, f"not an error line: {line!r}"
    return f"{match['path']}: error: {_LINE_REFERENCE.sub('on line N', match['rest'])}"


def read_baseline() -> Counter[str]:
    if not BASELINE.exists():
        return Counter()
    return Counter(line for line in BASELINE.read_text().splitlines() if line.strip())


def write_baseline(entries: Counter[str]) -> None:
    BASELINE.write_text("".join(f"{entry}\n" for entry in sorted(entries.elements())))


def check(errors: list[str], baseline: Counter[str]) -> int:
    current = Counter(normalize(line) for line in errors)
    new, gone = current - baseline, baseline - current
    if new:
        remaining = Counter(new)
        for line in errors:  # shown with their line numbers, to be found
            if remaining[normalize(line)] > 0:
                remaining[normalize(line)] -= 1
                print(line)
        print(f"mypy: {new.total()} new error(s), not in {BASELINE.name}: fix them (the baseline only shrinks).")
    if gone:
        for entry in sorted(gone.elements()):
            print(f"{BASELINE.name}: {entry}")
        print(
            f"mypy: {gone.total()} error(s) of {BASELINE.name} no longer occur: well done, remove them "
            "with `.venv/bin/python tools/mypy_baseline.py --shrink` and commit the file."
        )
    if not new and not gone:
        print(f"mypy: no error beyond the {current.total()} of {BASELINE.name}.")
    return 1 if new or gone else 0


def main(argv: list[str]) -> int:
    errors, baseline = run_mypy(), read_baseline()
    if argv == ["--shrink"]:
        write_baseline(baseline & Counter(normalize(line) for line in errors))
        return check(errors, read_baseline())
    if argv == ["--rewrite"]:
        write_baseline(Counter(normalize(line) for line in errors))
        return 0
    if argv:
        sys.exit(__doc__)
    return check(errors, baseline)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
