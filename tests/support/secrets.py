"""Strong, random secrets for tests that start real processes or read settings from an environment."""

from __future__ import annotations

import base64
import os
import secrets

from tests.support.transactions import TEST_CARD_KEYS


def strong_secret() -> str:
    return secrets.token_urlsafe(32)


# What every service needs to start without ALLOW_DEVELOPMENT_SECRETS (values differ per test session).
STRONG_SECRETS = {
    "GATEWAY_ADMIN_TOKEN": strong_secret(),
    "GATEWAY_SECRET_PEPPER": strong_secret(),
    "PANEL_SECRET_KEY": strong_secret(),
    "CARD_DATA_KEYS": TEST_CARD_KEYS.to_env_value(),
    "WEBHOOK_SECRETS_KEY": base64.b64encode(os.urandom(32)).decode(),
    "AUDIT_HMAC_KEY": strong_secret(),
}
