"""The delivery use case with fakes of its ports: signing and outcomes."""

from dataclasses import replace
from datetime import timedelta

from gateway_api.domain.deliveries import AttemptResult, RetrySchedule
from gateway_api.domain.webhook_signature import verify
from gateway_api.use_cases.deliver_webhooks import DeliverWebhooks
from gateway_api.use_cases.ports import ClaimedDelivery, DeliveryQueue, WebhookSender
from tests.unit.gateway_api.use_cases.test_webhook_endpoints import NOW, FakeCipher


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
    return ClaimedDelivery(
        "whdel_1",
        "lock",
        attempts_made,
        "evt_1",
        "transaction.approved",
        NOW,
        b'{"id":"evt_1"}',
        "we_1",
        "https://shop.example.com/hook",
        enabled,
        secret_token,
    )


def deliver(sender) -> DeliverWebhooks:
    return DeliverWebhooks(
        UnusedQueue(),
        sender,
        FakeCipher(),
        RetrySchedule.parse("1m,1h"),
        lambda: NOW,
        timedelta(seconds=60),
        10.0,
        clock=lambda: 1_800_000_000,
    )


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
    assert (record.transition.status, record.transition.next_attempt_at) == (
        "pending",
        record.transition.next_attempt_at,
    )
    assert record.transition.next_attempt_at is not None
    last = deliver(RaisingSender()).attempt(claimed(attempts_made=2))
    assert last.transition.status == "failed"
