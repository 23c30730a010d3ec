"""Rate limits at the edge: every request of a merchant (or of a panel session, which counts for its
merchant) hits its account's budget, and the expensive operations their own; a request without valid
credentials hits its client address's budget; the operator is not limited. Over budget: 429 with
Retry-After, and on every counted answer the IETF RateLimit-Policy and RateLimit fields
(draft-ietf-httpapi-ratelimit-headers: ``"account";q=200;w=2`` and ``"account";r=150;t=1``)."""

from __future__ import annotations

from flask import Flask, current_app, g, request

from infra.runtime.errors import error_body
from infra.runtime.rate_limits import Decision, RateLimiter

from gateway_api.domain.rate_limits import ANONYMOUS, EXPENSIVE, account_policy
from gateway_api.web.auth import ADMIN, Caller, current_caller
from gateway_api.web.errors import Answer

# The views whose work costs most, by endpoint (blueprint.view): each has a policy of its own.
# Keyed by request.endpoint, which is None when no route matched (a 404): no expensive operation then.
_OPERATIONS: dict[str | None, str] = {
    "events.resend_event": "resend",
    "reports.get_report": "reports",
    "sessions.open_session": "sessions",
    "webhook_endpoints.create_webhook_endpoint": "webhook_endpoints",
}
# Probes and the scrape are the platform's, not a caller's: never counted.
_EXEMPT = {"health.healthz", "health.readyz", "metrics"}


def register_rate_limits(app: Flask) -> None:
    @app.before_request
    def _count():
        services = current_app.extensions["gateway_api"]
        exempt = request.endpoint in _EXEMPT
        g.rate_limits = decisions = (
            [] if exempt else hits(services.rate_limiter, current_caller(), request.endpoint, request.remote_addr)
        )
        worst = first_refusal(decisions)
        if worst is None:
            return None
        services.metrics.rate_limited.labels(worst.policy.name).inc()
        status, body, headers = too_many(worst)
        return body, status, headers

    @app.after_request
    def _fields(response):
        decisions = g.get("rate_limits")
        if decisions:
            response.headers.update(fields(decisions))
        return response


def hits(limiter: RateLimiter, caller: Caller | None, endpoint: str | None, remote_addr: str | None) -> list[Decision]:
    """Count this request against every budget it falls under: what each left."""
    if caller is None:
        return [limiter.hit(ANONYMOUS, remote_addr or "unknown")]
    principal, account = caller[0], caller[1]
    if principal.kind == ADMIN:
        return []
    assert account is not None, "every caller but an admin is a merchant, with its account"
    decisions = [limiter.hit(account_policy(account.rate_limit_per_second), account.id)]
    operation = _OPERATIONS.get(endpoint)
    if operation is not None:
        decisions.append(limiter.hit(EXPENSIVE[operation], account.id))
    return decisions


def fields(decisions: list[Decision]) -> dict[str, str]:
    """RateLimit-Policy (every policy this request counted against) and RateLimit (what each left)."""
    return {
        "RateLimit-Policy": ", ".join(
            f'"{d.policy.name}";q={d.policy.quota};w={d.policy.window_seconds}' for d in decisions
        ),
        "RateLimit": ", ".join(f'"{d.policy.name}";r={d.remaining};t={d.reset_seconds}' for d in decisions),
    }


def first_refusal(decisions: list[Decision]) -> Decision | None:
    """The refusal that lasts longest, or None when every budget let the request pass."""
    refused = [d for d in decisions if not d.allowed]
    return max(refused, key=lambda d: d.reset_seconds) if refused else None


def too_many(decision: Decision) -> Answer:
    policy = decision.policy
    message = (
        f"Too many requests: the {policy.name} limit is {policy.quota} per {policy.window_seconds} s; "
        f"retry after {decision.reset_seconds} s."
    )
    body = error_body("rate_limit_error", "rate_limit_exceeded", message)
    return 429, body, {"Retry-After": str(decision.reset_seconds)}
