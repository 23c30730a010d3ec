"""The merchant fast path (web/merchant_fast_path.py) answers exactly as Flask's path does, and takes
only the requests it can certify: each case goes through both, for merchants of its own, and the
answers are compared with the ids, the times and the remaining budget left out."""

from __future__ import annotations

import json
import logging
import re

import pytest
from prometheus_client import REGISTRY
from werkzeug.test import EnvironBuilder, run_wsgi_app

from gateway_api.web.merchant_fast_path import MerchantFastPath
from tests.integration.gateway_api.support import ADMIN, create_merchant, transaction_body

BODY = json.dumps(transaction_body())
JSON = {"Content-Type": "application/json"}


def _same_key(key: str):
    return lambda merchant: [
        {"data": BODY, "headers": JSON | {"Idempotency-Key": key}},
        {"data": BODY, "headers": JSON | {"Idempotency-Key": key}},
        {"data": json.dumps(transaction_body(amount="11.00")), "headers": JSON | {"Idempotency-Key": key}},
    ]


# (case, requests for a merchant (its id, secret), whether the fast path takes them)
TAKEN = [
    ("a valid body", lambda m: [{"data": BODY, "headers": JSON}]),
    ("a charset", lambda m: [{"data": BODY, "headers": {"Content-Type": "application/json; charset=utf-8"}}]),
    ("the caller's request id", lambda m: [{"data": BODY, "headers": JSON | {"X-Request-Id": "order-42.a:b"}}]),
    ("a request id that is not a token", lambda m: [{"data": BODY, "headers": JSON | {"X-Request-Id": "a b"}}]),
    ("a replay, then another body with the key", _same_key("order-7")),
    ("an Idempotency-Key too long", lambda m: [{"data": BODY, "headers": JSON | {"Idempotency-Key": "k" * 256}}]),
    ("an Idempotency-Key not printable", lambda m: [{"data": BODY, "headers": JSON | {"Idempotency-Key": "a\tb"}}]),
    ("a JSON number amount", lambda m: [{"data": json.dumps(transaction_body(amount=12.5)), "headers": JSON}]),
    ("a GET of its transaction", lambda m: [{"data": BODY, "headers": JSON}, {"method": "GET", "path": PAID}]),
    (
        "a GET with the caller's request id",
        lambda m: [{"data": BODY, "headers": JSON}, {"method": "GET", "path": PAID, "headers": {"X-Request-Id": "r1"}}],
    ),
    ("a GET of an unknown id", lambda m: [{"method": "GET", "path": "/v1/transactions/no-such_id"}]),
]
DEFERRED = [
    ("a query string", lambda m: [{"data": BODY, "headers": JSON, "query_string": "x=1"}]),
    ("another content type", lambda m: [{"data": BODY, "headers": {"Content-Type": "text/plain"}}]),
    ("no content type", lambda m: [{"data": BODY}]),
    ("a +json content type", lambda m: [{"data": BODY, "headers": {"Content-Type": "application/merge-patch+json"}}]),
    ("an unknown field", lambda m: [{"data": json.dumps(transaction_body(tip=1)), "headers": JSON}]),
    ("a missing field", lambda m: [{"data": json.dumps({"amount": "1.00"}), "headers": JSON}]),
    ("malformed JSON", lambda m: [{"data": "{", "headers": JSON}]),
    ("deep JSON", lambda m: [{"data": "[" * 5000, "headers": JSON}]),
    ("a body that is not UTF-8", lambda m: [{"data": b"\xff\xfe", "headers": JSON}]),
    ("a body too large", lambda m: [{"data": " " * 70_000 + BODY, "headers": JSON}]),
    ("a wrong secret", lambda m: [{"data": BODY, "headers": JSON, "auth": (m[0], "wrong")}]),
    ("an unknown account", lambda m: [{"data": BODY, "headers": JSON, "auth": ("acct_nobody", "x")}]),
    ("no credentials", lambda m: [{"data": BODY, "headers": JSON, "auth": None}]),
    ("bad base64", lambda m: [{"data": BODY, "headers": JSON | {"Authorization": "Basic %%%"}, "auth": None}]),
    ("the admin token", lambda m: [{"data": BODY, "headers": JSON | ADMIN, "auth": None}]),
    ("a trailing slash", lambda m: [{"data": BODY, "headers": JSON, "path": "/v1/transactions/"}]),
    ("another method", lambda m: [{"data": BODY, "headers": JSON, "method": "PUT"}]),
    ("a GET with a query string", lambda m: [{"method": "GET", "path": "/v1/transactions/tx1", "query_string": "a=1"}]),
    ("a GET with a body", lambda m: [{"method": "GET", "path": "/v1/transactions/tx1", "data": "{}", "headers": JSON}]),
    ("a GET of an id with a dot", lambda m: [{"method": "GET", "path": "/v1/transactions/tx.1"}]),
    ("a GET of an id too long", lambda m: [{"method": "GET", "path": "/v1/transactions/" + "a" * 65}]),
    ("a GET of an id of Arabic-Indic digits", lambda m: [{"method": "GET", "path": "/v1/transactions/\u0663\u0664"}]),
    ("a GET of an id of 10,000 characters", lambda m: [{"method": "GET", "path": "/v1/transactions/" + "a" * 10_000}]),
    ("a GET of a percent-encoded slash", lambda m: [{"method": "GET", "path": "/v1/transactions/a%2Fb"}]),
    ("a GET of a refund's path", lambda m: [{"method": "GET", "path": "/v1/transactions/tx1/refunds"}]),
    ("a HEAD", lambda m: [{"method": "HEAD", "path": "/v1/transactions/tx1"}]),
    ("a GET with a wrong secret", lambda m: [{"method": "GET", "path": "/v1/transactions/tx1", "auth": (m[0], "x")}]),
    (
        "a GET with the admin token",
        lambda m: [{"method": "GET", "path": "/v1/transactions/tx1", "headers": ADMIN, "auth": None}],
    ),
]


