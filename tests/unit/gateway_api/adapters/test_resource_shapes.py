"""The transaction views answer with the presenters' dicts as they are, without a pass through the
response schemas (a marshmallow dump per request): the presenters must give exactly the documented
shape, which the schemas (the OpenAPI's source) describe."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from gateway_api.adapters import resource_shapes
from gateway_api.domain.transactions import Transaction
from gateway_api.web.schemas import AcceptedSchema, TransactionPageSchema, TransactionSchema

DECIDED = Transaction(
    id="t1",
    account_id="acct_a",
    amount=Decimal("10.50"),
    status="approved",
    card_brand="visa",
    card_last4="1111",
    description="order 1",
    error_message="",
    created_at=datetime(2026, 1, 2, 3, 4, 5),
    processed_at=datetime(2026, 1, 2, 3, 4, 6),
)
PENDING = Transaction(
    id="t2",
    account_id="acct_a",
    amount=Decimal("1.00"),
    status="pending",
    card_brand=None,
    card_last4=None,
    description=None,
    error_message="",
    created_at=datetime(2026, 1, 2, 3, 4, 5),
    processed_at=None,
)


@pytest.mark.parametrize("transaction", [DECIDED, PENDING], ids=["decided", "pending"])
def test_a_presented_transaction_is_what_its_schema_would_answer(transaction):
    shown = resource_shapes.transaction(transaction) | {"amount_refunded": "0.00"}  # as GET /v1/transactions/{id}
    assert TransactionSchema().dump(shown) == shown
    assert set(shown) == set(TransactionSchema().fields)


def test_a_presented_page_and_an_accepted_answer_are_what_their_schemas_would_answer():
    page = {"data": [resource_shapes.transaction(DECIDED), resource_shapes.transaction(PENDING)], "has_more": False}
    assert TransactionPageSchema().dump(page) == page
    accepted = resource_shapes.accepted(PENDING)
    assert AcceptedSchema().dump(accepted) == accepted and set(accepted) == set(AcceptedSchema().fields)
