"""Request bodies parsed safely (hostile JSON is a 400, never a 500) and cheaply.

webargs parses bodies with a bare ``json.loads``, which raises RecursionError for a few thousand
nested brackets and ValueError for an integer of more than 4,300 digits (CPython's limit on
int-from-text, a guard against quadratic conversion). Neither is a JSONDecodeError, so neither
became a 400. Every blueprint of the API is a :class:`Blueprint`, whose parser turns both into the
same "invalid JSON" answer as malformed syntax.

A JSON body that the schema's compiled load (``web.compiled_loads``) certifies skips webargs and
``Schema.load`` (~13% of a POST /v1/transactions' CPU); any other body takes webargs' path, which
answers the errors. flask-smorest's decorators that only document (``doc``, ``alt_response``) leave
the view unwrapped: each of their wrappers was a call per request that did nothing else.
"""
from __future__ import annotations

import functools
import json

import flask_smorest
from flask import request
from marshmallow import RAISE
from webargs import core
from flask_smorest.utils import resolve_schema_instance
from webargs.flaskparser import FlaskParser, is_json_request

from gateway_api.domain.errors import UnknownParameter
from gateway_api.web.auth import current_caller
from gateway_api.web.compiled_loads import NOT_SURE, compile_load

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


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with the bounded JSON parser, a compiled fast path for JSON bodies
    and no runtime wrapper for documentation."""

    ARGUMENTS_PARSER = BoundedJsonParser()

    def arguments(self, schema, *, location="json", **kwargs):
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json" or kwargs.get("as_kwargs") or kwargs.get("arg_name"):
            return parse
        fast_load = compile_load(resolve_schema_instance(schema))

        def decorator(view):
            parsed = parse(view)  # documents the body; webargs' path for whatever fast_load is not sure of

            @functools.wraps(parsed)
            def wrapper(*args, **kwargs):
                loaded = fast_load(_json_body())
                if loaded is NOT_SURE:
                    return parsed(*args, **kwargs)
                return view(*args, loaded, **kwargs)  # as webargs passes it: after the other arguments

            return wrapper

        return decorator

    @staticmethod
    def doc(**kwargs):
        return _documenting_only(flask_smorest.Blueprint.doc(**kwargs))

    def _store_endpoint_docs(self, endpoint, obj, parameters, tags, **options):
        """Each operation's ``operationId`` is its view's name in camelCase (``create_transaction`` ->
        ``createTransaction``): the name a generated client gives the call. ``@blp.doc(operationId=...)``
        overrides it."""
        super()._store_endpoint_docs(endpoint, obj, parameters, tags, **options)
        for method, doc in self._docs[endpoint].items():
            if method != "parameters":
                doc.setdefault("manual_doc", {}).setdefault("operationId", operation_id(obj.__name__))

    def alt_response(self, *args, **kwargs):
        return _documenting_only(super().alt_response(*args, **kwargs))


def operation_id(view_name: str) -> str:
    first, *rest = view_name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def _documenting_only(decorate):
    """The view itself, carrying the documentation ``decorate`` adds to it (in ``_apidoc``)."""

    def decorator(view):
        view._apidoc = decorate(view)._apidoc
        return view

    return decorator


def _json_body():
    """The body as JSON, or NOT_SURE: not declared JSON, or not valid JSON (webargs answers it)."""
    if not is_json_request(request):
        return NOT_SURE
    try:
        return loads_bounded(request.get_data(cache=True))
    except json.JSONDecodeError:
        return NOT_SURE


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
