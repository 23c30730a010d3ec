"""The card-data cipher shared by the API (seal) and the processor (open), and CARD_DATA_KEYS."""

import base64
import json

import pytest

from infra.runtime.card_cipher import CardCipher, CardDataKeys, CardDataUnreadable
from infra.runtime.settings import DEV_CARD_DATA_KEYS, ConfigurationError, EnvReader

FIELDS = {
    "number": "4111111111111111",
    "name": "Ada Lovelace",
    "expiration_month": 12,
    "expiration_year": 2030,
    "cvv": "123",
}
BOUND = ("tx-1", "acct_1", "10.50")
KEYS = CardDataKeys.generate("k2", "k1")


def key_text(byte: int = 7) -> str:
    return base64.b64encode(bytes(range(byte, byte + 32))).decode()


def test_a_round_trip_gives_back_the_fields_and_the_ciphertext_shows_none_of_them():
    sealed = CardCipher(KEYS).seal(FIELDS, *BOUND)
    assert set(sealed) == {"kid", "ct"} and sealed["kid"] == "k2"
    text = json.dumps(sealed)
    assert "4111111111111111" not in text and "123" not in text.replace(sealed["ct"], "") and "Ada Lovelace" not in text
    assert CardCipher(KEYS).open(sealed, *BOUND) == FIELDS


def test_every_message_gets_its_own_nonce():
    cipher = CardCipher(KEYS)
    blobs = {base64.b64decode(cipher.seal(FIELDS, *BOUND)["ct"])[:12] for _ in range(100)}
    assert len(blobs) == 100


def test_rotation_the_first_key_encrypts_and_an_old_key_still_decrypts():
    old, new = CardDataKeys.generate("old"), CardDataKeys.generate("new")
    sealed_before = CardCipher(old).seal(FIELDS, *BOUND)
    rotated = CardDataKeys(new.entries + old.entries)  # CARD_DATA_KEYS=new:...,old:...
    assert CardCipher(rotated).seal(FIELDS, *BOUND)["kid"] == "new"
    assert CardCipher(rotated).open(sealed_before, *BOUND) == FIELDS


def test_an_unknown_key_id_does_not_open():
    sealed = CardCipher(CardDataKeys.generate("k3")).seal(FIELDS, *BOUND)
    with pytest.raises(CardDataUnreadable, match="unknown key id 'k3'"):
        CardCipher(KEYS).open(sealed, *BOUND)


def test_the_same_key_id_with_another_key_does_not_open():
    sealed = CardCipher(CardDataKeys.generate("k2")).seal(FIELDS, *BOUND)
    with pytest.raises(CardDataUnreadable, match="authentication failed under key 'k2'"):
        CardCipher(KEYS).open(sealed, *BOUND)


@pytest.mark.parametrize("position", [0, 11, 12, 40, -1])  # nonce, ciphertext, tag
def test_a_tampered_ciphertext_does_not_open(position):
    cipher = CardCipher(KEYS)
    blob = bytearray(base64.b64decode(cipher.seal(FIELDS, *BOUND)["ct"]))
    blob[position] ^= 0x01
    with pytest.raises(CardDataUnreadable, match="authentication failed"):
        cipher.open({"kid": "k2", "ct": base64.b64encode(bytes(blob)).decode()}, *BOUND)


@pytest.mark.parametrize(
    "other", [("tx-2", "acct_1", "10.50"), ("tx-1", "acct_2", "10.50"), ("tx-1", "acct_1", "10.51")]
)
def test_a_ciphertext_moved_to_another_transaction_account_or_amount_does_not_open(other):
    cipher = CardCipher(KEYS)
    with pytest.raises(CardDataUnreadable, match="authentication failed"):
        cipher.open(cipher.seal(FIELDS, *BOUND), *other)


@pytest.mark.parametrize(
    "card, cause",
    [
        ("opaque", "not an object"),
        ({"ct": "AAAA"}, "unknown key id"),
        ({"kid": 5, "ct": "AAAA"}, "unknown key id"),
        ({"kid": "k2"}, "ct is not a string"),
        ({"kid": "k2", "ct": "not base64!"}, "not valid base64"),
        ({"kid": "k2", "ct": "AAAA"}, "too short"),
    ],
)
def test_malformed_card_values_say_why(card, cause):
    with pytest.raises(CardDataUnreadable, match=cause):
        CardCipher(KEYS).open(card, *BOUND)


def test_card_data_keys_parse_several_entries_first_encrypts_and_show_only_their_ids():
    keys = CardDataKeys.parse(f" k2:{key_text(1)} , k1:{key_text(2)}")
    assert keys.encrypting_kid == "k2" and [kid for kid, _ in keys.entries] == ["k2", "k1"]
    assert repr(keys) == "CardDataKeys(encrypts='k2', decrypts=('k2', 'k1'))"
    assert key_text(1) not in repr(keys)
    urlsafe = base64.urlsafe_b64encode(bytes(range(200, 232))).decode()
    assert CardDataKeys.parse(f"u:{urlsafe}").entries[0][1].reveal() == urlsafe


@pytest.mark.parametrize(
    "text, message",
    [
        ("k1", "entry 1 must be kid:base64key"),
        (f"k1:{key_text()},:{key_text()}", "entry 2 must be kid:base64key"),
        (f"bad kid:{key_text()}", "entry 1 must be kid:base64key"),
        (f"k1:{key_text()},k1:{key_text(3)}", "names key 'k1' twice"),
        ("k1:not-base64!", "key 'k1' is not valid base64"),
        (f"k1:{base64.b64encode(bytes(16)).decode()}", "key 'k1' decodes to 16 bytes; AES-256 needs exactly 32"),
        (f"k1:{base64.b64encode(bytes(range(33))).decode()}", "decodes to 33 bytes"),
    ],
)
def test_card_data_keys_that_do_not_parse_are_named(text, message):
    with pytest.raises(ConfigurationError, match=message):
        CardDataKeys.parse(text)


@pytest.mark.parametrize(
    "value, reason",
    [
        (DEV_CARD_DATA_KEYS, "CARD_DATA_KEYS is a development default"),
        (f"k1:{key_text()},{DEV_CARD_DATA_KEYS}", "CARD_DATA_KEYS key 'dev' is the development key"),
        (f"change-me:{base64.b64encode(bytes(32)).decode()}", "CARD_DATA_KEYS is a template placeholder"),
        (f"k1:{base64.b64encode(bytes(32)).decode()}", "CARD_DATA_KEYS key 'k1' is not random"),
        ("", "CARD_DATA_KEYS is required"),
    ],
)
def test_weak_card_data_keys_are_refused_unless_development_secrets_are_allowed(value, reason):
    with pytest.raises(ConfigurationError, match=reason):
        CardDataKeys.from_env(EnvReader({"CARD_DATA_KEYS": value}))
    if value:
        allowed = EnvReader({"CARD_DATA_KEYS": value, "ALLOW_DEVELOPMENT_SECRETS": "true"})
        assert CardDataKeys.from_env(allowed).entries