@pytest.fixture
def fast(app) -> MerchantFastPath:
    assert isinstance(app.wsgi_app, MerchantFastPath), "create_app puts it in front of Flask"
    return app.wsgi_app


@pytest.fixture
def to_flask(fast):
    """Every request the fast path hands to Flask, by path."""
    handed = []
    flask_wsgi = fast.flask_wsgi

    def recording(environ, start_response):
        handed.append(environ["PATH_INFO"])
        return flask_wsgi(environ, start_response)

    fast.flask_wsgi = recording
    return handed


PAID = "the Location of the last answer"


def _send(client, merchant, requests):
    answers = []
    for options in requests:
        options = dict(options)
        method, path = options.pop("method", "POST"), options.pop("path", "/v1/transactions")
        if path == PAID:
            path = answers[-1].headers["Location"]
        options.setdefault("auth", merchant)
        answers.append(client.open(path, method=method, **options))
    return answers


def _comparable(response) -> tuple:
    """Status, headers and body without what differs by nature: ids, times, the budget left."""
    text = response.get_data(as_text=True)
    text = re.sub(r'"(id|created_at|account_id)":"[^"]*"', r'"\1":"*"', text)
    headers = {name: value for name, value in response.headers.items()}
    for name, pattern in (("Location", r"[^/]+$"), ("RateLimit", r"r=\d+;t=\d+"), ("X-Request-Id", r"^[0-9a-f]{32}$")):
        if name in headers:
            headers[name] = re.sub(pattern, "*", headers[name])
    return response.status_code, sorted(headers.items()), text


def _through_both(app, fast, client, case):
    fast_answers = _send(client, create_merchant(client), case)
    app.wsgi_app = fast.flask_wsgi
    try:
        flask_answers = _send(client, create_merchant(client), case)
    finally:
        app.wsgi_app = fast
    return [_comparable(a) for a in fast_answers], [_comparable(a) for a in flask_answers]


@pytest.mark.parametrize("name,case", TAKEN, ids=[name for name, _ in TAKEN])
def test_a_certified_merchant_request_is_answered_without_flask_as_flask_answers_it(
    app, fast, client, to_flask, name, case
):
    merchant = create_merchant(client)
    before = len(to_flask)
    statuses = [a.status_code for a in _send(client, merchant, case(merchant))]
    assert len(to_flask) == before, statuses
    by_fast, by_flask = _through_both(app, fast, client, case(merchant))
    assert by_fast == by_flask


