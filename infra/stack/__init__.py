"""The development stack behind `make run` (not in the production image), also used by the end-to-end, browser and Prometheus tests."""

from infra.stack.settings import StackSettings
from infra.stack.stack import Stack, StackError

__all__ = ["Stack", "StackError", "StackSettings"]
