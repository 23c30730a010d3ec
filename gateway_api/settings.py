"""Configuration of the gateway API's processes, read from the environment in one place: the API (and
its gunicorn master), the results consumer and the webhook dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.runtime.aes_gcm import KEY_BYTES, decode_key, random_key_weakness
from infra.runtime.card_cipher import CardDataKeys
from infra.runtime.kafka import KafkaSettings
from infra.runtime.settings import (
    DEV_AUDIT_HMAC_KEY,
    ConfigurationError,
    EnvReader,
    Secret,
    ServiceSettings,
    WorkerSettings,
)
from infra.runtime.settings import (
    MigrationSettings as _MigrationSettings,
)

from gateway_api.domain.deliveries import DEFAULT_RETRY_SCHEDULE, RetrySchedule
from gateway_api.domain.webhook_endpoints import STANDARD_PORTS

DEFAULT_DATABASE_URL = "sqlite:///var/gateway.db"
MAX_WEBHOOK_TIMEOUT_SECONDS = 10.0  # the contract: a 2xx within 10 s is delivered
# A rotated or disabled secret must stop working within a second, whatever the cache.
MAX_AUTH_CACHE_SECONDS = 1.0


class MigrationSettings(_MigrationSettings):
    """`python -m gateway_api migrate`: the ledger's database only."""

    DEFAULT_DATABASE_URL = DEFAULT_DATABASE_URL


@dataclass(frozen=True, kw_only=True)
class Settings(ServiceSettings):
    database_url: str = DEFAULT_DATABASE_URL
    admin_token: Secret
    secret_pepper: Secret
    # Encrypts the card fields of every message to the processor (the first key; docs/security.md).
    card_data_keys: CardDataKeys
    # Encrypts webhook signing secrets at rest (AES-256-GCM); shared with the webhook dispatcher.
    webhook_secrets_key: Secret
    # The bootstrap operator credential: creates the named operators, then can be turned off.
    admin_token_enabled: bool = True
    # Authenticates every audit entry (HMAC-SHA256); never stored in the database. Tests may leave
    # the development value; from_env requires a real one (like every secret).
    audit_hmac_key: Secret = field(default_factory=lambda: Secret(DEV_AUDIT_HMAC_KEY))
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    publish_timeout_seconds: float = 5.0
    producer_linger_ms: int = 5
    idempotency_ttl_hours: int = 24
    auth_cache_seconds: float = 0.5
    # Read by gateway_api.gunicorn_conf in the gunicorn master.
    web_concurrency: int = 2
    web_threads: int = 16
    prometheus_multiproc_dir: str = ""
    # /metrics on a listener of its own (the gunicorn master's), never on the public port; 0: not served.
    metrics_port: int = 9100
    max_body_bytes: int = 16 * 1024
    retry_after_seconds: int = 2
    # Development and tests only: webhook URLs may be http:// and point at private addresses.
    webhook_allow_private_urls: bool = False
    # Where the rate limit counters live (docs/integrate.md, "Rate limits"): redis://host:6379 shared by every
    # replica; sqlite:///var/rate-limits.db shared by the workers of one machine; memory:// one process.
    rate_limit_storage_url: str = "memory://"
    rate_limit_key_prefix: str = "gateway"  # keys in the store start with it (several gateways, one Redis)
    trusted_proxy_hops: int = 0  # 1 behind the ingress: the client address from X-Forwarded-For (infra.runtime.proxies)
    # The ports a webhook URL may name; the operator may widen them (WEBHOOK_ALLOWED_PORTS=443,8443).
    webhook_allowed_ports: tuple[int, ...] = STANDARD_PORTS

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "Settings":
        env = EnvReader() if env is None else env
        return cls(
            **cls.shared_from_env(env),
            admin_token=env.secret("GATEWAY_ADMIN_TOKEN"),
            secret_pepper=env.secret("GATEWAY_SECRET_PEPPER"),
            card_data_keys=CardDataKeys.from_env(env),
            webhook_secrets_key=webhook_secrets_key(env),
            admin_token_enabled=env.flag("GATEWAY_ADMIN_TOKEN_ENABLED", True),
            audit_hmac_key=env.secret("AUDIT_HMAC_KEY"),
            kafka=KafkaSettings.from_env(env),
            publish_timeout_seconds=env.number("GATEWAY_PUBLISH_TIMEOUT_SECONDS", 5.0),
            producer_linger_ms=env.integer("GATEWAY_PRODUCER_LINGER_MS", cls.producer_linger_ms, minimum=0),
            idempotency_ttl_hours=idempotency_ttl_hours(env),
            auth_cache_seconds=_auth_cache_seconds(env),
            web_concurrency=env.integer("WEB_CONCURRENCY", 2, minimum=1),
            web_threads=env.integer("WEB_THREADS", 16, minimum=1),
            prometheus_multiproc_dir=env.text("PROMETHEUS_MULTIPROC_DIR", ""),
            metrics_port=env.integer("METRICS_PORT", cls.metrics_port, minimum=0),
            webhook_allow_private_urls=env.flag("WEBHOOK_ALLOW_PRIVATE_URLS", False),
            rate_limit_storage_url=_rate_limit_storage_url(env),
            rate_limit_key_prefix=env.text("RATE_LIMIT_KEY_PREFIX", cls.rate_limit_key_prefix),
            trusted_proxy_hops=env.integer("TRUSTED_PROXY_HOPS", 0, minimum=0),
            webhook_allowed_ports=webhook_allowed_ports(env),
        )


