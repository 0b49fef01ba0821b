"""The objects one recomputation scores, read as arrays: stakeholders or relationships.

Besides the ids, each group carries what its scores and risk reasons need from
outside its rows: its cadence, whether it is key (DESIGN §2), and for the worker's
few groups the stored at-risk flag and the trust of the snapshot 90 days earlier.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection, models

from relations.models import GoalStakeholder, Relationship, Stakeholder, StrategicGoal
from relations.querysets import KEY_IMPORTANCE

from . import scoring
from .models import RelationshipScoreSnapshot, StakeholderScore, StakeholderScoreSnapshot
from .sql import Statement, any_of, column_of, fetch_all, float_column_of

# "The snapshot 90 days earlier" (DESIGN §3, `scoring.RISK_TRUST_FALL_DAYS`): the
# latest one within a week before that day, so a missed nightly run does not
# switch the rule off.
SNAPSHOT_SLACK_DAYS = 7


def lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of `keys` in `sorted_keys`, and which of them were found."""
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
    idx = np.searchsorted(sorted_keys, keys)
    idx_clipped = np.minimum(idx, len(sorted_keys) - 1)
    found = sorted_keys[idx_clipped] == keys
    return idx_clipped, found


@dataclass
class Groups:
    """The objects scored in one batch, in group order.

    `keys` is sorted and identifies a group in the row queries: the stakeholder
    id, or `user_id * key_base + stakeholder_id` for a relationship.
    """

    level: scoring.Level
    object_ids: np.ndarray
    keys: np.ndarray
    key_base: int
    cadence_days: np.ndarray  # 0 when unknown
    is_key: np.ndarray
    user_ids: frozenset[int]
    stakeholder_ids: frozenset[int]
    was_at_risk: np.ndarray | None = None  # stored flag before this run (a few stakeholders)
    # Trust of each one's snapshot 90 days before T, read with the groups (`trust_as_of`).
    trust_before: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.object_ids)


def _on_active_goal(stakeholder_column: str) -> str:
    """SQL: the stakeholder is linked to an active strategic goal (one key-ness test)."""
    return (
        f"EXISTS (SELECT 1 FROM {GoalStakeholder._meta.db_table} gs"
        f" JOIN {StrategicGoal._meta.db_table} g ON g.id = gs.goal_id"
        f" WHERE gs.stakeholder_id = {stakeholder_column} AND g.status = %s)"
    )


def _is_key(importance: np.ndarray, on_goal: np.ndarray) -> np.ndarray:
    # `StakeholderQuerySet.key()` over arrays: importance ≥ KEY_IMPORTANCE or on an
    # active strategic goal.
    return (importance >= KEY_IMPORTANCE) | on_goal.astype(bool)


def stakeholder_groups(
    stakeholder_ids: Iterable[int] | None, *, trust_as_of: datetime | None = None
) -> Groups:
    """These stakeholders (all when None), by id.

    A few of them (incremental) come with their stored at-risk flag, and with
    `trust_as_of`, with the trust of their snapshot 90 days before it.
    """
    statement = stakeholder_groups_statement(stakeholder_ids, trust_as_of)
    return stakeholder_groups_from(fetch_all(*statement), stakeholder_ids is not None, trust_as_of)


def stakeholder_groups_statement(
    stakeholder_ids: Iterable[int] | None, trust_as_of: datetime | None
) -> Statement:
    columns = f"s.id, COALESCE(s.cadence_days, 0), s.importance, {_on_active_goal('s.id')}"
    tables = f"{Stakeholder._meta.db_table} s"
    params: list[Any] = [StrategicGoal.Status.ACTIVE]
    where = ""
    if stakeholder_ids is not None:
        # For the webhook of those newly at risk.
        columns += ", COALESCE(sc.at_risk, FALSE)"
        tables += f" LEFT JOIN {StakeholderScore._meta.db_table} sc ON sc.stakeholder_id = s.id"
        among, more = any_of("s.id", sorted({int(i) for i in stakeholder_ids}))
        where = f" WHERE {among}"
        if trust_as_of is not None:
            columns += f", {_trust_before_sql(StakeholderScoreSnapshot, 'stakeholder_id', 's.id')}"
            params += _snapshot_window(trust_as_of)
        params += more
    return f"SELECT {columns} FROM {tables}{where} ORDER BY s.id", params


def stakeholder_groups_from(rows: list[tuple], few: bool, trust_as_of: datetime | None) -> Groups:
    ids = column_of(rows, 0, np.int64)
    return Groups(
        level=scoring.Level.STAKEHOLDER,
        object_ids=ids,
        keys=ids,
        key_base=0,
        cadence_days=column_of(rows, 1, np.int64),
        is_key=_is_key(column_of(rows, 2, np.int64), column_of(rows, 3, bool)),
        user_ids=frozenset(),
        stakeholder_ids=frozenset(ids.tolist()),
        was_at_risk=column_of(rows, 4, bool) if few else None,
        trust_before=float_column_of(rows, 5) if few and trust_as_of is not None else None,
    )


