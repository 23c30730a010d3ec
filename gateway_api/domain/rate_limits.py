"""Rate limits, as merchants know them from Stripe: a budget per account for every request, smaller
ones for the operations that cost the gateway most, and one per client address for callers without
valid credentials. The operator overrides an account's request rate (``rate_limit_per_second``).

Each policy is a quota of requests per window of whole seconds (the IETF RateLimit-Policy's ``q``
and ``w``). The default budget of 100 requests/s is counted over 2-second windows: a burst of up to
200 requests passes at once, and the average stays 100 per second.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_REQUESTS_PER_SECOND = 100
BURST_SECONDS = 2  # the default policy's window: how long a burst may run ahead of the average
MAX_REQUESTS_PER_SECOND = 100_000  # an override above this is a typo, not a plan


@dataclass(frozen=True)
class Policy:
    name: str
    quota: int
    window_seconds: int

    def __post_init__(self):
        if self.quota < 1 or self.window_seconds < 1:
            raise ValueError("a rate limit policy needs a quota and a window of at least 1")


def account_policy(requests_per_second: int | None) -> Policy:
    """Every request of an account: 100/s with a 2 s burst by default, or the operator's override."""
    rate = DEFAULT_REQUESTS_PER_SECOND if requests_per_second is None else requests_per_second
    return Policy("account", rate * BURST_SECONDS, BURST_SECONDS)


# The expensive operations, counted per account on top of the account's budget (not raised by an
# override: a benchmark needs more payments per second, never more resends).
RESEND = Policy("resend", 20, 60)  # one resend can mean ~176 POSTs to the merchant's endpoints
REPORTS = Policy("reports", 20, 10)  # a group-by over the account's ledger rows
SESSIONS = Policy("sessions", 20, 60)  # a panel sign-in: one stored row each
WEBHOOK_ENDPOINTS = Policy("webhook_endpoints", 30, 60)  # creation resolves the URL's host name
EXPENSIVE = {"resend": RESEND, "reports": REPORTS, "sessions": SESSIONS, "webhook_endpoints": WEBHOOK_ENDPOINTS}

# Requests without valid credentials (any path but probes and metrics), per client address.
ANONYMOUS = Policy("anonymous", 100, 10)
POLICY_NAMES = ("account", "anonymous", *EXPENSIVE)  # the bounded values of the rate_limited metric's label


def valid_override(requests_per_second: int | None) -> bool:
    return requests_per_second is None or 1 <= requests_per_second <= MAX_REQUESTS_PER_SECOND
