"""Per-merchant rate limits: 429 with Retry-After and the IETF RateLimit fields, the operator's
override, the expensive operations' own budgets, anonymous callers per address, and the counters
shared through Redis (this machine's, 127.0.0.1:6379, under a key prefix of the test's own)."""

import uuid
from dataclasses import replace
from datetime import date, timedelta

import pytest
from click.testing import CliRunner

from gateway_api import create_app
from gateway_api.cli import accounts_cli
from gateway_api.domain.rate_limits import ANONYMOUS, REPORTS, RESEND, SESSIONS, WEBHOOK_ENDPOINTS
from tests.integration.gateway_api.support import ADMIN, create_merchant
from tests.support.ports import refusing_port
from tests.support.redis import redis_url_or_skip

RECEIVER = "http://127.0.0.1:9/hooks"


def set_rate(client, account_id, per_second):
    return client.put(
        f"/v1/accounts/{account_id}/rate_limit", json={"rate_limit_per_second": per_second}, headers=ADMIN
    )


def statuses(client, n, path="/v1/transactions", **kwargs) -> list[int]:
    return [client.get(path, **kwargs).status_code for _ in range(n)]


def test_a_merchant_over_its_limit_gets_429_with_retry_after_and_the_ratelimit_fields(client, merchant):
    assert set_rate(client, merchant[0], 2).json["rate_limit_per_second"] == 2  # 4 per 2 s window
    answers = [client.get("/v1/transactions", auth=merchant) for _ in range(5)]
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 429]
    first, refused = answers[0], answers[-1]
    assert first.headers["RateLimit-Policy"] == '"account";q=4;w=2'
    assert first.headers["RateLimit"].startswith('"account";r=3;t=')
    assert refused.json["error"] | {"message": ""} == {
        "type": "rate_limit_error",
        "code": "rate_limit_exceeded",
        "message": "",
        "param": None,
    }
    assert 1 <= int(refused.headers["Retry-After"]) <= 2
    assert refused.headers["RateLimit"] == f'"account";r=0;t={refused.headers["Retry-After"]}'


def test_the_default_is_100_per_second_with_a_burst_of_200(client, merchant):
    answer = client.get("/v1/transactions", auth=merchant)
    assert answer.headers["RateLimit-Policy"] == '"account";q=200;w=2'
    assert client.get("/v1/accounts", headers=ADMIN).json["data"][0]["rate_limit_per_second"] is None


def test_one_merchant_over_its_limit_leaves_the_others_and_the_operator_alone(client, merchant, other_merchant):
    set_rate(client, merchant[0], 1)
    assert statuses(client, 3, auth=merchant)[-1] == 429
    assert statuses(client, 3, auth=other_merchant) == [200] * 3
    assert statuses(client, 30, path="/v1/accounts", headers=ADMIN) == [200] * 30


def test_the_override_goes_back_to_the_default_and_bad_values_are_422(client, merchant):
    set_rate(client, merchant[0], 1)
    assert set_rate(client, merchant[0], None).json["rate_limit_per_second"] is None
    assert statuses(client, 10, auth=merchant) == [200] * 10
    for bad in (0, -1, 10**9, "10", 1.5):
        answer = set_rate(client, merchant[0], bad)
        assert answer.status_code == 422 and answer.json["error"]["param"] == "rate_limit_per_second", bad
    assert set_rate(client, "acct_nope", 5).status_code == 404
    assert (
        client.put(
            f"/v1/accounts/{merchant[0]}/rate_limit", json={"rate_limit_per_second": 5}, auth=merchant
        ).status_code
        == 403
    )


def test_the_operator_sets_the_override_from_the_command_line_too(app, client, merchant):
    runner = CliRunner()
    with app.app_context():
        result = runner.invoke(accounts_cli, ["set-rate-limit", merchant[0], "--per-second", "3"])
        assert result.exit_code == 0, result.output
        assert '"rate_limit_per_second": 3' in result.output
        assert runner.invoke(accounts_cli, ["set-rate-limit", merchant[0]]).exit_code == 2
    assert client.get("/v1/transactions", auth=merchant).headers["RateLimit-Policy"] == '"account";q=6;w=2'


def _resend(client, app, merchant):
    from tests.integration.gateway_api.test_webhooks_api import decide

    client.post("/v1/webhook_endpoints", json={"url": RECEIVER, "enabled_events": ["*"]}, auth=merchant)
    decide(app, (f"tx-{uuid.uuid4().hex}", merchant[0]))
    event = client.get("/v1/events", auth=merchant).json["data"][0]["id"]
    return lambda: client.post(f"/v1/events/{event}/resend", auth=merchant)


def _report(client, app, merchant):
    return lambda: client.get("/v1/reports", auth=merchant)


def _session(client, app, merchant):
    return lambda: client.post("/v1/sessions", json={}, auth=merchant)


def _endpoint(client, app, merchant):
    return lambda: client.post(
        "/v1/webhook_endpoints", json={"url": "https://", "enabled_events": ["*"]}, auth=merchant
    )


