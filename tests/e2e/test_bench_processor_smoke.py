"""`make bench-processor` works end to end with a few hundred transactions (no timing asserted)."""

from __future__ import annotations

import pytest

from benchmarks.processor import run_once

pytestmark = pytest.mark.slow


def test_times_from_the_first_produce_to_the_last_result_once_the_processor_has_joined(kafka_settings, tmp_path):
    figures = run_once(kafka_settings, "sqlite", f"sqlite:///{tmp_path / 'bench.db'}", count=300, batch_size=2000)
    assert figures.count == 300 and figures.overall_per_s > 0 and figures.seconds > 0
    assert "s from the first produce" in figures.line()
