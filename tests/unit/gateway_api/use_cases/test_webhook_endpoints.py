"""The webhook use cases with fakes of their ports: endpoint rules, resend targets, signing and outcomes."""
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from gateway_api.domain.deliveries import AttemptResult, RetrySchedule
from gateway_api.domain.errors import InvalidParameter, LimitExceeded, NotFound
from gateway_api.domain.events import transaction_event
from gateway_api.domain.webhook_signature import verify
from gateway_api.use_cases.deliver_webhooks import DeliverWebhooks
from gateway_api.use_cases.events import Events
from gateway_api.use_cases.ports import (
    ClaimedDelivery,
    DeliveryQueue,
    EventRepository,
    HostResolver,
    SecretCipher,
    WebhookEndpointRepository,
    WebhookSender,
)
from gateway_api.use_cases.webhook_endpoints import WebhookEndpoints

NOW = datetime(2026, 11, 23, 10, 0)


class FakeCipher(SecretCipher):
    def encrypt(self, plaintext, context):
        return f"sealed:{context}:{plaintext}"

    def decrypt(self, token, context):
        prefix = f"sealed:{context}:"
        if not token.startswith(prefix):
            raise ValueError("not for this context")
        return token[len(prefix):]


class FakeResolver(HostResolver):
    def __init__(self, table):
        self.table = table

    def resolve(self, host, port):
        if host not in self.table:
            raise LookupError(host)
        return self.table[host]


class FakeEndpoints(WebhookEndpointRepository):
    def __init__(self):
        self.rows, self.secrets = {}, {}

    def add_within_limit(self, endpoint, secret_token, limit):
        if len(self.endpoints_of(endpoint.account_id)) >= limit:
            return False
        self.rows[endpoint.id], self.secrets[endpoint.id] = endpoint, secret_token
        return True

    def endpoints_of(self, account_id):
        return [e for e in self.rows.values() if e.account_id == account_id and e.status != "deleted"]

    def get(self, account_id, endpoint_id):
        found = self.rows.get(endpoint_id)
        return found if found and found.account_id == account_id and found.status != "deleted" else None

    def delete(self, account_id, endpoint_id):
        from dataclasses import replace

        self.rows[endpoint_id] = replace(self.rows[endpoint_id], status="deleted")

    def set_secret(self, account_id, endpoint_id, secret_token):
        self.secrets[endpoint_id] = secret_token


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


PUBLIC = {"shop.example.com": ["93.184.216.34"], "internal.example.com": ["93.184.216.34", "10.0.0.7"]}


def endpoints_use_case(allow_private=False, resolver=None):
    repository = FakeEndpoints()
    use_case = WebhookEndpoints(repository, FakeCipher(), resolver or FakeResolver(PUBLIC), lambda: NOW, allow_private)
    return use_case, repository


def test_an_endpoint_is_stored_with_its_secret_sealed_to_its_id():
    use_case, repository = endpoints_use_case()
    issued = use_case.create("acct_a", " https://shop.example.com/hook ", ["*"], "orders")
    assert issued.endpoint.url == "https://shop.example.com/hook"
    assert repository.secrets[issued.endpoint.id] == f"sealed:{issued.endpoint.id}:{issued.secret}"
    rolled = use_case.roll_secret("acct_a", issued.endpoint.id)
    assert rolled.secret != issued.secret and repository.secrets[issued.endpoint.id].endswith(rolled.secret)


@pytest.mark.parametrize("url", ["https://internal.example.com/hook", "https://unknown.example.com/hook"])
def test_a_host_with_any_private_address_or_none_is_refused_with_one_message(url):
    use_case, repository = endpoints_use_case()
    with pytest.raises(InvalidParameter, match="public internet addresses only") as refused:
        use_case.create("acct_a", url, ["*"])
    assert "10.0.0.7" not in refused.value.message and repository.rows == {}


def test_the_development_flag_allows_http_and_private_addresses():
    use_case, _ = endpoints_use_case(allow_private=True, resolver=FakeResolver({"127.0.0.1": ["127.0.0.1"]}))
    assert use_case.create("acct_a", "http://127.0.0.1:8010/", ["*"]).endpoint.url == "http://127.0.0.1:8010/"


def test_the_17th_endpoint_is_refused_and_deleting_one_makes_room():
    use_case, _ = endpoints_use_case()
    created = [use_case.create("acct_a", "https://shop.example.com/hook", ["*"]) for _ in range(16)]
    with pytest.raises(LimitExceeded, match="16"):
        use_case.create("acct_a", "https://shop.example.com/hook", ["*"])
    assert use_case.create("acct_b", "https://shop.example.com/hook", ["*"])
    use_case.delete("acct_a", created[0].endpoint.id)
    assert use_case.create("acct_a", "https://shop.example.com/hook", ["*"])


def test_another_merchants_endpoint_is_not_found():
    use_case, _ = endpoints_use_case()
    endpoint = use_case.create("acct_a", "https://shop.example.com/hook", ["*"]).endpoint
    for action in (use_case.get, use_case.delete, use_case.roll_secret):
        with pytest.raises(NotFound):
            action("acct_b", endpoint.id)


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


class RecordingSender(WebhookSender):
    def __init__(self, result):
        self.result, self.sent = result, []

    def send(self, url, body, headers, timeout_s):
        self.sent.append((url, body, headers, timeout_s))
        return self.result


class UnusedQueue(DeliveryQueue):
    def claim(self, limit, now, lease):
        raise NotImplementedError

    def record(self, records):
        raise NotImplementedError

    def release(self, claimed):
        raise NotImplementedError

    def stats(self, now):
        raise NotImplementedError

    def purge(self, before, batch=500):
        raise NotImplementedError


