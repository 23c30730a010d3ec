import base64

import pytest

from infra.runtime.settings import ConfigurationError, EnvReader, Secret
from panel.adapters.vault import CredentialVault
from infra.kernel.principals import ADMIN, MERCHANT, Principal
from panel.domain.credential import Credential
from panel.settings import Settings


@pytest.mark.parametrize("principal, account, visible", [
    (Principal(MERCHANT, "A"), "A", True),
    (Principal(MERCHANT, "A"), "B", False),
    (Principal(MERCHANT, "A"), "", False),
    (Principal(ADMIN), "B", True),
])
def test_merchants_see_only_their_own_account_and_operators_see_all(principal, account, visible):
    assert principal.may_see(account) is visible


def test_a_merchant_cannot_widen_its_scope_but_an_operator_can_narrow_it():
    assert Principal(MERCHANT, "A").scope("B") == "A"
    assert Principal(MERCHANT, "A").scope(None) == "A"
    assert Principal(ADMIN).scope("B") == "B"
    assert Principal(ADMIN).scope("") is None


def test_credentials_become_the_gateway_api_authorization_headers():
    merchant = Credential.merchant("acc_1", "s3cret")
    assert merchant.authorization() == "Basic " + base64.b64encode(b"acc_1:s3cret").decode()
    assert Credential.admin("tok").authorization() == "Bearer tok"
    assert "s3cret" not in repr(merchant)


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


def test_settings_require_the_secret_key_and_read_every_name_through_the_reader():
    with pytest.raises(ConfigurationError, match="PANEL_SECRET_KEY"):
        Settings.from_env(EnvReader({}))
    env = EnvReader({"PANEL_SECRET_KEY": "x" * 32, "PANEL_GATEWAY_URL": "http://api:8000/", "PANEL_COOKIE_SECURE": "true",
                     "KAFKA_TOPIC_PREFIX": "p_"})
    settings = Settings.from_env(env)
    assert settings.gateway_url == "http://api:8000" and settings.cookie_secure is True
    assert settings.kafka.topics.results == "p_transactions_result"
    assert "xxx" not in repr(settings)
    assert {"PANEL_SECRET_KEY", "PANEL_GATEWAY_URL", "KAFKA_BOOTSTRAP_SERVERS", "LOG_LEVEL"} <= env.names_read
    assert env.names_required == {"PANEL_SECRET_KEY"}


@pytest.mark.parametrize("raw, expected", [(None, 60), ("1", 1), ("60", 60)])
def test_streams_re_ask_the_api_at_least_every_60_seconds(raw, expected):
    env = {"PANEL_SECRET_KEY": "x" * 32} | ({"PANEL_CREDENTIAL_CHECK_SECONDS": raw} if raw else {})
    assert Settings.from_env(EnvReader(env)).credential_check_seconds == expected


@pytest.mark.parametrize("raw, message", [("61", "at most 60"), ("0", "at least 1"), ("soon", "integer")])
def test_a_credential_check_interval_beyond_a_minute_is_refused(raw, message):
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(EnvReader({"PANEL_SECRET_KEY": "x" * 32, "PANEL_CREDENTIAL_CHECK_SECONDS": raw}))


def test_a_session_token_is_presented_as_a_bearer_token_and_never_shown():
    token = Credential.session("sess_abc")
    assert token.authorization() == "Bearer sess_abc" and "sess_abc" not in repr(token)
