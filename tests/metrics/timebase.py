"""A fixed "now" for hand-computed numbers: midnight UTC, so dates weigh exact powers of 2."""

from datetime import UTC, datetime, timedelta

T = datetime(2026, 6, 1, tzinfo=UTC)


def days_before(days: float) -> datetime:
    return T - timedelta(days=days)