@pytest.mark.parametrize("name,case", DEFERRED, ids=[name for name, _ in DEFERRED])
def test_every_other_request_goes_to_flask_untouched(app, fast, client, to_flask, name, case):
    merchant = create_merchant(client)
    before = len(to_flask)
    answers = _send(client, merchant, case(merchant))
    assert len(to_flask) - before == len(answers)
    assert all(a.status_code != 202 and a.status_code < 500 for a in answers), [a.status_code for a in answers]
    by_fast, by_flask = _through_both(app, fast, client, case(merchant))
    assert by_fast == by_flask


def test_rate_limited_posts_get_flasks_429_with_the_same_fields(app, fast, client):
    def limited(merchant):
        client.put(f"/v1/accounts/{merchant[0]}/rate_limit", json={"rate_limit_per_second": 1}, headers=ADMIN)
        return [{"data": BODY, "headers": JSON}] * 4  # 2 per 2 s window

    by_fast, by_flask = [], []
    for answers, through_flask in ((by_fast, False), (by_flask, True)):
        merchant = create_merchant(client)
        requests = limited(merchant)
        app.wsgi_app = fast.flask_wsgi if through_flask else fast
        try:
            answers.extend(_comparable(a) for a in _send(client, merchant, requests))
        finally:
            app.wsgi_app = fast
    assert [status for status, _, _ in by_fast] == [202, 202, 429, 429]
    # The seconds left in the 2 s window depend on when each path's requests fell in it: 1 or 2 on
    # either path, the same in the header and the message; the rest of the answers identical.
    for _, headers, text in by_fast[2:] + by_flask[2:]:
        retry_after = dict(headers)["Retry-After"]
        assert retry_after in ("1", "2") and f"retry after {retry_after} s." in text
    assert _without_retry_after(by_fast) == _without_retry_after(by_flask)


def _without_retry_after(answers: list[tuple]) -> list[tuple]:
    return [
        (
            status,
            [(name, "*" if name == "Retry-After" else value) for name, value in headers],
            re.sub(r"retry after \d+ s\.", "retry after * s.", text),
        )
        for status, headers, text in answers
    ]


def test_another_merchants_transaction_is_as_absent_on_both_paths(app, fast, client, to_flask):
    payer, other = create_merchant(client), create_merchant(client)
    location = client.post("/v1/transactions", data=BODY, headers=JSON, auth=payer).headers["Location"]
    before = len(to_flask)
    by_fast = client.get(location, auth=other)
    assert len(to_flask) == before
    app.wsgi_app = fast.flask_wsgi
    try:
        by_flask = client.get(location, auth=other)
    finally:
        app.wsgi_app = fast
    assert by_fast.status_code == 404 and by_fast.json["error"]["param"] == "id"
    assert _comparable(by_fast) == _comparable(by_flask)
    assert client.get(location, auth=payer).status_code == 200


def test_a_fast_read_is_logged_and_counted_under_flasks_route(client, caplog):
    merchant = create_merchant(client)
    location = client.post("/v1/transactions", data=BODY, headers=JSON, auth=merchant).headers["Location"]
    route = "/v1/transactions/<transaction_id>"
    counted = _counted(route, "GET", 200)
    with caplog.at_level(logging.INFO, logger="gateway_api.access"):
        answer = client.get(location, headers={"X-Request-Id": "rq-2"}, auth=merchant)
    assert answer.status_code == 200 and _counted(route, "GET", 200) == counted + 1
    [line] = [r for r in caplog.records if r.name == "gateway_api.access"]
    assert (line.method, line.route, line.path, line.status) == ("GET", route, location, 200)
    assert (line.account_id, line.request_id) == (merchant[0], "rq-2")


