"""The events use case with fakes of its ports: resend targets and bounds."""

import pytest

from gateway_api.domain.errors import InvalidParameter, NotFound
from gateway_api.domain.events import transaction_event
from gateway_api.use_cases.events import Events
from gateway_api.use_cases.ports import EventRepository
from tests.unit.gateway_api.use_cases.test_webhook_endpoints import NOW, endpoints_use_case


class FakeEvents(EventRepository):
    def __init__(self, *events):
        self.events = {e.id: e for e in events}
        self.added = []

    def page(self, query):
        raise NotImplementedError

    def get(self, account_id, event_id):
        event = self.events.get(event_id)
        return event if event and event.account_id == account_id else None

    def deliveries(self, account_id, event_id):
        return [d for d in self.added if d.event_id == event_id]

    def recent_deliveries(self, query):
        raise NotImplementedError

    def add_deliveries(self, deliveries):
        self.added += deliveries


def test_resend_targets_the_subscribed_endpoints_or_the_one_named():
    endpoints_case, repository = endpoints_use_case()
    approved = endpoints_case.create("acct_a", "https://shop.example.com/a", ["transaction.approved"]).endpoint
    rejected = endpoints_case.create("acct_a", "https://shop.example.com/r", ["transaction.rejected"]).endpoint
    event = transaction_event({"id": "tx-1"}, "approved", "acct_a", NOW)
    events = FakeEvents(event)
    use_case = Events(events, repository, lambda: NOW)
    assert [d.endpoint_id for d in use_case.resend("acct_a", event.id)] == [approved.id]
    assert [d.endpoint_id for d in use_case.resend("acct_a", event.id, rejected.id)] == [rejected.id]
    assert all(d.status == "pending" and d.next_attempt_at == NOW for d in events.added)
    with pytest.raises(NotFound):
        use_case.resend("acct_b", event.id)
    endpoints_case.delete("acct_a", approved.id)
    with pytest.raises(InvalidParameter, match="endpoint_id"):
        use_case.resend("acct_a", event.id)


def test_an_event_is_resent_to_an_endpoint_a_bounded_number_of_times():
    from gateway_api.domain.errors import ResendLimitReached
    from gateway_api.use_cases.events import MAX_RESENDS_PER_ENDPOINT

    endpoints_case, repository = endpoints_use_case()
    endpoint = endpoints_case.create("acct_a", "https://shop.example.com/a", ["*"]).endpoint
    event = transaction_event({"id": "tx-1"}, "approved", "acct_a", NOW)
    events = FakeEvents(event)
    use_case = Events(events, repository, lambda: NOW)
    for _ in range(MAX_RESENDS_PER_ENDPOINT + 1):  # the first delivery is the event's own
        use_case.resend("acct_a", event.id, endpoint.id)
    with pytest.raises(ResendLimitReached, match="at most"):
        use_case.resend("acct_a", event.id)
    assert len(events.added) == MAX_RESENDS_PER_ENDPOINT + 1
