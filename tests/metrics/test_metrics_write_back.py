"""The fast write-back of a full recomputation stores exactly what the ORM path stores.

Packed explanations (metrics.fields), the array versions of the per-group
helpers (days since contact, date-times, risk candidates), the binary COPY
and the empty-and-refill of a full recomputation.
"""

import random
from datetime import UTC, datetime

import numpy as np
import pytest
from django.db import connection

from metrics import pgcopy, recompute, scored_objects, scoring, writeback
from metrics.fields import PackedExplanation
from metrics.models import RelationshipScore, StakeholderScore
from metrics.writeback import CURRENT_FIELDS
from tests.metrics.facts import rows_from_facts
from tests.metrics.test_metrics_full_vs_incremental import dataset, stored  # noqa: F401
from tests.metrics.test_scoring import random_groups
from tests.metrics.timebase import T

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="binary COPY and TRUNCATE are PostgreSQL's"
)


def test_days_since_array_equals_the_scalar_rule():
    rng = np.random.default_rng(2)
    at = T.timestamp()
    day = 86_400.0
    last = np.concatenate(
        [
            at - rng.uniform(0, 900 * day, 5000),
            at - np.arange(0, 400) * day,  # whole days: the floor's edge
            at - np.arange(0, 400) * day - 0.5e-6,  # half a microsecond: rounding's edge
            at - np.arange(0, 400) * day + 1e-7,
            [np.nan, at, at + 5 * day],  # never, now, in the future
        ]
    )
    got = recompute.days_since_array(last, at)
    for value, days in zip(last.tolist(), got.tolist(), strict=True):
        if value == value:
            assert days == scoring.days_since(value, at), value


