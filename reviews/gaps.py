"""The perception gap of a review, in numbers and in words. Pure: no Django, no ORM.

The gap of an item is theirs minus ours on the 1–5 scale: negative when the
stakeholder sees us lower than we see ourselves.
"""

from __future__ import annotations

from collections.abc import Mapping

# Within half a point both sides see the item alike: one step on a five-point scale
# is the smallest difference a person means.
ALIKE = 0.5


def item_gaps(ours: Mapping[str, int | None], theirs: Mapping[str, int | None]) -> dict[str, float]:
    """Theirs minus ours for every item both sides scored."""
    return {
        key: float(theirs[key] - ours[key])
        for key in ours
        if ours.get(key) is not None and theirs.get(key) is not None
    }


def mean_gap(gaps: Mapping[str, float]) -> float | None:
    return sum(gaps.values()) / len(gaps) if gaps else None


def largest_gap(gaps: Mapping[str, float]) -> tuple[str, float] | None:
    """The item whose sides differ most (the first in order among equals)."""
    if not gaps:
        return None
    key = max(gaps, key=lambda k: abs(gaps[k]))
    return key, gaps[key]


def gap_direction(gap: float | None) -> str | None:
    """ "lower" (they see us lower than we do), "higher", "alike", or None."""
    if gap is None:
        return None
    if abs(gap) < ALIKE:
        return "alike"
    return "lower" if gap < 0 else "higher"


def trend_direction(earlier: float | None, later: float | None) -> str | None:
    """Whether the gap is "narrowing", "widening" or "steady" from one review to the next."""
    if earlier is None or later is None:
        return None
    if abs(abs(later) - abs(earlier)) < ALIKE / 2:
        return "steady"
    return "narrowing" if abs(later) < abs(earlier) else "widening"
