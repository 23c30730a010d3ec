"""Creating, listing, deleting webhook endpoints and rolling their signing secrets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from gateway_api.domain.errors import InvalidParameter, LimitExceeded, NotFound
from gateway_api.domain.webhook_endpoints import (
    MAX_DESCRIPTION_LENGTH,
    MAX_ENDPOINTS_PER_MERCHANT,
    STANDARD_PORTS,
    WebhookEndpoint,
    ascii_url,
    enabled_events,
    new_endpoint_id,
    new_signing_secret,
    parse_url,
    refused_addresses,
)
from gateway_api.use_cases.ports import HostResolver, SecretCipher, WebhookEndpointRepository


@dataclass(frozen=True)
class IssuedEndpointSecret:
    """The only moment the signing secret is shown: on creation and when it is rolled."""

    endpoint: WebhookEndpoint
    secret: str = field(repr=False)


class WebhookEndpoints:
    def __init__(
        self,
        repository: WebhookEndpointRepository,
        cipher: SecretCipher,
        resolver: HostResolver,
        now: Callable[[], datetime],
        allow_private: bool = False,
        allowed_ports: tuple[int, ...] = STANDARD_PORTS,
    ):
        self._repository = repository
        self._cipher = cipher
        self._resolver = resolver
        self._now = now
        self._allow_private = allow_private
        self._allowed_ports = allowed_ports

    def create(
        self, account_id: str, url: str, events: list[str], description: str | None = None
    ) -> IssuedEndpointSecret:
        url = ascii_url(url.strip())
        self._check_reachable_safely(url)
        if description is not None and len(description) > MAX_DESCRIPTION_LENGTH:
            raise InvalidParameter(
                f"description must be at most {MAX_DESCRIPTION_LENGTH} characters.", param="description"
            )
        endpoint = WebhookEndpoint(new_endpoint_id(), account_id, url, enabled_events(events), self._now(), description)
        secret = new_signing_secret()
        if not self._repository.add_within_limit(
            endpoint, self._cipher.encrypt(secret, endpoint.id), MAX_ENDPOINTS_PER_MERCHANT
        ):
            raise LimitExceeded(
                f"A merchant may have at most {MAX_ENDPOINTS_PER_MERCHANT} webhook endpoints; delete one first."
            )
        return IssuedEndpointSecret(endpoint, secret)

    def endpoints_of(self, account_id: str) -> list[WebhookEndpoint]:
        return self._repository.endpoints_of(account_id)

    def get(self, account_id: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self._repository.get(account_id, endpoint_id)
        if endpoint is None:
            raise NotFound("No such webhook endpoint.", param="id")
        return endpoint

    def delete(self, account_id: str, endpoint_id: str) -> WebhookEndpoint:
        endpoint = self.get(account_id, endpoint_id)
        self._repository.delete(account_id, endpoint.id)
        return endpoint

    def roll_secret(self, account_id: str, endpoint_id: str) -> IssuedEndpointSecret:
        """A new secret signs every delivery from now on; the old one stops at once."""
        endpoint = self.get(account_id, endpoint_id)
        secret = new_signing_secret()
        self._repository.set_secret(account_id, endpoint.id, self._cipher.encrypt(secret, endpoint.id))
        return IssuedEndpointSecret(endpoint, secret)

    def _check_reachable_safely(self, url: str) -> None:
        """The same rules the dispatcher applies on every delivery, checked now for a clear error."""
        parts = parse_url(url, self._allow_private, self._allowed_ports)
        try:
            addresses = self._resolver.resolve(parts.host, parts.port)
        except LookupError:
            addresses = []
        # One message for "does not resolve" and "resolves to a private address": the API must not
        # tell a caller which internal names exist.
        if not addresses or refused_addresses(addresses, self._allow_private):
            raise InvalidParameter(
                "url must resolve to public internet addresses only (it does not resolve, "
                "or resolves to a private, loopback or reserved address).",
                param="url",
            )
