"""Configuration of the results consumer process."""
from __future__ import annotations

from dataclasses import dataclass, field

from infra.kafka import KafkaSettings
from infra.settings import EnvReader, WorkerSettings

from gateway_api.settings import DEFAULT_DATABASE_URL, idempotency_ttl_hours


@dataclass(frozen=True, kw_only=True)
class Settings(WorkerSettings):
    DEFAULT_DATABASE_URL = DEFAULT_DATABASE_URL
    database_url: str = DEFAULT_DATABASE_URL
    metrics_port: int = 9102
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    group_id: str = "gateway-results"
    batch_size: int = 1000
    poll_timeout: float = 0.2
    # Idempotency keys older than this are purged (at start, then hourly): the API's TTL.
    idempotency_ttl_hours: int = 24

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "Settings":
        env = EnvReader() if env is None else env
        return cls(
            **cls.shared_from_env(env),
            kafka=KafkaSettings.from_env(env),
            group_id=env.str("RESULTS_GROUP_ID", cls.group_id),
            idempotency_ttl_hours=idempotency_ttl_hours(env),
        )