RATE_LIMIT_STORES = ("redis://", "rediss://", "sqlite:///", "memory://")


def _rate_limit_storage_url(env: EnvReader) -> str:
    url = env.text("RATE_LIMIT_STORAGE_URL", "sqlite:///var/rate-limits.db")
    if not url.startswith(RATE_LIMIT_STORES):
        raise ConfigurationError(f"RATE_LIMIT_STORAGE_URL must start with one of {', '.join(RATE_LIMIT_STORES)}")
    return url


def idempotency_ttl_hours(env: EnvReader) -> int:
    """How long a key replays; the API and the results consumer (which purges) must agree."""
    return env.integer("GATEWAY_IDEMPOTENCY_TTL_HOURS", 24, minimum=24)


def _auth_cache_seconds(env: EnvReader) -> float:
    seconds = env.number("GATEWAY_AUTH_CACHE_SECONDS", 0.5)
    if not 0 <= seconds <= MAX_AUTH_CACHE_SECONDS:
        raise ConfigurationError(
            f"GATEWAY_AUTH_CACHE_SECONDS must be between 0 and {MAX_AUTH_CACHE_SECONDS:g}, got {seconds:g}"
        )
    return seconds


def webhook_secrets_key(env: EnvReader) -> Secret:
    """WEBHOOK_SECRETS_KEY: 32 random bytes, base64; the API encrypts with it, the dispatcher decrypts.
    Weak values (placeholder, `make run`'s, not random) are refused like every secret (infra.runtime.settings)."""
    key = env.secret("WEBHOOK_SECRETS_KEY")
    try:
        raw = decode_key(key.reveal())
    except ValueError:
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ConfigurationError(
            "WEBHOOK_SECRETS_KEY must be 32 random bytes, base64-encoded (`openssl rand -base64 32`)"
        )
    env.refuse_if_weak("WEBHOOK_SECRETS_KEY", random_key_weakness(raw))
    return key


@dataclass(frozen=True, kw_only=True)
class ResultsSettings(WorkerSettings):
    """`python -m gateway_api.results`: the results consumer, which keeps the ledger up to date."""

    database_url: str = DEFAULT_DATABASE_URL
    metrics_port: int = 9102
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    group_id: str = "gateway-results"
    batch_size: int = 1000
    poll_timeout: float = 0.2
    # Idempotency keys older than this are purged (at start, then hourly): the API's TTL.
    idempotency_ttl_hours: int = 24
    # The audit chain is verified (and its head exported and logged) this often (docs/integrate.md, Audit trail).
    audit_hmac_key: Secret = field(default_factory=lambda: Secret(DEV_AUDIT_HMAC_KEY))
    audit_check_seconds: float = 60.0

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "ResultsSettings":
        env = EnvReader() if env is None else env
        return cls(
            **cls.shared_from_env(env),
            kafka=KafkaSettings.from_env(env),
            group_id=env.text("RESULTS_GROUP_ID", cls.group_id),
            idempotency_ttl_hours=idempotency_ttl_hours(env),
            audit_hmac_key=env.secret("AUDIT_HMAC_KEY"),
            audit_check_seconds=env.number("AUDIT_CHECK_SECONDS", cls.audit_check_seconds),
        )