def test_posix_to_micros_rounds_as_datetime_does():
    rng = np.random.default_rng(3)
    seconds = np.concatenate(
        [
            rng.uniform(-2e9, 4e9, 20_000),
            np.round(rng.uniform(0, 2e9, 2000)) + 0.5e-6,  # ties
            np.round(rng.uniform(0, 2e9, 2000)) + 0.9999996,  # carries into the second
            np.round(rng.uniform(0, 2e9, 2000)) - 0.9999996,
            [0.0, -0.5e-6, -1e-7, 1.5e-6, 2.5e-6],
        ]
    )
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for value, micros in zip(
        seconds.tolist(), pgcopy.posix_to_micros(seconds).tolist(), strict=True
    ):
        delta = datetime.fromtimestamp(value, UTC) - epoch
        assert micros == (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def test_risk_candidates_miss_no_reason():
    """The array pre-selection plus risk_reasons gives every group's reasons, as
    risk_reasons over every group would (thresholds hit exactly included)."""
    rng = random.Random(9)
    n, ia, cm, oc = rows_from_facts(random_groups(rng, 300))
    scores = scoring.score_groups(n, ia, cm, oc, at=T.timestamp(), level=scoring.Level.STAKEHOLDER)
    nprng = np.random.default_rng(9)
    groups = scored_objects.Groups(
        level=scoring.Level.STAKEHOLDER,
        object_ids=np.arange(n),
        keys=np.arange(n),
        key_base=0,
        cadence_days=nprng.choice([0, 30, 45, 60, 90, 120], n),
        is_key=nprng.random(n) < 0.5,
        user_ids=frozenset(),
        stakeholder_ids=frozenset(range(n)),
    )
    # Trust 90 days ago: none, far above, or exactly 0.15 above today's.
    before = np.where(
        nprng.random(n) < 0.3, np.nan, scores.trust + nprng.choice([0.15, 0.3, 0.0], n)
    )
    days = recompute.days_since_array(scores.last_contact, scores.at)
    reasons = recompute.risk_reasons_of(scores, groups, before, days)
    assert sum(bool(r) for r in reasons) > 20
    for g in range(n):
        known = not np.isnan(scores.last_contact[g])
        total = scores.given[g] + scores.received[g]
        assert reasons[g] == scoring.risk_reasons(
            trust=scoring._none_if_nan(scores.trust[g]),
            trust_90_days_ago=scoring._none_if_nan(before[g]),
            reciprocity=scoring._none_if_nan(scores.reciprocity[g]),
            given_plus_received=scoring._none_if_nan(total),
            is_key=bool(groups.is_key[g]),
            days_since_contact=int(days[g]) if known else None,
            cadence_days=int(groups.cadence_days[g]) or None,
        )


def test_explanation_field_reads_packed_and_json(stakeholder):
    n, ia, cm, oc = rows_from_facts(random_groups(random.Random(1), 1))
    scores = scoring.score_groups(n, ia, cm, oc, at=T.timestamp(), level=scoring.Level.STAKEHOLDER)
    packed = PackedExplanation(scoring.explanations_pack(scores)[0].tobytes())
    score = StakeholderScore.objects.create(
        stakeholder=stakeholder, explanation=packed, computed_at=T
    )
    stored_bytes = StakeholderScore.objects.values_list("explanation", flat=True).get()
    assert stored_bytes == packed  # stored as given, not rendered first
    assert StakeholderScore.objects.get().explanation == scores.explanation_for(0)
    deferred = StakeholderScore.objects.defer("explanation").get()
    assert deferred.explanation == scores.explanation_for(0)

    # A dict written by hand (or stored before packing) reads back as it was.
    score.explanation = {"trust": {"components": {}}}
    score.save()
    assert StakeholderScore.objects.get().explanation == {"trust": {"components": {}}}

    with pytest.raises(ValueError, match="version"):
        StakeholderScore.objects.filter(pk=score.pk).update(
            explanation=bytes([7]) + bytes(scoring.PACKED_DTYPE.itemsize - 1)
        )


def test_full_recomputation_stores_explanations_packed(dataset):  # noqa: F811
    recompute.scores_recompute_all(at=T)
    for model in (StakeholderScore, RelationshipScore):
        raw = model.objects.values_list("explanation", flat=True)[:5]
        assert all(isinstance(value, PackedExplanation) for value in raw)
        assert len(raw[0]) == scoring.PACKED_DTYPE.itemsize


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_refill_and_in_place_update_store_the_same(dataset, monkeypatch):  # noqa: F811
    """A full recomputation empties and refills the score tables; when a reader holds
    a table it updates the rows in place instead, with the same result. (Committed
    transactions: TRUNCATE waits for other sessions, and for deferred checks of
    this one's own earlier writes, which also make it update in place.)"""
    monkeypatch.setattr(writeback, "REPLACE_LOCK_TIMEOUT", "50ms")
    emptied = []
    real = writeback._emptied

    def spy(model, cursor):
        emptied.append(result := real(model, cursor))
        return result

    monkeypatch.setattr(writeback, "_emptied", spy)
    import psycopg

    settings = connection.settings_dict
    other = psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        password=settings["PASSWORD"] or None,
    )
    try:
        # Another session reading the table: TRUNCATE would wait for it.
        other.execute("SET lock_timeout = '5s'")
        other.execute(f"LOCK TABLE {RelationshipScore._meta.db_table} IN ACCESS SHARE MODE")
        recompute.scores_recompute_all(at=T)  # inserted: the table was empty
        recompute.scores_recompute_all(at=T)  # updated in place
    finally:
        other.rollback()
        other.close()
    in_place = stored(RelationshipScore)
    assert len(in_place) == 320

    recompute.scores_recompute_all(at=T)
    # The relationship level only (the stakeholders are too few to COPY).
    assert emptied == [False, False, True]
    assert stored(RelationshipScore) == in_place


@postgresql_only
def test_copy_write_back_equals_the_orm_path(dataset, monkeypatch):  # noqa: F811
    """Binary COPY (above COPY_THRESHOLD rows) and bulk_create store the same values."""
    recompute.scores_recompute_all(at=T)
    by_copy = stored(RelationshipScore)
    RelationshipScore.objects.all().delete()
    monkeypatch.setattr(writeback, "COPY_THRESHOLD", 10**9)
    recompute.scores_recompute_all(at=T)
    assert stored(RelationshipScore) == by_copy
    assert set(next(iter(by_copy.values()))) == {"relationship_id", *CURRENT_FIELDS}
