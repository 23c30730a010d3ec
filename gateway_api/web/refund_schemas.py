"""Request and response shapes of refunds (marshmallow)."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

from infra.kernel.contracts import REFUND_FAILURE_REASONS
from infra.kernel.money import AMOUNT_PATTERN, AmountError, parse_amount

from gateway_api.domain.refunds import REASONS, REFUND_STATUSES
from gateway_api.web.schemas import Text


class RefundAmount(fields.Field):
    """A strict decimal string: digits, at most two decimals, above zero (no number, no sign, no exponent)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError('Must be a decimal string with at most 2 decimals, such as "10.50".')
        try:
            amount = parse_amount(value)
        except AmountError as exc:
            raise ValidationError(f"{str(exc).capitalize()}.") from None
        if amount <= 0:
            raise ValidationError("Must be greater than 0.")
        return amount


class RefundCreateSchema(Schema):
    transaction = Text(
        required=True,
        validate=validate.Length(1, 100),
        metadata={"description": "the id of an approved payment of yours"},
    )
    amount = RefundAmount(
        load_default=None,
        metadata={
            "type": "string",
            "pattern": AMOUNT_PATTERN,
            "example": "5.00",
            "description": (
                "A decimal string above 0 with at most 2 decimals. Omitted: whatever is still refundable when "
                "the processor decides. More than what is left: the refund fails (amount_exceeds_refundable)."
            ),
        },
    )
    reason = fields.String(
        load_default=None, validate=validate.OneOf(REASONS), metadata={"description": "why (optional)"}
    )
    description = Text(
        load_default=None,
        validate=validate.Length(max=255),
        metadata={"example": "returned item", "description": "your reference (at most 255 characters)"},
    )


EXAMPLE_REFUND = {"transaction": "<an approved transaction's id>", "amount": "5.00", "reason": "requested_by_customer"}


class RefundSchema(Schema):
    id = fields.String(metadata={"description": "re_..."})
    object = fields.String(metadata={"enum": ["refund"]})
    status = fields.String(
        metadata={
            "enum": list(REFUND_STATUSES),
            "description": ("pending until the processor decides, then succeeded or failed"),
        }
    )
    transaction = fields.String(metadata={"description": "the refunded payment"})
    amount = fields.String(
        allow_none=True,
        metadata={
            "description": (
                "asked (pending: null when everything left was asked), refunded (succeeded) or asked (failed)"
            )
        },
    )
    reason = fields.String(allow_none=True, metadata={"enum": [*REASONS, None]})
    description = fields.String(allow_none=True)
    failure_reason = fields.String(
        allow_none=True,
        metadata={
            "enum": [*REFUND_FAILURE_REASONS, None],
            "description": ("why it failed (docs/integrate.md, Refunds); null otherwise"),
        },
    )
    created_at = fields.String(metadata={"description": "RFC 3339, UTC"})
    processed_at = fields.String(allow_none=True, metadata={"description": "when it was decided"})


class RefundPageSchema(Schema):
    data = fields.List(fields.Nested(RefundSchema), metadata={"description": "newest first"})
    has_more = fields.Boolean(metadata={"description": "true: ask again with starting_after=<the last id>"})


class RefundListQuerySchema(Schema):
    transaction = Text(validate=validate.Length(1, 100), metadata={"description": "only this payment's refunds"})
    status = fields.String(validate=validate.OneOf(REFUND_STATUSES), metadata={"description": "only this status"})
    limit = fields.Integer(
        load_default=20, validate=validate.Range(1, 100), metadata={"description": "at most this many (1 to 100)"}
    )
    starting_after = Text(
        validate=validate.Length(1, 100),
        metadata={"description": "the last id of the previous page: the next page starts after it"},
    )
