"""Request and response shapes (marshmallow). Shape only: business rules are the processor's."""

from __future__ import annotations

from datetime import date, datetime, timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate

from infra.kernel.money import AMOUNT_PATTERN, AmountError, format_amount, parse_amount

from gateway_api.domain.rate_limits import MAX_REQUESTS_PER_SECOND
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


class StrictInt(fields.Integer):
    """A JSON integer (not a string, not a boolean)."""

    def __init__(self, minimum: int, maximum: int, **kwargs):
        super().__init__(strict=True, validate=validate.Range(minimum, maximum), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool):
            raise ValidationError("Not a valid integer.")
        return super()._deserialize(value, attr, data, **kwargs)


# A test card that passes the Luhn check, and an expiry in the future: the documented example is approved.
EXAMPLE_CARD = {
    "number": "4111111111111111",
    "name": "Ada Lovelace",
    "expiration_month": 12,
    "expiration_year": 2099,
    "cvv": "123",
}


class CreditCardSchema(Schema):
    # \A and \Z, not ^ and $: "$" also matches before a final newline ("4111111111111111\n").
    number = Text(
        required=True,
        validate=validate.Regexp(r"\A[0-9][0-9 -]{0,31}\Z", error="Must be the card number digits."),
        metadata={
            "pattern": r"^[0-9][0-9 -]{0,31}$",
            "example": EXAMPLE_CARD["number"],
            "description": (
                "The card number: digits, spaces or dashes allowed. A number that matches no brand or fails "
                "the Luhn check is accepted here and rejected by the processor (invalid credit card number)."
            ),
        },
    )
    name = Text(
        required=True,
        validate=validate.Length(max=255),
        metadata={
            "example": EXAMPLE_CARD["name"],
            "description": "The holder's name (blank: rejected, invalid credit card name).",
        },
    )
    expiration_month = StrictInt(1, 12, required=True, metadata={"example": 12, "description": "1 to 12."})
    expiration_year = StrictInt(
        1,
        9999,
        required=True,
        metadata={
            "example": 2099,
            "description": (
                "Four digits, e.g. 2030. A past year, or this year with a past month, is rejected by the processor."
            ),
        },
    )
    cvv = Text(
        required=True,
        validate=validate.Regexp(r"\A[0-9]{3,4}\Z", error="Must be 3 or 4 digits."),
        metadata={
            "pattern": r"^[0-9]{3,4}$",
            "example": EXAMPLE_CARD["cvv"],
            "description": (
                "3 digits, 4 for American Express (the wrong length for the brand: rejected, "
                "invalid credit card cvv). A string: an integer would lose leading zeros."
            ),
        },
    )


class TransactionCreateSchema(Schema):
    amount = Amount(
        required=True,
        metadata={
            "type": "string",
            "pattern": AMOUNT_PATTERN,
            "example": "10.50",
            "description": (
                "A decimal string of ASCII digits with at most 2 decimals, below 1,000,000,000, with no sign, "
                "exponent or spaces (a JSON number with at most 2 decimals is accepted too); anything else, a "
                "negative amount included, is a 422. The processor approves 1.00 to 1000.00 and rejects the rest."
            ),
        },
    )
    credit_card = fields.Nested(
        CreditCardSchema,
        required=True,
        metadata={"description": "Sent to the processor encrypted; only the brand and last 4 digits are kept."},
    )
    description = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=255),
        metadata={
            "example": "order 1001",
            "description": "Your reference, shown in listings (at most 255 characters).",
        },
    )


# What "Try it out" sends: approved within a fraction of a second.
EXAMPLE_TRANSACTION = {"amount": "10.50", "credit_card": EXAMPLE_CARD, "description": "order 1001"}


class CardSummarySchema(Schema):
    brand = fields.String(allow_none=True, metadata={"description": "visa, mastercard, amex, ... or null"})
    last4 = fields.String(allow_none=True, metadata={"description": "the last 4 digits"})


class AcceptedSchema(Schema):
    id = fields.String(metadata={"description": "the transaction's id (also in the Location header)"})
    status = fields.String(
        metadata={
            "enum": list(STATUSES),
            "description": ("pending until the processor decides, then approved or rejected"),
        }
    )
    amount = fields.String(metadata={"example": "10.50", "description": "two decimals"})
    card = fields.Nested(CardSummarySchema)
    created_at = fields.String(metadata={"description": "RFC 3339, UTC"})


class TransactionSchema(AcceptedSchema):
    account_id = fields.String()
    description = fields.String(allow_none=True)
    error_message = fields.String(
        allow_none=True,
        metadata={
            "description": ('why it was rejected (e.g. "you dont have limit for this transaction"); empty otherwise')
        },
    )
    processed_at = fields.String(allow_none=True, metadata={"description": "when it was decided (RFC 3339, UTC)"})
    amount_refunded = fields.String(
        metadata={
            "example": "0.00",
            "description": (
                "GET /v1/transactions/{id} only: the sum of its succeeded refunds (the status never changes)"
            ),
        }
    )


class TransactionPageSchema(Schema):
    data = fields.List(fields.Nested(TransactionSchema), metadata={"description": "newest first"})
    has_more = fields.Boolean(metadata={"description": "true: ask again with starting_after=<the last id>"})


class TransactionListQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"description": "only this status"})
    limit = fields.Integer(
        load_default=20, validate=validate.Range(1, 100), metadata={"description": "at most this many (1 to 100)"}
    )
    starting_after = Text(
        validate=validate.Length(1, 100),
        metadata={"description": "the last id of the previous page: the next page starts after it"},
    )
    account_id = Text(
        validate=validate.Length(1, 100),
        metadata={"description": "admin only: this merchant's transactions (default: every merchant's)"},
    )
    created_after = fields.AwareDateTime(
        format="iso",
        default_timezone=timezone.utc,
        metadata={"description": "only those created at or after this time (RFC 3339; UTC if no offset is given)"},
    )


