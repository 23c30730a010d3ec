"""An API on SQLite or MariaDB (``database_url``) for the operator and audit-trail tests."""

from __future__ import annotations

import dataclasses
import json

from flask import Flask

from infra.runtime.db import migrate
from infra.runtime.settings import Secret

from gateway_api import create_app
from gateway_api.migrations import SCRIPT_LOCATION
from gateway_api.settings import Settings
from tests.integration.gateway_api.support import ADMIN

AUDIT_KEY = "test-audit-hmac-key-0123456789-abcdefghij"


def api_on(database_url: str, settings: Settings, **changes) -> Flask:
    migrate(database_url, SCRIPT_LOCATION)
    return create_app(
        dataclasses.replace(
            settings, database_url=database_url, auto_migrate=False, audit_hmac_key=Secret(AUDIT_KEY), **changes
        )
    )


def close(app: Flask) -> None:
    app.extensions["gateway_api"].close()


def bearer(credential: str) -> dict:
    return {"Authorization": f"Bearer {credential}"}


def create_operator(client, name: str, headers: dict = ADMIN) -> str:
    response = client.post("/v1/operators", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json["credential"]


def cli(app: Flask, *args: str) -> tuple[int, dict]:
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args))
    lines = [line for line in result.output.splitlines() if line.startswith("{")]
    return result.exit_code, json.loads(lines[-1]) if lines else {"output": result.output}
