"""`make bench-soak` works end to end in 20 seconds: the embedded stack as `make run` starts it, two
10-second "minutes" at a low rate. No timing is asserted: only that it prints its table and ends with
nothing pending, and that the moment each decision was recorded in the ledger is found for every
followed transaction (it comes before a GET can see it)."""

from __future__ import annotations

import pytest

from benchmarks.open_loop import percentile
from benchmarks.soak import Options, soak

pytestmark = pytest.mark.slow


def test_a_short_soak_prints_a_row_per_minute_with_every_process_and_leaves_nothing_pending(tmp_path, capsys):
    minutes = soak(Options(rate=20, minutes=2, window_seconds=10, sample_every=5), tmp_path)
    printed = capsys.readouterr().out
    assert [m.result.accepted for m in minutes] == [200, 200]
    assert all(m.result.failed == 0 and m.result.decided_after for m in minutes)
    assert "| minute | accepted |" in printed and "broker us/tx" in printed and "processor us/tx" in printed
    assert printed.count("\n| 1 | 200 |") == 1 and printed.count("\n| 2 | 200 |") == 1
    assert "pending at the end: none" in printed
    assert "| recorded p50 / p99 ms |" in printed
    for minute in minutes:  # every followed decision has its ledger event, written before a GET could see it
        assert len(minute.recorded_after) == len(minute.result.decided_after) > 0
        assert percentile(list(minute.recorded_after), 0.5) <= percentile(minute.result.decided_after, 0.5)
    assert "machine: sum(range(1000)) x 20,000 in " in printed  # how fast the machine was, to compare runs
