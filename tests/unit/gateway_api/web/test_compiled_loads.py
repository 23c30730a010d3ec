"""The compiled load of a JSON body agrees with its marshmallow schema: for every body, either it is not
sure (the schema answers, errors included) or it returns exactly what ``Schema.load`` returns."""

from __future__ import annotations

import copy

import pytest
from marshmallow import Schema, ValidationError, fields, post_load

from gateway_api.web.audit_schemas import OperatorCreateSchema
from gateway_api.web.compiled_loads import NOT_SURE, compile_load
from gateway_api.web.refund_schemas import RefundCreateSchema
from gateway_api.web.schemas import (
    EXAMPLE_TRANSACTION,
    AccountCreateSchema,
    AccountRateLimitSchema,
    ReportQuerySchema,
    SessionCreateSchema,
    TransactionCreateSchema,
)
from gateway_api.web.webhook_schemas import ResendSchema, WebhookEndpointCreateSchema

REFUSED = "refused by the schema"
# Values a caller may send in place of any field: wrong types, bounds, unstorable text, lookalikes.
HOSTILE = [
    None,
    True,
    False,
    0,
    -1,
    1,
    12,
    13,
    2099,
    10000,
    2030.5,
    10.555,
    10.5,
    "12",
    "",
    " ",
    "x" * 256,
    "\ud800",
    "4111111111111111\n",
    "4111-1111 1111",
    "abc",
    "10.50",
    "1e400",
    "NaN",
    "-1.00",
    "123",
    "12345",
    [],
    [1],
    ["transaction.approved"],
    {},
    {"a": 1},
    "transaction.approved",
    "fraudulent",
    "ada",
    "a" * 101,
]
# (schema, bodies it accepts): each body is also mutated field by field with every HOSTILE value.
ACCEPTED = [
    (
        TransactionCreateSchema(),
        [
            EXAMPLE_TRANSACTION,
            {**EXAMPLE_TRANSACTION, "amount": 10.5, "description": None},
            {k: v for k, v in EXAMPLE_TRANSACTION.items() if k != "description"},
        ],
    ),
    (AccountCreateSchema(), [{"name": "Shop"}]),
    (AccountRateLimitSchema(), [{"rate_limit_per_second": 500}, {"rate_limit_per_second": None}]),
    (SessionCreateSchema(), [{}, {"ttl_seconds": 600, "one_time_code": "123456"}]),
    (
        RefundCreateSchema(),
        [
            {"transaction": "tx_1"},
            {"transaction": "tx_1", "amount": "5.00", "reason": "fraudulent", "description": "returned"},
        ],
    ),
    (OperatorCreateSchema(), [{"name": "ada"}, {"name": "ada", "expires_in_days": 30}]),
    (
        WebhookEndpointCreateSchema(),
        [{"url": "https://shop.example.com/hook", "enabled_events": ["transaction.approved"], "description": None}],
    ),
    (ResendSchema(), [{}, {"endpoint_id": "we_1"}]),
]


def schema_load(schema: Schema, body):
    try:
        return schema.load(body)
    except ValidationError:
        return REFUSED


def mutations(body: dict):
    """The body with each field (nested ones too) replaced by each HOSTILE value, removed, or doubled by an unknown one."""
    yield {**body, "unknown_field": 1}
    for key, value in body.items():
        yield {k: v for k, v in body.items() if k != key}
        for hostile in HOSTILE:
            yield {**body, key: hostile}
        if isinstance(value, dict):
            for changed in mutations(value):
                yield {**body, key: changed}


CASES = [
    (schema, body) for schema, bodies in ACCEPTED for accepted in bodies for body in [accepted, *mutations(accepted)]
]


@pytest.mark.parametrize("schema, bodies", ACCEPTED, ids=[type(s).__name__ for s, _ in ACCEPTED])
def test_a_body_the_schema_accepts_takes_the_fast_path(schema, bodies):
    load = compile_load(schema)
    for body in bodies:
        assert load(copy.deepcopy(body)) == schema.load(copy.deepcopy(body))


def test_the_compiled_load_never_disagrees_with_the_schema():
    """Over ~1,500 bodies (every HOSTILE value in every field of every JSON body of the API)."""
    certified = 0
    for schema, body in CASES:
        fast = compile_load(schema)(copy.deepcopy(body))
        if fast is NOT_SURE:
            continue
        certified += 1
        expected = schema_load(schema, copy.deepcopy(body))
        assert fast == expected and _types(fast) == _types(expected), (type(schema).__name__, body)
    assert certified > 50  # the fast path is really taken, not "not sure" of everything


@pytest.mark.parametrize("body", [[EXAMPLE_TRANSACTION], "text", 1, None])
def test_a_body_that_is_not_an_object_is_left_to_the_schema(body):
    assert compile_load(TransactionCreateSchema())(body) is NOT_SURE


def test_a_schema_with_hooks_is_never_compiled():
    class WithHook(Schema):
        name = fields.String()

        @post_load
        def upper(self, data, **kwargs):
            return {"name": data["name"].upper()}

    assert compile_load(WithHook())({"name": "a"}) is NOT_SURE
    assert compile_load(ReportQuerySchema())({}) is NOT_SURE


def _types(value):
    if isinstance(value, dict):
        return {key: _types(item) for key, item in value.items()}
    return type(value)
