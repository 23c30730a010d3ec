from datetime import datetime, timedelta, timezone

import pytest

from infra.kernel.contracts import TransactionResult

from tests.integration.gateway_api.support import ADMIN, transaction_body


def decide(app, transaction: dict, account_id: str, status: str, reason: str = "") -> None:
    app.extensions["gateway_api"].ledger.apply_results(
        [
            TransactionResult(
                transaction["id"],
                status,
                reason,
                account_id,
                transaction["amount"],
                "visa",
                "1111",
                transaction["created_at"],
                transaction["created_at"],
            )
        ]
    )


def post(client, merchant, amount):
    return client.post("/v1/transactions", json=transaction_body(amount=amount), auth=merchant).json


def test_report_totals_per_day_month_and_year(app, client, merchant, other_merchant):
    decide(app, post(client, merchant, "10.00"), merchant[0], "approved")
    decide(app, post(client, merchant, "2.50"), merchant[0], "approved")
    decide(app, post(client, merchant, "5000"), merchant[0], "rejected", "you dont have limit for this transaction")
    decide(app, post(client, merchant, "0.50"), merchant[0], "rejected", "the amount must be greater than 1")
    post(client, merchant, "3.00")  # still pending
    decide(app, post(client, other_merchant, "99.00"), other_merchant[0], "approved")
    today = datetime.now(timezone.utc).date().isoformat()
    expected_row = {
        "approved_count": 2,
        "approved_volume": "12.50",
        "rejected_count": 2,
        "pending_count": 1,
        "refunded": "0.00",
        "net": "12.50",
        "rejected_by_reason": {"the amount must be greater than 1": 1, "you dont have limit for this transaction": 1},
    }

    for period, label in (("day", today), ("month", today[:7]), ("year", today[:4])):
        report = client.get(f"/v1/reports?period={period}&from={today}&to={today}", auth=merchant).json
        assert report == {"period": period, "from": today, "to": today, "data": [{"period": label} | expected_row]}

    everyone = client.get(f"/v1/reports?period=day&from={today}&to={today}", headers=ADMIN).json["data"][0]
    assert (everyone["approved_count"], everyone["approved_volume"]) == (3, "111.50")
    one = client.get(f"/v1/reports?from={today}&to={today}&account_id={other_merchant[0]}", headers=ADMIN).json
    assert one["data"][0]["approved_volume"] == "99.00"


def test_report_as_csv(app, client, merchant):
    decide(app, post(client, merchant, "10.00"), merchant[0], "rejected", "credit card expired")
    today = datetime.now(timezone.utc).date().isoformat()
    for response in (
        client.get(f"/v1/reports?from={today}&to={today}&format=csv", auth=merchant),
        client.get(f"/v1/reports?from={today}&to={today}", auth=merchant, headers={"Accept": "text/csv"}),
    ):
        assert response.status_code == 200 and response.mimetype == "text/csv"
        assert response.get_data(as_text=True).splitlines() == [
            "period,approved_count,approved_volume,rejected_count,pending_count,refunded,net,rejected_by_reason",
            f"{today},0,0.00,1,0,0.00,0.00,credit card expired=1",
        ]


def test_report_queries_are_validated(client, merchant):
    assert client.get("/v1/reports?from=2026-02-01&to=2026-01-01", auth=merchant).json["error"]["param"] == "from"
    assert client.get("/v1/reports?from=2026-01-01&to=2026-1-1", auth=merchant).json["error"]["param"] == "to"
    after_today = datetime.now(timezone.utc).date() + timedelta(days=2)
    assert client.get(f"/v1/reports?from={after_today}", auth=merchant).json["error"]["param"] == "from"
    assert client.get("/v1/reports?period=week&from=2026-01-01&to=2026-01-02", auth=merchant).status_code == 422
    assert client.get("/v1/reports?from=2026-01-01&to=2026-01-02").status_code == 401


def test_without_dates_a_report_covers_the_last_30_days_up_to_today_utc(app, client, merchant):
    decide(app, post(client, merchant, "10.00"), merchant[0], "approved")
    today = datetime.now(timezone.utc).date()
    month_ago = (today - timedelta(days=29)).isoformat()
    report = client.get("/v1/reports?period=day", auth=merchant)
    assert report.status_code == 200
    assert (report.json["from"], report.json["to"]) == (month_ago, today.isoformat())
    assert [row["period"] for row in report.json["data"]] == [today.isoformat()]
    assert report.json["data"][0]["approved_volume"] == "10.00"


def test_with_one_date_the_other_defaults_around_it(client, merchant):
    only_to = client.get("/v1/reports?to=2026-03-31", auth=merchant).json
    assert (only_to["from"], only_to["to"]) == ("2026-03-02", "2026-03-31")
    only_from = client.get("/v1/reports?from=2026-01-01", auth=merchant).json
    assert (only_from["from"], only_from["to"]) == ("2026-01-01", datetime.now(timezone.utc).date().isoformat())


def test_the_report_defaults_are_in_the_openapi_document(client):
    parameters = client.get("/openapi.json").json["paths"]["/v1/reports"]["get"]["parameters"]
    described = {p["name"]: p.get("description", "") for p in parameters}
    assert "30 days" in described["from"] and "today" in described["to"]
    assert not any(p["required"] for p in parameters if p["name"] in ("from", "to"))


@pytest.mark.parametrize(
    "query", ["from=9999-01-01&to=9999-12-31", "period=year&from=0001-01-01&to=0001-12-31", "to=0001-01-01"]
)
def test_reports_over_the_extreme_dates_answer_instead_of_failing(app, client, merchant, query):
    """(Ranges over 366 days are a 422: tests/integration/gateway_api/web/test_rate_limits.py.)"""
    decide(app, post(client, merchant, "10.00"), merchant[0], "approved")
    response = client.get(f"/v1/reports?{query}", auth=merchant)
    assert response.status_code == 200, response.json
    expected = 0
    assert sum(row["approved_count"] for row in response.json["data"]) == expected
