"""Signing secrets at rest: AES-256-GCM, bound to their endpoint."""

import base64
import os

import pytest

from infra.runtime.settings import Secret

from gateway_api.adapters.secret_box import AesGcmSecretBox

KEY = Secret(base64.b64encode(os.urandom(32)).decode())


def test_a_secret_decrypts_only_for_its_endpoint_and_never_appears_in_the_token():
    box = AesGcmSecretBox(KEY)
    token = box.encrypt("whsec_abc", "we_1")
    assert "whsec_abc" not in token and token.startswith("v1.")
    assert box.decrypt(token, "we_1") == "whsec_abc"
    with pytest.raises(ValueError):
        box.decrypt(token, "we_2")  # a ciphertext copied onto another endpoint's row


def test_the_same_secret_encrypts_differently_every_time():
    box = AesGcmSecretBox(KEY)
    assert box.encrypt("whsec_abc", "we_1") != box.encrypt("whsec_abc", "we_1")


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2] + ("A" if t[-2] != "A" else "B") + t[-1],
        lambda t: "v2." + t[3:],
        lambda t: t[:20],
        lambda t: "v1.!!!",
    ],
)
def test_a_tampered_token_or_another_key_does_not_decrypt(tamper):
    token = AesGcmSecretBox(KEY).encrypt("whsec_abc", "we_1")
    with pytest.raises(ValueError):
        AesGcmSecretBox(KEY).decrypt(tamper(token), "we_1")
    with pytest.raises(ValueError):
        AesGcmSecretBox(Secret(base64.b64encode(os.urandom(32)).decode())).decrypt(token, "we_1")
