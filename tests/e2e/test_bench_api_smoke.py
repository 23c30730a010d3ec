"""`make bench-api`'s tools work against the real stack (a second each): wrk with the Lua script, the
ceiling app, and the open-loop generator with its decided-through-GET sampling."""

from __future__ import annotations

import shutil

import pytest

from benchmarks.api import RELAY, ceiling_server, measured_wrk, open_loop, wrk
from benchmarks.cpu import CpuMeter
from tests.e2e.helpers import basic_auth
from tests.support import skip_or_fail
from tests.support.stack import load_test_merchant

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def needs_wrk():
    if shutil.which("wrk") is None:
        skip_or_fail("wrk is not installed (apt-get install wrk)")


def test_wrk_posts_valid_transactions_and_reads_its_figures(running_stack):
    merchant = load_test_merchant(running_stack, "Bench smoke")  # wrk sends more than 100/s
    auth = basic_auth(merchant)["Authorization"]
    for fresh in ("0", "1"):
        run = wrk(
            "smoke",
            running_stack.settings.api_port,
            4,
            1,
            {"BENCH_PATH": "/v1/transactions", "BENCH_AUTH": auth, "BENCH_FRESH_KEYS": fresh},
        )
        assert run.rate > 0 and run.errors == 0 and 0 < run.p50_ms <= run.p99_ms


def test_the_ceiling_echoes_json():
    with ceiling_server() as (port, _pid):
        run = wrk("ceiling", port, 4, 1, {"BENCH_PATH": "/echo"})
    assert run.rate > 0 and run.errors == 0


def test_the_ceiling_at_a_pace_waits_between_requests():
    """BENCH_DELAY_MS: each connection waits that long after an answer, so 4 connections at 100 ms
    send at most ~40 requests a second (the echo alone answers thousands)."""
    with ceiling_server() as (port, _pid):
        run = wrk("paced", port, 4, 2, {"BENCH_PATH": "/echo", "BENCH_DELAY_MS": "100"})
    assert run.errors == 0 and 0 < run.rate <= 4 * 10 * 1.25


def test_the_open_loop_generator_sends_at_its_rate_and_follows_decisions(running_stack):
    merchant = load_test_merchant(running_stack, "Open loop smoke")
    result, pending_after = open_loop(running_stack, basic_auth(merchant)["Authorization"], rate=40, seconds=1.5)
    assert (result.sent, result.accepted, result.failed) == (60, 60, 0)
    assert len(result.latencies) == 60 and result.decided_after and result.undecided == 0
    assert pending_after is not None


def test_a_measured_wrk_run_has_the_cpu_budget_of_every_component(running_stack):
    merchant = running_stack.create_merchant("Budget smoke")
    meter = CpuMeter(running_stack.pids(), this_process=RELAY)
    run, budget = measured_wrk(
        meter,
        "budget",
        running_stack.settings.api_port,
        4,
        1,
        {"BENCH_PATH": "/v1/transactions", "BENCH_AUTH": basic_auth(merchant)["Authorization"]},
    )
    assert {"api", "processor", "results", "webhooks", "panel", "wrk", RELAY} <= set(budget.cpu)
    assert budget.accepted == run.accepted > 0
    # Every accepted request costs the API and wrk some CPU, and the processor decides them.
    assert budget.cpu["api"] > 0 and budget.cpu["wrk"] > 0 and budget.cpu["processor"] > 0
