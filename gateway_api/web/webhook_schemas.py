"""Request and response shapes of the webhook endpoints, events and deliveries (marshmallow)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway_api.domain.deliveries import OUTCOMES
from gateway_api.domain.deliveries import STATUSES as DELIVERY_STATUSES
from gateway_api.domain.events import EVENT_TYPES
from gateway_api.domain.webhook_endpoints import ALL_EVENTS, MAX_DESCRIPTION_LENGTH, MAX_URL_LENGTH

_EVENT_CHOICES = (*EVENT_TYPES, ALL_EVENTS)


class WebhookEndpointCreateSchema(Schema):
    url = fields.String(
        required=True,
        validate=validate.Length(1, MAX_URL_LENGTH),
        metadata={"example": "https://shop.example.com/webhooks/gateway"},
    )
    enabled_events = fields.List(
        fields.String(validate=validate.OneOf(_EVENT_CHOICES)),
        required=True,
        validate=validate.Length(1, len(_EVENT_CHOICES)),
        metadata={"example": ["transaction.approved", "transaction.rejected"]},
    )
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_DESCRIPTION_LENGTH)
    )


class WebhookEndpointSchema(Schema):
    id = fields.String()
    url = fields.String()
    description = fields.String(allow_none=True)
    enabled_events = fields.List(fields.String())
    status = fields.String()
    created_at = fields.String()


class WebhookEndpointSecretSchema(WebhookEndpointSchema):
    secret = fields.String(metadata={"description": "whsec_...: shown only on creation and when rolled"})


class WebhookEndpointListSchema(Schema):
    data = fields.List(fields.Nested(WebhookEndpointSchema))
    has_more = fields.Boolean()


class DeletedSchema(Schema):
    id = fields.String()
    deleted = fields.Boolean()


class EventSchema(Schema):
    id = fields.String()
    type = fields.String()
    created_at = fields.String()
    data = fields.Dict(metadata={"description": '{"object": the transaction as GET /v1/transactions/{id} shows it}'})


class EventPageSchema(Schema):
    data = fields.List(fields.Nested(EventSchema))
    has_more = fields.Boolean()


class EventListQuerySchema(Schema):
    type = fields.String(validate=validate.OneOf(EVENT_TYPES))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    starting_after = fields.String(validate=validate.Length(1, 40))


class AttemptSchema(Schema):
    attempt = fields.Integer()
    attempted_at = fields.String()
    outcome = fields.String(metadata={"description": ", ".join(OUTCOMES)})
    http_status = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()
    response_body = fields.String(allow_none=True, metadata={"description": "at most 1 KiB of the answer"})
    next_attempt_at = fields.String(allow_none=True, metadata={"description": "the retry this attempt scheduled"})


class DeliverySchema(Schema):
    id = fields.String()
    event_id = fields.String()
    event_type = fields.String()
    endpoint_id = fields.String()
    url = fields.String()
    status = fields.String(metadata={"description": "pending, delivered, failed or canceled"})
    attempt_count = fields.Integer()
    next_attempt_at = fields.String(allow_none=True)
    last_attempt_at = fields.String(allow_none=True)
    last_http_status = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.String()


class DeliveryWithAttemptsSchema(DeliverySchema):
    attempts = fields.List(fields.Nested(AttemptSchema))


class DeliveryLogSchema(Schema):
    data = fields.List(fields.Nested(DeliveryWithAttemptsSchema))


class DeliveryPageSchema(Schema):
    data = fields.List(fields.Nested(DeliverySchema))
    has_more = fields.Boolean()


class DeliveryListQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(DELIVERY_STATUSES))
    endpoint_id = fields.String(validate=validate.Length(1, 40))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    starting_after = fields.String(validate=validate.Length(1, 40))


class ResendSchema(Schema):
    endpoint_id = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 40),
        metadata={"description": "only this endpoint (default: every subscribed one)"},
    )


class QueuedDeliveriesSchema(Schema):
    data = fields.List(fields.Nested(DeliverySchema))
