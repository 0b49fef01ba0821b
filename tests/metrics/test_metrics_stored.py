"""Stored scores equal the DESIGN §3 formulas, worked by hand on a small fixture."""

import math
from datetime import timedelta
from decimal import Decimal

import pytest

from metrics import conf, recompute, row_sets, scored_objects, scoring, writeback
from metrics.models import (
    RelationshipScore,
    RelationshipScoreSnapshot,
    StakeholderScore,
    StakeholderScoreSnapshot,
)
from relations.models import Relationship
from tests.factories import CommitmentFactory, OutcomeFactory, StakeholderFactory, UserFactory
from tests.metrics.recomputing import relationship_scores_recompute, stakeholder_scores_recompute
from tests.metrics.timebase import T, days_before


@pytest.fixture
def world(manager, other_manager, stakeholder, log):
    """Maria and Sam: two interactions (one shared with Otto and a second stakeholder),
    five commitments, two outcomes; T is midnight UTC."""
    second = StakeholderFactory(name="Second")
    log(
        [manager],
        [stakeholder],
        occurred_at=days_before(180),  # weight 0.5
        kind="meeting",
        value_given=4,
        value_received=2,
        sentiment=2,
        duration_minutes=60,
    )
    log(
        [manager, other_manager],
        [stakeholder, second],
        occurred_at=T,  # weight 1
        kind="call",
        value_given=0,
        value_received=2,
        duration_minutes=30,
        cost=Decimal("50"),
    )
    mine = {"stakeholder": stakeholder, "responsible": manager}
    CommitmentFactory(**mine, due_date=days_before(180).date(), status="kept")
    CommitmentFactory(**mine, due_date=days_before(1).date(), status="open")  # overdue
    CommitmentFactory(**mine, due_date=(T + timedelta(days=10)).date(), status="open")
    CommitmentFactory(**mine, due_date=days_before(3).date(), status="cancelled")
    CommitmentFactory(
        stakeholder=stakeholder,
        responsible=other_manager,
        due_date=(T + timedelta(days=5)).date(),
        status="broken",
    )
    OutcomeFactory(
        stakeholder=stakeholder, credited_to=manager, value=1000, occurred_on=days_before(10).date()
    )
    OutcomeFactory(stakeholder=stakeholder, value=500, occurred_on=days_before(400).date())
    return {"second": second}


def test_stakeholder_scores_are_the_formulas_worked_by_hand(stakeholder, world):
    assert not StakeholderScore.objects.exists()

    stakeholder_scores_recompute([stakeholder.pk], at=T)

    score = StakeholderScore.objects.get(stakeholder=stakeholder)
    given, received = 0.5 * 4 + 1 * 0, 0.5 * 2 + 1 * 2
    assert score.given == pytest.approx(given)
    assert score.received == pytest.approx(received)
    assert score.reciprocity_balance == pytest.approx((given - received) / (given + received))
    assert score.reciprocity == pytest.approx(0.8)
    assert score.strength == pytest.approx(1 - math.exp(-(0.5 * 1.0 + 1 * 0.6) / 3))
    assert score.sentiment == pytest.approx(1.0)  # 0.5 + 0.25 · (0.5·2 / 0.5)
    # kept 0.5 (due 180 days ago); broken: the overdue open one and the broken one
    # due in the future (weight capped at 1); cancelled and not-yet-due ignored.
    kept_w, broken_w = 0.5, 2 ** (-1 / 180) + 1
    reliability = (kept_w + 1) / (kept_w + broken_w + 2)
    assert score.reliability == pytest.approx(reliability)
    assert score.trust == pytest.approx(0.4 * reliability + 0.3 * 1.0 + 0.3 * 0.8)
    # 1 h · 1 colleague · 100 ; (0.5 h · 2 colleagues · 100 + 50) shared by 2 stakeholders
    assert score.investment == pytest.approx(100 + 75)
    assert score.return_value == pytest.approx(1000)  # the 500 is outside the window
    assert score.ror == pytest.approx((1000 - 175) / 175)
    assert score.last_contact == T
    assert score.days_since_contact == 0
    assert score.overdue is False
    assert score.computed_at == T
    assert score.explanation["given"]["value"] == pytest.approx(given)
    assert {item["type"] for item in score.explanation["reliability"]["top"]} == {"commitment"}


def test_relationship_scores_use_only_the_pairs_rows(manager, stakeholder, world):
    relationship = Relationship.objects.get(user=manager, stakeholder=stakeholder)

    relationship_scores_recompute([relationship.pk], at=T)

    score = RelationshipScore.objects.get(relationship=relationship)
    assert score.given == pytest.approx(2.0)
    assert score.received == pytest.approx(3.0)
    # Maria's commitments only: kept 0.5, the overdue one broken.
    assert score.reliability == pytest.approx(1.5 / (0.5 + 2 ** (-1 / 180) + 2))
    # (1 h · 100 + 0) / 1 ; (0.5 h · 100 + 50 / 2 colleagues) / 2 stakeholders
    assert score.investment == pytest.approx(100 + 37.5)
    assert score.return_value == pytest.approx(1000)  # credited to Maria
    assert RelationshipScore.objects.count() == 1


