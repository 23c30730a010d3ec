"""What `make run` leaves under STACK_VAR_DIR for the person at the keyboard, readable by them only:

- ``demo-merchant.json``: the demo merchant, reused by the next `make run` while it still signs in
  (a wiped database or another pepper means a new one), so restarts do not pile up "Demo shop"s;
- ``gateway.env``: the settings the API runs with, so that ``python -m gateway_api accounts create``
  hashes secrets with the same pepper and writes the same database as the running API.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
from pathlib import Path

DEMO_NAME = "Demo shop"
DEMO_FILE = "demo-merchant.json"
CLI_ENV_FILE = "gateway.env"
# What the gateway's operator commands read (gateway_api.settings), and nothing of the other services.
CLI_VARIABLES = (
    "DATABASE_URL",
    "GATEWAY_ADMIN_TOKEN",
    "GATEWAY_SECRET_PEPPER",
    "CARD_DATA_KEYS",
    "WEBHOOK_SECRETS_KEY",
    "AUDIT_HMAC_KEY",
    "WEBHOOK_ALLOW_PRIVATE_URLS",
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_TOPIC_PREFIX",
    "ALLOW_DEVELOPMENT_SECRETS",
)


def demo_merchant(stack) -> dict:
    """``{"id", "name", "secret"}`` of the demo merchant: the saved one if it still signs in, else a new one."""
    path = stack.settings.var_dir / DEMO_FILE
    saved = _read(path)
    if saved is not None and _signs_in(stack, saved):
        return saved
    merchant = stack.create_merchant(DEMO_NAME)
    write_private(path, json.dumps(merchant) + "\n")
    return merchant


def write_cli_env(var_dir: Path, env: dict[str, str]) -> Path:
    """``gateway.env``: ``set -a; . var/gateway.env; set +a`` gives a shell the API's settings."""
    lines = [f"{name}={shlex.quote(env[name])}" for name in CLI_VARIABLES if name in env]
    path = var_dir / CLI_ENV_FILE
    write_private(
        path, "# written by `make run`: the API's settings, for python -m gateway_api ...\n" + "\n".join(lines) + "\n"
    )
    return path


def write_private(path: Path, text: str) -> None:
    """Created 0600 before anything is written: the file holds secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an older file may have had wider permissions
    with os.fdopen(fd, "w") as file:
        file.write(text)


def _read(path: Path) -> dict | None:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return saved if isinstance(saved, dict) and {"id", "secret"} <= set(saved) else None


def _signs_in(stack, merchant: dict) -> bool:
    token = base64.b64encode(f"{merchant['id']}:{merchant['secret']}".encode()).decode()
    status, body, _ = stack.request("GET", "/v1/me", headers={"Authorization": f"Basic {token}"})
    return status == 200 and isinstance(body, dict) and body.get("account_id") == merchant["id"]
