"""Time as every service keeps it: naive UTC datetimes inside, RFC 3339 with a ``Z`` at the edges.

Standard library only, so domain code may use it. Databases store naive UTC (SQLite has no time
zones, and MySQL's DATETIME neither), messages and JSON answers carry RFC 3339 text.
"""

from __future__ import annotations

from datetime import datetime, timezone


def utc_now() -> datetime:
    """Now, as naive UTC: the form every ledger, row and outcome holds."""
    return naive(datetime.now(timezone.utc))


def naive(moment: datetime) -> datetime:
    """``moment`` with its fields as they are and no tzinfo: ``moment.replace(tzinfo=None)``, in a
    fifth of its time (replace parses its keywords, then builds the result through the constructor,
    ~0.7 us; the processor reads a created_at per transaction)."""
    return datetime.combine(moment, moment.time())


def rfc3339(moment: datetime) -> str:
    """``2026-11-23T10:00:00.123456Z``: microseconds always, an aware moment converted to UTC first."""
    if moment.tzinfo is not None:
        moment = naive(moment.astimezone(timezone.utc))
    # Positional arguments: the keyword form costs a third more (the processor calls this twice a result).
    return moment.isoformat("T", "microseconds") + "Z"


def parse_rfc3339(value: object) -> datetime | None:
    """RFC 3339 text (without an offset it is taken as UTC) as naive UTC; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is timezone.utc:  # "Z" and "+00:00", the usual case: nothing to convert
            moment = naive(moment)
        elif moment.tzinfo is not None:
            moment = naive(moment.astimezone(timezone.utc))
    except (ValueError, OverflowError):
        return None
    return moment
