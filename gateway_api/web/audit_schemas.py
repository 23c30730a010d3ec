"""Shapes of the audit trail and operator endpoints."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from gateway_api.domain.operators import DEFAULT_LIFETIME, MAX_LIFETIME
from gateway_api.web.schemas import Text


class AuditEventSchema(Schema):
    id = fields.String()
    seq = fields.Integer(metadata={"description": "position in the hash chain (1, 2, ...)"})
    at = fields.String(metadata={"description": "RFC 3339, UTC"})
    actor_kind = fields.String(metadata={"description": "operator, bootstrap, cli or merchant"})
    actor = fields.String(metadata={"description": "the operator's name, or the merchant's account id"})
    credential = fields.String(metadata={"description": "operator_credential, admin_token, secret, session, database"})
    account_id = fields.String(allow_none=True, metadata={"description": "the merchant account the object belongs to"})
    action = fields.String(metadata={"description": "e.g. account.create, webhook_endpoint.roll_secret, session.end"})
    object_type = fields.String()
    object_id = fields.String(allow_none=True)
    request_id = fields.String(allow_none=True)
    client_address = fields.String(allow_none=True)
    outcome = fields.String(metadata={"description": "succeeded, or failed: <error code>"})
    prev_hash = fields.String()
    hash = fields.String(metadata={"description": "HMAC-SHA256 of the entry and prev_hash (AUDIT_HMAC_KEY)"})


class AuditEventPageSchema(Schema):
    data = fields.List(fields.Nested(AuditEventSchema))
    has_more = fields.Boolean()


class AuditEventListQuerySchema(Schema):
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    starting_after = Text(
        validate=validate.Length(1, 40),
        metadata={"description": "the last id of the previous page: the next page starts after it"},
    )


class OperatorCreateSchema(Schema):
    name = Text(
        required=True,
        validate=validate.Regexp(
            r"\A[a-z][a-z0-9._-]{1,63}\Z",
            error=("2-64 lowercase letters, digits, '.', '_' or '-', starting with a letter."),
        ),
        metadata={"pattern": "^[a-z][a-z0-9._-]{1,63}$", "example": "ada"},
    )
    expires_in_days = fields.Integer(
        strict=True, load_default=DEFAULT_LIFETIME.days, validate=validate.Range(1, MAX_LIFETIME.days)
    )


class OperatorSchema(Schema):
    id = fields.String()
    name = fields.String()
    created_at = fields.String()
    expires_at = fields.String()
    disabled = fields.Boolean()
    second_factor_required = fields.Boolean()


class OperatorCredentialSchema(OperatorSchema):
    credential = fields.String(metadata={"description": "shown only once: 'Authorization: Bearer <credential>'"})


class OperatorListSchema(Schema):
    data = fields.List(fields.Nested(OperatorSchema))
