"""Trust over time: a stakeholder's or a relationship's daily score snapshots on one
time line, with the events that moved them (issue 23, item 4).

The series are the stored daily snapshots (`StakeholderScoreSnapshot`,
`RelationshipScoreSnapshot`), never recomputed here. The events come from the
sources registered in `relations.registry.timeline_source_register`: metrics
registers the commitments, interactions and pulses (below); other apps (reviews) add
theirs. A significant move of a score between two snapshots is annotated with the
events of its day that could have caused it; assessments (pulses, reviews), which
move no computed score, are marked on their own.

Page and API read the same `score_history(...)`; both check first that the viewer may
see these scores (relations' rules), and every source filters by what the viewer may
see of its records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from relations import registry
from relations.models import AuthenticityPulse, Commitment, Interaction, Relationship, Stakeholder
from relations.registry import TimelineEvent, TimelineScope

from .formatting import BAND_FAIR, BAND_STRONG
from .models import RelationshipScoreSnapshot, StakeholderScoreSnapshot

# The page offers these spans; 90 days is the default (the span of "trust falling",
# DESIGN §3, and of the history a fresh installation derives).
HISTORY_DAY_CHOICES = (90, 180, 365)
HISTORY_DEFAULT_DAYS = 90
# A day-to-day change of this many points (0–100) is a move worth marking. Decay alone
# moves a score by well under one point a day (half-life 180 days), while one broken
# commitment among a handful, or one clearly negative meeting, moves it by several:
# five points separates events from drift. A change into another band (DESIGN §5b)
# is marked whatever its size.
MOVE_POINTS = 5
# The scores the line draws and watches for moves; strength is in the series too.
WATCHED = ("trust", "reliability", "reciprocity")
SERIES_FIELDS = ("trust", "reliability", "reciprocity", "strength", "sentiment")
# A long span of a busy relationship lists at most this many annotated changes
# (the newest); the chart still marks them all.
LISTED_ANNOTATIONS = 60

TRUST_PARTS = frozenset({"trust"})


@dataclass(frozen=True)
class ScoreMove:
    """A watched score from `before` (None: not measured before) to `after` (0–1)."""

    score: str
    before: float | None
    after: float

    @property
    def rose(self) -> bool:
        return self.before is None or self.after > self.before


@dataclass
class Annotation:
    """One marked day: the significant moves of its snapshot and the events that
    explain them, or an assessment (no moves, one event)."""

    day: date
    previous_day: date | None
    moves: list[ScoreMove] = field(default_factory=list)
    events: list[TimelineEvent] = field(default_factory=list)


@dataclass
class ScoreHistory:
    scope: TimelineScope
    days: int
    rows: list[dict[str, Any]]
    annotations: list[Annotation]  # newest first
    points: list[TimelineEvent]  # events carrying a score, oldest first


# --- Pure: which moves are significant, and which events explain them ------------------


def _points(value: float | None) -> int | None:
    return None if value is None else int(round(value * 100))


def _band(points: int) -> int:
    return 2 if points >= BAND_STRONG else 1 if points >= BAND_FAIR else 0


def is_significant(before: float | None, after: float, threshold: int = MOVE_POINTS) -> bool:
    """A move of `threshold` points or more, into another band, or a first measure."""
    if before is None:
        return True
    b, a = _points(before), _points(after)
    assert b is not None and a is not None
    return abs(a - b) >= threshold or _band(a) != _band(b)


def significant_moves(
    rows: Sequence[dict[str, Any]], watched: Sequence[str] = WATCHED, threshold: int = MOVE_POINTS
) -> list[Annotation]:
    """The days (oldest first) on which a watched score moved significantly against its
    previous snapshot. A score seen for the first time after the window's first
    snapshot is a move from nothing; a score that disappears is none."""
    last: dict[str, float | None] = dict.fromkeys(watched)
    annotations: list[Annotation] = []
    previous_day: date | None = None
    for index, row in enumerate(rows):
        moves = []
        for name in watched:
            value = row.get(name)
            if value is None:
                continue
            if index > 0 and is_significant(last[name], value, threshold):
                moves.append(ScoreMove(name, last[name], value))
            last[name] = value
        if moves:
            annotations.append(Annotation(row["date"], previous_day, moves))
        previous_day = row["date"]
    return annotations


def attribute_events(
    moves: list[Annotation], events: Iterable[TimelineEvent]
) -> tuple[list[Annotation], list[Annotation]]:
    """Attach each event that can move a score to the move it explains, and make each
    assessment (an event that moves no computed score) an annotation of its own.

    An event of day e explains the move of snapshot d when the previous snapshot p is
    before e and e ≤ d (a snapshot holds its whole day, as `backfill_history` writes
    them), or when e = p and the move of p did not take it (the nightly run writes
    day d's snapshot just after midnight, before that day's events). An event explains
    a move only when it can move one of the scores that moved. Events that explain no
    significant move are left out. Returns (moves, assessments), oldest first."""
    assessments: list[Annotation] = []
    movers: list[TimelineEvent] = []
    for event in sorted(events, key=lambda e: (e.day, e.kind, e.record_id or 0)):
        if event.moves:
            movers.append(event)
        else:
            assessments.append(Annotation(event.day, None, [], [event]))
    taken: set[int] = set()
    for annotation in moves:
        moved = {m.score for m in annotation.moves}
        for index, event in enumerate(movers):
            if index in taken or not (event.moves & moved):
                continue
            p, e, d = annotation.previous_day, event.day, annotation.day
            if (p is None or p < e) and e <= d or e == p:
                annotation.events.append(event)
                taken.add(index)
    return moves, assessments


# --- The built-in sources: commitments, interactions and pulses --------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def commitments_source(viewer: Any, scope: TimelineScope) -> list[TimelineEvent]:
    """Kept and broken commitments, and open ones becoming overdue (counted as broken
    from the day after their due date, DESIGN §3): one query."""
    rows = Commitment.objects.visible_to(viewer).filter(stakeholder_id=scope.stakeholder_id)
    if scope.user_id is not None:
        rows = rows.filter(responsible_id=scope.user_id)
    # The day before the window: the nightly convention's event of the first day.
    first = scope.first - timedelta(days=2)
    rows = rows.filter(
        Q(due_date__range=(first, scope.last)) | Q(completed_on__range=(first, scope.last))
    ).exclude(status=Commitment.Status.CANCELLED)
    moves = frozenset({"reliability", "trust"})
    events = []
    for pk, description, due, done, status in rows.values_list(
        "pk", "description", "due_date", "completed_on", "status"
    ).order_by("pk"):
        overdue_on = due + timedelta(days=1)
        late = done is None or done > due

        def event(day: date, kind: str, label: str, pk: int = pk, text: str = description):
            return TimelineEvent(
                day=day,
                kind=kind,
                label=label,
                title=text,
                record_type="commitment",
                record_id=pk,
                moves=moves,
            )

        if status == Commitment.Status.OPEN:
            events.append(event(overdue_on, "commitment_overdue", _("a commitment became overdue")))
        elif status == Commitment.Status.BROKEN:
            day = overdue_on if late else done
            events.append(event(day, "commitment_broken", _("a commitment was broken")))
        elif status == Commitment.Status.KEPT:
            if late and done is not None:
                events.append(
                    event(overdue_on, "commitment_overdue", _("a commitment became overdue"))
                )
            events.append(event(done or due, "commitment_kept", _("a commitment was kept")))
    return [e for e in events if scope.first - timedelta(days=1) <= e.day <= scope.last]


# Sentiment −2…+2 (DESIGN §2): −1 or below is a negative meeting, +2 a strongly
# positive one; both are named as such when they explain a move.
NEGATIVE_SENTIMENT = -1
STRONGLY_POSITIVE_SENTIMENT = 2


def interactions_source(viewer: Any, scope: TimelineScope) -> list[TimelineEvent]:
    """The interactions of the scope's days the viewer may see (their subjects only,
    never their notes): one query."""
    rows = Interaction.objects.visible_to(viewer).of_stakeholder(scope.stakeholder_id)
    if scope.user_id is not None:
        rows = rows.filter(internal_participants=scope.user_id)
    rows = rows.filter(
        occurred_at__gte=_day_start(scope.first - timedelta(days=1)),
        occurred_at__lt=_day_start(scope.last + timedelta(days=1)),
    )
    kinds = dict(Interaction.Kind.choices)
    events = []
    for pk, occurred_at, kind, subject, sentiment, given, received in rows.values_list(
        "pk", "occurred_at", "kind", "subject", "sentiment", "value_given", "value_received"
    ).order_by("occurred_at", "pk"):
        moves = {"strength"}
        if sentiment is not None:
            moves |= {"sentiment", "trust"}
        if given or received:
            moves |= {"reciprocity", "trust"}
        name = str(kinds.get(kind, kind)).lower()
        if sentiment is not None and sentiment <= NEGATIVE_SENTIMENT:
            label, code = _("a %(kind)s with a negative tone") % {"kind": name}, "negative"
        elif sentiment is not None and sentiment >= STRONGLY_POSITIVE_SENTIMENT:
            label, code = _("a %(kind)s with a very positive tone") % {"kind": name}, "positive"
        else:
            label, code = _("a %(kind)s") % {"kind": name}, "neutral"
        events.append(
            TimelineEvent(
                day=occurred_at.astimezone(UTC).date(),
                kind=f"interaction_{code}",
                label=label,
                title=subject,
                url=reverse("interaction-detail", args=[pk]),
                record_type="interaction",
                record_id=pk,
                moves=frozenset(moves),
            )
        )
    return events


def pulses_source(viewer: Any, scope: TimelineScope) -> list[TimelineEvent]:
    """Authenticity pulses the viewer may see, each a point of the "Pulse" series:
    one query (with their authors)."""
    rows = AuthenticityPulse.objects.visible_to(viewer).filter(
        assessed_on__range=(scope.first, scope.last)
    )
    if scope.relationship_id is not None:
        rows = rows.filter(relationship_id=scope.relationship_id)
    else:
        rows = rows.filter(relationship__stakeholder_id=scope.stakeholder_id)
    events = []
    for pulse in rows.select_related("assessed_by").order_by("assessed_on", "pk"):
        author = pulse.assessed_by
        events.append(
            TimelineEvent(
                day=pulse.assessed_on,
                kind="pulse",
                label=_("%(name)s recorded a pulse")
                % {"name": author.get_full_name() or author.username},
                url=reverse("relationship-detail", args=[pulse.relationship_id]) + "#pulses",
                record_type="pulse",
                record_id=pulse.pk,
                score=pulse.score,
                series=_("Pulse"),
            )
        )
    return events


BUILT_IN_SOURCES = (commitments_source, interactions_source, pulses_source)


# --- Reading one history --------------------------------------------------------------


def history_today() -> date:
    """Snapshots are dated in UTC (the nightly run's and the backfill's day)."""
    return timezone.now().astimezone(UTC).date()


def history_days(value: Any, default: int = HISTORY_DEFAULT_DAYS) -> int:
    """The page's span from its query string: one of the offered choices, else the default."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return default
    return days if days in HISTORY_DAY_CHOICES else default


