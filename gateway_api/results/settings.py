"""Configuration of the results consumer process."""
from __future__ import annotations

from dataclasses import dataclass, field

from infra.db import migrates_itself
from infra.kafka import KafkaSettings
from infra.settings import EnvReader

from gateway_api.settings import DEFAULT_DATABASE_URL, idempotency_ttl_hours


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    group_id: str = "gateway-results"
    metrics_port: int = 9102  # /metrics, /healthz and /readyz; 0 disables them
    # /healthz fails when the consumer loop has not turned for this long (a stuck batch).
    liveness_stall_seconds: int = 60
    auto_migrate: bool = True
    log_level: str = "INFO"
    batch_size: int = 1000
    poll_timeout: float = 0.2
    # Idempotency keys older than this are purged (at start, then hourly): the API's TTL.
    idempotency_ttl_hours: int = 24

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "Settings":
        env = EnvReader() if env is None else env
        database_url = env.database_url("DATABASE_URL", DEFAULT_DATABASE_URL)
        return cls(
            database_url=database_url,
            kafka=KafkaSettings.from_env(env),
            group_id=env.str("RESULTS_GROUP_ID", cls.group_id),
            metrics_port=env.int("METRICS_PORT", cls.metrics_port, minimum=0),
            liveness_stall_seconds=env.int("LIVENESS_STALL_SECONDS", cls.liveness_stall_seconds, minimum=1),
            auto_migrate=env.bool("AUTO_MIGRATE", migrates_itself(database_url)),
            log_level=env.str("LOG_LEVEL", "INFO"),
            idempotency_ttl_hours=idempotency_ttl_hours(env),
        )
