"""Webhook endpoints: where a merchant wants its events, which ones, and the URL rules that keep a
merchant from turning our dispatcher against our own network (SSRF).

The URL rules are checked when an endpoint is created and again on every delivery, against the very
address the dispatcher then connects to: a host name that resolved to a public address yesterday
may resolve to 10.0.0.5 today (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit, urlunsplit

from infra.kernel.identifiers import loggable

from gateway_api.domain.errors import InvalidParameter
from gateway_api.domain.events import EVENT_TYPES

MAX_ENDPOINTS_PER_MERCHANT = 16
MAX_URL_LENGTH = 2048
MAX_DESCRIPTION_LENGTH = 255
ALL_EVENTS = "*"
STATUS_ENABLED = "enabled"
STATUS_DELETED = "deleted"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
# The ports an endpoint may name unless the operator widens them (WEBHOOK_ALLOWED_PORTS).
STANDARD_PORTS = (443,)
# NAT64 (RFC 6052): an IPv6 address that reaches the IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# IPv4-compatible IPv6 (deprecated, RFC 4291): ::a9fe:a9fe is 169.254.169.254 to some stacks. Refused whole.
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Characters kept as they are when a path or query is percent-encoded (RFC 3986 reserved and unreserved).
_URL_SAFE = "/:@!$&'()*+,;=-._~%?"


@dataclass(frozen=True)
class WebhookEndpoint:
    id: str
    account_id: str
    url: str
    enabled_events: tuple[str, ...]
    created_at: datetime
    description: str | None = None
    status: str = STATUS_ENABLED

    def subscribes_to(self, event_type: str) -> bool:
        wanted = ALL_EVENTS in self.enabled_events or event_type in self.enabled_events
        return self.status == STATUS_ENABLED and wanted


def new_endpoint_id() -> str:
    return loggable(lambda: "we_" + secrets.token_hex(12))


def new_signing_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def enabled_events(requested: list[str]) -> tuple[str, ...]:
    """``["*"]`` or a non-empty set of known event types, in a stable order."""
    chosen = set(requested)
    if not chosen:
        raise InvalidParameter('enabled_events must name at least one event type, or "*".', param="enabled_events")
    if ALL_EVENTS in chosen:
        if len(chosen) > 1:
            raise InvalidParameter('"*" already means every event type; send it alone.', param="enabled_events")
        return (ALL_EVENTS,)
    unknown = sorted(chosen - set(EVENT_TYPES))
    if unknown:
        raise InvalidParameter(
            f'unknown event type {unknown[0]!r}; use one of {", ".join(EVENT_TYPES)} or "*".', param="enabled_events"
        )
    return tuple(t for t in EVENT_TYPES if t in chosen)


@dataclass(frozen=True)
class UrlParts:
    scheme: str
    host: str
    port: int
    target: str  # path and query, as sent on the request line


def ascii_url(url: str) -> str:
    """The URL as it goes on the wire: an internationalized host in IDNA form (``xn--``), any other
    non-ASCII character percent-encoded as UTF-8. ``InvalidParameter`` when that is impossible."""
    if url.isascii() or not url.isprintable():
        return url
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
        host = host.encode("idna").decode("ascii")
        path, query = quote(parts.path, safe=_URL_SAFE), quote(parts.query, safe=_URL_SAFE)
    except (ValueError, UnicodeError):
        raise _bad_url("has a host that is not a valid internationalized domain name") from None
    if "@" in parts.netloc:
        raise _bad_url("must not carry credentials; verify the Gateway-Signature header instead")
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, path, query, quote(parts.fragment, safe=_URL_SAFE)))


def parse_url(url: str, allow_private: bool, allowed_ports: tuple[int, ...] = STANDARD_PORTS) -> UrlParts:
    """The parts of an acceptable endpoint URL, or ``InvalidParameter`` saying what is wrong.

    ``allow_private`` (development and tests only) also allows http:// and any port."""
    if len(url) > MAX_URL_LENGTH or not url.isprintable() or any(c.isspace() for c in url):
        raise _bad_url(f"must be at most {MAX_URL_LENGTH} printable characters without spaces")
    if not url.isascii():
        raise _bad_url("must be ASCII: the host in IDNA form (xn--), other characters percent-encoded")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _bad_url("is not a valid URL") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        raise _bad_url("must start with https://")
    if not parts.hostname:
        raise _bad_url("has no host")
    if parts.username is not None or parts.password is not None:
        raise _bad_url("must not carry credentials; verify the Gateway-Signature header instead")
    if parts.fragment:
        raise _bad_url("must not have a #fragment")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    port = port or (443 if parts.scheme == "https" else 80)
    if not allow_private and port not in allowed_ports:
        raise _bad_url(f"must use port {' or '.join(map(str, allowed_ports))} (the operator's WEBHOOK_ALLOWED_PORTS)")
    return UrlParts(parts.scheme, parts.hostname, port, target)


def address_allowed(address: str, allow_private: bool) -> bool:
    """Only public unicast addresses, including those embedded in IPv6 transition addresses."""
    if allow_private:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip in _IPV4_COMPATIBLE:
        return False
    return all(candidate.is_global and not candidate.is_multicast for candidate in _with_embedded(ip))


def refused_addresses(addresses: list[str], allow_private: bool) -> list[str]:
    return [address for address in addresses if not address_allowed(address, allow_private)]


def _with_embedded(ip) -> list:
    found = [ip]
    if ip.version == 6:
        found += [embedded for embedded in (ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())) if embedded]
        if ip in _NAT64:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _bad_url(reason: str) -> InvalidParameter:
    return InvalidParameter(f"url {reason}.", param="url")
