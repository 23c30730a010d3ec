import pytest

from infra.runtime.settings import ConfigurationError, EnvReader

from processor.settings import Settings
from tests.support.transactions import TEST_CARD_KEYS

KEYS = {"CARD_DATA_KEYS": TEST_CARD_KEYS.to_env_value()}


def test_settings_defaults_follow_the_contract():
    env = EnvReader(KEYS)
    settings = Settings.from_env(env)
    assert (settings.database_url, settings.group_id, settings.batch_size, settings.metrics_port) == (
        "sqlite:///var/processor.db",
        "processor",
        2000,
        9101,
    )
    assert settings.auto_migrate is True and settings.accept_plaintext_cards is False
    assert {
        "DATABASE_URL",
        "PROCESSOR_GROUP_ID",
        "PROCESSOR_BATCH_SIZE",
        "METRICS_PORT",
        "AUTO_MIGRATE",
        "LOG_LEVEL",
        "KAFKA_BOOTSTRAP_SERVERS",
        "ACCEPT_PLAINTEXT_CARDS",
    } <= env.names_read
    assert env.names_required == {"CARD_DATA_KEYS"}


def test_auto_migrate_defaults_to_off_for_mysql_and_the_password_and_keys_stay_hidden():
    settings = Settings.from_env(EnvReader(KEYS | {"DATABASE_URL": "mysql+pymysql://app:s3cret@db/processor"}))
    assert settings.auto_migrate is False and "s3cret" not in repr(settings)
    assert "test-1" in repr(settings) and KEYS["CARD_DATA_KEYS"].partition(":")[2] not in repr(settings)


def test_plaintext_cards_are_accepted_only_when_asked():
    assert Settings.from_env(EnvReader(KEYS | {"ACCEPT_PLAINTEXT_CARDS": "true"})).accept_plaintext_cards is True


def test_rejects_a_zero_batch_size():
    with pytest.raises(ConfigurationError, match="PROCESSOR_BATCH_SIZE"):
        Settings.from_env(EnvReader(KEYS | {"PROCESSOR_BATCH_SIZE": "0"}))
