"""The Flask application class every service's web app is built from."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask


class WsgiFlask(Flask):
    """Flask whose ``ensure_sync`` remembers its answer per function.

    Flask asks ``ensure_sync`` for every hook and view of every request (``inspect.iscoroutinefunction``,
    ~1 us each: about ten per API request). The functions are the app's own and do not change, so
    the answer is worked out once per function; an ``async def`` view or hook still runs through
    ``async_to_sync`` as in Flask.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._sync[func]
        except KeyError:
            sync = self._sync[func] = super().ensure_sync(func)
            return sync
        except TypeError:  # unhashable: not remembered
            return super().ensure_sync(func)
