"""Committed changes mark exactly the scores they touch, and the worker recomputes them."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from metrics import recompute, tasks
from metrics.models import PendingRecompute, RelationshipScore, StakeholderScore
from relations.models import Commitment, Interaction, Outcome, Relationship
from relations.services import commitment_set_status, interaction_delete, interaction_update
from tests.factories import OutcomeFactory, StakeholderFactory, UserFactory


def markers() -> set[tuple]:
    return set(PendingRecompute.objects.values_list("user_id", "stakeholder_id"))


@pytest.fixture
def queued(monkeypatch):
    """Record the tasks queued after commit instead of running them."""
    calls = []
    monkeypatch.setattr(tasks.recompute_pending, "delay", lambda *a, **k: calls.append(a))
    return calls


@pytest.fixture
def trio(manager):
    return [StakeholderFactory(name=n, owner=manager) for n in ("Ann", "Bob", "Cyd")]


def test_logging_an_interaction_marks_exactly_its_stakeholders_and_pairs(
    manager, other_manager, trio, log, queued, django_capture_on_commit_callbacks
):
    ann, bob, cyd = trio
    assert markers() == set()

    with django_capture_on_commit_callbacks(execute=True):
        log([manager, other_manager], [ann, bob], value_given=3)

    m, o = manager.pk, other_manager.pk
    assert markers() == {
        (None, ann.pk),
        (None, bob.pk),
        (m, ann.pk),
        (m, bob.pk),
        (o, ann.pk),
        (o, bob.pk),
    }
    assert len(queued) == 1  # one task per transaction, however many signals fired


def test_logged_interaction_updates_only_the_touched_scores(
    manager, trio, log, django_capture_on_commit_callbacks
):
    ann, bob, cyd = trio
    with django_capture_on_commit_callbacks(execute=True):
        log([manager], [ann, bob, cyd], value_given=1)
    before = {s.stakeholder_id: s.given for s in StakeholderScore.objects.all()}
    assert set(before) == {ann.pk, bob.pk, cyd.pk}
    assert RelationshipScore.objects.count() == 3
    cyd_score = StakeholderScore.objects.get(stakeholder=cyd)

    with django_capture_on_commit_callbacks(execute=True):
        log([manager], [ann, bob], value_given=5)

    after = {s.stakeholder_id: s for s in StakeholderScore.objects.all()}
    assert after[ann.pk].given > before[ann.pk]
    assert after[bob.pk].given > before[bob.pk]
    assert after[cyd.pk].computed_at == cyd_score.computed_at  # untouched
    assert after[cyd.pk].given == before[cyd.pk]
    mine = RelationshipScore.objects.filter(relationship__user=manager)
    assert mine.get(relationship__stakeholder=ann).given == after[ann.pk].given
    assert not PendingRecompute.objects.exists()


def test_edit_and_delete_recompute_the_stakeholders_before_and_after(
    manager, trio, log, django_capture_on_commit_callbacks
):
    ann, bob, cyd = trio
    with django_capture_on_commit_callbacks(execute=True):
        interaction = log([manager], [ann, bob], value_given=4, value_received=4)
    assert StakeholderScore.objects.get(stakeholder=bob).given > 0

    # Bob leaves the interaction, Cyd joins: all three change.
    with django_capture_on_commit_callbacks(execute=True):
        interaction_update(
            Interaction.objects.get(pk=interaction.pk), by=manager, stakeholders=[ann, cyd]
        )
    scores = {s.stakeholder_id: s for s in StakeholderScore.objects.all()}
    assert scores[bob.pk].given == 0 and scores[bob.pk].strength is None
    assert scores[cyd.pk].given > 0
    bob_pair = RelationshipScore.objects.get(
        relationship__user=manager, relationship__stakeholder=bob
    )
    assert bob_pair.strength is None

    with django_capture_on_commit_callbacks(execute=True):
        interaction_delete(Interaction.objects.get(pk=interaction.pk), by=manager)
    scores = {s.stakeholder_id: s for s in StakeholderScore.objects.all()}
    assert scores[ann.pk].strength is None and scores[cyd.pk].strength is None
    assert not PendingRecompute.objects.exists()


def test_participant_removed_through_the_reverse_side_is_marked(
    manager, other_manager, trio, log, queued, django_capture_on_commit_callbacks
):
    ann = trio[0]
    with django_capture_on_commit_callbacks(execute=True):
        interaction = log([manager, other_manager], [ann])
    PendingRecompute.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        other_manager.interactions.remove(interaction)

    # Otto's pair is marked before he leaves; Maria's share of the cost changed too.
    assert markers() == {(None, ann.pk), (manager.pk, ann.pk), (other_manager.pk, ann.pk)}


def test_commitment_status_updates_reliability_of_stakeholder_and_responsible(
    manager, trio, log, django_capture_on_commit_callbacks
):
    ann = trio[0]
    with django_capture_on_commit_callbacks(execute=True):
        log(
            [manager],
            [ann],
            commitments=[
                {
                    "stakeholder": ann,
                    "responsible": manager,
                    "description": "Send the report",
                    "due_date": timezone.localdate() + timedelta(days=3),
                }
            ],
        )
    assert StakeholderScore.objects.get(stakeholder=ann).reliability is None  # not due yet

    with django_capture_on_commit_callbacks(execute=True):
        commitment_set_status(Commitment.objects.get(), by=manager, status="kept")

    assert StakeholderScore.objects.get(stakeholder=ann).reliability == pytest.approx(2 / 3)
    relationship = RelationshipScore.objects.get(relationship__user=manager)
    assert relationship.reliability == pytest.approx(2 / 3)


def test_outcome_moved_to_another_person_marks_both_pairs(
    manager, other_manager, trio, queued, django_capture_on_commit_callbacks
):
    ann = trio[0]
    with django_capture_on_commit_callbacks(execute=True):
        outcome = OutcomeFactory(stakeholder=ann, credited_to=manager, value=100)
    assert markers() == {(None, ann.pk), (manager.pk, ann.pk)}
    PendingRecompute.objects.all().delete()

    with django_capture_on_commit_callbacks(execute=True):
        outcome.credited_to = other_manager
        outcome.save()
    assert markers() == {(None, ann.pk), (manager.pk, ann.pk), (other_manager.pk, ann.pk)}

    PendingRecompute.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        Outcome.objects.get(pk=outcome.pk).delete()
    assert markers() == {(None, ann.pk), (other_manager.pk, ann.pk)}


def test_rolled_back_change_leaves_no_marker_and_queues_nothing(
    manager, trio, log, queued, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        log([manager], [trio[0]])
        raise RuntimeError("abandoned")

    assert not PendingRecompute.objects.exists()
    assert queued == []

    # The next transaction marks the same stakeholder afresh (no stale memory).
    with django_capture_on_commit_callbacks(execute=True):
        log([manager], [trio[0]])
    assert (None, trio[0].pk) in markers()
    assert len(queued) == 1


def test_broker_down_keeps_the_marker_and_the_sweep_repairs(
    manager, trio, log, monkeypatch, django_capture_on_commit_callbacks
):
    ann = trio[0]

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(tasks.recompute_pending, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        interaction = log([manager], [ann], value_given=2)  # no exception reaches the caller

    assert Interaction.objects.filter(pk=interaction.pk).exists()
    assert not StakeholderScore.objects.exists()
    assert (None, ann.pk) in markers()

    # The sweep leaves markers younger than its grace period to their own task…
    assert tasks.sweep_pending.delay().get() == 0
    # …and repairs the older ones.
    PendingRecompute.objects.update(created_at=timezone.now() - timedelta(minutes=1))
    assert tasks.sweep_pending.delay().get() == 2

    assert StakeholderScore.objects.get(stakeholder=ann).given == pytest.approx(2, rel=1e-3)
    assert RelationshipScore.objects.get(relationship__user=manager).given > 0
    assert not PendingRecompute.objects.exists()


def test_recompute_task_is_idempotent(manager, trio, log, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        log([manager], [trio[0]], value_given=2)
    first = StakeholderScore.objects.get(stakeholder=trio[0])

    assert tasks.recompute_pending.delay().get() == 0  # nothing left to do
    recompute.pending_recompute()

    again = StakeholderScore.objects.get(stakeholder=trio[0])
    assert (again.given, again.computed_at) == (first.given, first.computed_at)


def test_markers_of_a_vanished_stakeholder_are_dropped(manager, trio, queued):
    PendingRecompute.objects.create(stakeholder_id=10**9, user_id=None)
    PendingRecompute.objects.create(stakeholder_id=trio[0].pk, user_id=UserFactory().pk)

    assert recompute.pending_recompute() == 2

    assert not PendingRecompute.objects.exists()
    assert not RelationshipScore.objects.exists()  # no such relationship


def test_stakeholder_importance_change_refreshes_its_scores(
    manager, trio, log, django_capture_on_commit_callbacks
):
    ann = trio[0]
    with django_capture_on_commit_callbacks(execute=True):
        log([manager], [ann], occurred_at=timezone.now() - timedelta(days=100))
    assert StakeholderScore.objects.get(stakeholder=ann).at_risk is False  # not key

    with django_capture_on_commit_callbacks(execute=True):
        ann.importance, ann.cadence_days = 5, 30
        ann.save()

    score = StakeholderScore.objects.get(stakeholder=ann)
    assert score.at_risk is True
    assert "key_overdue" in {r["code"] for r in score.risk_reasons}
    assert Relationship.objects.get(stakeholder=ann).score.cadence_days == 30
