"""Reading configuration from environment variables, in one place per service.

Each service defines a frozen ``Settings`` dataclass with ``from_env(environ=os.environ)`` that reads
its values through an :class:`EnvReader`. The reader remembers every name it was asked for, which
lets the deployment tests prove that manifests set only variables the code reads (no drift).

Secrets are checked here, once for every service: a secret that is a template placeholder
(``change-me...``), a development default of ``make run`` or (for the keys the gateway itself
authenticates and encrypts with) shorter than 32 characters stops the process at start, with a
one-line message naming the variable. ``make run`` and the tests opt in to weak values on purpose
with ``ALLOW_DEVELOPMENT_SECRETS=true``; no deployment sets it (tests/deploy checks).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypeVar
from urllib.parse import unquote, urlsplit


class ConfigurationError(ValueError):
    """A required variable is missing or a value cannot be parsed."""


@dataclass(frozen=True)
class Secret:
    """A value that must never appear in logs, reprs or error messages."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


# -- what counts as weak --------------------------------------------------------------------------

DEVELOPMENT_SECRETS_OPT_IN = "ALLOW_DEVELOPMENT_SECRETS"
MIN_SECRET_LENGTH = 32
PLACEHOLDER_PREFIX = "change-me"

# Development-only values: `make run` uses them (and prints them), so everybody knows them.
DEV_ADMIN_TOKEN = "dev-admin-token"
DEV_SECRET_PEPPER = "dev-pepper-not-for-production"
DEV_PANEL_SECRET_KEY = "dev-panel-key-not-for-production"
# One AES-256 key with the id "dev": the 32 bytes of "dev-card-data-key-not-for-prod!!".
DEV_CARD_DATA_KEYS = "dev:ZGV2LWNhcmQtZGF0YS1rZXktbm90LWZvci1wcm9kISE="
# The 32 bytes of "dev-webhook-secrets-key-not-prod", base64 (WEBHOOK_SECRETS_KEY).
DEV_WEBHOOK_SECRETS_KEY = "ZGV2LXdlYmhvb2stc2VjcmV0cy1rZXktbm90LXByb2Q="
# Authenticates the audit trail's entries (HMAC-SHA256); the database never holds it.
DEV_AUDIT_HMAC_KEY = "dev-audit-hmac-key-not-for-production"
DEVELOPMENT_VALUES = frozenset(
    {
        DEV_ADMIN_TOKEN,
        DEV_SECRET_PEPPER,
        DEV_PANEL_SECRET_KEY,
        DEV_CARD_DATA_KEYS,
        DEV_WEBHOOK_SECRETS_KEY,
        DEV_AUDIT_HMAC_KEY,
    }
)

HOW_TO_GENERATE = "generate one with `openssl rand -base64 32`"


def weakness(value: str, min_length: int = MIN_SECRET_LENGTH) -> str | None:
    """Why ``value`` must not guard a deployment, or None. Never quotes the value itself."""
    if not value:
        return "is empty"
    if value.lower().startswith(PLACEHOLDER_PREFIX):
        return f"is a template placeholder ({PLACEHOLDER_PREFIX}...)"
    if value in DEVELOPMENT_VALUES:
        return "is a development default of `make run`"
    if len(value) < min_length:
        return f"is shorter than {min_length} characters"
    return None