class AccountCreateSchema(Schema):
    name = Text(
        required=True,
        validate=validate.Length(1, 200),
        metadata={"example": "Shop", "description": "the merchant's name, shown in the panel"},
    )


class AccountSecretSchema(Schema):
    id = fields.String(metadata={"description": "the user of HTTP Basic"})
    name = fields.String()
    secret = fields.String(metadata={"description": "the password of HTTP Basic; shown only once"})


class AccountSchema(Schema):
    id = fields.String()
    name = fields.String()
    disabled = fields.Boolean()
    created_at = fields.String()
    rate_limit_per_second = fields.Integer(
        allow_none=True,
        metadata={"description": "the operator's override of the default 100 requests/s; null: the default"},
    )


class AccountRateLimitSchema(Schema):
    rate_limit_per_second = fields.Integer(
        required=True,
        allow_none=True,
        strict=True,
        validate=validate.Range(1, MAX_REQUESTS_PER_SECOND),
        metadata={"description": "requests per second (bursts of twice that pass); null: back to the default 100"},
    )


class AccountListSchema(Schema):
    data = fields.List(fields.Nested(AccountSchema))


class MeSchema(Schema):
    type = fields.String()
    account_id = fields.String()
    name = fields.String()


REPORT_DEFAULT_DAYS = 30
# A report reads every ledger row of its range: at most a year (a leap year's 366 days) per request.
REPORT_MAX_DAYS = 366


def utc_today() -> date:
    return datetime.now(timezone.utc).date()


class ReportQuerySchema(Schema):
    period = fields.String(
        load_default="day",
        validate=validate.OneOf(PERIODS),
        metadata={"description": "one row per day, month or year (UTC) that has transactions"},
    )
    first = fields.Date(
        data_key="from",
        metadata={
            "description": (
                f"First day (UTC), inclusive. Default: the last {REPORT_DEFAULT_DAYS} days up to 'to' "
                f"('to' minus {REPORT_DEFAULT_DAYS - 1} days). At most {REPORT_MAX_DAYS} days before 'to' "
                f"(both inclusive), or 422."
            )
        },
    )
    last = fields.Date(data_key="to", metadata={"description": "Last day (UTC), inclusive. Default: today (UTC)."})
    account_id = Text(validate=validate.Length(1, 100), metadata={"description": "admin only"})
    format = fields.String(
        validate=validate.OneOf(("json", "csv")),
        metadata={"description": "csv: the same totals as CSV (so does Accept: text/csv)"},
    )

    @post_load
    def _default_range(self, data, **kwargs):
        """Without dates, the last 30 days up to today; with one, the other follows from it."""
        data.setdefault("last", utc_today())
        data.setdefault("first", _days_before(data["last"], REPORT_DEFAULT_DAYS - 1))
        if data["first"] > data["last"]:
            raise ValidationError("Must not be after 'to'.", field_name="from")
        if (data["last"] - data["first"]).days >= REPORT_MAX_DAYS:
            raise ValidationError(
                f"At most {REPORT_MAX_DAYS} days from 'from' to 'to' (both inclusive).", field_name="from"
            )
        return data


def _days_before(day: date, days: int) -> date:
    return date.fromordinal(max(day.toordinal() - days, 1))  # never before 0001-01-01


class SessionCreateSchema(Schema):
    ttl_seconds = fields.Integer(
        strict=True,
        load_default=12 * 3600,
        validate=validate.Range(60, 24 * 3600),
        metadata={"description": "Lifetime of the session: 60 s to 24 h, default 12 h."},
    )
    one_time_code = fields.String(
        validate=validate.Regexp(r"\A[0-9]{6}\Z", error="Must be 6 digits."),
        metadata={
            "pattern": "^[0-9]{6}$",
            "description": "An operator who requires a second factor: the current TOTP code (403 without it).",
        },
    )


class SessionSchema(Schema):
    token = fields.String(metadata={"description": "shown only once; send it as 'Authorization: Bearer <token>'"})
    expires_at = fields.String()
    type = fields.String()
    account_id = fields.String(allow_none=True)
    name = fields.String(allow_none=True)


class ReportRowSchema(Schema):
    period = fields.String(metadata={"description": "YYYY-MM-DD, YYYY-MM or YYYY"})
    approved_count = fields.Integer()
    approved_volume = fields.String(metadata={"description": "sum of the approved amounts, two decimals"})
    rejected_count = fields.Integer()
    rejected_by_reason = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "the processor's error_message -> how many"},
    )
    pending_count = fields.Integer()
    refunded = fields.String(metadata={"description": "sum of the succeeded refunds asked in the period"})
    net = fields.String(metadata={"description": "approved_volume minus refunded"})


class ReportSchema(Schema):
    period = fields.String()
    first = fields.String(data_key="from")
    last = fields.String(data_key="to")
    data = fields.List(fields.Nested(ReportRowSchema))


class ErrorBodySchema(Schema):
    type = fields.String(
        required=True,
        metadata={
            "enum": [
                "invalid_request_error",
                "authentication_error",
                "permission_error",
                "idempotency_error",
                "rate_limit_error",
                "api_error",
            ]
        },
    )
    code = fields.String(required=True, metadata={"description": "what to match on, e.g. parameter_invalid"})
    message = fields.String(required=True, metadata={"description": "for people; never card data"})
    param = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "the parameter at fault (e.g. credit_card.cvv, limit, Idempotency-Key), or null"},
    )


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)
