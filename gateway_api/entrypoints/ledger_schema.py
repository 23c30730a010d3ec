"""The ledger schema of this release, which the workers wait for before they touch the ledger (an adapter would
make a circle: the migrations import the adapters' tables)."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from infra.runtime.db import wait_for_schema
from infra.runtime.health import Heartbeat

from gateway_api.migrations import SCRIPT_LOCATION as MIGRATIONS
from gateway_api.migrations import VERSION_TABLE


def wait_for_ledger_schema(engine: Engine, stop: threading.Event, heartbeat: Heartbeat) -> bool:
    return wait_for_schema(engine, MIGRATIONS, VERSION_TABLE, stop, on_wait=heartbeat.beat)