@dataclass(frozen=True, kw_only=True)
class WebhookSettings(WorkerSettings):
    """`python -m gateway_api.webhooks`: the webhook dispatcher."""

    database_url: str = DEFAULT_DATABASE_URL
    metrics_port: int = 9103
    secrets_key: Secret
    allow_private_urls: bool = False
    allowed_ports: tuple[int, ...] = STANDARD_PORTS
    retry_schedule: RetrySchedule = field(default_factory=lambda: RetrySchedule.parse(DEFAULT_RETRY_SCHEDULE))
    timeout_seconds: float = MAX_WEBHOOK_TIMEOUT_SECONDS
    # How long a claimed delivery stays invisible to other replicas; after a crash it is sent again
    # once this much time has passed. Must comfortably exceed the timeout.
    lease_seconds: float = 60.0
    concurrency: int = 32
    event_retention_days: int = 30
    poll_interval_seconds: float = 0.1
    stats_interval_seconds: float = 5.0
    purge_interval_seconds: float = 3600.0

    def __post_init__(self):
        if not 0 < self.timeout_seconds <= MAX_WEBHOOK_TIMEOUT_SECONDS:
            raise ConfigurationError(
                f"WEBHOOK_TIMEOUT_SECONDS must be above 0 and at most {MAX_WEBHOOK_TIMEOUT_SECONDS:g}"
            )
        if self.lease_seconds < 2 * self.timeout_seconds:
            raise ConfigurationError(
                "WEBHOOK_LEASE_SECONDS must be at least twice WEBHOOK_TIMEOUT_SECONDS "
                f"({2 * self.timeout_seconds:g}), or a slow delivery could be sent twice at once"
            )

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "WebhookSettings":
        env = EnvReader() if env is None else env
        return cls(
            **cls.shared_from_env(env),
            secrets_key=webhook_secrets_key(env),
            allow_private_urls=env.flag("WEBHOOK_ALLOW_PRIVATE_URLS", False),
            allowed_ports=webhook_allowed_ports(env),
            retry_schedule=_retry_schedule(env.text("WEBHOOK_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE)),
            timeout_seconds=env.number("WEBHOOK_TIMEOUT_SECONDS", MAX_WEBHOOK_TIMEOUT_SECONDS),
            lease_seconds=env.number("WEBHOOK_LEASE_SECONDS", cls.lease_seconds),
            concurrency=env.integer("WEBHOOK_CONCURRENCY", cls.concurrency, minimum=1),
            event_retention_days=env.integer("WEBHOOK_EVENT_RETENTION_DAYS", cls.event_retention_days, minimum=30),
        )


def webhook_allowed_ports(env: EnvReader) -> tuple[int, ...]:
    text = env.text("WEBHOOK_ALLOWED_PORTS", ",".join(map(str, STANDARD_PORTS)))
    try:
        ports = tuple(int(item) for item in text.split(","))
    except ValueError:
        ports = ()
    if not ports or not all(0 < port < 65536 for port in ports):
        raise ConfigurationError("WEBHOOK_ALLOWED_PORTS must be a comma-separated list of ports, e.g. 443,8443")
    return ports


def _retry_schedule(text: str) -> RetrySchedule:
    try:
        return RetrySchedule.parse(text)
    except ValueError as exc:
        raise ConfigurationError(f"WEBHOOK_RETRY_SCHEDULE: {exc} (e.g. {DEFAULT_RETRY_SCHEDULE})") from None
