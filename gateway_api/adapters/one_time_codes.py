"""TOTP (RFC 6238) with pyotp: 30-second steps, 6 digits; one step of clock drift either way is accepted."""

from __future__ import annotations

import pyotp

from gateway_api.use_cases.ports import OneTimeCodes

ISSUER = "Payment gateway"


class TotpCodes(OneTimeCodes):
    def new_secret(self) -> str:
        return pyotp.random_base32()

    def provisioning_uri(self, secret: str, name: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=ISSUER)

    def verify(self, secret: str, code: str) -> bool:
        return code.isascii() and code.isdigit() and pyotp.TOTP(secret).verify(code, valid_window=1)
