"""Amounts: Decimal with at most two decimal places, kept as integer cents in the ledger.

The rule itself is shared with the processor and lives in :mod:`infra.kernel.money`.
"""
from __future__ import annotations

from infra.kernel.money import AMOUNT_PATTERN, AmountError, format_amount, from_cents, parse_amount, to_cents

__all__ = ["AMOUNT_PATTERN", "AmountError", "format_amount", "from_cents", "parse_amount", "to_cents"]
