import pytest

from infra.settings import ConfigurationError, EnvReader

from gateway_api.results.settings import Settings as ResultsSettings
from gateway_api.settings import Settings

KEY = "dGVzdC13ZWJob29rLXNlY3JldHMta2V5LTAxMjM0NTY="
REQUIRED = {"GATEWAY_ADMIN_TOKEN": "t0k3n-value", "GATEWAY_SECRET_PEPPER": "p3pp3r-value", "WEBHOOK_SECRETS_KEY": KEY}


def test_api_settings_defaults_and_secrets():
    env = EnvReader(REQUIRED)
    settings = Settings.from_env(env)
    assert settings.database_url == "sqlite:///var/gateway.db" and settings.auto_migrate is True
    assert (settings.publish_timeout_seconds, settings.idempotency_ttl_hours, settings.web_concurrency) == (5.0, 24, 2)
    assert "t0k3n-value" not in repr(settings) and "p3pp3r-value" not in repr(settings) and KEY not in repr(settings)
    assert settings.webhook_allow_private_urls is False
    assert env.names_required == {"GATEWAY_ADMIN_TOKEN", "GATEWAY_SECRET_PEPPER", "WEBHOOK_SECRETS_KEY"}
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


@pytest.mark.parametrize("key", ["change-me", "c2hvcnQ=", "not base64 at all!", "A" * 43 + "="])
def test_a_webhook_secrets_key_that_is_not_32_base64_bytes_is_refused_with_a_hint(key):
    with pytest.raises(ConfigurationError, match="WEBHOOK_SECRETS_KEY must be 32 random bytes, base64-encoded"):
        Settings.from_env(EnvReader(REQUIRED | {"WEBHOOK_SECRETS_KEY": key}))


def test_results_settings():
    env = EnvReader({"RESULTS_GROUP_ID": "g", "METRICS_PORT": "0"})
    settings = ResultsSettings.from_env(env)
    assert (settings.group_id, settings.metrics_port, settings.database_url) == ("g", 0, "sqlite:///var/gateway.db")
    assert {"DATABASE_URL", "RESULTS_GROUP_ID", "METRICS_PORT", "AUTO_MIGRATE", "LOG_LEVEL"} <= env.names_read


def test_webhook_dispatcher_settings_defaults_and_what_it_reads():
    from gateway_api.webhooks.settings import Settings as DispatcherSettings

    env = EnvReader({"WEBHOOK_SECRETS_KEY": KEY})
    settings = DispatcherSettings.from_env(env)
    assert (settings.timeout_seconds, settings.lease_seconds, settings.concurrency, settings.metrics_port) == \
        (10.0, 60.0, 32, 9103)
    assert settings.retry_schedule.max_attempts == 11 and settings.allow_private_urls is False
    assert KEY not in repr(settings) and env.names_required == {"WEBHOOK_SECRETS_KEY"}
    assert {"DATABASE_URL", "WEBHOOK_RETRY_SCHEDULE", "WEBHOOK_TIMEOUT_SECONDS", "WEBHOOK_LEASE_SECONDS",
            "WEBHOOK_CONCURRENCY", "WEBHOOK_EVENT_RETENTION_DAYS", "WEBHOOK_ALLOW_PRIVATE_URLS", "METRICS_PORT",
            "LIVENESS_STALL_SECONDS", "AUTO_MIGRATE", "LOG_LEVEL"} <= env.names_read


@pytest.mark.parametrize("overrides, message", [
    ({"WEBHOOK_RETRY_SCHEDULE": "1m,soon"}, "WEBHOOK_RETRY_SCHEDULE: 'soon' is not a duration"),
    ({"WEBHOOK_TIMEOUT_SECONDS": "30"}, "WEBHOOK_TIMEOUT_SECONDS must be above 0 and at most 10"),
    ({"WEBHOOK_TIMEOUT_SECONDS": "5", "WEBHOOK_LEASE_SECONDS": "8"}, "WEBHOOK_LEASE_SECONDS must be at least twice"),
    ({"WEBHOOK_EVENT_RETENTION_DAYS": "7"}, "WEBHOOK_EVENT_RETENTION_DAYS must be at least 30"),
    ({"WEBHOOK_SECRETS_KEY": ""}, "WEBHOOK_SECRETS_KEY is required"),
])
def test_webhook_dispatcher_settings_refuse_what_would_break_the_contract(overrides, message):
    from gateway_api.webhooks.settings import Settings as DispatcherSettings

    with pytest.raises(ConfigurationError, match=message):
        DispatcherSettings.from_env(EnvReader({"WEBHOOK_SECRETS_KEY": KEY} | overrides))
