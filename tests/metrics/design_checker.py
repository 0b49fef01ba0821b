"""DESIGN §3 written again from the specification text alone, to check the product against.

This module is a deliberately independent, from-the-spec re-implementation of the
stakeholder- and relationship-level scores of /work/shared/DESIGN.md §3 (with the §6
rule "a date (not a date-time) counts as 00:00 UTC of that day in every formula; the
RoR window holds items dated after T − ROR_WINDOW_DAYS and on or before T"). It was
written without reading `metrics.scoring`, the recomputation (then `metrics.services`) or
the reference implementation in tests/metrics/test_scoring.py, so that the two can disagree: it is
the "outside party" of the acceptance criterion, not a copy of the product.

It works on plain records (no ORM, no numpy): straightforward loops over every item,
`math` and `datetime`, nothing clever, no incremental advancing. Speed does not matter.

Readings of the text that a reader could take either way are marked "READING:".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

# The DESIGN §3 defaults; config/settings.py (RAPPORT_SCORES) uses the same values.
HALF_LIFE_DAYS = 180.0
ROR_WINDOW_DAYS = 365.0
HOURLY_RATE = 100.0
TRUST_WEIGHTS = {"reliability": 0.4, "sentiment": 0.3, "reciprocity": 0.3}
KIND_WEIGHTS = {
    "meeting": 1.0,
    "video_call": 0.8,
    "call": 0.6,
    "introduction": 0.6,
    "event": 0.5,
    "email": 0.3,
    "message": 0.2,
    "other": 0.3,
}

SECONDS_PER_DAY = 86400.0

# Risk reasons, as codes of this module (the product words them for people).
LOW_TRUST = "low_trust"
TRUST_FELL = "trust_fell"
KEY_OVERDUE = "key_overdue"
LOW_RECIPROCITY = "low_reciprocity"


@dataclass(frozen=True)
class InteractionRecord:
    occurred_at: datetime  # aware
    kind: str
    value_given: int
    value_received: int
    sentiment: int | None
    duration_minutes: int
    cost: float
    users: frozenset[int]  # internal participants
    stakeholders: frozenset[int]  # stakeholder participants


@dataclass(frozen=True)
class CommitmentRecord:
    stakeholder: int
    responsible: int
    due_date: date
    status: str  # open, kept, broken, cancelled


@dataclass(frozen=True)
class OutcomeRecord:
    stakeholder: int
    credited_to: int | None
    value: float
    occurred_on: date


@dataclass
class History:
    interactions: list[InteractionRecord] = field(default_factory=list)
    commitments: list[CommitmentRecord] = field(default_factory=list)
    outcomes: list[OutcomeRecord] = field(default_factory=list)


def as_datetime(day: date) -> datetime:
    """DESIGN §6: a date counts as 00:00 UTC of that day."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def days_between(earlier: datetime, later: datetime) -> float:
    """later − earlier in (fractional) days."""
    return (later - earlier).total_seconds() / SECONDS_PER_DAY


def decay(at: datetime, dated: datetime) -> float:
    """w = 2 ** (−(T − d) / HALF_LIFE_DAYS)."""
    return 2.0 ** (-days_between(dated, at) / HALF_LIFE_DAYS)


def in_ror_window(at: datetime, dated: datetime) -> bool:
    """After T − ROR_WINDOW_DAYS and on or before T."""
    return at - timedelta(days=ROR_WINDOW_DAYS) < dated <= at


def days_since(last_contact: datetime, now: datetime) -> int:
    """Whole days since the last contact.

    READING: the API gives an integer, so whole days elapsed (rounded down).
    """
    return math.floor(days_between(last_contact, now))


def is_overdue(days: int | None, cadence_days: int | None) -> bool | None:
    if days is None or cadence_days is None:
        return None
    return days > cadence_days


def _scores(
    *,
    at: datetime,
    interactions: list[InteractionRecord],
    commitments: list[CommitmentRecord],
    outcomes: list[OutcomeRecord],
    cost_share,
) -> dict:
    """The formulas of DESIGN §3 over one set I (with its C and O), as of `at`.

    `interactions` are I already restricted to the level (but not to T); `cost_share`
    gives an interaction's investment attributable at this level.
    """
    interactions = [i for i in interactions if i.occurred_at <= at]
    outcomes = [o for o in outcomes if as_datetime(o.occurred_on) <= at]

    given = received = engagement = 0.0
    sentiment_sum = sentiment_weight = 0.0
    for interaction in interactions:
        w = decay(at, interaction.occurred_at)
        given += w * interaction.value_given
        received += w * interaction.value_received
        engagement += w * KIND_WEIGHTS[interaction.kind]
        if interaction.sentiment is not None:
            sentiment_sum += w * interaction.sentiment
            sentiment_weight += w

    if given + received == 0:
        balance = reciprocity = None
    else:
        balance = (given - received) / (given + received)
        reciprocity = 1 - abs(balance)

    strength = None if not interactions else 1 - math.exp(-engagement / 3)
    sentiment = None if sentiment_weight == 0 else 0.5 + 0.25 * (sentiment_sum / sentiment_weight)

    # Reliability. READING: "before T's date" is the UTC calendar date of T (dates are
    # 00:00 UTC in every formula); a due date of T's own date is not yet overdue.
    kept_w = broken_w = 0.0
    counted = 0
    for commitment in commitments:
        overdue = commitment.status == "open" and commitment.due_date < at.astimezone(UTC).date()
        if commitment.status not in ("kept", "broken") and not overdue:
            continue  # cancelled, or open and not yet overdue
        kept = commitment.status == "kept"
        w = min(1.0, decay(at, as_datetime(commitment.due_date)))
        counted += 1
        if kept:
            kept_w += w
        else:
            broken_w += w
    reliability = None if counted == 0 else (kept_w + 1) / (kept_w + broken_w + 2)

    components = {"reliability": reliability, "sentiment": sentiment, "reciprocity": reciprocity}
    weight_total = sum(TRUST_WEIGHTS[k] for k, v in components.items() if v is not None)
    if weight_total == 0:
        trust = None
    else:
        trust = (
            sum(TRUST_WEIGHTS[k] * v for k, v in components.items() if v is not None) / weight_total
        )

    investment = 0.0
    for interaction in interactions:
        if in_ror_window(at, interaction.occurred_at):
            investment += cost_share(interaction)
    return_value = 0.0
    for outcome in outcomes:
        if in_ror_window(at, as_datetime(outcome.occurred_on)):
            return_value += outcome.value
    ror = None if investment == 0 else (return_value - investment) / investment

    last_contact = max((i.occurred_at for i in interactions), default=None)
    return {
        "given": given,
        "received": received,
        "reciprocity_balance": balance,
        "reciprocity": reciprocity,
        "strength": strength,
        "sentiment": sentiment,
        "reliability": reliability,
        "trust": trust,
        "investment": investment,
        "return": return_value,
        "ror": ror,
        "last_contact": last_contact,
    }


