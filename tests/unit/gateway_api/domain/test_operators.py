"""An operator's credential: checked against its salted scrypt hash only, its id read from it."""

from gateway_api.domain.operators import credential_matches, hash_credential, new_credential, operator_id_of


def test_an_operator_credential_is_checked_against_its_scrypt_hash_only():
    credential = new_credential("op_1234")
    stored = hash_credential(credential)
    assert credential_matches(credential, stored) and not credential_matches(credential + "x", stored)
    assert stored != hash_credential(credential)  # salted
    assert operator_id_of(credential) == "op_1234" and operator_id_of("sess_abc") is None
    assert not credential_matches(credential, "md5$whatever")
