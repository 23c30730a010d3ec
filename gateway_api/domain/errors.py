"""Errors raised inside the API; ``gateway_api.web.errors`` turns each into one HTTP answer."""

from __future__ import annotations


class GatewayError(Exception):
    """Base class: ``message`` is safe to show to a client (never card data, never a secret)."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param


class AuthenticationFailed(GatewayError):
    def __init__(self, scheme: str = "Basic"):
        super().__init__("Invalid or missing credentials.")
        self.scheme = scheme


class PermissionDenied(GatewayError):
    pass


class SecondFactorRequired(PermissionDenied):
    def __init__(self):
        super().__init__(
            "This operator requires the current one-time code of their authenticator app.", "one_time_code"
        )


class NotFound(GatewayError):
    pass


class InvalidParameter(GatewayError):
    pass


class UnknownParameter(InvalidParameter):
    """A parameter the operation does not take (a typo must not silently change the answer)."""


class IdempotencyConflict(GatewayError):
    pass


class LimitExceeded(GatewayError):
    """A merchant already has as many of something as it may have."""


class ResendLimitReached(GatewayError):
    """An event was resent as often as it may be."""


class BrokerUnavailable(GatewayError):
    """The transaction could not be durably handed to the broker: the client should retry."""


class TransactionNotApproved(GatewayError):
    """A refund asked for a payment the ledger does not show approved (pending or rejected)."""