def claimed(attempts_made=0, enabled=True, secret_token="sealed:we_1:whsec_s3cret") -> ClaimedDelivery:
    return ClaimedDelivery("whdel_1", "lock", attempts_made, "evt_1", "transaction.approved", NOW, b'{"id":"evt_1"}',
                           "we_1", "https://shop.example.com/hook", enabled, secret_token)


def deliver(sender) -> DeliverWebhooks:
    return DeliverWebhooks(UnusedQueue(), sender, FakeCipher(), RetrySchedule.parse("1m,1h"), lambda: NOW,
                           timedelta(seconds=60), 10.0, clock=lambda: 1_800_000_000)


def test_each_attempt_is_signed_for_the_receivers_verify_and_names_the_event():
    sender = RecordingSender(AttemptResult("delivered", 0.05, 200))
    record = deliver(sender).attempt(claimed())
    ((url, body, headers, timeout),) = sender.sent
    assert verify(body, headers["Gateway-Signature"], "whsec_s3cret", now=1_800_000_000)
    assert (headers["Gateway-Event-Id"], headers["Gateway-Delivery-Attempt"], timeout) == ("evt_1", "1", 10.0)
    assert (record.transition.status, record.attempt.number) == ("delivered", 1)


def test_a_failed_attempt_schedules_the_next_and_the_last_one_fails_the_delivery():
    failing = deliver(RecordingSender(AttemptResult("http_error", 0.05, 503)))
    retry = failing.attempt(claimed(attempts_made=1))
    assert retry.transition.status == "pending"
    assert NOW + timedelta(minutes=45) < retry.transition.next_attempt_at <= NOW + timedelta(hours=1)
    assert retry.attempt.next_attempt_at == retry.transition.next_attempt_at
    assert failing.attempt(claimed(attempts_made=2)).transition.status == "failed"


def test_a_deleted_endpoint_is_not_called_and_a_secret_that_does_not_decrypt_is_never_sent_unsigned():
    sender = RecordingSender(AttemptResult("delivered", 0.05, 200))
    canceled = deliver(sender).attempt(claimed(enabled=False))
    assert (canceled.attempt, canceled.transition.status) == (None, "canceled")
    broken = deliver(sender).attempt(claimed(secret_token="sealed:we_other:whsec_x"))
    assert broken.attempt.result.outcome == "connection_error" and "decrypt" in broken.attempt.result.error
    assert sender.sent == []


def test_a_delivery_whose_lease_would_run_out_mid_send_is_not_sent():
    sender = RecordingSender(AttemptResult("delivered", 0.05, 200))
    use_case = deliver(sender)
    late = use_case.attempt(replace(claimed(), lease_until=NOW + timedelta(seconds=5)))  # timeout is 10 s
    assert (late.attempt, late.transition) == (None, None) and sender.sent == []
    in_time = use_case.attempt(replace(claimed(), lease_until=NOW + timedelta(seconds=60)))
    assert in_time.transition.status == "delivered" and len(sender.sent) == 1


class RaisingSender(WebhookSender):
    def send(self, url, body, headers, timeout_s):
        raise UnicodeEncodeError("ascii", "whsec_s3cret é", 13, 14, "ordinal not in range(128)")


def test_an_attempt_that_raises_is_a_failed_attempt_named_by_its_class_and_retried_on_schedule():
    record = deliver(RaisingSender()).attempt(claimed())
    assert record.attempt.result.error == "the attempt failed: UnicodeEncodeError"
    assert "whsec" not in record.attempt.result.error
    assert (record.transition.status, record.transition.next_attempt_at) == ("pending", record.transition.next_attempt_at)
    assert record.transition.next_attempt_at is not None
    last = deliver(RaisingSender()).attempt(claimed(attempts_made=2))
    assert last.transition.status == "failed"


def test_an_endpoint_url_is_stored_as_ascii_after_idna_and_percent_encoding():
    resolver = FakeResolver({"xn--bcher-kva.example": ["93.184.216.34"], "own.example": ["93.184.216.34"]})
    use_case, _ = endpoints_use_case(resolver=resolver)
    assert use_case.create("acct_a", "https://own.example/\u00e9", ["*"]).endpoint.url == "https://own.example/%C3%A9"
    assert use_case.create("acct_a", "https://b\u00fccher.example/a?q=\u00e9", ["*"]).endpoint.url == \
        "https://xn--bcher-kva.example/a?q=%C3%A9"


@pytest.mark.parametrize("url", ["https://\u00e9" + "x" * 70 + ".example/", "https://a..\u00e9.example/",
                                 "https://\u00e9:99999/"])
def test_a_url_that_cannot_become_ascii_is_refused(url):
    use_case, _ = endpoints_use_case()
    with pytest.raises(InvalidParameter) as refused:
        use_case.create("acct_a", url, ["*"])
    assert refused.value.param == "url"


def test_only_the_standard_https_port_unless_the_operator_widens_the_ports():
    use_case, _ = endpoints_use_case()
    with pytest.raises(InvalidParameter, match="port 443"):
        use_case.create("acct_a", "https://shop.example.com:8443/hook", ["*"])
    assert use_case.create("acct_a", "https://shop.example.com:443/hook", ["*"])
    widened = WebhookEndpoints(FakeEndpoints(), FakeCipher(), FakeResolver(PUBLIC), lambda: NOW, False, (443, 8443))
    assert widened.create("acct_a", "https://shop.example.com:8443/hook", ["*"]).endpoint.url.endswith(":8443/hook")


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