def stakeholder_scope(stakeholder_id: int, days: int) -> TimelineScope:
    last = history_today()
    return TimelineScope(stakeholder_id, None, None, last - timedelta(days=days - 1), last)


def relationship_scope(relationship: Relationship, days: int) -> TimelineScope:
    last = history_today()
    return TimelineScope(
        relationship.stakeholder_id,
        relationship.user_id,
        relationship.pk,
        last - timedelta(days=days - 1),
        last,
    )


def score_history(
    viewer: Any, scope: TimelineScope, days: int, fields: Sequence[str] = SERIES_FIELDS
) -> ScoreHistory:
    """The scope's snapshots (their `fields`, which hold `SERIES_FIELDS`) and
    annotations as `viewer` may see them. The caller has checked that the viewer may
    see the scope's scores. Queries: one for the snapshots, then each source's own
    few (three for the built-in ones)."""
    if scope.relationship_id is not None:
        snapshots = RelationshipScoreSnapshot.objects.filter(relationship_id=scope.relationship_id)
    else:
        snapshots = StakeholderScoreSnapshot.objects.filter(stakeholder_id=scope.stakeholder_id)
    rows = list(
        snapshots.filter(date__range=(scope.first, scope.last))
        .order_by("date")
        .values("date", *fields)
    )
    events: list[TimelineEvent] = []
    for source in registry.timeline_sources():
        events.extend(e for e in source(viewer, scope) if e.day <= scope.last)
    moves, assessments = attribute_events(significant_moves(rows), events)
    assessments = [a for a in assessments if a.day >= scope.first]
    annotations = sorted(moves + assessments, key=lambda a: (a.day, bool(a.moves)), reverse=True)
    points = [
        e
        for e in sorted(events, key=lambda e: e.day)
        if e.score is not None and scope.first <= e.day
    ]
    return ScoreHistory(scope, days, rows, annotations, points)


def stakeholder_history_visible(viewer: Any, stakeholder_id: int) -> bool:
    return Stakeholder.objects.scores_visible_to(viewer).filter(pk=stakeholder_id).exists()


def event_json(event: TimelineEvent) -> dict[str, Any]:
    return {
        "date": event.day,
        "kind": event.kind,
        "label": event.label,
        "title": event.title,
        "record_type": event.record_type,
        "record_id": event.record_id,
        "score": event.score,
        "series": event.series,
    }


def annotations_json(history: ScoreHistory) -> list[dict[str, Any]]:
    """The annotations as the API gives them (raw 0–1 scores, ISO dates), newest first."""
    return [
        {
            "date": a.day,
            "previous_date": a.previous_day,
            "moves": [{"score": m.score, "before": m.before, "after": m.after} for m in a.moves],
            "events": [event_json(e) for e in a.events],
        }
        for a in history.annotations
    ]
