"""Fair shares of the live panel: a merchant's streams are capped across all its sessions and the
panel's processes (the shared store), the operator still gets a stream, and sign-ins are limited per
client address and per account."""

import contextlib

import pytest
import requests

from panel.domain.fair_shares import SIGN_INS_PER_ACCOUNT, SIGN_INS_PER_ADDRESS, STREAMS_PER_MERCHANT
from tests.integration.panel.conftest import as_merchant, as_operator, sign_in
from tests.support import wait_until
from tests.support.redis import redis_url_or_skip


def open_stream(stack: contextlib.ExitStack, browser: requests.Session, panel_url: str) -> int:
    """The status of a new stream; a 200 is kept open (with its first event read) until the test ends."""
    response = stack.enter_context(browser.get(panel_url + "/stream", stream=True, timeout=10))
    if response.status_code == 200:
        next(response.iter_lines())  # "retry: ..." of the hello event: the stream is subscribed
    return response.status_code


@pytest.fixture(params=["sqlite", "redis"])
def shared_store(request, tmp_path):
    if request.param == "redis":
        import uuid

        return {"rate_limit_storage_url": redis_url_or_skip(), "rate_limit_key_prefix": f"test-{uuid.uuid4().hex}"}
    return {"rate_limit_storage_url": f"sqlite:///{tmp_path / 'rate-limits.db'}"}


def test_a_merchant_holds_a_few_streams_across_sessions_and_processes_and_the_operator_still_gets_one(
    start_panel, merchant, shared_store
):
    panels = [start_panel(**shared_store), start_panel(**shared_store)]  # two processes, one store
    browsers = [(sign_in(url, as_merchant(merchant))[0], url) for url in panels for _ in range(2)]
    with contextlib.ExitStack() as stack:
        statuses = [open_stream(stack, browser, url) for browser, url in browsers for _ in range(3)]
        assert statuses.count(200) == STREAMS_PER_MERCHANT and statuses.count(429) == 12 - STREAMS_PER_MERCHANT
        operator, _ = sign_in(panels[0], as_operator())
        assert open_stream(stack, operator, panels[0]) == 200
    # Closed streams give their share back once the panel notices (its next heartbeat, within 15 s).
    with contextlib.ExitStack() as stack:
        browser, url = browsers[0]
        wait_until(lambda: open_stream(stack, browser, url) == 200, 40, interval=1, message="a share given back")


def test_sign_ins_are_limited_per_client_address(start_panel, merchant):
    panel_url = start_panel()
    wrong = as_merchant((merchant[0], "sk_wrong"))
    statuses = [sign_in(panel_url, wrong)[1].status_code for _ in range(SIGN_INS_PER_ADDRESS.quota + 1)]
    assert statuses == [401] * SIGN_INS_PER_ADDRESS.quota + [429]
    refused = sign_in(panel_url, as_merchant(merchant))[1]  # the right secret waits too, from there
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_sign_ins_of_one_account_are_limited_and_failures_for_it_do_not_count(start_panel, merchant):
    panel_url = start_panel()
    wrong = as_merchant((merchant[0], "sk_wrong"))
    assert sign_in(panel_url, wrong)[1].status_code == 401
    statuses = [sign_in(panel_url, as_merchant(merchant))[1].status_code for _ in range(SIGN_INS_PER_ACCOUNT.quota + 1)]
    assert statuses == [302] * SIGN_INS_PER_ACCOUNT.quota + [429]
