"""Configuration of the webhook dispatcher process."""
from __future__ import annotations

from dataclasses import dataclass, field

from infra.settings import ConfigurationError, EnvReader, Secret, WorkerSettings

from gateway_api.domain.deliveries import DEFAULT_RETRY_SCHEDULE, RetrySchedule
from gateway_api.settings import DEFAULT_DATABASE_URL, webhook_secrets_key

MAX_TIMEOUT_SECONDS = 10.0  # the contract: a 2xx within 10 s is delivered


@dataclass(frozen=True, kw_only=True)
class Settings(WorkerSettings):
    DEFAULT_DATABASE_URL = DEFAULT_DATABASE_URL
    database_url: str = DEFAULT_DATABASE_URL
    metrics_port: int = 9103
    secrets_key: Secret
    allow_private_urls: bool = False
    retry_schedule: RetrySchedule = field(default_factory=lambda: RetrySchedule.parse(DEFAULT_RETRY_SCHEDULE))
    timeout_seconds: float = MAX_TIMEOUT_SECONDS
    # How long a claimed delivery stays invisible to other replicas; after a crash it is sent again
    # once this much time has passed. Must comfortably exceed the timeout.
    lease_seconds: float = 60.0
    concurrency: int = 32
    event_retention_days: int = 30
    poll_interval_seconds: float = 0.1
    stats_interval_seconds: float = 5.0
    purge_interval_seconds: float = 3600.0

    def __post_init__(self):
        if not 0 < self.timeout_seconds <= MAX_TIMEOUT_SECONDS:
            raise ConfigurationError(f"WEBHOOK_TIMEOUT_SECONDS must be above 0 and at most {MAX_TIMEOUT_SECONDS:g}")
        if self.lease_seconds < 2 * self.timeout_seconds:
            raise ConfigurationError("WEBHOOK_LEASE_SECONDS must be at least twice WEBHOOK_TIMEOUT_SECONDS "
                                     f"({2 * self.timeout_seconds:g}), or a slow delivery could be sent twice at once")

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "Settings":
        env = EnvReader() if env is None else env
        return cls(
            **cls.shared_from_env(env),
            secrets_key=webhook_secrets_key(env),
            allow_private_urls=env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", False),
            retry_schedule=_schedule(env.str("WEBHOOK_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE)),
            timeout_seconds=env.float("WEBHOOK_TIMEOUT_SECONDS", MAX_TIMEOUT_SECONDS),
            lease_seconds=env.float("WEBHOOK_LEASE_SECONDS", cls.lease_seconds),
            concurrency=env.int("WEBHOOK_CONCURRENCY", cls.concurrency, minimum=1),
            event_retention_days=env.int("WEBHOOK_EVENT_RETENTION_DAYS", cls.event_retention_days, minimum=30),
        )


def _schedule(text: str) -> RetrySchedule:
    try:
        return RetrySchedule.parse(text)
    except ValueError as exc:
        raise ConfigurationError(f"WEBHOOK_RETRY_SCHEDULE: {exc} (e.g. {DEFAULT_RETRY_SCHEDULE})") from None
