"""Configuration of the API process (and of its gunicorn master), read from the environment."""
from __future__ import annotations

from dataclasses import dataclass, field

from infra.card_cipher import KEY_BYTES, CardDataKeys, decode_key, random_key_weakness
from infra.db import migrates_itself
from infra.kafka import KafkaSettings
from infra.settings import ConfigurationError, EnvReader, MigrationSettings as _MigrationSettings, Secret

DEFAULT_DATABASE_URL = "sqlite:///var/gateway.db"
# A rotated or disabled secret must stop working within a second, whatever the cache.
MAX_AUTH_CACHE_SECONDS = 1.0


class MigrationSettings(_MigrationSettings):
    """`python -m gateway_api migrate`: the ledger's database only."""

    DEFAULT_DATABASE_URL = DEFAULT_DATABASE_URL


@dataclass(frozen=True)
class Settings:
    admin_token: Secret
    secret_pepper: Secret
    # Encrypts the card fields of every message to the processor (the first key; README, PCI).
    card_data_keys: CardDataKeys
    # Encrypts webhook signing secrets at rest (AES-256-GCM); shared with the webhook dispatcher.
    webhook_secrets_key: Secret
    database_url: str = DEFAULT_DATABASE_URL
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    publish_timeout_seconds: float = 5.0
    producer_linger_ms: int = 5
    idempotency_ttl_hours: int = 24
    auth_cache_seconds: float = 0.5
    auto_migrate: bool = True
    log_level: str = "INFO"
    # Read by gateway_api.gunicorn_conf in the gunicorn master.
    web_concurrency: int = 2
    web_threads: int = 16
    prometheus_multiproc_dir: str = ""
    max_body_bytes: int = 16 * 1024
    retry_after_seconds: int = 2
    # Development and tests only: webhook URLs may be http:// and point at private addresses.
    webhook_allow_private_urls: bool = False

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "Settings":
        env = EnvReader() if env is None else env
        database_url = env.database_url("DATABASE_URL", DEFAULT_DATABASE_URL)
        return cls(
            admin_token=env.secret("GATEWAY_ADMIN_TOKEN"),
            secret_pepper=env.secret("GATEWAY_SECRET_PEPPER"),
            card_data_keys=CardDataKeys.from_env(env),
            webhook_secrets_key=webhook_secrets_key(env),
            database_url=database_url,
            kafka=KafkaSettings.from_env(env),
            publish_timeout_seconds=env.float("GATEWAY_PUBLISH_TIMEOUT_SECONDS", 5.0),
            producer_linger_ms=env.int("GATEWAY_PRODUCER_LINGER_MS", cls.producer_linger_ms, minimum=0),
            idempotency_ttl_hours=idempotency_ttl_hours(env),
            auth_cache_seconds=_auth_cache_seconds(env),
            auto_migrate=env.bool("AUTO_MIGRATE", migrates_itself(database_url)),
            log_level=env.str("LOG_LEVEL", "INFO"),
            web_concurrency=env.int("WEB_CONCURRENCY", 2, minimum=1),
            web_threads=env.int("WEB_THREADS", 16, minimum=1),
            prometheus_multiproc_dir=env.str("PROMETHEUS_MULTIPROC_DIR", ""),
            webhook_allow_private_urls=env.bool("WEBHOOK_ALLOW_PRIVATE_URLS", False),
        )


def idempotency_ttl_hours(env: EnvReader) -> int:
    """How long a key replays; the API and the results consumer (which purges) must agree."""
    return env.int("GATEWAY_IDEMPOTENCY_TTL_HOURS", 24, minimum=24)


def _auth_cache_seconds(env: EnvReader) -> float:
    seconds = env.float("GATEWAY_AUTH_CACHE_SECONDS", 0.5)
    if not 0 <= seconds <= MAX_AUTH_CACHE_SECONDS:
        raise ConfigurationError(f"GATEWAY_AUTH_CACHE_SECONDS must be between 0 and {MAX_AUTH_CACHE_SECONDS:g}, "
                                 f"got {seconds:g}")
    return seconds


def webhook_secrets_key(env: EnvReader) -> Secret:
    """WEBHOOK_SECRETS_KEY: 32 random bytes, base64; the API encrypts with it, the dispatcher decrypts.
    Weak values (placeholder, `make run`'s, not random) are refused like every secret (infra.settings)."""
    key = env.secret("WEBHOOK_SECRETS_KEY")
    try:
        raw = decode_key(key.reveal())
    except ValueError:
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ConfigurationError("WEBHOOK_SECRETS_KEY must be 32 random bytes, base64-encoded "
                                 "(`openssl rand -base64 32`)")
    env.refuse_if_weak("WEBHOOK_SECRETS_KEY", random_key_weakness(raw))
    return key
