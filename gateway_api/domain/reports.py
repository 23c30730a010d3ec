"""Financial reports: ledger totals per day, month or year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from infra.kernel.contracts import STATUS_APPROVED, STATUS_REJECTED

from gateway_api.domain.transactions import STATUS_PENDING

PERIODS = ("day", "month", "year")
# The status of a DailyTotal of succeeded refunds (by the day they were asked): refunded, then net.
REFUNDED = "refunded"
_LABEL_LENGTH = {"day": 10, "month": 7, "year": 4}


@dataclass(frozen=True)
class DailyTotal:
    """What the ledger aggregates: one (day, status, reason) group."""

    day: date
    status: str
    error_message: str
    count: int
    volume: Decimal


@dataclass
class PeriodReport:
    period: str
    approved_count: int = 0
    approved_volume: Decimal = Decimal("0.00")
    rejected_count: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    pending_count: int = 0
    refunded: Decimal = Decimal("0.00")

    @property
    def net(self) -> Decimal:
        """Approved volume minus what was refunded in the same period."""
        return self.approved_volume - self.refunded

    def add(self, total: DailyTotal) -> None:
        if total.status == STATUS_APPROVED:
            self.approved_count += total.count
            self.approved_volume += total.volume
        elif total.status == STATUS_REJECTED:
            self.rejected_count += total.count
            reason = total.error_message or ""
            self.rejected_by_reason[reason] = self.rejected_by_reason.get(reason, 0) + total.count
        elif total.status == STATUS_PENDING:
            self.pending_count += total.count
        elif total.status == REFUNDED:
            self.refunded += total.volume


def period_label(day: date, period: str) -> str:
    """``2026-11-23``, ``2026-11`` or ``2026``."""
    return day.isoformat()[: _LABEL_LENGTH[period]]


def roll_up(totals: list[DailyTotal], period: str) -> list[PeriodReport]:
    """Per-period reports, oldest first; periods without transactions are left out."""
    reports: dict[str, PeriodReport] = {}
    for total in totals:
        label = period_label(total.day, period)
        reports.setdefault(label, PeriodReport(label)).add(total)
    return [reports[label] for label in sorted(reports)]
