"""The authenticity pulse beside computed trust: pure functions, no ORM.

A pulse is the owner's own 1–5 assessment of integrity, transparency and
reliability, mapped to the 0–1 scale of trust (`AuthenticityPulse.score`). These
functions compare the two, say when a pulse is due, and draw its trend.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

# One step on the 1–5 pulse scale is 0.25 on the 0–1 trust scale: a gap of 0.3 is
# more than a full step on every dimension, so it is a real disagreement between
# what the owner feels and what the logged data says, not rounding.
PULSE_GAP_THRESHOLD = 0.3
# The product rule: the manager home reminds the owner of a key relationship that
# has had no pulse for 90 days.
PULSE_DUE_DAYS = 90
# The relationship page lists this many pulses; the trend covers the same ones.
PULSE_HISTORY_ROWS = 12
# Floating-point noise (0.7 − 0.4 = 0.29999…) must not hide a gap of exactly 0.3.
_GAP_PRECISION = 9
# The same rounding in SQL (`metrics.querysets.relationships_with_review`): a gap that
# rounds to the threshold at `_GAP_PRECISION` places counts as reaching it.
PULSE_GAP_TOLERANCE = 0.5 * 10**-_GAP_PRECISION


@dataclass(frozen=True)
class PulseGap:
    """A strong disagreement: `direction` says whether the pulse is above or below trust."""

    direction: Literal["higher", "lower"]
    pulse: float
    trust: float

    @property
    def size(self) -> float:
        return round(abs(self.pulse - self.trust), _GAP_PRECISION)


def pulse_gap(
    pulse: float | None, trust: float | None, threshold: float = PULSE_GAP_THRESHOLD
) -> PulseGap | None:
    """The disagreement between a pulse and computed trust, or None when they agree
    (or when either is missing: no data is not a disagreement)."""
    if pulse is None or trust is None:
        return None
    if round(abs(pulse - trust), _GAP_PRECISION) < threshold:
        return None
    return PulseGap(direction="higher" if pulse > trust else "lower", pulse=pulse, trust=trust)


def pulse_due(last_pulse_on: date | None, today: date, days: int = PULSE_DUE_DAYS) -> bool:
    """Whether a new pulse is due: never taken, or the last one `days` or more ago."""
    return last_pulse_on is None or last_pulse_on <= today - timedelta(days=days)


def pulse_due_cutoff(today: date, days: int = PULSE_DUE_DAYS) -> date:
    """Pulses dated after this day count as recent (the same rule as `pulse_due`)."""
    return today - timedelta(days=days)


def sparkline_points(values: list[float], width: int = 120, height: int = 28) -> str:
    """SVG polyline points of 0–1 values, oldest first; empty when there are none."""
    if not values:
        return ""
    if len(values) == 1:
        values = [values[0], values[0]]
    step = width / (len(values) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - max(0.0, min(1.0, v)) * (height - 4):.1f}"
        for i, v in enumerate(values)
    )
