import pytest

from infra.runtime.settings import Secret

from panel.adapters.vault import CredentialVault
from panel.domain.credential import Credential


def vault(key="k" * 32, max_age=3600):
    return CredentialVault(Secret(key), max_age)


def test_a_sealed_credential_opens_with_the_same_key_and_never_shows_the_secret():
    sealed = vault().seal(Credential.merchant("acc_1", "very-secret-value"))
    assert "very-secret-value" not in sealed and "acc_1" not in sealed
    assert vault().open(sealed) == Credential.merchant("acc_1", "very-secret-value")


@pytest.mark.parametrize("token", [None, "", "garbage", "gAAAAABnot-a-real-token"])
def test_missing_or_forged_tokens_open_to_nothing(token):
    assert vault().open(token) is None


def test_another_key_cannot_open_a_sealed_credential():
    sealed = vault("key-one-" * 4).seal(Credential.admin("tok"))
    assert vault("key-two-" * 4).open(sealed) is None
