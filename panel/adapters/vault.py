"""Credentials kept in the browser's session cookie, encrypted so the cookie never holds them in clear.

The cookie is signed by Flask and its credential field is additionally a Fernet token (AES-CBC +
HMAC) under a key derived from PANEL_SECRET_KEY, so every worker and replica that shares the key can
act for the user and nothing else can read the secret, not even the user's own browser scripts
(the cookie is HttpOnly as well).
"""

from __future__ import annotations

import base64
import json

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from infra.runtime.settings import Secret

from panel.domain.credential import Credential


def derive_key(secret_key: Secret, purpose: str) -> bytes:
    """A 32-byte key for one purpose, so signing and encryption never share a key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"panel:{purpose}".encode())
    return hkdf.derive(secret_key.reveal().encode())


class CredentialVault:
    def __init__(self, secret_key: Secret, max_age_seconds: int):
        self._fernet = Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "credential-vault")))
        self._max_age = max_age_seconds

    def seal(self, credential: Credential) -> str:
        payload = json.dumps([credential.kind, credential.account_id, credential.secret]).encode()
        return self._fernet.encrypt(payload).decode()

    def open(self, token: str | None) -> Credential | None:
        """The credential, or None when the token is missing, forged or older than the session."""
        if not token:
            return None
        try:
            kind, account_id, secret = json.loads(self._fernet.decrypt(token.encode(), ttl=self._max_age))
        except (InvalidToken, ValueError, TypeError):
            return None
        return Credential(kind, account_id, secret)
