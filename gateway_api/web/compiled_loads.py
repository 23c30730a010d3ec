"""A marshmallow schema's ``load`` for the bodies it accepts, compiled once: the fast path of a request.

``Schema.load`` of a valid transaction costs ~75 us (hooks, error collection, a context per field, a
pass per validator); :func:`compile_load` walks the schema once and returns a function that checks
the same fields with the same field types and validators, and answers either the very dict
``schema.load`` would return or :data:`NOT_SURE`. It never makes an error: anything it does not
certify (a missing or unknown field, a wrong type, a failed validator, a schema with hooks or options
it does not know) is NOT_SURE, and the caller asks the schema itself, whose ``ValidationError``
carries the messages the API has always sent. The schema stays the one source of truth: the OpenAPI
document is generated from it, and the runtime check is derived from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from marshmallow import RAISE, Schema, fields, missing, validate

NOT_SURE = object()
Load = Callable[[Any], Any]


class _NotSure(Exception):
    pass


def compile_load(schema: Schema) -> Load:
    """``data -> dict | NOT_SURE``; a schema it cannot compile gives a function that is never sure."""
    try:
        load = _compile_schema(schema)
    except _NotSure:
        return lambda data: NOT_SURE

    def fast_load(data):
        try:
            return load(data)
        except _NotSure:
            return NOT_SURE
        except Exception:  # noqa: BLE001 - whatever a field raised, the schema answers (with its message)
            return NOT_SURE

    return fast_load


def _compile_schema(schema: Schema) -> Callable[[Any], dict]:
    if schema.many or schema.unknown != RAISE or any(schema._hooks.values()) or schema.partial:
        raise _NotSure()
    compiled = [
        (field.data_key or name, field.attribute or name, _compile_field(field))
        for name, field in schema.load_fields.items()
    ]
    if any("." in attribute for _, attribute, _ in compiled):  # marshmallow would nest those: not here
        raise _NotSure()
    known = frozenset(key for key, _, _ in compiled)

    def load(data):
        if type(data) is not dict or not known.issuperset(data):
            raise _NotSure()
        out = {}
        for key, attribute, field_load in compiled:
            value = field_load(data.get(key, missing), key, data)
            if value is not missing:
                out[attribute] = value
        return out

    return load


def _compile_field(field: fields.Field) -> Callable[[Any, str, dict], Any]:
    if field.pre_load or field.post_load:
        raise _NotSure()
    convert = _converter(field)
    checks = [_compile_validator(v) for v in field.validators]
    required, allow_none, default = field.required, field.allow_none, field.load_default

    def load(value, key, data):
        if value is missing:
            if required:
                raise _NotSure()
            return default() if callable(default) else default
        if value is None:
            if allow_none:
                return None
            raise _NotSure()
        output = convert(value, key, data)
        for check in checks:
            check(output)
        return output

    return load


def _converter(field: fields.Field) -> Callable[[Any, str, dict], Any]:
    if isinstance(field, fields.Nested):
        if field.many or field.only or field.exclude or field.unknown is not None:
            raise _NotSure()
        nested = _compile_schema(field.schema)
        return lambda value, key, data: nested(value)
    if type(field) is fields.String:  # its _deserialize also accepts bytes: a JSON body never has any
        return _string
    return field._deserialize  # the field's own conversion (Text, Amount, StrictInt...): same output


def _string(value, key, data):
    if type(value) is not str:
        raise _NotSure()
    return value


def _compile_validator(validator) -> Callable[[Any], None]:
    if type(validator) is validate.Regexp:
        return _regexp(validator.regex)
    if type(validator) is validate.Length and validator.equal is None:
        return _bounds(len, validator.min, validator.max, True, True)
    if type(validator) is validate.Range:
        return _bounds(lambda v: v, validator.min, validator.max, validator.min_inclusive, validator.max_inclusive)
    if type(validator) is validate.OneOf:
        choices = frozenset(validator.choices)
        return lambda value: None if value in choices else _refuse()
    return _raising(validator)


def _regexp(regex: re.Pattern) -> Callable[[Any], None]:
    match = regex.match  # what validate.Regexp calls

    def check(value):
        if match(value) is None:
            raise _NotSure()

    return check


def _bounds(measure, low, high, low_inclusive: bool, high_inclusive: bool) -> Callable[[Any], None]:
    def check(value):
        size = measure(value)
        if low is not None and (size < low if low_inclusive else size <= low):
            raise _NotSure()
        if high is not None and (size > high if high_inclusive else size >= high):
            raise _NotSure()

    return check


def _raising(validator) -> Callable[[Any], None]:
    """A validator this module does not know: called as marshmallow calls it (False also refuses)."""

    def check(value):
        if validator(value) is False:
            raise _NotSure()

    return check


def _refuse():
    raise _NotSure()
