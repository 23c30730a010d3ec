"""Request bodies the panel accepts: small, and JSON that cannot take the parser down.

A hostile body must get a 4xx, never a 500: above ``MAX_BODY_BYTES`` it is refused (413) before
anything reads it, and JSON nested too deeply for Python's parser (``RecursionError``, which Flask
does not treat as invalid JSON) is invalid JSON like any other (400, or None with ``silent=True``).
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask.json.provider import DefaultJSONProvider

# Sign-in forms and webhook settings: a few hundred bytes. The API's own limit is 16 KiB too.
MAX_BODY_BYTES = 16 * 1024


class BoundedJSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def init_bodies(app: Flask) -> None:
    app.json = BoundedJSONProvider(app)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.before_request(_refuse_large_bodies)  # before the CSRF check reads the form


def _refuse_large_bodies() -> None:
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        abort(413, description=f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.")