# -- reading --------------------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvReader:
    """Typed access to an environment mapping that records which names were read.

    ``check_secrets=False`` reads weak secrets without complaint: only for the configuration-drift
    test, which checks names, not values (deployment templates hold placeholders on purpose).
    """

    def __init__(self, environ: Mapping[str, str] | None = None, check_secrets: bool = True):
        self._environ = os.environ if environ is None else environ
        self._check_secrets = check_secrets
        self.names_read: set[str] = set()
        self.names_required: set[str] = set()

    def _raw(self, name: str) -> str | None:
        self.names_read.add(name)
        value = self._environ.get(name)
        return None if value is None or value.strip() == "" else value.strip()

    def text(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value is None else value

    def required(self, name: str) -> str:
        self.names_required.add(name)
        value = self._raw(name)
        if value is None:
            raise ConfigurationError(f"environment variable {name} is required")
        return value

    def integer(self, name: str, default: int, minimum: int | None = None) -> int:
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise ConfigurationError(f"{name} must be an integer, got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ConfigurationError(f"{name} must be at least {minimum}, got {number}")
        return number

    def number(self, name: str, default: float) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise ConfigurationError(f"{name} must be a number, got {value!r}") from None

    def flag(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigurationError(f"{name} must be true or false, got {value!r}")

    def secret(self, name: str, default: str | None = None, min_length: int = MIN_SECRET_LENGTH) -> Secret:
        """A required secret (``default`` None) or an optional one; a value given is checked.

        ``min_length`` is 32 for what the gateway itself authenticates or encrypts with; credentials
        another system issues (a Kafka or database password) pass 1: their length is that system's
        policy (Strimzi generates 12-character SCRAM passwords), but placeholders are still refused.
        """
        value = self.required(name) if default is None else self.text(name, default)
        if default is None or value != default:
            self.check_strength(name, value, min_length)
        return Secret(value)

    def database_url(self, name: str, default: str) -> str:
        """A SQLAlchemy URL whose password, if any, must not be a placeholder."""
        url = self.text(name, default)
        password = urlsplit(url).password
        if password:
            self.check_strength(name, unquote(password), min_length=1, what=f"the password in {name}")
        return url

    def check_strength(self, name: str, value: str, min_length: int = MIN_SECRET_LENGTH, what: str = "") -> None:
        advice = HOW_TO_GENERATE if min_length >= MIN_SECRET_LENGTH else ""
        self.refuse_if_weak(what or name, weakness(value, min_length), advice)

    def refuse_if_weak(self, what: str, reason: str | None, advice: str = HOW_TO_GENERATE) -> None:
        """Raise the one-line refusal for ``what`` unless it is strong or weak values are allowed."""
        if reason is None or self.development_secrets_allowed():
            return
        raise ConfigurationError(f"{what} {reason}: set a real secret" + (f" ({advice})" if advice else ""))

    def development_secrets_allowed(self) -> bool:
        return not self._check_secrets or self.flag(DEVELOPMENT_SECRETS_OPT_IN, False)


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """The fields every service with a database reads the same way; a service's ``Settings``
    subclasses it (redeclaring ``database_url`` with its own default) and passes
    ``**cls.shared_from_env(env)`` along with its own fields."""

    database_url: str = ""
    # Migrate at start (SQLite files, by default); a shared MySQL is migrated by the release's job.
    auto_migrate: bool = True
    log_level: str = "INFO"

    @classmethod
    def shared_from_env(cls, env: EnvReader) -> dict:
        from infra.runtime.db import migrates_itself  # SQLAlchemy only for services that have a database

        database_url = env.database_url("DATABASE_URL", cls.database_url)  # the field's default
        return {
            "database_url": database_url,
            "auto_migrate": env.flag("AUTO_MIGRATE", migrates_itself(database_url)),
            "log_level": env.text("LOG_LEVEL", "INFO"),
        }


@dataclass(frozen=True, kw_only=True)
class WorkerSettings(ServiceSettings):
    """A background worker (a Kafka consumer, the webhook dispatcher): it also serves /metrics,
    /healthz and /readyz (``infra.runtime.health``) on ``metrics_port``."""

    metrics_port: int = 0  # 0 disables the endpoints
    # /healthz fails when the worker's loop has not turned for this long (a call that never returns).
    liveness_stall_seconds: int = 60

    @classmethod
    def shared_from_env(cls, env: EnvReader) -> dict:
        return super().shared_from_env(env) | {
            "metrics_port": env.integer("METRICS_PORT", cls.metrics_port, minimum=0),
            "liveness_stall_seconds": env.integer("LIVENESS_STALL_SECONDS", cls.liveness_stall_seconds, minimum=1),
        }


@dataclass(frozen=True)
class MigrationSettings:
    """What a ``migrate`` command reads: its database and log level, no Kafka, no keys or tokens
    (least privilege for the migration jobs). Each service subclasses it with its default URL."""

    database_url: str
    log_level: str = "INFO"
    DEFAULT_DATABASE_URL: ClassVar[str] = ""

    @classmethod
    def from_env(cls, env: EnvReader | None = None) -> "MigrationSettings":
        env = EnvReader() if env is None else env
        return cls(env.database_url("DATABASE_URL", cls.DEFAULT_DATABASE_URL), env.text("LOG_LEVEL", "INFO"))


S = TypeVar("S")


def from_env_or_exit(settings_class: type[S], hint: str = "") -> S:
    """``settings_class.from_env()``, or one line on stderr naming the variable and exit code 2.

    For entry points (``python -m ...``, gunicorn configs): a stack trace would bury the one line
    an operator needs. ``hint`` ends that line: where the values are to be found.
    """
    try:
        return settings_class.from_env()
    except ConfigurationError as exc:
        print(f"configuration error: {exc}" + (f" ({hint})" if hint else ""), file=sys.stderr, flush=True)
        raise SystemExit(2) from None
