"""The API's ``Blueprint``: flask-smorest's, with the bounded JSON parser (``web.parsing``), a compiled fast
path for JSON bodies and no runtime wrapper for documentation.

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
from flask_smorest.utils import resolve_schema_instance
from webargs.flaskparser import is_json_request

from gateway_api.web.compiled_loads import NOT_SURE, compile_load
from gateway_api.web.parsing import BoundedJsonParser, loads_bounded


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