def _with_contact(scores: dict, *, at: datetime, cadence_days: int | None) -> dict:
    last_contact = scores["last_contact"]
    days = None if last_contact is None else days_since(last_contact, at)
    scores["days_since_contact"] = days
    scores["overdue"] = is_overdue(days, cadence_days)
    return scores


def stakeholder_scores(
    stakeholder: int,
    history: History,
    *,
    at: datetime,
    cadence_days: int | None,
    is_key: bool,
    trust_90_days_ago: float | None = None,
) -> dict:
    """Stakeholder level: every interaction s took part in; every commitment and outcome
    of s. `trust_90_days_ago` is the trust of the snapshot 90 days before T (None when
    there is none, or its trust was null)."""

    def cost_share(interaction: InteractionRecord) -> float:
        hours = interaction.duration_minutes / 60
        whole = hours * len(interaction.users) * HOURLY_RATE + interaction.cost
        return whole / len(interaction.stakeholders)

    scores = _scores(
        at=at,
        interactions=[i for i in history.interactions if stakeholder in i.stakeholders],
        commitments=[c for c in history.commitments if c.stakeholder == stakeholder],
        outcomes=[o for o in history.outcomes if o.stakeholder == stakeholder],
        cost_share=cost_share,
    )
    _with_contact(scores, at=at, cadence_days=cadence_days)
    return with_risk(
        scores, is_key=is_key, cadence_days=cadence_days, trust_90_days_ago=trust_90_days_ago
    )


def with_risk(
    scores: dict, *, is_key: bool, cadence_days: int | None, trust_90_days_ago: float | None
) -> dict:
    """The "at risk" reasons of DESIGN §3 that apply to these scores."""
    reasons = []
    trust = scores["trust"]
    if trust is not None and trust < 0.4:
        reasons.append(LOW_TRUST)
    if trust is not None and trust_90_days_ago is not None and trust_90_days_ago - trust >= 0.15:
        reasons.append(TRUST_FELL)
    days = scores["days_since_contact"]
    # READING: "overdue by more than 50% of its cadence": days − cadence > 0.5 · cadence;
    # a key stakeholder never contacted has no days since contact, so is not "overdue".
    if is_key and days is not None and cadence_days is not None and days > 1.5 * cadence_days:
        reasons.append(KEY_OVERDUE)
    reciprocity = scores["reciprocity"]
    if reciprocity is not None and reciprocity < 0.3 and scores["given"] + scores["received"] >= 2:
        reasons.append(LOW_RECIPROCITY)
    scores["risk_reasons"] = reasons
    scores["at_risk"] = bool(reasons)
    return scores


def relationship_scores(
    user: int,
    stakeholder: int,
    history: History,
    *,
    at: datetime,
    cadence_days: int | None,
    is_key: bool,
    trust_90_days_ago: float | None = None,
) -> dict:
    """Relationship level: interactions in which both u and s took part; commitments of
    s whose responsible user is u; outcomes of s credited to u.

    READING: DESIGN §3 names "at risk" at stakeholder level; §6 serves "the same" fields
    at relationship level. Here the same rules apply to the relationship's own scores
    (with the stakeholder's key-ness and cadence, and the relationship's snapshot).
    """

    def cost_share(interaction: InteractionRecord) -> float:
        hours = interaction.duration_minutes / 60
        mine = hours * HOURLY_RATE + interaction.cost / len(interaction.users)
        return mine / len(interaction.stakeholders)

    scores = _scores(
        at=at,
        interactions=[
            i for i in history.interactions if stakeholder in i.stakeholders and user in i.users
        ],
        commitments=[
            c for c in history.commitments if c.stakeholder == stakeholder and c.responsible == user
        ],
        outcomes=[
            o for o in history.outcomes if o.stakeholder == stakeholder and o.credited_to == user
        ],
        cost_share=cost_share,
    )
    _with_contact(scores, at=at, cadence_days=cadence_days)
    return with_risk(
        scores, is_key=is_key, cadence_days=cadence_days, trust_90_days_ago=trust_90_days_ago
    )
