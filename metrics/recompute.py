"""Recomputing scores: the worker's incremental path, the full run, and their lock.

The worker recomputes what the dirty markers name (`pending_recompute`): one
message reads both levels' groups and the few stakeholders' rows, one writes
their scores, and webhooks announce the changes. A full recomputation
(`scores_recompute_all`) reads every row once for both levels. Rows are scored
in one `scoring.score_groups` call per level and batch. A lock per group of
stakeholders keeps two recomputations of the same stakeholder from committing an
older reading last, while workers scoring other stakeholders go on side by side; a
full recomputation excludes them all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from relations.importing.bulk import statistics_refresh
from relations.integrations.webhooks import webhook_emit_many
from relations.models import Webhook

from . import scoring
from .conf import score_settings
from .models import PendingRecompute, RelationshipScore, StakeholderScore
from .row_sets import Everything, everything_read, few_from, few_read, few_statements, rows_of
from .scored_objects import (
    Groups,
    relationship_groups,
    relationship_groups_from,
    relationship_groups_statement,
    stakeholder_groups,
    stakeholder_groups_from,
    stakeholder_groups_statement,
    trust_some_days_ago,
)
from .sql import Statement, fetch_all, fetch_each
from .writeback import (
    UPSERT_BATCH,
    Progress,
    Scored,
    store,
    stored_by_copy,
    upsert_statements,
)

# Markers processed per transaction: bounds the lock time and the memory of one pass.
PENDING_BATCH = 5000
# Advisory lock keys. A full recomputation holds RECOMPUTE_LOCK_KEY exclusively; an
# incremental one holds it shared, plus the lock of each group of stakeholders it
# scores (two keys: RECOMPUTE_LOCK_KEY, stakeholder id modulo STAKEHOLDER_LOCK_GROUPS).
# Two workers scoring the same stakeholder at once could otherwise commit an older
# reading last; groups, not one lock per stakeholder, bound the locks one
# transaction holds (PostgreSQL's lock table is shared: 64 per connection).
RECOMPUTE_LOCK_KEY = 0x5241_5050  # "RAPP"
STAKEHOLDER_LOCK_GROUPS = 1024


def _as_datetime(at: datetime | None) -> datetime:
    at = at or timezone.now()
    if timezone.is_naive(at):
        raise ValueError("`at` must be an aware date-time")
    return at


# Risk thresholds are tested exactly by `scoring.risk_reasons`; the array pass
# below only picks the candidates, with this much slack so it never misses one.
_CANDIDATE_SLACK = 1e-6


def days_since_array(last_contact: np.ndarray, at: float) -> np.ndarray:
    """`scoring.days_since` of every element (0 where last_contact is NaN).

    The same float operations: microseconds rounded half to even (Python's
    `round`), then whole days by floor division.
    """
    micros = np.round((at - np.nan_to_num(last_contact, nan=at)) * 1_000_000)
    return micros.astype(np.int64) // 86_400_000_000


def risk_reasons_of(
    scores: scoring.GroupScores,
    groups: Groups,
    trust_before: np.ndarray,
    days: np.ndarray,
) -> list[list[dict[str, str]]]:
    """`scoring.risk_reasons` of every group, called only where a reason may apply."""
    slack = _CANDIDATE_SLACK
    trust, reciprocity = scores.trust, scores.reciprocity
    given_plus_received = scores.given + scores.received
    contacted = ~np.isnan(scores.last_contact)
    cadence = groups.cadence_days
    with np.errstate(invalid="ignore"):
        candidate = (
            (trust < scoring.RISK_LOW_TRUST + slack)
            | (trust_before - trust >= scoring.RISK_TRUST_FALL - slack)
            | (
                groups.is_key
                & contacted
                & (cadence > 0)
                & (days > scoring.RISK_OVERDUE_FACTOR * cadence - 1)
            )
            | (
                (reciprocity < scoring.RISK_LOW_RECIPROCITY + slack)
                & (given_plus_received >= scoring.RISK_RECIPROCITY_MIN_VOLUME - slack)
            )
        )
    reasons: list[list[dict[str, str]]] = [[] for _ in range(len(groups))]
    for g in np.flatnonzero(candidate).tolist():

        def value(a: np.ndarray, g: int = g) -> float | None:
            x = float(a[g])
            return None if math.isnan(x) else x

        reasons[g] = scoring.risk_reasons(
            trust=value(trust),
            trust_90_days_ago=value(trust_before),
            reciprocity=value(reciprocity),
            given_plus_received=value(given_plus_received),
            is_key=bool(groups.is_key[g]),
            days_since_contact=int(days[g]) if contacted[g] else None,
            cadence_days=int(cadence[g]) or None,
        )
    return reasons


def groups_score(
    groups: Groups, at: datetime, *, everyone: bool = False, everything: Everything | None = None
) -> Scored:
    """The stored fields of every group as of `at`, in group order, as columns.

    `everything`: the rows read for these groups (or more), by `everything_read`
    when `everyone`, else by `few_read`; read here when not given.
    """
    cfg = score_settings()
    if everything is None:
        everything = (
            everything_read(at, cfg)
            if everyone
            else few_read(groups.stakeholder_ids, groups.user_ids, at, cfg)
        )
    interactions, commitments, outcomes = rows_of(groups, everything)
    scores = scoring.score_groups(
        len(groups),
        interactions,
        commitments,
        outcomes,
        at=at.timestamp(),
        level=groups.level,
        settings=cfg,
    )
    figures = {
        ("return_value" if name == "return" else name): scores.score(name)
        for name in scoring.SCORE_FIELDS
        if name != "last_contact"
    }
    days = days_since_array(scores.last_contact, scores.at)
    reasons = risk_reasons_of(scores, groups, trust_some_days_ago(groups, at, everyone), days)
    return Scored(
        groups=groups,
        at=at,
        figures=figures,
        last_contact=scores.last_contact,
        days_since_contact=days,
        overdue=days > groups.cadence_days,
        at_risk=np.array([bool(r) for r in reasons], dtype=bool),
        risk_reasons=reasons,
        explanations=scoring.explanations_pack(scores),
    )


def scores_recompute(
    stakeholder_ids: Iterable[int] = (),
    pairs: Iterable[tuple[int, int]] = (),
    at: datetime | None = None,
) -> tuple[int, int]:
    """Recompute and store the stakeholder-level scores of these stakeholders and the
    relationship-level scores of these (user, stakeholder) pairs as of `at`.

    The worker's incremental path: one message reads both levels' groups, the
    stakeholders' rows (`few_read`'s) and the active webhooks; one message
    writes both levels. Returns how many of each were stored.
    """
    at = _as_datetime(at)
    stakeholder_ids = {int(i) for i in stakeholder_ids}
    wanted = {(int(u), int(s)) for u, s in pairs}
    if not stakeholder_ids and not wanted:
        return 0, 0
    reads = [
        stakeholder_groups_statement(stakeholder_ids, at),
        relationship_groups_statement(wanted, at),
        *few_statements(stakeholder_ids | {s for _, s in wanted}, {u for u, _ in wanted}, at),
        (f"SELECT id, events FROM {Webhook._meta.db_table} WHERE active", []),
    ]
    group_rows, pair_rows, *rows, hook_rows = fetch_each(reads)
    stakeholders = stakeholder_groups_from(group_rows, True, at)
    relationships = relationship_groups_from(pair_rows, wanted, at)
    everything = few_from(rows, score_settings())
    writes: list[Statement] = []
    scored_stakeholders = None
    for groups in (stakeholders, relationships):
        if not len(groups):
            continue
        scored = groups_score(groups, at, everything=everything)
        if groups is stakeholders:
            scored_stakeholders = scored
        if stored_by_copy(len(groups)):
            store(groups, scored)
        else:
            writes += upsert_statements(groups, scored)
    if writes:
        fetch_each(writes)
    if scored_stakeholders is not None:
        events = Webhook._meta.get_field("events")
        subscribed = {
            hook_id: events.from_db_value(value, None, connection) for hook_id, value in hook_rows
        }
        _announce(stakeholders, scored_stakeholders, subscribed)
    return len(stakeholders), len(relationships)


# The figures a `scores.updated` webhook carries (the full set is one API call away).
ANNOUNCED_FIELDS = ("trust", "reciprocity", "reciprocity_balance", "strength", "at_risk")


def _announce(groups: Groups, scored: Scored, subscribed: dict[int, list[str]]) -> None:
    """Webhook events for changed stakeholder scores, and for newly at-risk stakeholders.

    `subscribed`: the events of each active webhook. Only incremental
    recomputation announces: a nightly refresh of everyone would flood
    receivers with decay-only changes.
    """
    updated, at_risk = [], []
    ids, was_at_risk = groups.object_ids.tolist(), groups.was_at_risk
    for g, (stakeholder_id, row) in enumerate(zip(ids, scored.rows(), strict=True)):
        figures = {name: row.get(name) for name in ANNOUNCED_FIELDS}
        payload = {"stakeholder": stakeholder_id, **figures, "computed_at": row["computed_at"]}
        updated.append(payload)
        if row.get("at_risk") and not (was_at_risk is not None and was_at_risk[g]):
            at_risk.append({**payload, "risk_reasons": row.get("risk_reasons", [])})
    for event, items in (
        (Webhook.Event.SCORES_UPDATED, updated),
        (Webhook.Event.STAKEHOLDER_AT_RISK, at_risk),
    ):
        hook_ids = [hook_id for hook_id, events in subscribed.items() if event in events]
        if items and hook_ids:
            webhook_emit_many(event, items, hooks=list(Webhook.objects.filter(pk__in=hook_ids)))


def stakeholder_lock_statements(stakeholder_ids: Iterable[int]) -> list[Statement]:
    """The statements taking, until the transaction ends, the recomputation lock
    shared and the locks of these stakeholders' groups, in one order everywhere (no
    two workers wait for each other). Nothing on SQLite, which serialises writers."""
    if connection.vendor != "postgresql":
        return []
    lock_groups = sorted({int(pk) % STAKEHOLDER_LOCK_GROUPS for pk in stakeholder_ids})
    return [
        ("SELECT pg_advisory_xact_lock_shared(%s)", [RECOMPUTE_LOCK_KEY]),
        (
            f"SELECT count(pg_advisory_xact_lock({RECOMPUTE_LOCK_KEY}, lock_group))"
            " FROM (SELECT unnest(%s::int[]) AS lock_group ORDER BY 1) AS ordered",
            [lock_groups],
        ),
    ]


def recomputation_lock(stakeholder_ids: Iterable[int]) -> None:
    """Hold the locks for recomputing these stakeholders (and their relationships)
    until the transaction ends."""
    if statements := stakeholder_lock_statements(stakeholder_ids):
        fetch_each(statements)


@contextmanager
def _recomputation_lock_held() -> Iterator[None]:
    """The same lock for a run spanning several transactions (a full recomputation:
    its progress must be visible while it runs, so it is not one transaction)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [RECOMPUTE_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RECOMPUTE_LOCK_KEY])


