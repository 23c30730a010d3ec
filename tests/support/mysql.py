"""Throwaway databases on the MariaDB/MySQL server, so that runs never collide."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy


class ServerUnreachable(RuntimeError):
    pass


def throwaway_database(server_url: str, prefix: str) -> tuple[str, Callable[[], None]]:
    """Create a database of its own: ``(its URL, a callback that drops it)``."""
    url = sqlalchemy.engine.make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    except sqlalchemy.exc.OperationalError as exc:
        engine.dispose()
        raise ServerUnreachable(f"MySQL/MariaDB not reachable at {url.render_as_string()}: {exc.orig}") from None

    def drop() -> None:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        engine.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop
