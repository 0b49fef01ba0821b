"""A full recomputation stores exactly what incremental recomputations store (same T)."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from metrics import recompute
from metrics.models import (
    PendingRecompute,
    RecomputeJob,
    RelationshipScore,
    RelationshipScoreSnapshot,
    StakeholderScore,
    StakeholderScoreSnapshot,
)
from metrics.writeback import CURRENT_FIELDS
from relations.models import Commitment, Interaction, Outcome, Relationship
from relations.services import relationships_ensure
from tests.factories import OrganizationFactory, StakeholderFactory, UserFactory
from tests.metrics.recomputing import relationship_scores_recompute, stakeholder_scores_recompute
from tests.metrics.timebase import T

KINDS = [k for k, _ in Interaction.Kind.choices]
STATUSES = [s for s, _ in Commitment.Status.choices]


@pytest.fixture
def dataset(db):
    """~300 interactions among 8 users and 40 stakeholders over two years, with
    commitments and outcomes; built with bulk inserts (seeded, reproducible)."""
    rng = random.Random(7)
    organization = OrganizationFactory()
    users = [UserFactory(username=f"u{i}") for i in range(8)]
    stakeholders = [
        StakeholderFactory(organization=organization, importance=rng.randint(1, 5))
        for _ in range(40)
    ]
    interactions = Interaction.objects.bulk_create(
        [
            Interaction(
                occurred_at=T - timedelta(days=rng.uniform(-5, 730), seconds=rng.randint(0, 999)),
                kind=rng.choice(KINDS),
                subject=f"i{n}",
                value_given=rng.randint(0, 5),
                value_received=rng.randint(0, 5),
                sentiment=rng.choice([None, -2, -1, 0, 1, 2]),
                duration_minutes=rng.choice([0, 15, 30, 60, 90]),
                cost=Decimal(rng.choice(["0", "12.50", "200"])),
            )
            for n in range(300)
        ]
    )
    participant_rows, stakeholder_rows = [], []
    for interaction in interactions:
        for user in rng.sample(users, rng.randint(1, 3)):
            participant_rows.append(
                Interaction.internal_participants.through(interaction=interaction, user=user)
            )
        for stakeholder in rng.sample(stakeholders, rng.randint(1, 3)):
            stakeholder_rows.append(
                Interaction.stakeholders.through(interaction=interaction, stakeholder=stakeholder)
            )
    Interaction.internal_participants.through.objects.bulk_create(participant_rows)
    Interaction.stakeholders.through.objects.bulk_create(stakeholder_rows)
    relationships_ensure(users, stakeholders)  # every pair, some without shared interactions
    Commitment.objects.bulk_create(
        [
            Commitment(
                stakeholder=rng.choice(stakeholders),
                responsible=rng.choice(users),
                description=f"c{n}",
                due_date=(T - timedelta(days=rng.randint(-60, 400))).date(),
                status=rng.choice(STATUSES),
            )
            for n in range(120)
        ]
    )
    Outcome.objects.bulk_create(
        [
            Outcome(
                stakeholder=rng.choice(stakeholders),
                credited_to=rng.choice([None, *users]),
                value=Decimal(rng.randint(0, 50_000)),
                occurred_on=(T - timedelta(days=rng.randint(-10, 500))).date(),
            )
            for n in range(60)
        ]
    )
    return {"users": users, "stakeholders": stakeholders}


def stored(model) -> dict:
    key = "stakeholder_id" if model is StakeholderScore else "relationship_id"
    return {row[key]: row for row in model.objects.values(key, *CURRENT_FIELDS)}


def test_full_equals_incremental_on_every_field(dataset):
    recompute.scores_recompute_all(at=T)
    full_stakeholders, full_relationships = stored(StakeholderScore), stored(RelationshipScore)
    assert len(full_stakeholders) == 40 and len(full_relationships) == 8 * 40
    assert sum(r["strength"] is not None for r in full_relationships.values()) > 100
    StakeholderScore.objects.all().delete()
    RelationshipScore.objects.all().delete()

    # Incrementally, in small uneven batches that split interactions across batches.
    ids = [s.pk for s in dataset["stakeholders"]]
    random.Random(3).shuffle(ids)
    for start, size in ((0, 1), (1, 5), (6, 13), (19, 21)):
        stakeholder_scores_recompute(ids[start : start + size], at=T)
    relationship_ids = list(Relationship.objects.values_list("pk", flat=True))
    for start in range(0, len(relationship_ids), 37):
        relationship_scores_recompute(relationship_ids[start : start + 37], at=T)

    assert stored(StakeholderScore) == full_stakeholders  # exact: no tolerance
    assert stored(RelationshipScore) == full_relationships


def test_markers_path_equals_full(dataset):
    """The worker's path (markers → pairs) stores the same numbers as the full run."""
    recompute.scores_recompute_all(at=T)
    full_relationships = stored(RelationshipScore)
    RelationshipScore.objects.all().delete()
    PendingRecompute.objects.bulk_create(
        PendingRecompute(user_id=u, stakeholder_id=s)
        for u, s in Relationship.objects.values_list("user_id", "stakeholder_id")
    )

    assert recompute.pending_recompute(at=T) == 320

    assert stored(RelationshipScore) == full_relationships


