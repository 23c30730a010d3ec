"""Request and response shapes (marshmallow). Shape only: business rules are the processor's."""
from __future__ import annotations

from datetime import date, datetime, timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate

from gateway_api.domain.money import AmountError, format_amount, parse_amount
from gateway_api.domain.reports import PERIODS
from gateway_api.domain.transactions import STATUSES


def storable(text: str) -> str:
    """JSON may carry lone surrogates ("\\ud800"), which no UTF-8 column (nor the HMAC of an
    idempotency fingerprint) accepts: refused here, before anything is published or written."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError("Must be valid Unicode text (no lone surrogate code points).") from None
    return text


class Text(fields.String):
    """A string every database can store."""

    def _deserialize(self, value, attr, data, **kwargs):
        return storable(super()._deserialize(value, attr, data, **kwargs))


class Amount(fields.Field):
    """A decimal string ("10.50") or a JSON number (10.5): finite, at most 2 decimals."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_amount(value)
        except AmountError as exc:
            raise ValidationError(f"{str(exc).capitalize()}.") from None

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else format_amount(value)


class Cvv(fields.Field):
    """A string or an integer of at most 8 characters (its validity is the processor's rule)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise ValidationError("Not a valid string or integer.")
        text = str(value)
        if len(text) > 8:
            raise ValidationError("Longer than 8 characters.")
        return storable(text)


class StrictInt(fields.Integer):
    """A JSON integer (not a string, not a boolean)."""

    def __init__(self, **kwargs):
        super().__init__(strict=True, validate=validate.Range(-9999, 9999), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


class CreditCardSchema(Schema):
    # \A and \Z, not ^ and $: "$" also matches before a final newline ("4111111111111111\n").
    number = Text(required=True, validate=validate.Regexp(r"\A[0-9][0-9 -]{0,31}\Z",
                                                          error="Must be the card number digits."))
    name = Text(required=True, validate=validate.Length(max=255))
    expiration_month = StrictInt(required=True)
    expiration_year = StrictInt(required=True)
    cvv = Cvv(required=True)


class TransactionCreateSchema(Schema):
    amount = Amount(required=True, metadata={"type": "string", "example": "10.50"})
    credit_card = fields.Nested(CreditCardSchema, required=True)
    description = Text(load_default=None, allow_none=True, validate=validate.Length(max=255))


class CardSummarySchema(Schema):
    brand = fields.String(allow_none=True)
    last4 = fields.String(allow_none=True)


class AcceptedSchema(Schema):
    id = fields.String()
    status = fields.String()
    amount = fields.String()
    card = fields.Nested(CardSummarySchema)
    created_at = fields.String()


class TransactionSchema(AcceptedSchema):
    account_id = fields.String()
    description = fields.String(allow_none=True)
    error_message = fields.String()
    processed_at = fields.String(allow_none=True)


class TransactionPageSchema(Schema):
    data = fields.List(fields.Nested(TransactionSchema))
    has_more = fields.Boolean()


class TransactionListQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    limit = fields.Integer(load_default=20, validate=validate.Range(1, 100))
    starting_after = Text(validate=validate.Length(1, 100))
    account_id = Text(validate=validate.Length(1, 100), metadata={"description": "admin only"})


class AccountCreateSchema(Schema):
    name = Text(required=True, validate=validate.Length(1, 200))


class AccountSecretSchema(Schema):
    id = fields.String()
    name = fields.String()
    secret = fields.String(metadata={"description": "shown only once"})


class AccountSchema(Schema):
    id = fields.String()
    name = fields.String()
    disabled = fields.Boolean()
    created_at = fields.String()


class AccountListSchema(Schema):
    data = fields.List(fields.Nested(AccountSchema))


class MeSchema(Schema):
    type = fields.String()
    account_id = fields.String()
    name = fields.String()


REPORT_DEFAULT_DAYS = 30


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


class ReportQuerySchema(Schema):
    period = fields.String(load_default="day", validate=validate.OneOf(PERIODS))
    first = fields.Date(data_key="from", metadata={"description": (
        f"First day (UTC), inclusive. Default: the last {REPORT_DEFAULT_DAYS} days up to 'to' "
        f"('to' minus {REPORT_DEFAULT_DAYS - 1} days).")})
    last = fields.Date(data_key="to", metadata={"description": "Last day (UTC), inclusive. Default: today (UTC)."})
    account_id = Text(validate=validate.Length(1, 100), metadata={"description": "admin only"})
    format = fields.String(validate=validate.OneOf(("json", "csv")))

    @post_load
    def _default_range(self, data, **kwargs):
        """Without dates, the last 30 days up to today; with one, the other follows from it."""
        data.setdefault("last", utc_today())
        data.setdefault("first", _days_before(data["last"], REPORT_DEFAULT_DAYS - 1))
        if data["first"] > data["last"]:
            raise ValidationError("Must not be after 'to'.", field_name="from")
        return data


def _days_before(day: date, days: int) -> date:
    return date.fromordinal(max(day.toordinal() - days, 1))  # never before 0001-01-01


class SessionCreateSchema(Schema):
    ttl_seconds = fields.Integer(strict=True, load_default=12 * 3600, validate=validate.Range(60, 24 * 3600), metadata={
        "description": "Lifetime of the session: 60 s to 24 h, default 12 h."})


class SessionSchema(Schema):
    token = fields.String(metadata={"description": "shown only once; send it as 'Authorization: Bearer <token>'"})
    expires_at = fields.String()
    type = fields.String()
    account_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class ReportRowSchema(Schema):
    period = fields.String()
    approved_count = fields.Integer()
    approved_volume = fields.String()
    rejected_count = fields.Integer()
    rejected_by_reason = fields.Dict(keys=fields.String(), values=fields.Integer())
    pending_count = fields.Integer()


class ReportSchema(Schema):
    period = fields.String()
    first = fields.String(data_key="from")
    last = fields.String(data_key="to")
    data = fields.List(fields.Nested(ReportRowSchema))


class ErrorBodySchema(Schema):
    type = fields.String()
    code = fields.String()
    message = fields.String()
    param = fields.String(allow_none=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema)
