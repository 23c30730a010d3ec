import pytest

from infra.runtime.kafka import KafkaSettings
from infra.runtime.settings import (
    DEV_ADMIN_TOKEN,
    DEV_SECRET_PEPPER,
    ConfigurationError,
    EnvReader,
    Secret,
    from_env_or_exit,
)


def test_secret_never_shows_its_value():
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret) and "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2"


def test_env_reader_records_names_and_applies_defaults():
    env = EnvReader({"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092", "KAFKA_TOPIC_PREFIX": "stage_"})
    settings = KafkaSettings.from_env(env)
    assert settings.bootstrap_servers == "kafka:9092"
    assert settings.topics.transactions == "stage_transactions"
    assert settings.partitions == 6
    assert {"KAFKA_BOOTSTRAP_SERVERS", "KAFKA_TOPIC_PARTITIONS", "KAFKA_SASL_PASSWORD"} <= env.names_read


@pytest.mark.parametrize("raw, message", [("zero", "must be an integer"), ("0", "at least 1")])
def test_env_reader_rejects_bad_integers(raw, message):
    with pytest.raises(ConfigurationError, match=message):
        EnvReader({"KAFKA_TOPIC_PARTITIONS": raw}).integer("KAFKA_TOPIC_PARTITIONS", 6, minimum=1)


def test_env_reader_names_a_missing_required_variable():
    with pytest.raises(ConfigurationError, match="GATEWAY_ADMIN_TOKEN is required"):
        EnvReader({}).required("GATEWAY_ADMIN_TOKEN")


# -- weak secrets ---------------------------------------------------------------------------------

STRONG = "s" * 16 + "T" * 16


@pytest.mark.parametrize(
    "value, reason",
    [
        ("change-me-admin-token", "is a template placeholder"),
        ("CHANGE-ME" + "x" * 40, "is a template placeholder"),
        (DEV_ADMIN_TOKEN, "is a development default"),
        (DEV_SECRET_PEPPER, "is a development default"),
        ("x" * 31, "is shorter than 32 characters"),
    ],
)
def test_a_weak_secret_is_refused_with_a_message_naming_the_variable_but_not_the_value(value, reason):
    with pytest.raises(ConfigurationError, match=f"^GATEWAY_ADMIN_TOKEN {reason}") as refused:
        EnvReader({"GATEWAY_ADMIN_TOKEN": value}).secret("GATEWAY_ADMIN_TOKEN")
    assert value not in str(refused.value) and "\n" not in str(refused.value)


def test_a_missing_or_blank_secret_is_required_even_for_development():
    for env in ({}, {"GATEWAY_ADMIN_TOKEN": "  "}, {"ALLOW_DEVELOPMENT_SECRETS": "true"}):
        with pytest.raises(ConfigurationError, match="GATEWAY_ADMIN_TOKEN is required"):
            EnvReader(env).secret("GATEWAY_ADMIN_TOKEN")


def test_development_secrets_pass_only_with_the_explicit_opt_in():
    env = EnvReader({"GATEWAY_ADMIN_TOKEN": DEV_ADMIN_TOKEN, "ALLOW_DEVELOPMENT_SECRETS": "true"})
    assert env.secret("GATEWAY_ADMIN_TOKEN").reveal() == DEV_ADMIN_TOKEN
    assert EnvReader({"GATEWAY_ADMIN_TOKEN": STRONG}).secret("GATEWAY_ADMIN_TOKEN").reveal() == STRONG
    with pytest.raises(ConfigurationError):
        EnvReader({"GATEWAY_ADMIN_TOKEN": DEV_ADMIN_TOKEN, "ALLOW_DEVELOPMENT_SECRETS": "false"}).secret(
            "GATEWAY_ADMIN_TOKEN"
        )


def test_a_reader_that_does_not_check_secrets_is_for_the_drift_test_only():
    assert EnvReader({"P": "change-me"}, check_secrets=False).secret("P").reveal() == "change-me"


@pytest.mark.parametrize(
    "url, refused",
    [
        ("mysql+pymysql://gateway:change-me-gateway@mysql:3306/gateway", True),
        ("mysql+pymysql://gateway:change%2Dme-gw@mysql:3306/gateway", True),  # URL-encoded
        ("mysql+pymysql://gateway:Sh0rt-but-real@mysql:3306/gateway", False),  # the DBA's length policy
        ("mysql+pymysql://root@127.0.0.1:3306/test", False),
        ("sqlite:///var/gateway.db", False),
    ],
)
def test_a_placeholder_database_password_is_refused_without_echoing_the_url(url, refused):
    env = EnvReader({"DATABASE_URL": url})
    if not refused:
        assert env.database_url("DATABASE_URL", "sqlite://") == url
        return
    with pytest.raises(ConfigurationError, match="^the password in DATABASE_URL is a template placeholder") as error:
        env.database_url("DATABASE_URL", "sqlite://")
    assert "gateway" not in str(error.value)


def test_the_kafka_password_is_required_with_sasl_and_never_a_placeholder():
    with pytest.raises(ConfigurationError, match="KAFKA_SASL_PASSWORD is required"):
        KafkaSettings.from_env(EnvReader({"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512"}))
    with pytest.raises(ConfigurationError, match="KAFKA_SASL_PASSWORD is a template placeholder"):
        KafkaSettings.from_env(
            EnvReader({"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_PASSWORD": "change-me-x"})
        )
    # Strimzi generates 12 characters: another system's policy, accepted.
    strimzi = KafkaSettings.from_env(
        EnvReader({"KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_PASSWORD": "aB3dE6gH9jK2"})
    )
    assert strimzi.sasl_password.reveal() == "aB3dE6gH9jK2"
    assert not KafkaSettings.from_env(EnvReader({})).sasl_password  # no SASL, no password


def test_from_env_or_exit_prints_one_line_and_exits_2(monkeypatch, capsys):
    class Needy:
        @classmethod
        def from_env(cls):
            return EnvReader({"PANEL_SECRET_KEY": "change-me-panel"}).secret("PANEL_SECRET_KEY")

    with pytest.raises(SystemExit) as exited:
        from_env_or_exit(Needy)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("configuration error: PANEL_SECRET_KEY is a template placeholder") and err.count("\n") == 1


def test_migrations_read_only_their_database_settings_and_still_refuse_a_placeholder_password():
    from gateway_api.settings import MigrationSettings as LedgerMigration
    from processor.settings import MigrationSettings as ProcessorMigration

    for migration, default in (
        (ProcessorMigration, "sqlite:///var/processor.db"),
        (LedgerMigration, "sqlite:///var/gateway.db"),
    ):
        env = EnvReader({})
        assert migration.from_env(env).database_url == default
        assert env.names_read == {"DATABASE_URL", "LOG_LEVEL"} and env.names_required == set()
        with pytest.raises(ConfigurationError, match="the password in DATABASE_URL is a template placeholder"):
            migration.from_env(EnvReader({"DATABASE_URL": "mysql+pymysql://u:change-me-db@db/x"}))
