"""Coaching signals: each rule triggers at its threshold and not below, with its reason."""

from datetime import date

import pytest

from dashboards.scorecards import (
    COACHING_DEFAULTS,
    CadenceFigures,
    CommitmentFigures,
    Period,
    Scorecard,
    coaching_signals,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PERIOD = Period(date(2026, 1, 1), date(2026, 3, 31))


@pytest.fixture
def person():
    return UserFactory(username="pat", first_name="Pat", last_name="Person")


def codes(card):
    return [s.code for s in coaching_signals(card, COACHING_DEFAULTS)]


def card(person, **figures):
    return Scorecard(period=PERIOD, user=person, **figures)


def test_a_fall_in_the_kept_share_of_fifteen_points_triggers(person):
    fell = card(
        person,
        commitments=CommitmentFigures(kept=6, broken=4),  # 60%
        previous_commitments=CommitmentFigures(kept=3, broken=1),  # 75%
    )
    (signal,) = coaching_signals(fell, COACHING_DEFAULTS)
    assert signal.code == "kept_share_fell"
    assert "Pat Person kept 6 of 10 promises" in signal.reason
    assert "3 of 4" in signal.reason
    assert "outcome=missed" in signal.url
    assert f"responsible={person.pk}" in signal.url
    assert "due_from=2026-01-01" in signal.url


def test_a_smaller_fall_or_too_few_promises_do_not(person):
    small = card(
        person,
        commitments=CommitmentFigures(kept=7, broken=3),  # 70%
        previous_commitments=CommitmentFigures(kept=3, broken=1),  # 75%
    )
    assert codes(small) == []
    few = card(
        person,
        commitments=CommitmentFigures(kept=0, broken=2),
        previous_commitments=CommitmentFigures(kept=5),
    )
    assert codes(few) == []
    nothing_before = card(person, commitments=CommitmentFigures(kept=0, broken=5))
    assert codes(nothing_before) == []


def test_many_overdue_promises_trigger(person):
    assert codes(card(person, commitments=CommitmentFigures(overdue=3))) == ["overdue_commitments"]
    assert codes(card(person, commitments=CommitmentFigures(overdue=2))) == []


def test_many_stakeholders_outside_cadence_trigger(person):
    outside = card(person, cadence=CadenceFigures(owned=10, within=5, overdue=3, never=2))
    (signal,) = coaching_signals(outside, COACHING_DEFAULTS)
    assert signal.code == "overdue_contacts"
    assert "5 of the 10 stakeholders Pat Person owns" in signal.reason
    assert "contact=outside" in signal.url
    assert codes(card(person, cadence=CadenceFigures(owned=10, within=6, overdue=4))) == []


def test_many_single_threaded_key_stakeholders_trigger(person):
    (signal,) = coaching_signals(card(person, single_threaded_key=5), COACHING_DEFAULTS)
    assert signal.code == "single_threaded"
    assert f"sole_thread={person.pk}" in signal.url
    assert codes(card(person, single_threaded_key=4)) == []


def test_thresholds_come_from_settings(person, settings):
    settings.SCORECARD_COACHING = {"single_threaded_key": 2}
    from dashboards.scorecards import coaching_thresholds

    assert codes(card(person, single_threaded_key=2)) == []  # explicit defaults
    signals = coaching_signals(card(person, single_threaded_key=2), coaching_thresholds())
    assert [s.code for s in signals] == ["single_threaded"]


def test_signals_are_supportive_not_judging(person):
    everything = card(
        person,
        commitments=CommitmentFigures(kept=1, broken=2, overdue=3),
        previous_commitments=CommitmentFigures(kept=5),
        cadence=CadenceFigures(owned=9, never=9),
        single_threaded_key=9,
    )
    signals = coaching_signals(everything, COACHING_DEFAULTS)
    assert len(signals) == 4
    for signal in signals:
        lowered = signal.reason.lower()
        assert not any(word in lowered for word in ("fail", "poor", "bad", "worst", "rank"))
        assert any(word in lowered for word in ("help", "relieve", "spreads"))
