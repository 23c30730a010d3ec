"""Reading a merchant's events and their delivery log, and queuing a resend."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime

from gateway_api.domain.deliveries import PENDING, Delivery, new_delivery_id
from gateway_api.domain.errors import InvalidParameter, NotFound, ResendLimitReached
from gateway_api.domain.events import Event
from gateway_api.use_cases.ports import (
    DeliveryPage,
    DeliveryQuery,
    EventPage,
    EventQuery,
    EventRepository,
    WebhookEndpointRepository,
)

# Each resend can become a dozen POSTs (the retry schedule): bounded per event and endpoint.
MAX_RESENDS_PER_ENDPOINT = 5


class Events:
    def __init__(self, events: EventRepository, endpoints: WebhookEndpointRepository, now: Callable[[], datetime]):
        self._events = events
        self._endpoints = endpoints
        self._now = now

    def page(self, query: EventQuery) -> EventPage:
        return self._events.page(query)

    def get(self, account_id: str, event_id: str) -> Event:
        event = self._events.get(account_id, event_id)
        if event is None:
            raise NotFound("No such event.", param="id")
        return event

    def deliveries(self, account_id: str, event_id: str) -> list[Delivery]:
        event = self.get(account_id, event_id)
        return self._events.deliveries(account_id, event.id)

    def recent_deliveries(self, query: DeliveryQuery) -> DeliveryPage:
        return self._events.recent_deliveries(query)

    def resend(self, account_id: str, event_id: str, endpoint_id: str | None = None) -> list[Delivery]:
        """A new delivery, due now, to the given endpoint or to every enabled endpoint subscribed to
        the event's type; earlier deliveries and their log stay as they are."""
        event = self.get(account_id, event_id)
        if endpoint_id is not None:
            endpoint = self._endpoints.get(account_id, endpoint_id)
            if endpoint is None:
                raise NotFound("No such webhook endpoint.", param="endpoint_id")
            targets = [endpoint]
        else:
            targets = [e for e in self._endpoints.endpoints_of(account_id) if e.subscribes_to(event.type)]
        if not targets:
            raise InvalidParameter(
                "No enabled webhook endpoint is subscribed to this event's type; name one with endpoint_id.",
                param="endpoint_id",
            )
        self._check_resend_limit(account_id, event.id, targets)
        now = self._now()
        deliveries = [
            Delivery(
                new_delivery_id(),
                event.id,
                target.id,
                account_id,
                PENDING,
                now,
                next_attempt_at=now,
                endpoint_url=target.url,
                event_type=event.type,
            )
            for target in targets
        ]
        self._events.add_deliveries(deliveries)
        return deliveries

    def _check_resend_limit(self, account_id: str, event_id: str, targets: list) -> None:
        """The first delivery to an endpoint is the event's own; the others are resends."""
        sent = Counter(delivery.endpoint_id for delivery in self._events.deliveries(account_id, event_id))
        if any(sent[target.id] > MAX_RESENDS_PER_ENDPOINT for target in targets):
            raise ResendLimitReached(
                f"This event was already resent {MAX_RESENDS_PER_ENDPOINT} times to the "
                "endpoint; an event can be resent at most that often.",
                param="endpoint_id",
            )
