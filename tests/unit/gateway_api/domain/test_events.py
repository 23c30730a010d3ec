"""An event as plain code: the transaction's JSON wrapped once, with ids derived from it."""

import json
from datetime import datetime

from gateway_api.domain.deliveries import first_delivery_id
from gateway_api.domain.events import event_id, transaction_event

T0 = datetime(2026, 11, 23, 10, 0, 0)


def test_an_event_is_the_transaction_json_wrapped_once_with_a_derived_id():
    transaction = {"id": "tx-1", "status": "approved", "amount": "10.00"}
    event = transaction_event(transaction, "approved", "acct_a", T0)
    body = json.loads(event.payload)
    assert body == {
        "id": event.id,
        "type": "transaction.approved",
        "created_at": "2026-11-23T10:00:00.000000Z",
        "data": {"object": transaction},
    }
    assert event.id == event_id("transaction.approved", "tx-1") != event_id("transaction.rejected", "tx-1")
    first = first_delivery_id(event.id, "we_1")
    assert first == first_delivery_id(event.id, "we_1") != first_delivery_id(event.id, "we_2")
