import base64
import re

import pytest

from infra.runtime.settings import DEV_WEBHOOK_SECRETS_KEY, ConfigurationError, EnvReader

from gateway_api.settings import ResultsSettings, Settings
from tests.support.secrets import STRONG_SECRETS

KEY = "dGVzdC13ZWJob29rLXNlY3JldHMta2V5LTAxMjM0NTY="
REQUIRED = {
    name: STRONG_SECRETS[name]
    for name in ("GATEWAY_ADMIN_TOKEN", "GATEWAY_SECRET_PEPPER", "CARD_DATA_KEYS", "AUDIT_HMAC_KEY")
}
REQUIRED |= {"WEBHOOK_SECRETS_KEY": KEY}


def test_api_settings_defaults_and_secrets():
    env = EnvReader(REQUIRED)
    settings = Settings.from_env(env)
    assert settings.database_url == "sqlite:///var/gateway.db" and settings.auto_migrate is True
    assert (settings.publish_timeout_seconds, settings.idempotency_ttl_hours, settings.web_concurrency) == (5.0, 24, 2)
    for value in REQUIRED.values():
        assert value not in repr(settings)
    assert REQUIRED["CARD_DATA_KEYS"].partition(":")[2] not in repr(settings)
    assert settings.card_data_keys.encrypting_kid == "test-1"
    assert settings.webhook_allow_private_urls is False
    assert env.names_required == {
        "GATEWAY_ADMIN_TOKEN",
        "GATEWAY_SECRET_PEPPER",
        "CARD_DATA_KEYS",
        "WEBHOOK_SECRETS_KEY",
        "AUDIT_HMAC_KEY",
    }
    assert settings.admin_token_enabled is True and REQUIRED["AUDIT_HMAC_KEY"] not in repr(settings)
    assert {
        "DATABASE_URL",
        "GATEWAY_PUBLISH_TIMEOUT_SECONDS",
        "GATEWAY_IDEMPOTENCY_TTL_HOURS",
        "AUTO_MIGRATE",
        "LOG_LEVEL",
        "WEB_CONCURRENCY",
        "PROMETHEUS_MULTIPROC_DIR",
        "KAFKA_BOOTSTRAP_SERVERS",
    } <= env.names_read


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


@pytest.mark.parametrize(
    "key, message",
    [
        ("change-me-webhook-secrets-key-change-me-000=", "is a template placeholder"),
        ("c2hvcnQ=", "is shorter than 32 characters"),
        ("this is not base64 at all, not even close!!!", "must be 32 random bytes, base64-encoded"),
        (base64.b64encode(b"thirty bytes, not thirty-two..").decode(), "must be 32 random bytes, base64-encoded"),
        ("A" * 43 + "=", "is not random"),
        (DEV_WEBHOOK_SECRETS_KEY, "is a development default of `make run`"),
    ],
)
def test_a_weak_or_malformed_webhook_secrets_key_is_refused_with_a_hint(key, message):
    with pytest.raises(ConfigurationError, match=re.escape(f"WEBHOOK_SECRETS_KEY {message}")):
        Settings.from_env(EnvReader(REQUIRED | {"WEBHOOK_SECRETS_KEY": key}))


def test_make_runs_webhook_key_is_accepted_only_with_the_development_opt_in():
    env = REQUIRED | {"WEBHOOK_SECRETS_KEY": DEV_WEBHOOK_SECRETS_KEY, "ALLOW_DEVELOPMENT_SECRETS": "true"}
    assert Settings.from_env(EnvReader(env)).webhook_secrets_key.reveal() == DEV_WEBHOOK_SECRETS_KEY


def test_results_settings():
    env = EnvReader(
        {
            "RESULTS_GROUP_ID": "g",
            "METRICS_PORT": "0",
            "GATEWAY_IDEMPOTENCY_TTL_HOURS": "48",
            "AUDIT_HMAC_KEY": REQUIRED["AUDIT_HMAC_KEY"],
        }
    )
    settings = ResultsSettings.from_env(env)
    assert (settings.group_id, settings.metrics_port, settings.database_url) == ("g", 0, "sqlite:///var/gateway.db")
    assert settings.idempotency_ttl_hours == 48  # it purges what the API no longer replays
    assert {
        "DATABASE_URL",
        "RESULTS_GROUP_ID",
        "METRICS_PORT",
        "AUTO_MIGRATE",
        "LOG_LEVEL",
        "GATEWAY_IDEMPOTENCY_TTL_HOURS",
    } <= env.names_read
    # Its one secret: the audit key of the chain it verifies (the database password sits in DATABASE_URL).
    assert env.names_required == {"AUDIT_HMAC_KEY"} and settings.audit_check_seconds == 60.0


