"""Reading configuration from environment variables, in one place per service.

Each service defines a frozen ``Settings`` dataclass with ``from_env(environ=os.environ)`` that reads
its values through an :class:`EnvReader`. The reader remembers every name it was asked for, which
lets the deployment tests prove that manifests set only variables the code reads (no drift).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field


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


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class EnvReader:
    """Typed access to an environment mapping that records which names were read."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = os.environ if environ is None else environ
        self.names_read: set[str] = set()
        self.names_required: set[str] = set()

    def _raw(self, name: str) -> str | None:
        self.names_read.add(name)
        value = self._environ.get(name)
        return None if value is None or value.strip() == "" else value.strip()

    def str(self, name: str, default: str) -> str:
        value = self._raw(name)
        return default if value is None else value

    def required(self, name: str) -> str:
        self.names_required.add(name)
        value = self._raw(name)
        if value is None:
            raise ConfigurationError(f"environment variable {name} is required")
        return value

    def int(self, name: str, default: int, minimum: int | None = None) -> int:
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

    def float(self, name: str, default: float) -> float:
        value = self._raw(name)
        if value is None:
            return default
        try:
            return float(value)
        except ValueError:
            raise ConfigurationError(f"{name} must be a number, got {value!r}") from None

    def bool(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ConfigurationError(f"{name} must be true or false, got {value!r}")

    def secret(self, name: str, default: str | None = None) -> Secret:
        if default is None:
            return Secret(self.required(name))
        return Secret(self.str(name, default))
