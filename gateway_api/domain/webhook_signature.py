"""Signing webhook payloads, and the ``verify`` function merchants copy into their receivers.

Header: ``Gateway-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>``.
The timestamp is signed with the body, so a captured request cannot be replayed after the
tolerance window, and a changed body or timestamp no longer matches. A header may carry several
``v1`` values (one per valid secret); one match is enough.

``verify`` uses the standard library only, on purpose: a merchant can paste it as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Gateway-Signature"
EVENT_ID_HEADER = "Gateway-Event-Id"
SCHEME = "v1"


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<payload>"`` under the endpoint's secret."""
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + payload, hashlib.sha256).hexdigest()


def signature_header(payload: bytes, secret: str, timestamp: int) -> str:
    return f"t={timestamp},{SCHEME}={sign(payload, secret, timestamp)}"


def verify(payload: bytes, header: str, secret: str, tolerance_s: int = 300, now: float | None = None) -> bool:
    """True when ``header`` (the Gateway-Signature value) signs exactly ``payload`` (the raw request
    body, bytes as received) with ``secret`` and its timestamp is within ``tolerance_s`` of now.
    False, never an exception, for any other header."""
    timestamp, signatures = None, []
    for part in (header or "").split(","):
        key, _, value = part.strip().partition("=")
        # ASCII digits only, and few of them: "²".isdigit() is True, and int() of 5,000 digits raises.
        if key == "t" and value.isascii() and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value.isascii():  # compare_digest raises on non-ASCII text
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