def test_fast_defaults_of_the_api_process():
    settings = Settings.from_env(EnvReader(REQUIRED))
    assert (settings.web_threads, settings.auth_cache_seconds, settings.producer_linger_ms) == (16, 0.5, 5)


@pytest.mark.parametrize("seconds", ["1.5", "-0.1", "soon"])
def test_an_auth_cache_that_could_outlive_a_revoked_secret_by_a_second_is_refused(seconds):
    with pytest.raises(ConfigurationError, match="GATEWAY_AUTH_CACHE_SECONDS"):
        Settings.from_env(EnvReader(REQUIRED | {"GATEWAY_AUTH_CACHE_SECONDS": seconds}))


def test_webhook_dispatcher_settings_defaults_and_what_it_reads():
    from gateway_api.settings import WebhookSettings as DispatcherSettings

    env = EnvReader({"WEBHOOK_SECRETS_KEY": KEY})
    settings = DispatcherSettings.from_env(env)
    assert (settings.timeout_seconds, settings.lease_seconds, settings.concurrency, settings.metrics_port) == (
        10.0,
        60.0,
        32,
        9103,
    )
    assert settings.retry_schedule.max_attempts == 11 and settings.allow_private_urls is False
    assert KEY not in repr(settings) and env.names_required == {"WEBHOOK_SECRETS_KEY"}
    assert {
        "DATABASE_URL",
        "WEBHOOK_RETRY_SCHEDULE",
        "WEBHOOK_TIMEOUT_SECONDS",
        "WEBHOOK_LEASE_SECONDS",
        "WEBHOOK_CONCURRENCY",
        "WEBHOOK_EVENT_RETENTION_DAYS",
        "WEBHOOK_ALLOW_PRIVATE_URLS",
        "METRICS_PORT",
        "LIVENESS_STALL_SECONDS",
        "AUTO_MIGRATE",
        "LOG_LEVEL",
    } <= env.names_read


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"WEBHOOK_RETRY_SCHEDULE": "1m,soon"}, "WEBHOOK_RETRY_SCHEDULE: 'soon' is not a duration"),
        ({"WEBHOOK_TIMEOUT_SECONDS": "30"}, "WEBHOOK_TIMEOUT_SECONDS must be above 0 and at most 10"),
        (
            {"WEBHOOK_TIMEOUT_SECONDS": "5", "WEBHOOK_LEASE_SECONDS": "8"},
            "WEBHOOK_LEASE_SECONDS must be at least twice",
        ),
        ({"WEBHOOK_EVENT_RETENTION_DAYS": "7"}, "WEBHOOK_EVENT_RETENTION_DAYS must be at least 30"),
        ({"WEBHOOK_SECRETS_KEY": ""}, "WEBHOOK_SECRETS_KEY is required"),
    ],
)
def test_webhook_dispatcher_settings_refuse_what_would_break_the_contract(overrides, message):
    from gateway_api.settings import WebhookSettings as DispatcherSettings

    with pytest.raises(ConfigurationError, match=message):
        DispatcherSettings.from_env(EnvReader({"WEBHOOK_SECRETS_KEY": KEY} | overrides))


@pytest.mark.parametrize(
    "value, message",
    [
        ("dev-audit-hmac-key-not-for-production", "is a development default of `make run`"),
        ("change-me-audit-hmac-key-0000000000000000", "is a template placeholder"),
        ("short", "is shorter than 32 characters"),
    ],
)
def test_a_weak_audit_hmac_key_is_refused(value, message):
    with pytest.raises(ConfigurationError, match=re.escape(f"AUDIT_HMAC_KEY {message}")):
        Settings.from_env(EnvReader(REQUIRED | {"AUDIT_HMAC_KEY": value}))


def test_the_bootstrap_admin_token_can_be_turned_off():
    settings = Settings.from_env(EnvReader(REQUIRED | {"GATEWAY_ADMIN_TOKEN_ENABLED": "false"}))
    assert settings.admin_token_enabled is False
