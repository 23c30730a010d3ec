"""A merchant's ``POST /v1/transactions`` and ``GET /v1/transactions/{id}`` without Flask's dispatch:
the same answers for a fraction of the CPU.

A merchant's POST is nearly every request the API serves, and a GET of the transaction it just
paid with is what a merchant polling for the decision sends (the 202's ``Location``). Flask's part of
each (the request and app contexts, the before/after hooks, werkzeug's Request and Response, ~50
context-local lookups) was ~30% of a POST's CPU and ~45% of a GET's (docs/benchmarks-api.md). This
WSGI middleware, in front of Flask, answers only the requests it can *certify*, the way the compiled
body loads do (web/compiled_loads.py): Basic credentials of an enabled account, no query string, and

* accept: a POST to exactly /v1/transactions with a JSON body of a declared length that the
  compiled schema accepts;
* read: a GET of /v1/transactions/{id}, an id of 1-64 letters, digits, ``-`` or ``_``, no body.

Anything else (another route, a query, another content type, a body it is not sure of, a bearer
token or a panel session, wrong credentials, Flask's debug mode) goes to Flask untouched, before
anything was counted or written, and Flask answers it as it always has (for wrong credentials without
authenticating twice: the caller is left in the environ, where ``web.auth.current_caller`` looks first).

A request it took gets what Flask's path does, through the same functions: the account's rate limit
(web/rate_limits), the operation itself (``web.transactions.accept``, ``web.transactions.read``), the
error answers (web/errors), the request id (web/audit), the access log line (web/request_logging) and
the HTTP metrics, under the route template Flask would name. The OpenAPI document still describes the
Flask views, which the fast path never replaces: tests send the same requests through both paths and
compare the answers.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Callable, Iterable

from flask import Flask
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import Authorization
from werkzeug.http import HTTP_STATUS_CODES

from infra.runtime.metrics import HttpMetrics, metrics_for

from gateway_api.domain.errors import GatewayError
from gateway_api.web.audit import REQUEST_ID_HEADER, request_id_from
from gateway_api.web.auth import CALLER_KEY, MERCHANT, Caller, authenticate
from gateway_api.web.compiled_loads import NOT_SURE, compile_load
from gateway_api.web.errors import Answer, database_answer, domain_answer, unexpected_answer
from gateway_api.web.parsing import loads_bounded
from gateway_api.web.rate_limits import fields, first_refusal, hits, too_many
from gateway_api.web.request_logging import log_request
from gateway_api.web.schemas import TransactionCreateSchema
from gateway_api.web.transactions import accept, blp, read

# The route templates Flask's path logs and counts these operations under, and their endpoints (as
# the rate limits know them).
ACCEPT_ROUTE, ACCEPT_ENDPOINT = blp.url_prefix, "transactions.create_transaction"
READ_ROUTE, READ_ENDPOINT = f"{blp.url_prefix}/<transaction_id>", "transactions.get_transaction"
_READ_PATH = re.compile(re.escape(blp.url_prefix) + r"/([A-Za-z0-9_-]{1,64})")
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]
Operation = Callable[[Caller], tuple[int, dict, dict]]  # the answer: status, body, headers


class MerchantFastPath:
    """WSGI: the certified merchant's accept and read here, every other request to ``flask_wsgi``."""

    def __init__(self, app: Flask, flask_wsgi: WsgiApp, retry_after_seconds: int):
        self.flask_wsgi = flask_wsgi
        self._app = app
        self._retry_after = retry_after_seconds
        self._load = compile_load(TransactionCreateSchema())  # the view's schema, compiled the same way
        self._http = metrics_for(HttpMetrics, prefix="gateway_api")

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        certified = self._certify(environ)
        if certified is None:
            return self.flask_wsgi(environ, start_response)
        caller, method, route, endpoint, operation = certified
        request_id = request_id_from(environ.get("HTTP_X_REQUEST_ID", ""))
        status, body, headers = self._answer(environ, caller, endpoint, operation)
        headers[REQUEST_ID_HEADER] = request_id
        data = (self._app.json.dumps(body, separators=(",", ":")) + "\n").encode()  # as jsonify outside debug
        start_response(
            f"{status} {HTTP_STATUS_CODES[status].upper()}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *headers.items()],
        )
        seconds = time.perf_counter() - started
        self._http.observe(route, method, status, seconds)
        log_request(method, route, environ["PATH_INFO"], status, seconds, caller[0], request_id)
        return [data]

    def _certify(self, environ: dict) -> tuple[Caller, str, str, str, Operation] | None:
        """The caller and what to do for a request this path answers; None sends it to Flask."""
        if (
            environ.get("QUERY_STRING")
            or environ.get("SCRIPT_NAME")
            or environ.get("HTTP_AUTHORIZATION", "")[:6].lower() != "basic "
            or self._app.debug
        ):
            return None
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO", "")
        services = self._app.extensions["gateway_api"]
        key = environ.get("HTTP_IDEMPOTENCY_KEY")
        operation: Operation
        if method == "POST" and path == ACCEPT_ROUTE:
            payload = self._payload(environ) if _declared_json(environ.get("CONTENT_TYPE", "")) else None
            if payload is None:
                return None
            route, endpoint = ACCEPT_ROUTE, ACCEPT_ENDPOINT
            operation = lambda caller: (202, *accept(services, caller[0].account_id, payload, key, ""))  # noqa: E731
        elif method == "GET" and (found := _READ_PATH.fullmatch(path)) and _without_body(environ):
            route, endpoint, transaction_id = READ_ROUTE, READ_ENDPOINT, found[1]
            operation = lambda caller: (200, read(services, caller[0], transaction_id), {})  # noqa: E731
        else:
            return None
        try:
            caller = authenticate(services, Authorization.from_header(environ["HTTP_AUTHORIZATION"]))
        except Exception:  # noqa: BLE001 - the database is down...: Flask tries again and answers (503)
            return None
        environ[CALLER_KEY] = caller
        if caller is None or caller[0].kind != MERCHANT or caller[2] is not None:
            return None
        return caller, method, route, endpoint, operation

    def _payload(self, environ: dict) -> dict | None:
        """The body as the view's schema loads it, or None. The body read here is put back for Flask."""
        declared, limit = environ.get("CONTENT_LENGTH", ""), self._app.config["MAX_CONTENT_LENGTH"]
        # Plain ASCII digits, and few of them: int() of a few thousand digits raises (CPython's limit).
        if not (declared.isascii() and declared.isdigit() and len(declared) <= 12):
            return None
        length = int(declared)
        if environ.get("HTTP_TRANSFER_ENCODING") or (limit is not None and length > limit):
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        if len(raw) != length:
            return None
        try:
            loaded = self._load(loads_bounded(raw))
        except json.JSONDecodeError:
            return None
        return None if loaded is NOT_SURE else loaded

    def _answer(self, environ: dict, caller: Caller, endpoint: str, operation: Operation) -> Answer:
        """Flask's path from its hooks on: count, do, answer; every error as its handler answers it."""
        services = self._app.extensions["gateway_api"]
        decisions = []
        try:
            decisions = hits(services.rate_limiter, caller, endpoint, environ.get("REMOTE_ADDR"))
            worst = first_refusal(decisions)
            if worst is not None:
                services.metrics.rate_limited.labels(worst.policy.name).inc()
                status, body, headers = too_many(worst)
            else:
                status, body, headers = operation(caller)
        except GatewayError as error:
            status, body, headers = domain_answer(error, self._retry_after)
        except DBAPIError as error:
            status, body, headers = database_answer(error, self._retry_after)
        except Exception:  # noqa: BLE001 - answered as Flask's handler answers it, logged with its trace
            status, body, headers = unexpected_answer()
        if decisions:
            headers |= fields(decisions)
        return status, body, headers


def _declared_json(content_type: str) -> bool:
    """``application/json``, with parameters or not: what Flask's ``request.mimetype`` reads as JSON
    for sure (anything else goes to Flask, which decides)."""
    lowered = content_type.lower()
    return lowered == "application/json" or lowered.startswith("application/json;")


def _without_body(environ: dict) -> bool:
    """No body announced (a GET with one goes to Flask, which reads past it as it always has)."""
    return environ.get("CONTENT_LENGTH", "") in ("", "0") and not environ.get("HTTP_TRANSFER_ENCODING")
