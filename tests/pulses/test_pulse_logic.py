"""The pure pulse functions: the comparison with trust, when a pulse is due, the trend."""

from datetime import date

import pytest

from metrics.pulse import (
    PULSE_DUE_DAYS,
    PULSE_GAP_THRESHOLD,
    pulse_due,
    pulse_gap,
    sparkline_points,
)
from relations.models import AuthenticityPulse


def test_a_pulse_well_above_trust_is_flagged_higher():
    gap = pulse_gap(0.85, 0.42)

    assert gap is not None
    assert gap.direction == "higher"
    assert (gap.pulse, gap.trust) == (0.85, 0.42)
    assert gap.size == pytest.approx(0.43)


def test_a_pulse_well_below_trust_is_flagged_lower():
    gap = pulse_gap(0.25, 0.8)

    assert gap is not None and gap.direction == "lower"


def test_a_gap_of_exactly_the_threshold_is_flagged_despite_float_noise():
    # 0.7 − 0.4 is 0.29999999999999993 in binary floating point.
    assert PULSE_GAP_THRESHOLD == 0.3
    assert pulse_gap(0.7, 0.4).direction == "higher"
    assert pulse_gap(0.4, 0.7).direction == "lower"


def test_close_values_and_missing_data_are_not_a_disagreement():
    assert pulse_gap(0.75, 0.5) is None
    assert pulse_gap(0.5, 0.75) is None
    assert pulse_gap(None, 0.5) is None
    assert pulse_gap(0.5, None) is None


def test_pulse_score_maps_one_to_five_onto_trusts_scale():
    def score(integrity: int, transparency: int, reliability: int) -> float:
        return AuthenticityPulse(
            integrity=integrity, transparency=transparency, reliability=reliability
        ).score

    assert score(1, 1, 1) == 0.0
    assert score(5, 5, 5) == 1.0
    assert score(4, 3, 5) == 0.75


def test_a_pulse_is_due_when_never_taken_or_ninety_days_old():
    today = date(2026, 6, 30)

    assert PULSE_DUE_DAYS == 90
    assert pulse_due(None, today)
    assert pulse_due(date(2026, 4, 1), today)  # 90 days
    assert not pulse_due(date(2026, 4, 2), today)  # 89 days
    assert not pulse_due(today, today)


def test_sparkline_points_span_the_width_oldest_first():
    assert sparkline_points([]) == ""
    assert sparkline_points([0.0, 1.0], width=100, height=24) == "0.0,22.0 100.0,2.0"
    # One pulse draws a flat line rather than a lone point.
    assert sparkline_points([0.5], width=100, height=24) == "0.0,12.0 100.0,12.0"
