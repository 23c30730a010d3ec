from datetime import datetime

from gateway_api.domain.accounts import Account, SecretHasher, new_secret


def account(hasher, secret, disabled=False):
    return Account("acct_1", "Shop", hasher.digest(secret), datetime(2026, 1, 1), disabled)


def test_secrets_carry_at_least_128_bits_and_never_repeat():
    secrets = {new_secret() for _ in range(1000)}
    assert len(secrets) == 1000
    assert all(len(s.removeprefix("sk_")) >= 43 for s in secrets)  # 32 random bytes in base64


def test_verifies_only_the_right_secret_of_an_enabled_account():
    hasher = SecretHasher("pepper")
    assert hasher.verify("sk_right", account(hasher, "sk_right"))
    assert not hasher.verify("sk_wrong", account(hasher, "sk_right"))
    assert not hasher.verify("sk_right", account(hasher, "sk_right", disabled=True))
    assert not hasher.verify("sk_right", None)


def test_the_stored_hash_depends_on_the_pepper_and_the_repr_hides_it():
    assert SecretHasher("pepper-1").digest("sk_x") != SecretHasher("pepper-2").digest("sk_x")
    stored = account(SecretHasher("pepper"), "sk_x")
    assert stored.secret_hash not in repr(stored)


def test_the_keyed_hash_is_hmac_sha256_so_stored_hashes_stay_valid():
    # The published HMAC-SHA256 example (key "key"): a change of how digests are computed that changed
    # them would lock every merchant out (their stored secret hashes) and void every idempotency key.
    assert (
        SecretHasher("key").digest("The quick brown fox jumps over the lazy dog")
        == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )
