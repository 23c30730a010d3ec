"""Requests parsed strictly: hostile JSON is a 400 (never a 500), an undeclared query parameter a 422.

webargs parses bodies with a bare ``json.loads``, which raises RecursionError for a few thousand
nested brackets and ValueError for an integer of more than 4,300 digits (CPython's limit on
int-from-text, a guard against quadratic conversion). Neither is a JSONDecodeError, so neither
became a 400. Every blueprint of the API is a ``web.blueprint.Blueprint``, whose parser
(``BoundedJsonParser``) turns both into the same "invalid JSON" answer as malformed syntax.
"""

from __future__ import annotations

import json

from flask import request
from marshmallow import RAISE
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from gateway_api.domain.errors import UnknownParameter
from gateway_api.web.auth import current_caller

# No field of the API takes a number anywhere near this long: such a body is not a request.
MAX_INTEGER_DIGITS = 100
# Stands for the document in the errors raised here: webargs reads an empty one as "no body".
_BODY = "<request body>"


def loads_bounded(raw: bytes):
    """``json.loads`` of a body that raises only JSONDecodeError: bad syntax, too deep, absurd integers."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise json.JSONDecodeError(f"not UTF-8: {exc.reason}", _BODY, exc.start) from None
    try:
        return json.loads(text, parse_int=_bounded_int)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError) as exc:
        raise json.JSONDecodeError(_reason(exc), _BODY, 0) from None


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"integer longer than {MAX_INTEGER_DIGITS} digits")
    return int(digits)


def _reason(exc: Exception) -> str:
    return "nested too deeply" if isinstance(exc, RecursionError) else str(exc)


class BoundedJsonParser(FlaskParser):
    # An unknown query parameter is refused like an unknown body field (422 parameter_unknown):
    # "?stauts=approved" silently listing everything would hide the typo.
    DEFAULT_UNKNOWN_BY_LOCATION = FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION | {"query": RAISE, "querystring": RAISE}

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        return loads_bounded(req.get_data(cache=True))


def refuse_undeclared_query(app) -> None:
    """An operation that declares no query parameter refuses any (422 parameter_unknown), as the
    parser does for the operations that declare some: a typo never silently changes the answer."""

    @app.before_request
    def _refuse():
        view = app.view_functions.get(request.endpoint)
        doc = getattr(view, "_apidoc", None)
        if doc is None or not request.args or _declares_query(doc):
            return
        if getattr(view, "required_kinds", None) and current_caller() is None:
            return  # authentication answers first: an anonymous caller learns nothing of the parameters
        name = sorted(request.args)[0]
        raise UnknownParameter(f"{name}: Unknown field.", param=name)


def _declares_query(doc: dict) -> bool:
    return any(p.get("in") == "query" for p in doc.get("arguments", {}).get("parameters", []))
