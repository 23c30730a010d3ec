import pytest

from infra.kafka import KafkaSettings
from infra.redaction import mask_card_numbers
from infra.settings import ConfigurationError, EnvReader, Secret


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
        EnvReader({"KAFKA_TOPIC_PARTITIONS": raw}).int("KAFKA_TOPIC_PARTITIONS", 6, minimum=1)


def test_env_reader_names_a_missing_required_variable():
    with pytest.raises(ConfigurationError, match="GATEWAY_ADMIN_TOKEN is required"):
        EnvReader({}).required("GATEWAY_ADMIN_TOKEN")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("card 4111111111111111 declined", "card ************1111 declined"),
        ("card 4111 1111 1111 1111", "card ************1111"),
        ('{"credit_card_cvv": "123"}', '{"credit_card_cvv": "***"}'),
        ("order 12345 of 2024", "order 12345 of 2024"),
    ],
)
def test_masks_card_like_digit_runs_and_cvvs(text, expected):
    assert mask_card_numbers(text) == expected