def test_wrong_credentials_are_checked_once(app, client):
    merchant = create_merchant(client)
    accounts = app.extensions["gateway_api"].accounts
    calls = []
    authenticate = accounts.authenticate
    accounts.authenticate = lambda *args: calls.append(args) or authenticate(*args)
    try:
        answer = client.post("/v1/transactions", data=BODY, headers=JSON, auth=(merchant[0], "wrong"))
    finally:
        del accounts.authenticate
    assert answer.status_code == 401 and len(calls) == 1


def test_a_fast_answer_is_logged_and_counted_under_the_route(client, caplog):
    merchant = create_merchant(client)
    counted = _posts_counted(202)
    with caplog.at_level(logging.INFO, logger="gateway_api.access"):
        answer = client.post("/v1/transactions", data=BODY, headers=JSON | {"X-Request-Id": "rq-1"}, auth=merchant)
    assert answer.status_code == 202 and _posts_counted(202) == counted + 1
    [line] = [r for r in caplog.records if r.name == "gateway_api.access"]
    assert (line.method, line.route, line.path, line.status) == ("POST", "/v1/transactions", "/v1/transactions", 202)
    assert (line.account_id, line.operator, line.request_id) == (merchant[0], None, "rq-1")
    assert line.duration_ms > 0


def test_an_unexpected_error_after_the_count_is_a_json_500_without_a_trace(app, client, caplog, monkeypatch):
    merchant = create_merchant(client)

    def broken(*args):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(type(app.extensions["gateway_api"].accept_transaction), "__call__", broken)
    answer = client.post("/v1/transactions", data=BODY, headers=JSON, auth=merchant)
    assert answer.status_code == 500
    assert answer.json == {
        "error": {
            "type": "api_error",
            "code": "internal_error",
            "message": "Something went wrong on our side.",
            "param": None,
        }
    }
    assert "secret detail" not in answer.get_data(as_text=True) and "X-Request-Id" in answer.headers
    assert any(r.message == "unhandled error" and r.exc_info for r in caplog.records)


def _posts_counted(status: int) -> float:
    return _counted("/v1/transactions", "POST", status)


def _counted(route: str, method: str, status: int) -> float:
    value = REGISTRY.get_sample_value(
        "gateway_api_http_requests_total", {"route": route, "method": method, "status": str(status)}
    )
    return value or 0.0


# What Flask's path does around the view, each done by the fast path too (web/merchant_fast_path.py).
# A hook added to the app fails this test: add its work to the fast path, or send such requests to Flask.
HOOKS_THE_FAST_PATH_DOES = {
    ("before", "_start"),  # its own clock
    ("before", "track_request_ids.<locals>._request_id"),  # request_id_from
    ("before", "register_rate_limits.<locals>._count"),  # hits, first_refusal, too_many
    ("before", "refuse_undeclared_query.<locals>._refuse"),  # a query string goes to Flask
    ("after", "instrument_flask.<locals>._record"),  # HttpMetrics.observe
    ("after", "track_request_ids.<locals>._echo"),  # X-Request-Id
    ("after", "log_requests.<locals>._log"),  # log_request
    ("after", "register_rate_limits.<locals>._fields"),  # fields
}


def test_the_fast_path_does_what_every_hook_of_the_app_does(app):
    hooks = {("before", f.__qualname__) for funcs in app.before_request_funcs.values() for f in funcs}
    hooks |= {("after", f.__qualname__) for funcs in app.after_request_funcs.values() for f in funcs}
    hooks |= {("teardown", f.__qualname__) for funcs in app.teardown_request_funcs.values() for f in funcs}
    assert hooks == HOOKS_THE_FAST_PATH_DOES


@pytest.mark.parametrize("length", ["9" * 5000, "٣٤", "-1", "+10", " 10", "1e3"])
def test_a_hostile_content_length_goes_to_flask_and_never_gets_a_500(app, client, to_flask, length):
    merchant = create_merchant(client)
    environ = EnvironBuilder("/v1/transactions", method="POST", data=BODY, headers=JSON, auth=merchant).get_environ()
    environ["CONTENT_LENGTH"] = length
    before = len(to_flask)
    _, status, _ = run_wsgi_app(app.wsgi_app, environ, buffered=True)
    assert len(to_flask) == before + 1
    assert int(status.split()[0]) < 500, status
