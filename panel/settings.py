"""The panel's configuration, read once from the environment by the composition root."""

from __future__ import annotations

from dataclasses import dataclass, field

from infra.runtime.kafka import KafkaSettings
from infra.runtime.settings import ConfigurationError, EnvReader, Secret

MAX_CREDENTIAL_CHECK_SECONDS = 60


@dataclass(frozen=True)
class Settings:
    secret_key: Secret
    gateway_url: str = "http://127.0.0.1:8000"
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    # Behind TLS (every deployment but the laptop) the cookie must only travel over HTTPS.
    cookie_secure: bool = False
    session_hours: int = 12
    gateway_timeout_seconds: float = 5.0
    # How often an open live stream asks the API whether its session still works (at most 60 s).
    credential_check_seconds: int = MAX_CREDENTIAL_CHECK_SECONDS
    log_level: str = "INFO"
    # /metrics on a listener of its own (the gunicorn master's), never on the public port; 0: not served.
    metrics_port: int = 9104
    # False lets tests build an app without a broker; the running panel always consumes.
    consume_results: bool = True
    # Sign-in counters and live-stream leases, shared by every panel process (the API's store:
    # redis://... in compose and Kubernetes, one SQLite file under `make run`; memory://: this process).
    rate_limit_storage_url: str = "memory://"
    rate_limit_key_prefix: str = "panel"
    trusted_proxy_hops: int = 0  # 1 behind the ingress (infra.runtime.proxies): sign-in limits per real client

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "Settings":
        env = env or EnvReader()
        return cls(
            secret_key=env.secret("PANEL_SECRET_KEY"),
            gateway_url=env.text("PANEL_GATEWAY_URL", cls.gateway_url).rstrip("/"),
            kafka=KafkaSettings.from_env(env),
            cookie_secure=env.flag("PANEL_COOKIE_SECURE", cls.cookie_secure),
            session_hours=env.integer("PANEL_SESSION_HOURS", cls.session_hours, minimum=1),
            gateway_timeout_seconds=env.number("PANEL_GATEWAY_TIMEOUT_SECONDS", cls.gateway_timeout_seconds),
            credential_check_seconds=_credential_check_seconds(env),
            log_level=env.text("LOG_LEVEL", cls.log_level),
            rate_limit_storage_url=env.text("RATE_LIMIT_STORAGE_URL", "sqlite:///var/rate-limits.db"),
            rate_limit_key_prefix=env.text("RATE_LIMIT_KEY_PREFIX", cls.rate_limit_key_prefix),
            trusted_proxy_hops=env.integer("TRUSTED_PROXY_HOPS", 0, minimum=0),
            metrics_port=env.integer("METRICS_PORT", cls.metrics_port, minimum=0),
        )


def _credential_check_seconds(env: EnvReader) -> int:
    seconds = env.integer("PANEL_CREDENTIAL_CHECK_SECONDS", MAX_CREDENTIAL_CHECK_SECONDS, minimum=1)
    if seconds > MAX_CREDENTIAL_CHECK_SECONDS:
        raise ConfigurationError(
            f"PANEL_CREDENTIAL_CHECK_SECONDS must be at most {MAX_CREDENTIAL_CHECK_SECONDS}, "
            f"got {seconds}: a revoked session may not stream for longer"
        )
    return seconds