def test_full_recomputation_query_count_does_not_grow_with_data(
    dataset, django_assert_max_num_queries
):
    # Per level: groups, membership, interactions, 2 counts, commitments, outcomes,
    # snapshots 90 days back, then upserts in batches of 1000 (1 + 1 here);
    # plus marker ids, their delete (none) and savepoints around the bulk inserts.
    with django_assert_max_num_queries(30):
        recompute.scores_recompute_all(at=T)


@pytest.mark.parametrize("stakeholders", [1, 12])
def test_worker_path_round_trips_do_not_grow_with_history_or_markers(
    dataset, stakeholders, django_assert_max_num_queries
):
    """What the worker runs for the markers of logged interactions, in three messages
    to the database (on SQLite each statement is its own): the lock and the claim; both
    levels' groups, the stakeholders' rows and the active webhooks; both levels'
    upserts. Plus the savepoint and its release. However many interactions the
    stakeholders have (here ~20 each) and however many markers are pending."""
    pairs = list(
        Relationship.objects.order_by("pk").values_list("user_id", "stakeholder_id")[
            : stakeholders * 3
        ]
    )
    PendingRecompute.objects.bulk_create(
        [PendingRecompute(stakeholder_id=s) for s in {s for _, s in pairs}]
        + [PendingRecompute(user_id=u, stakeholder_id=s) for u, s in pairs]
    )

    with django_assert_max_num_queries(5 if connection.vendor == "postgresql" else 14):
        assert recompute.pending_recompute(at=T) >= stakeholders


def test_command_reports_progress_and_records_the_job(dataset, capsys):
    call_command("recompute_scores", "--at", T.isoformat(), "--snapshot")

    out = capsys.readouterr().out
    assert "  0%" in out and "100%" in out
    assert "Recomputed 40 stakeholder and 320 relationship scores" in out
    job = RecomputeJob.objects.get()
    assert (job.status, job.progress, job.at) == ("done", 1.0, T)
    assert StakeholderScore.objects.filter(computed_at=T).count() == 40
    assert StakeholderScoreSnapshot.objects.filter(date=T.date()).count() == 40


def test_command_rejects_a_bad_time(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("recompute_scores", "--at", "yesterday")
    assert not RecomputeJob.objects.exists()


def test_recompute_job_task_runs_and_is_not_redone(dataset, django_capture_on_commit_callbacks):
    from metrics.tasks import recompute_all, recompute_job_start

    with django_capture_on_commit_callbacks(execute=True):
        job = recompute_job_start(requested_by=dataset["users"][0], at=T)

    job.refresh_from_db()
    assert (job.status, job.progress) == ("done", 1.0)
    assert job.started_at <= job.finished_at
    assert recompute_all.delay(job.pk).get() == "done"
    assert recompute_all.delay(10**9).get() == "gone"


def test_nightly_refresh_decays_everyone_and_writes_the_days_snapshots(dataset):
    from metrics.tasks import nightly_refresh

    nightly_refresh.delay(T.isoformat()).get()
    nightly_refresh.delay(T.isoformat()).get()  # idempotent: upserted, not duplicated

    assert StakeholderScore.objects.filter(computed_at=T).count() == 40
    assert RelationshipScore.objects.filter(computed_at=T).count() == 320
    assert StakeholderScoreSnapshot.objects.filter(date=T.date()).count() == 40
    assert RelationshipScoreSnapshot.objects.filter(date=T.date()).count() == 320


def test_recompute_job_fails_visibly_when_the_broker_is_down(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from metrics import tasks

    def broker_down(*args, **kwargs):
        raise OperationalError("Connection refused")

    monkeypatch.setattr(tasks.recompute_all, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        job = tasks.recompute_job_start(at=T)  # no exception reaches the caller

    job.refresh_from_db()
    assert job.status == "failed" and "Connection refused" in job.error
