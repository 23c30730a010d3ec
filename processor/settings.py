"""The processor's configuration, read from environment variables in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import make_url

from infra.runtime.card_cipher import CardDataKeys
from infra.runtime.kafka import KafkaSettings
from infra.runtime.settings import EnvReader, WorkerSettings
from infra.runtime.settings import MigrationSettings as _MigrationSettings

DEFAULT_DATABASE_URL = "sqlite:///var/processor.db"


class MigrationSettings(_MigrationSettings):
    """`python -m processor migrate`: the database only."""

    DEFAULT_DATABASE_URL = DEFAULT_DATABASE_URL


@dataclass(frozen=True, kw_only=True)
class Settings(WorkerSettings):
    database_url: str = DEFAULT_DATABASE_URL
    metrics_port: int = 9101
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    group_id: str = "processor"
    batch_size: int = 2000
    # How long one batch's results may wait for the broker's acknowledgement before the batch is retried.
    publish_timeout_seconds: float = 5.0
    # Opens the `card` of every message; the same CARD_DATA_KEYS as the API's.
    card_data_keys: CardDataKeys
    # Clear card fields (the contract before encryption) are rejected unless this is on.
    accept_plaintext_cards: bool = False
    # Test seam only (infra/runtime/hold_points.py): a folder through which crash tests hold the batch loop
    # at a point. Empty in every deployment: then the loop has no checkpoint at all.
    test_hold_dir: str = ""

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "Settings":
        env = EnvReader() if env is None else env
        return cls(
            **cls.shared_from_env(env),
            kafka=KafkaSettings.from_env(env),
            group_id=env.text("PROCESSOR_GROUP_ID", cls.group_id),
            batch_size=env.integer("PROCESSOR_BATCH_SIZE", cls.batch_size, minimum=1),
            card_data_keys=CardDataKeys.from_env(env),
            accept_plaintext_cards=env.flag("ACCEPT_PLAINTEXT_CARDS", cls.accept_plaintext_cards),
            test_hold_dir=env.text("PROCESSOR_TEST_HOLD_DIR", ""),
        )

    def __repr__(self) -> str:
        # The URL may carry a database password.
        url = make_url(self.database_url).render_as_string(hide_password=True)
        return (
            f"Settings(database_url={url!r}, group_id={self.group_id!r}, batch_size={self.batch_size}, "
            f"metrics_port={self.metrics_port}, auto_migrate={self.auto_migrate}, kafka={self.kafka!r}, "
            f"card_data_keys={self.card_data_keys!r}, accept_plaintext_cards={self.accept_plaintext_cards})"
        )
