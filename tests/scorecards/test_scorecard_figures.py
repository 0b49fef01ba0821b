"""Scorecard figures against the known portfolio of conftest.py."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from dashboards.scorecards import Period, scorecards_for, sort_cards, team_total

pytestmark = pytest.mark.django_db


def card_of(user, period=None):
    (card,) = scorecards_for([user], period or Period.last(90))
    return card


def test_commitments_count_the_period_and_compare_with_the_one_before(world, manager):
    card = card_of(manager)
    now, before = card.commitments, card.previous_commitments
    assert (now.kept, now.broken, now.overdue, now.pending) == (3, 1, 2, 1)
    assert now.counted == 6
    assert now.kept_share == pytest.approx(0.5)
    assert now.broken_share == pytest.approx(1 / 6)
    assert now.overdue_share == pytest.approx(2 / 6)
    assert (before.kept, before.broken, before.overdue, before.counted) == (4, 0, 0, 4)
    assert before.kept_share == 1.0
    assert card.kept_share_change == pytest.approx(-0.5)


def test_cadence_adherence_as_of_the_end_of_each_period(world, manager):
    card = card_of(manager)
    cadence = card.cadence
    assert (cadence.owned, cadence.within, cadence.overdue, cadence.never) == (4, 2, 1, 1)
    assert cadence.adherence == 0.5
    assert cadence.outside == 2
    previous = card.previous_cadence
    assert (previous.within, previous.never) == (1, 3)
    assert card.adherence_change == pytest.approx(0.25)


def test_reciprocity_over_relationships_not_ended(world, manager):
    reciprocity = card_of(manager).reciprocity
    assert reciprocity.relationships == 3
    assert reciprocity.active == 2
    assert (reciprocity.given, reciprocity.received) == (4.0, 6.0)
    assert reciprocity.balance == pytest.approx(-0.2)
    assert reciprocity.taking == 1


def test_portfolio_health_and_ror_of_what_they_own(world, manager):
    portfolio = card_of(manager).portfolio
    assert portfolio.mean_trust == pytest.approx(0.5)
    assert portfolio.mean_strength == pytest.approx(0.4)
    assert portfolio.at_risk == 1
    assert (portfolio.return_value, portfolio.investment) == (1000.0, 300.0)
    assert portfolio.ror == pytest.approx(7 / 3)


def test_breadth_counts_only_key_stakeholders_with_them_as_sole_thread(world, manager):
    card = card_of(manager)
    assert card.single_threaded_key == 2
    assert card.reciprocity.active == 2


def test_trend_comes_from_daily_snapshots(world, manager):
    card = card_of(manager)
    assert [round(p.mean_trust, 3) for p in card.trend] == [0.6, 0.55]
    assert card.trust_change == pytest.approx(-0.05)


def test_a_past_custom_period_counts_its_own_promises_and_contacts(world, manager):
    today = timezone.localdate()
    period = Period(today - timedelta(days=179), today - timedelta(days=90))
    card = card_of(manager, period)
    assert card.commitments.kept == 4
    assert card.commitments.kept_share == 1.0
    assert card.cadence.within == 1  # only the meeting 100 days ago had happened
    assert card.previous_commitments.counted == 0
    assert card.kept_share_change is None


def test_someone_without_anything_has_empty_figures_not_invented_ones(world, director):
    card = card_of(director)
    assert card.commitments.kept_share is None
    assert card.cadence.adherence is None
    assert card.reciprocity.balance is None
    assert card.portfolio.mean_trust is None
    assert card.portfolio.ror is None
    assert card.signals == []


def test_the_team_total_is_over_stakeholders_not_a_mean_of_people(world, manager, other_manager):
    cards = scorecards_for([manager, other_manager], Period.last(90))
    total = team_total(cards, Period.last(90))
    assert total.commitments.broken == 2  # Maria's and Otto's
    # Trust of Alba, Bram, Dirk (Maria) and Erik (Otto): (0.8+0.3+0.4+0.9)/4.
    assert total.portfolio.mean_trust == pytest.approx(0.6)
    assert total.portfolio.at_risk == 2
    assert total.single_threaded_key == 3  # Alba and Gina (Maria), Fay (Otto)


def test_sorting_puts_missing_figures_last_and_reverses_with_a_minus(world, manager, director):
    cards = scorecards_for([manager, director], Period.last(90))
    assert [c.user for c in sort_cards(cards, "kept_share")] == [manager, director]
    assert [c.user for c in sort_cards(cards, "-kept_share")] == [manager, director]
    assert [c.user for c in sort_cards(cards, "overdue")] == [manager, director]
    assert [c.user for c in sort_cards(cards, "-name")][0] == manager  # Maria after Dana


def test_period_arithmetic():
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    assert period.days == 90
    assert period.previous() == Period(date(2025, 10, 3), date(2025, 12, 31))
    assert Period.last(30, date(2026, 1, 30)) == Period(date(2026, 1, 1), date(2026, 1, 30), 30)
