"""The live view's baseline (/api/recent) is one API call, whatever the last 15 minutes hold."""

from datetime import timedelta

from prometheus_client import REGISTRY

from infra.kernel.clock import utc_now

from gateway_api.adapters.tables import transactions
from tests.integration.panel.conftest import as_merchant, sign_in


def api_listings() -> float:
    labels = {"route": "/v1/transactions", "method": "GET", "status": "200"}
    return REGISTRY.get_sample_value("gateway_api_http_requests_total", labels) or 0.0


def test_the_recent_baseline_is_one_api_call_of_the_newest_in_the_window(api, start_panel, merchant):
    now = utc_now()
    rows = [
        {
            "id": f"tx-{i:04d}",
            "account_id": merchant[0],
            "status": "approved",
            "amount_cents": 1000,
            "created_at": now - timedelta(seconds=i),
            "error_message": "",
        }
        for i in range(250)
    ]
    rows.append(
        {
            "id": "tx-old",
            "account_id": merchant[0],
            "status": "approved",
            "amount_cents": 1000,
            "created_at": now - timedelta(minutes=20),
            "error_message": "",
        }
    )
    with api[1].application.extensions["gateway_api"].engine.begin() as connection:
        connection.execute(transactions.insert(), rows)
    panel_url = start_panel()
    browser, answer = sign_in(panel_url, as_merchant(merchant))
    assert answer.status_code == 302, answer.text

    before = api_listings()
    recent = browser.get(panel_url + "/api/recent", timeout=10).json()
    assert api_listings() - before == 1
    assert [row["id"] for row in recent["data"]] == [f"tx-{i:04d}" for i in range(100)]
    assert recent["truncated"] is True and recent["minutes"] == 15


def test_listing_from_a_moment_on_is_a_parameter_of_the_api(api, merchant):
    client = api[1]
    assert client.get("/v1/transactions?created_after=2026-01-01T00:00:00Z", auth=merchant).status_code == 200
    for bad in ("yesterday", "0001-01-01T00:00:00+01:00", "2026-13-01T00:00:00Z"):
        answer = client.get("/v1/transactions", query_string={"created_after": bad}, auth=merchant)
        assert answer.status_code == 422 and answer.json["error"]["param"] == "created_after", (bad, answer.json)
