"""Acceptance: the refund limit under concurrency while the processor and the results consumer die.

Rounds of one approved payment and 5-20 concurrent refunds (tests/support/refund_rounds.py) run back
to back through both API workers while the processor and the results consumer are SIGKILLed and
restarted in turn every 4 seconds. In every round sum(succeeded) <= approved, every refund ends final,
none is applied twice, the ledger's amount_refunded is the processor's sum, and each final refund
has exactly one webhook event: on SQLite and on MariaDB.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import replace

import pytest

from infra.stack import Stack

from tests.conftest import DEFAULT_TEST_MYSQL_URL
from tests.e2e.helpers import basic_auth
from tests.support.mysql import throwaway_database
from tests.support.refund_rounds import Killer, RoundRunner, Tally, check, wait_for_final
from tests.support.stack import log_tails, stack_settings_for_tests, started_stack

pytestmark = pytest.mark.slow

RUNNERS = 4
LOAD_SECONDS = 30
KILL_EVERY_SECONDS = 4.0


@pytest.fixture(params=["sqlite", "mysql"])
def stack(request, kafka_bootstrap, tmp_path):
    settings = stack_settings_for_tests(tmp_path, kafka_bootstrap)
    if request.param == "mysql":
        settings = replace(
            settings,
            processor_database_url=request.getfixturevalue("mysql_url"),
            gateway_database_url=_second_database(request),
        )
    yield from started_stack(settings)


def _second_database(request) -> str:
    """The ledger's database next to the processor's (``mysql_url``) on the same server."""
    url, drop = throwaway_database(os.environ.get("TEST_MYSQL_URL", DEFAULT_TEST_MYSQL_URL), "gw_test")
    request.addfinalizer(drop)
    return url


def test_refunds_never_exceed_the_payment_and_are_applied_once_while_consumers_are_killed(stack: Stack, figures):
    auth = basic_auth(stack.create_merchant("Refund shop"))
    tally, stop = Tally(), threading.Event()
    runners = [RoundRunner(stack.settings.api_url, auth, tally, stop, seed) for seed in range(RUNNERS)]
    killer = Killer(stack, tally, stop, KILL_EVERY_SECONDS)
    for thread in [*runners, killer]:
        thread.start()
    time.sleep(LOAD_SECONDS)
    stop.set()
    for thread in [*runners, killer]:
        thread.join(120)

    still_pending = wait_for_final(stack.settings.gateway_db, 60)
    verdict = check(tally, stack.settings.gateway_db, stack.settings.processor_db)
    figures(f"refund rounds: {verdict}")
    assert still_pending == 0, f"{still_pending} refunds never became final\n{log_tails(stack)}"
    assert verdict.over_refunds == 0
    assert verdict.problems == []
    assert verdict.rounds >= 3 and verdict.refunds_decided >= 30 and verdict.kills >= 4, (
        f"too little happened to prove anything: {verdict}"
    )
    assert verdict.succeeded > 0 and verdict.refunds_decided > verdict.succeeded  # both outcomes occurred