@contextmanager
def _without_jit() -> Iterator[None]:
    """PostgreSQL's JIT off for a full run: its scans and joins over every row are
    simple, and compiling each costs more than it saves (docs/benchmarks.md)."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def _markers_claim(older_than: timedelta | None) -> list[tuple[int, int | None]]:
    """Delete the oldest markers (at most PENDING_BATCH) in the current transaction,
    take the locks of their stakeholders and return their (stakeholder_id, user_id).

    The deletion commits with the scores recomputed for them, or rolls back with
    them; a concurrent run skips the rows this one holds (PostgreSQL). The scores are
    read after the locks are held, so a run that waited for another one reads what
    that one committed: the later commit holds the later reading.
    """
    table = connection.ops.quote_name(PendingRecompute._meta.db_table)
    where, params = "", []
    if older_than is not None:
        where = " WHERE created_at <= %s"
        params.append(connection.ops.adapt_datetimefield_value(timezone.now() - older_than))
    claim = (
        f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table}{where}"
        f" ORDER BY id LIMIT {PENDING_BATCH}{{locking}}) RETURNING stakeholder_id, user_id"
    )
    if connection.vendor != "postgresql":  # SQLite serialises writers already
        return fetch_all(claim.format(locking=""), params)
    # One message: the shared lock (a running full recomputation is waited for), then
    # the claim and, in the same statement, the locks of the claimed stakeholders'
    # groups in ascending order (as `stakeholder_lock_statements`).
    claim_and_lock = (
        f"WITH claimed AS ({claim.format(locking=' FOR UPDATE SKIP LOCKED')}),"
        f" locked AS (SELECT count(pg_advisory_xact_lock({RECOMPUTE_LOCK_KEY}, lock_group))"
        f" FROM (SELECT DISTINCT mod(stakeholder_id, {STAKEHOLDER_LOCK_GROUPS})::int AS lock_group"
        " FROM claimed ORDER BY 1) AS ordered)"
        " SELECT stakeholder_id, user_id FROM claimed, locked"
    )
    _, claimed = fetch_each(
        [
            ("SELECT pg_advisory_xact_lock_shared(%s)", [RECOMPUTE_LOCK_KEY]),
            (claim_and_lock, params),
        ]
    )
    return claimed


def pending_recompute(*, older_than: timedelta | None = None, at: datetime | None = None) -> int:
    """Recompute what the dirty markers name, deleting exactly those markers.

    A marker committed while this runs is not among those claimed, so it stays
    for the next run: no change is lost. Returns how many markers were processed.
    """
    processed = 0
    while True:
        with transaction.atomic():
            claimed = _markers_claim(older_than)
            if not claimed:
                return processed
            stakeholder_ids = {s for s, u in claimed if u is None}
            pairs = {(u, s) for s, u in claimed if u is not None}
            scores_recompute(stakeholder_ids, pairs, at=_as_datetime(at))
            processed += len(claimed)
        if len(claimed) < PENDING_BATCH:
            return processed


def scores_recompute_all(at: datetime | None = None, progress: Progress | None = None) -> dict:
    """Recompute every stakeholder- and relationship-level score as of `at`.

    One read of each table per level, one `score_groups` call per level, and
    batched upserts; `progress(fraction, message)` is called along the way.
    The markers present at the start are covered (their changes are read
    after them) and deleted at the end; later ones stay for the next run.
    """
    at = _as_datetime(at)
    report = progress or (lambda fraction, message: None)
    with _recomputation_lock_held(), _without_jit():
        covered = list(PendingRecompute.objects.values_list("pk", flat=True))
        report(0.0, "reading interactions, commitments and outcomes")
        everything = everything_read(at, score_settings())
        report(0.1, "scoring stakeholders")
        stakeholders = stakeholder_groups(None)
        results = groups_score(stakeholders, at, everyone=True, everything=everything)
        report(0.25, f"storing {len(stakeholders)} stakeholder scores")
        store(
            stakeholders,
            results,
            lambda f, _m: report(0.25 + 0.25 * f, "storing stakeholder scores"),
            every_row=True,
        )
        report(0.5, "reading relationships")
        relationships = relationship_groups()
        results = groups_score(relationships, at, everyone=True, everything=everything)
        report(0.75, f"storing {len(relationships)} relationship scores")
        store(
            relationships,
            results,
            lambda f, _m: report(0.75 + 0.25 * f, "storing relationship scores"),
            every_row=True,
        )
        for start in range(0, len(covered), UPSERT_BATCH):
            PendingRecompute.objects.filter(pk__in=covered[start : start + UPSERT_BATCH]).delete()
    # Every score row was just rewritten: pages must not plan from the old estimates.
    statistics_refresh([StakeholderScore, RelationshipScore])
    report(1.0, "done")
    return {"stakeholders": len(stakeholders), "relationships": len(relationships)}
