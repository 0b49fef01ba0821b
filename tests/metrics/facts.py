"""Groups given as plain facts, turned into `metrics.scoring`'s column arrays.

The tests write a group's interactions, commitments and outcomes as small records
and score them through the same `score_groups` call the recomputation makes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from metrics.scoring import (
    DEFAULT_SETTINGS,
    STATUS_CODES,
    CommitmentRows,
    InteractionRows,
    Level,
    OutcomeRows,
    ScoreSettings,
    kind_weight_array,
    score_groups,
)


def to_posix(value: datetime | date) -> float:
    """POSIX seconds of an aware datetime, or of a date's 00:00 UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            # A naive time would silently shift every decay by the server's offset.
            raise ValueError("naive datetime: give an aware (UTC) datetime")
        return value.timestamp()
    return datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class InteractionFact:
    id: int
    occurred_at: datetime
    kind: str = "meeting"
    value_given: float = 0.0
    value_received: float = 0.0
    sentiment: float | None = None
    duration_minutes: float = 0.0
    cost: float = 0.0
    n_internal: int = 1
    n_stakeholders: int = 1


@dataclass(frozen=True)
class CommitmentFact:
    id: int
    due: date
    status: str = "open"


@dataclass(frozen=True)
class OutcomeFact:
    id: int
    occurred_on: date
    value: float


Group = tuple[Sequence[InteractionFact], Sequence[CommitmentFact], Sequence[OutcomeFact]]


def rows_from_facts(
    groups: Iterable[Group], settings: ScoreSettings = DEFAULT_SETTINGS
) -> tuple[int, InteractionRows, CommitmentRows, OutcomeRows]:
    """Column arrays for groups given as (interactions, commitments, outcomes)."""
    i_rows: list[tuple] = []
    c_rows: list[tuple] = []
    o_rows: list[tuple] = []
    kinds: list[str] = []
    n = 0
    for g, (ints, coms, outs) in enumerate(groups):
        n = g + 1
        for f in ints:
            kinds.append(f.kind)
            i_rows.append(
                (
                    g,
                    f.id,
                    to_posix(f.occurred_at),
                    float(f.value_given),
                    float(f.value_received),
                    math.nan if f.sentiment is None else float(f.sentiment),
                    float(f.duration_minutes),
                    float(f.cost),
                    f.n_internal,
                    f.n_stakeholders,
                )
            )
        c_rows.extend((g, f.id, to_posix(f.due), STATUS_CODES[f.status]) for f in coms)
        o_rows.extend((g, f.id, to_posix(f.occurred_on), float(f.value)) for f in outs)

    def col(rows: list[tuple], j: int) -> list:
        return [r[j] for r in rows]

    interactions = InteractionRows(
        group=col(i_rows, 0),
        interaction_id=col(i_rows, 1),
        occurred_at=col(i_rows, 2),
        kind_weight=kind_weight_array(kinds, settings),
        value_given=col(i_rows, 3),
        value_received=col(i_rows, 4),
        sentiment=col(i_rows, 5),
        duration_minutes=col(i_rows, 6),
        cost=col(i_rows, 7),
        n_internal=col(i_rows, 8),
        n_stakeholders=col(i_rows, 9),
    )
    commitments = CommitmentRows(col(c_rows, 0), col(c_rows, 1), col(c_rows, 2), col(c_rows, 3))
    outcomes = OutcomeRows(col(o_rows, 0), col(o_rows, 1), col(o_rows, 2), col(o_rows, 3))
    return n, interactions, commitments, outcomes


def score_one(
    interactions: Sequence[InteractionFact],
    commitments: Sequence[CommitmentFact],
    outcomes: Sequence[OutcomeFact],
    *,
    at: datetime,
    level: Level = Level.STAKEHOLDER,
    settings: ScoreSettings = DEFAULT_SETTINGS,
) -> dict[str, Any]:
    """Scores of one group (``row`` plus ``explanation``) through score_groups."""
    _, ia, cm, oc = rows_from_facts([(interactions, commitments, outcomes)], settings)
    scores = score_groups(1, ia, cm, oc, at=to_posix(at), level=level, settings=settings)
    return {**scores.row(0), "explanation": scores.explanation_for(0)}