@pytest.mark.parametrize(
    "operation, policy", [(_resend, RESEND), (_report, REPORTS), (_session, SESSIONS), (_endpoint, WEBHOOK_ENDPOINTS)]
)
def test_expensive_operations_have_a_lower_limit_of_their_own(client, app, merchant, operation, policy):
    call = operation(client, app, merchant)
    answers = [call() for _ in range(policy.quota + 1)]
    assert all(a.status_code != 429 for a in answers[:-1]), [a.status_code for a in answers]
    assert answers[-1].status_code == 429
    assert f'"{policy.name}";q={policy.quota};w={policy.window_seconds}' in answers[-1].headers["RateLimit-Policy"]
    assert client.get("/v1/transactions", auth=merchant).status_code == 200  # the rest of the API still answers


def test_callers_without_valid_credentials_are_limited_per_client_address(client, merchant):
    wrong = (merchant[0], "sk_wrong")
    answers = [client.get("/v1/transactions", auth=wrong) for _ in range(ANONYMOUS.quota)]
    assert {a.status_code for a in answers} == {401}
    assert answers[0].headers["RateLimit-Policy"] == f'"anonymous";q={ANONYMOUS.quota};w={ANONYMOUS.window_seconds}'
    assert client.open("/v1/transactions", method="FOO").status_code == 429  # made-up methods count too
    assert client.get("/v1/transactions", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 401
    assert client.get("/v1/transactions", auth=merchant).status_code == 200  # a valid merchant is not anonymous
    assert client.get("/healthz").status_code == 200  # probes are never counted


def test_reports_are_bounded_to_366_days(client, merchant):
    today = date.today()
    year = client.get(
        "/v1/reports",
        query_string={"from": (today - timedelta(days=365)).isoformat(), "to": today.isoformat()},
        auth=merchant,
    )
    assert year.status_code == 200
    for query in (
        {"from": (today - timedelta(days=366)).isoformat(), "to": today.isoformat()},
        {"from": "0001-01-01", "to": "9999-12-31"},
        {"from": "0001-01-01"},
    ):
        answer = client.get("/v1/reports", query_string=query, auth=merchant)
        assert answer.status_code == 422 and answer.json["error"]["param"] == "from", query
        assert "366 days" in answer.json["error"]["message"]


def test_every_operation_documents_429_with_its_headers(client):
    paths = client.get("/openapi.json").json["paths"]
    operations = [
        (path, method, op)
        for path, item in paths.items()
        if path.startswith("/v1/")
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) > 15
    for path, method, operation in operations:
        refused = operation["responses"].get("429")
        assert refused is not None, (path, method)
        assert {"Retry-After", "RateLimit-Policy", "RateLimit"} <= set(refused["headers"]), (path, method)


def test_the_limit_is_shared_through_redis_by_every_instance_of_the_api(api_settings):
    """Two apps (two workers, or two replicas) on one Redis count the same budget."""
    settings = replace(
        api_settings, rate_limit_storage_url=redis_url_or_skip(), rate_limit_key_prefix=f"test-{uuid.uuid4().hex}"
    )
    first, second = create_app(settings), create_app(settings)
    try:
        one, two = first.test_client(), second.test_client()
        merchant = create_merchant(one, "Shop")
        set_rate(one, merchant[0], 2)
        answers = [(one if i % 2 else two).get("/v1/transactions", auth=merchant).status_code for i in range(6)]
        assert answers.count(200) == 4 and answers.count(429) == 2, answers
    finally:
        for app in (first, second):
            app.extensions["gateway_api"].close()


def test_an_unreachable_store_lets_payments_through_and_is_counted(api_settings):
    with refusing_port() as port:
        app = create_app(replace(api_settings, rate_limit_storage_url=f"redis://127.0.0.1:{port}"))
        try:
            client = app.test_client()
            merchant = create_merchant(client, "Shop")
            assert statuses(client, 3, auth=merchant) == [200] * 3
            assert app.extensions["gateway_api"].metrics.rate_limit_store_failures._value.get() >= 3
        finally:
            app.extensions["gateway_api"].close()


def test_behind_the_ingress_the_anonymous_limit_counts_the_real_client_not_the_proxy(api_settings):
    app = create_app(replace(api_settings, trusted_proxy_hops=1))
    try:
        client = app.test_client()

        def from_client(address: str, forged: str = "") -> int:
            chain = f"{forged}, {address}" if forged else address  # the ingress appends the real address
            return client.get("/v1/transactions", headers={"X-Forwarded-For": chain}).status_code

        assert {from_client("203.0.113.7") for _ in range(ANONYMOUS.quota)} == {401}
        assert from_client("203.0.113.7", forged="198.51.100.1") == 429  # a forged entry changes nothing
        assert from_client("203.0.113.8") == 401  # another client has its own budget
    finally:
        app.extensions["gateway_api"].close()
