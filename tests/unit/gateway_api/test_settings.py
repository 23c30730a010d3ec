import pytest

from infra.settings import ConfigurationError, EnvReader

from gateway_api.results.settings import Settings as ResultsSettings
from gateway_api.settings import Settings
from tests.support.secrets import STRONG_SECRETS

REQUIRED = {name: STRONG_SECRETS[name] for name in ("GATEWAY_ADMIN_TOKEN", "GATEWAY_SECRET_PEPPER", "CARD_DATA_KEYS")}


def test_api_settings_defaults_and_secrets():
    env = EnvReader(REQUIRED)
    settings = Settings.from_env(env)
    assert settings.database_url == "sqlite:///var/gateway.db" and settings.auto_migrate is True
    assert (settings.publish_timeout_seconds, settings.idempotency_ttl_hours, settings.web_concurrency) == (5.0, 24, 2)
    for value in REQUIRED.values():
        assert value not in repr(settings)
    assert REQUIRED["CARD_DATA_KEYS"].partition(":")[2] not in repr(settings)
    assert settings.card_data_keys.encrypting_kid == "test-1"
    assert env.names_required == {"GATEWAY_ADMIN_TOKEN", "GATEWAY_SECRET_PEPPER", "CARD_DATA_KEYS"}
    assert {"DATABASE_URL", "GATEWAY_PUBLISH_TIMEOUT_SECONDS", "GATEWAY_IDEMPOTENCY_TTL_HOURS", "AUTO_MIGRATE",
            "LOG_LEVEL", "WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR", "KAFKA_BOOTSTRAP_SERVERS"} <= env.names_read


def test_mysql_is_not_migrated_automatically_unless_asked():
    mysql = REQUIRED | {"DATABASE_URL": "mysql+pymysql://u@db/gw"}
    assert Settings.from_env(EnvReader(mysql)).auto_migrate is False
    assert Settings.from_env(EnvReader(mysql | {"AUTO_MIGRATE": "true"})).auto_migrate is True


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_required_secrets(missing):
    with pytest.raises(ConfigurationError, match=missing):
        Settings.from_env(EnvReader({k: v for k, v in REQUIRED.items() if k != missing}))


def test_an_idempotency_ttl_below_24_hours_is_refused():
    with pytest.raises(ConfigurationError, match="GATEWAY_IDEMPOTENCY_TTL_HOURS"):
        Settings.from_env(EnvReader(REQUIRED | {"GATEWAY_IDEMPOTENCY_TTL_HOURS": "1"}))


def test_results_settings():
    env = EnvReader({"RESULTS_GROUP_ID": "g", "METRICS_PORT": "0", "GATEWAY_IDEMPOTENCY_TTL_HOURS": "48"})
    settings = ResultsSettings.from_env(env)
    assert (settings.group_id, settings.metrics_port, settings.database_url) == ("g", 0, "sqlite:///var/gateway.db")
    assert settings.idempotency_ttl_hours == 48  # it purges what the API no longer replays
    assert {"DATABASE_URL", "RESULTS_GROUP_ID", "METRICS_PORT", "AUTO_MIGRATE", "LOG_LEVEL",
            "GATEWAY_IDEMPOTENCY_TTL_HOURS"} <= env.names_read
    assert env.names_required == set()  # no secret of its own: the database password sits in DATABASE_URL


def test_fast_defaults_of_the_api_process():
    settings = Settings.from_env(EnvReader(REQUIRED))
    assert (settings.web_threads, settings.auth_cache_seconds, settings.producer_linger_ms) == (16, 0.5, 2)


@pytest.mark.parametrize("seconds", ["1.5", "-0.1", "soon"])
def test_an_auth_cache_that_could_outlive_a_revoked_secret_by_a_second_is_refused(seconds):
    with pytest.raises(ConfigurationError, match="GATEWAY_AUTH_CACHE_SECONDS"):
        Settings.from_env(EnvReader(REQUIRED | {"GATEWAY_AUTH_CACHE_SECONDS": seconds}))
