import json
from datetime import datetime
from decimal import Decimal

import pytest

from infra.runtime.settings import ConfigurationError, EnvReader
from processor.domain.transaction import Outcome
from processor.adapters.result_messages import present, result_messages
from processor.settings import Settings
from tests.support.transactions import TEST_CARD_KEYS

KEYS = {"CARD_DATA_KEYS": TEST_CARD_KEYS.to_env_value()}


def test_presents_an_outcome_as_the_result_contract():
    outcome = Outcome("tx-1", "acct", "rejected", "invalid credit card cvv", Decimal("10.50"), "visa", "1111",
                      datetime(2026, 6, 15, 12, 0, 0, 5), datetime(2026, 6, 15, 12, 0, 1))
    assert json.loads(present(outcome).to_json()) == {
        "id": "tx-1", "status": "rejected", "error_message": "invalid credit card cvv", "account_id": "acct",
        "amount": "10.50", "card_brand": "visa", "card_last4": "1111",
        "created_at": "2026-06-15T12:00:00.000005Z", "processed_at": "2026-06-15T12:00:01.000000Z",
    }


def test_settings_defaults_follow_the_contract():
    env = EnvReader(KEYS)
    settings = Settings.from_env(env)
    assert (settings.database_url, settings.group_id, settings.batch_size, settings.metrics_port) == (
        "sqlite:///var/processor.db", "processor", 2000, 9101)
    assert settings.auto_migrate is True and settings.accept_plaintext_cards is False
    assert {"DATABASE_URL", "PROCESSOR_GROUP_ID", "PROCESSOR_BATCH_SIZE", "METRICS_PORT", "AUTO_MIGRATE",
            "LOG_LEVEL", "KAFKA_BOOTSTRAP_SERVERS", "ACCEPT_PLAINTEXT_CARDS"} <= env.names_read
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


def test_published_bytes_are_the_contracts_json():
    import orjson

    outcome = Outcome("tx-é", "acct", "approved", "", Decimal("1.00"), None, None, None, datetime(2026, 6, 15))
    result = present(outcome)
    assert json.loads(orjson.dumps(vars(result))) == json.loads(result.to_json())


def test_result_messages_are_the_bytes_of_each_presented_result():
    import orjson

    first, second = datetime(2026, 6, 15, 12, 0, 1), datetime(2026, 6, 15, 12, 0, 2, 7)
    outcomes = [
        Outcome("tx-1", "acct", "rejected", "invalid credit card cvv", Decimal("10.50"), "visa", "1111",
                datetime(2026, 6, 15, 12, 0, 0, 5), first),
        Outcome("tx-é", "", "approved", "", None, None, None, None, first),
        Outcome("tx-3", "acct", "approved", "", Decimal("1000.00"), "amex", "0005", None, second),
        Outcome("tx-4", "acct", "approved", "", Decimal("1.00"), "visa", "1111", None, first),
    ]
    assert list(result_messages(outcomes)) == [orjson.dumps(vars(present(outcome))) for outcome in outcomes]
    assert [json.loads(raw) for raw in result_messages(outcomes)] == [
        json.loads(present(outcome).to_json()) for outcome in outcomes]
