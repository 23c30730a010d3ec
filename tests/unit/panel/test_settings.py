import pytest

from infra.runtime.settings import ConfigurationError, EnvReader

from panel.settings import Settings


def test_settings_require_the_secret_key_and_read_every_name_through_the_reader():
    with pytest.raises(ConfigurationError, match="PANEL_SECRET_KEY"):
        Settings.from_env(EnvReader({}))
    env = EnvReader(
        {
            "PANEL_SECRET_KEY": "x" * 32,
            "PANEL_GATEWAY_URL": "http://api:8000/",
            "PANEL_COOKIE_SECURE": "true",
            "KAFKA_TOPIC_PREFIX": "p_",
        }
    )
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