def test_stored_values_equal_score_groups_output(stakeholder, world):
    """Everything stored is what the maths module returns for the same rows."""
    second = world["second"]
    stakeholder_scores_recompute([stakeholder.pk, second.pk], at=T)

    groups = scored_objects.stakeholder_groups([stakeholder.pk, second.pk])
    cfg = conf.score_settings()
    rows = row_sets.few_read(groups.stakeholder_ids, (), T, cfg)
    expected = scoring.score_groups(
        len(groups),
        *row_sets.rows_of(groups, rows),
        at=T.timestamp(),
        level=scoring.Level.STAKEHOLDER,
        settings=cfg,
    )
    for g, stakeholder_id in enumerate(groups.object_ids.tolist()):
        stored = StakeholderScore.objects.get(stakeholder_id=stakeholder_id)
        row = expected.row(g)
        for name in scoring.SCORE_FIELDS:
            field = "return_value" if name == "return" else name
            value = getattr(stored, field)
            if name == "last_contact":
                value = None if value is None else value.timestamp()
            assert value == row[name], (stakeholder_id, name)
        assert stored.explanation == expected.explanation_for(g)


def test_nothing_to_score_stores_nulls_not_defaults(manager):
    lonely = StakeholderFactory(owner=manager)

    stakeholder_scores_recompute([lonely.pk], at=T)

    score = StakeholderScore.objects.get(stakeholder=lonely)
    assert score.trust is None and score.strength is None and score.reciprocity is None
    assert score.last_contact is None and score.days_since_contact is None
    assert score.overdue is None
    assert score.at_risk is False and score.risk_reasons == []


def test_at_risk_reasons_low_trust_and_key_overdue(manager, log):
    key = StakeholderFactory(importance=5, owner=manager)  # cadence 30 days
    log(
        [manager],
        [key],
        occurred_at=days_before(50),  # more than 1.5 × 30 days ago
        value_given=5,
        value_received=0,
        sentiment=-2,
    )

    stakeholder_scores_recompute([key.pk], at=T)

    score = StakeholderScore.objects.get(stakeholder=key)
    assert score.at_risk is True
    codes = {reason["code"] for reason in score.risk_reasons}
    # trust = (0.3 · 0 + 0.3 · 0) / 0.6 = 0; reciprocity 0 with G + R = 5·w ≥ 2
    assert codes == {"low_trust", "key_overdue", "low_reciprocity"}
    assert score.days_since_contact == 50 and score.overdue is True


def test_trust_fall_against_the_snapshot_90_days_earlier(stakeholder, world):
    StakeholderScoreSnapshot.objects.create(
        stakeholder=stakeholder, date=days_before(90).date(), trust=0.95
    )

    stakeholder_scores_recompute([stakeholder.pk], at=T)

    score = StakeholderScore.objects.get(stakeholder=stakeholder)
    assert score.trust < 0.8
    assert [r["code"] for r in score.risk_reasons] == ["trust_falling"]


def test_snapshots_are_upserted_per_day(manager, stakeholder, world):
    stakeholder_scores_recompute([stakeholder.pk], at=T)
    relationship_scores_recompute(Relationship.objects.values_list("pk", flat=True), at=T)
    day = T.date()

    writeback.snapshots_write(day)
    first = StakeholderScoreSnapshot.objects.get(stakeholder=stakeholder, date=day)
    assert first.trust == StakeholderScore.objects.get(stakeholder=stakeholder).trust
    assert RelationshipScoreSnapshot.objects.filter(date=day).count() == 4  # 2 users × 2

    # Later that day the scores change: the same day's snapshot is replaced, not duplicated.
    StakeholderScore.objects.filter(stakeholder=stakeholder).update(trust=0.123, at_risk=True)
    writeback.snapshots_write(day)

    again = StakeholderScoreSnapshot.objects.get(stakeholder=stakeholder, date=day)
    assert (again.pk, again.trust, again.at_risk) == (first.pk, 0.123, True)
    assert StakeholderScoreSnapshot.objects.filter(date=day).count() == 1


def test_contact_status_moves_with_the_clock(manager, stakeholder, log):
    log([manager], [stakeholder], occurred_at=days_before(40))
    stakeholder_scores_recompute([stakeholder.pk], at=T)
    score = StakeholderScore.objects.get(stakeholder=stakeholder)
    assert (score.days_since_contact, score.overdue) == (40, False)  # cadence 45

    assert score.contact_status(now=T + timedelta(days=6)) == (46, True)


def test_relationship_of_an_unrelated_user_is_not_scored(stakeholder, world):
    outsider = UserFactory(username="olga")

    stored = relationship_scores_recompute(pairs=[(outsider.pk, stakeholder.pk)], at=T)

    assert stored == 0
    assert not RelationshipScore.objects.exists()


def test_full_recomputation_keeps_a_later_stakeholders_commitments_to_themselves(
    manager, other_manager, stakeholder, log
):
    """Relationship rows are keyed by user and stakeholder: a commitment or an outcome
    of a stakeholder nobody has a relationship with yet (here the newest, with the
    highest id) must not land on another user's relationship."""
    log([manager], [stakeholder], occurred_at=days_before(10), value_given=1)
    log([other_manager], [stakeholder], occurred_at=days_before(10), value_given=1)
    # Relationship keys are user × (largest related stakeholder id + 1) + stakeholder.
    users = sorted([manager, other_manager], key=lambda u: u.pk)
    newcomer_id = stakeholder.pk + (stakeholder.pk + 1) * (users[1].pk - users[0].pk)
    newcomer = StakeholderFactory(pk=newcomer_id, name="Newcomer")
    CommitmentFactory(
        stakeholder=newcomer, responsible=users[0], due_date=days_before(5).date(), status="broken"
    )
    OutcomeFactory(
        stakeholder=newcomer, credited_to=users[0], value=700, occurred_on=days_before(5).date()
    )

    recompute.scores_recompute_all(at=T)

    for relationship in Relationship.objects.filter(stakeholder=stakeholder):
        score = RelationshipScore.objects.get(relationship=relationship)
        assert (score.reliability, score.return_value) == (None, 0)
