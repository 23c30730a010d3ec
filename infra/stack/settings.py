"""Configuration of the local stack (`make run`): ports, data folder, dev credentials."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from infra.runtime.settings import (
    DEV_ADMIN_TOKEN,
    DEV_AUDIT_HMAC_KEY,
    DEV_CARD_DATA_KEYS,
    DEV_PANEL_SECRET_KEY,
    DEV_SECRET_PEPPER,
    DEV_WEBHOOK_SECRETS_KEY,
    ConfigurationError,
    EnvReader,
    Secret,
    weakness,
)
from infra.stack.console import LOG_FORMATS


@dataclass(frozen=True)
class StackSettings:
    host: str = "127.0.0.1"
    kafka_port: int = 9092
    api_port: int = 8000
    panel_port: int = 8001
    # /metrics of the API and the panel: listeners of their own (the gunicorn masters'), off the public ports.
    api_metrics_port: int = 9100
    panel_metrics_port: int = 9104
    processor_metrics_port: int = 9101
    results_metrics_port: int = 9102
    webhooks_metrics_port: int = 9103
    prometheus_port: int = 9090
    var_dir: Path = Path("var")
    # An external Kafka (KAFKA_BOOTSTRAP_SERVERS) replaces the embedded broker.
    external_kafka: str = ""
    topic_prefix: str = ""
    partitions: int = 6
    processor_database_url: str = ""
    gateway_database_url: str = ""
    # Development-only credentials by default (infra.runtime.settings refuses them without the opt-in):
    # `make run` prints them; deployments set their own (k8s Secret, .env).
    admin_token: Secret = field(default=Secret(DEV_ADMIN_TOKEN))
    secret_pepper: Secret = field(default=Secret(DEV_SECRET_PEPPER))
    panel_secret_key: Secret = field(default=Secret(DEV_PANEL_SECRET_KEY))
    card_data_keys: Secret = field(default=Secret(DEV_CARD_DATA_KEYS))
    webhook_secrets_key: Secret = field(default=Secret(DEV_WEBHOOK_SECRETS_KEY))
    audit_hmac_key: Secret = field(default=Secret(DEV_AUDIT_HMAC_KEY))
    # Local receivers (http://127.0.0.1:...) must work in development; deployments leave it false.
    webhook_allow_private_urls: bool = True
    with_prometheus: bool = True
    # The embedded broker slows down with what it stores: start it afresh once a partition holds this
    # many messages (0: never; infra/stack/broker_renewal.py), else warn past broker_warn_messages
    # (0: never), checked every broker_watch_seconds (infra/stack/broker_watch.py).
    broker_renew_messages: int = 10000
    broker_warn_messages: int = 5000
    broker_watch_seconds: float = 5
    log_level: str = "INFO"
    # The console's lines: readable in a terminal, JSON otherwise (auto); or always text / json.
    log_format: str = "auto"

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "StackSettings":
        env = env or EnvReader()
        return cls(
            host=env.text("STACK_HOST", cls.host),
            kafka_port=env.integer("KAFKA_PORT", cls.kafka_port, minimum=1),
            api_port=env.integer("GATEWAY_API_PORT", cls.api_port, minimum=1),
            panel_port=env.integer("PANEL_PORT", cls.panel_port, minimum=1),
            api_metrics_port=env.integer("API_METRICS_PORT", cls.api_metrics_port, minimum=1),
            panel_metrics_port=env.integer("PANEL_METRICS_PORT", cls.panel_metrics_port, minimum=1),
            processor_metrics_port=env.integer("PROCESSOR_METRICS_PORT", cls.processor_metrics_port, minimum=1),
            results_metrics_port=env.integer("RESULTS_METRICS_PORT", cls.results_metrics_port, minimum=1),
            webhooks_metrics_port=env.integer("WEBHOOKS_METRICS_PORT", cls.webhooks_metrics_port, minimum=1),
            prometheus_port=env.integer("PROMETHEUS_PORT", cls.prometheus_port, minimum=1),
            var_dir=Path(env.text("STACK_VAR_DIR", str(cls.var_dir))),
            external_kafka=env.text("KAFKA_BOOTSTRAP_SERVERS", ""),
            topic_prefix=env.text("KAFKA_TOPIC_PREFIX", ""),
            partitions=env.integer("KAFKA_TOPIC_PARTITIONS", cls.partitions, minimum=1),
            processor_database_url=env.text("PROCESSOR_DATABASE_URL", ""),
            gateway_database_url=env.text("GATEWAY_DATABASE_URL", ""),
            # Not checked here: weak values are what the stack is for; the services check them.
            admin_token=Secret(env.text("GATEWAY_ADMIN_TOKEN", DEV_ADMIN_TOKEN)),
            secret_pepper=Secret(env.text("GATEWAY_SECRET_PEPPER", DEV_SECRET_PEPPER)),
            panel_secret_key=Secret(env.text("PANEL_SECRET_KEY", DEV_PANEL_SECRET_KEY)),
            card_data_keys=Secret(env.text("CARD_DATA_KEYS", DEV_CARD_DATA_KEYS)),
            webhook_secrets_key=Secret(env.text("WEBHOOK_SECRETS_KEY", DEV_WEBHOOK_SECRETS_KEY)),
            audit_hmac_key=Secret(env.text("AUDIT_HMAC_KEY", DEV_AUDIT_HMAC_KEY)),
            webhook_allow_private_urls=env.flag("WEBHOOK_ALLOW_PRIVATE_URLS", cls.webhook_allow_private_urls),
            with_prometheus=env.flag("STACK_PROMETHEUS", cls.with_prometheus),
            broker_warn_messages=env.integer("EMBEDDED_BROKER_WARN_MESSAGES", cls.broker_warn_messages, minimum=0),
            broker_watch_seconds=env.number("EMBEDDED_BROKER_WATCH_SECONDS", cls.broker_watch_seconds),
            broker_renew_messages=env.integer("EMBEDDED_BROKER_RENEW_MESSAGES", cls.broker_renew_messages, minimum=0),
            log_level=env.text("LOG_LEVEL", cls.log_level),
            log_format=_log_format(env.text("LOG_FORMAT", cls.log_format)),
        )

    @property
    def uses_development_secrets(self) -> bool:
        """True when a secret is a development default or otherwise weak: the services then need
        ALLOW_DEVELOPMENT_SECRETS=true, which the stack sets and its banner announces."""
        secrets = (
            self.admin_token,
            self.secret_pepper,
            self.panel_secret_key,
            self.card_data_keys,
            self.webhook_secrets_key,
            self.audit_hmac_key,
        )
        return any(weakness(secret.reveal()) for secret in secrets)

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def panel_url(self) -> str:
        return f"http://{self.host}:{self.panel_port}"

    @property
    def processor_db(self) -> str:
        return self.processor_database_url or f"sqlite:///{(self.var_dir / 'processor.db').resolve()}"

    @property
    def gateway_db(self) -> str:
        return self.gateway_database_url or f"sqlite:///{(self.var_dir / 'gateway.db').resolve()}"

    @property
    def rate_limit_storage_url(self) -> str:
        """One SQLite file for the rate limit counters of every API and panel worker (docs/integrate.md, Rate limits)."""
        return f"sqlite:///{(self.var_dir / 'rate-limits.db').resolve()}"

    @property
    def kafka_bootstrap(self) -> str:
        return self.external_kafka or f"{self.host}:{self.kafka_port}"


def _log_format(value: str) -> str:
    if value.lower() not in LOG_FORMATS:
        raise ConfigurationError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, got {value!r}")
    return value.lower()