def relationship_groups(
    pairs: Iterable[tuple[int, int]] | None = None, *, trust_as_of: datetime | None = None
) -> Groups:
    """Relationships by (user_id, stakeholder_id) pairs; all when None.

    With `trust_as_of` (a few of them), with the trust of their snapshot 90 days before it.
    """
    wanted = None if pairs is None else {(int(u), int(s)) for u, s in pairs}
    statement = relationship_groups_statement(wanted, trust_as_of)
    return relationship_groups_from(fetch_all(*statement), wanted, trust_as_of)


def relationship_groups_statement(
    wanted: set[tuple[int, int]] | None, trust_as_of: datetime | None
) -> Statement:
    columns = (
        "r.id, r.user_id, r.stakeholder_id, COALESCE(s.cadence_days, 0), s.importance,"
        f" {_on_active_goal('s.id')}"
    )
    params: list[Any] = [StrategicGoal.Status.ACTIVE]
    if trust_as_of is not None:
        columns += f", {_trust_before_sql(RelationshipScoreSnapshot, 'relationship_id', 'r.id')}"
        params += _snapshot_window(trust_as_of)
    conditions = []
    if wanted is not None:
        for column, values in (
            ("r.user_id", {u for u, _ in wanted}),
            ("r.stakeholder_id", {s for _, s in wanted}),
        ):
            among, more = any_of(column, sorted(values))
            conditions.append(among)
            params += more
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    return (
        f"SELECT {columns} FROM {Relationship._meta.db_table} r"
        f" JOIN {Stakeholder._meta.db_table} s ON s.id = r.stakeholder_id{where}",
        params,
    )


def relationship_groups_from(
    rows: list[tuple], wanted: set[tuple[int, int]] | None, trust_as_of: datetime | None
) -> Groups:
    if wanted is not None:
        rows = [r for r in rows if (r[1], r[2]) in wanted]
    user_ids = column_of(rows, 1, np.int64)
    stakeholder_ids = column_of(rows, 2, np.int64)
    key_base = int(stakeholder_ids.max()) + 1 if len(rows) else 1
    keys = user_ids * key_base + stakeholder_ids
    order = np.argsort(keys, kind="stable")
    return Groups(
        level=scoring.Level.RELATIONSHIP,
        object_ids=column_of(rows, 0, np.int64)[order],
        keys=keys[order],
        key_base=key_base,
        cadence_days=column_of(rows, 3, np.int64)[order],
        is_key=_is_key(column_of(rows, 4, np.int64), column_of(rows, 5, bool))[order],
        user_ids=frozenset(user_ids.tolist()),
        stakeholder_ids=frozenset(stakeholder_ids.tolist()),
        trust_before=float_column_of(rows, 6)[order] if trust_as_of is not None else None,
    )


def _snapshot_window(at: datetime) -> list[Any]:
    """Parameters (last day, day before the first) of the snapshots that count as
    "90 days earlier" than `at`: the week up to T − 90 days, the latest first."""
    target = at.astimezone(UTC).date() - timedelta(days=scoring.RISK_TRUST_FALL_DAYS)
    adapt = connection.ops.adapt_datefield_value
    return [adapt(target), adapt(target - timedelta(days=SNAPSHOT_SLACK_DAYS))]


def _trust_before_sql(model: type[models.Model], fk: str, object_column: str) -> str:
    """SQL: the trust of `object_column`'s latest snapshot in `_snapshot_window`."""
    day = connection.ops.quote_name("date")
    return (
        f"(SELECT sn.trust FROM {model._meta.db_table} sn WHERE sn.{fk} = {object_column}"
        f" AND sn.{day} <= %s AND sn.{day} > %s AND sn.trust IS NOT NULL"
        f" ORDER BY sn.{day} DESC LIMIT 1)"
    )


def trust_some_days_ago(groups: Groups, at: datetime, everyone: bool) -> np.ndarray:
    """Per group, the trust of the latest snapshot within a week before T − 90 days (NaN: none)."""
    if groups.trust_before is not None:
        return groups.trust_before
    if groups.level is scoring.Level.STAKEHOLDER:
        model, fk = StakeholderScoreSnapshot, "stakeholder_id"
    else:
        model, fk = RelationshipScoreSnapshot, "relationship_id"
    among, params = "", []
    if not everyone:
        among, params = any_of(fk, groups.object_ids.tolist())
        among = f" AND {among}"
    day = connection.ops.quote_name("date")
    rows = fetch_all(
        f"SELECT {fk}, trust FROM {model._meta.db_table}"
        f" WHERE {day} <= %s AND {day} > %s AND trust IS NOT NULL{among} ORDER BY {fk}, {day}",
        [*_snapshot_window(at), *params],
    )
    out = np.full(len(groups), np.nan)
    if not rows:
        return out
    ids = column_of(rows, 0, np.int64)
    trust = column_of(rows, 1, np.float64)
    # The last row of each object (rows are by date) is its latest snapshot.
    last = np.r_[ids[1:] != ids[:-1], True]
    ids, trust = ids[last], trust[last]
    # object_ids of relationship groups are not sorted: look up through a sorted copy.
    order = np.argsort(groups.object_ids)
    position, found = lookup(groups.object_ids[order], ids)
    out[order[position[found]]] = trust[found]
    return out
