"""What the review pages, panels and the directors' page show, read from stored rows.

Every figure reads in words (DESIGN §5b): a gap is "they see our timeliness lower
than we do", a trend "the gap is narrowing".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.db.models.functions import Abs
from django.utils import timezone
from django.utils.translation import gettext as _

from relations.models import GoalStakeholder, Relationship, Stakeholder, StrategicGoal, Team

from . import gaps as gap_maths
from .models import Review, ReviewQuestion, Side
from .services import answers_by_side


def gap_sentence(label: str, gap: float | None) -> str:
    direction = gap_maths.gap_direction(gap)
    if direction is None:
        return _("not answered by both sides")
    if direction == "alike":
        return _("we see our %(item)s alike") % {"item": label}
    if direction == "lower":
        return _("they see our %(item)s lower than we do") % {"item": label}
    return _("they see our %(item)s higher than we do") % {"item": label}


def mean_gap_sentence(gap: float | None) -> str:
    direction = gap_maths.gap_direction(gap)
    if direction is None:
        return _("no completed review yet")
    if direction == "alike":
        return _("on the whole they see us as we see ourselves")
    if direction == "lower":
        return _("on the whole they see us lower than we do")
    return _("on the whole they see us higher than we do")


def trend_sentence(earlier: float | None, later: float | None) -> str:
    return {
        "narrowing": _("the gap is narrowing"),
        "widening": _("the gap is widening"),
        "steady": _("the gap is steady"),
    }.get(gap_maths.trend_direction(earlier, later) or "", "")


def gap_points(gap: float | None) -> str:
    """A gap as a signed figure with one decimal ("−1.0"), for beside its words."""
    if gap is None:
        return "—"
    from metrics.formatting import localized

    sign = "+" if gap > 0 else "−" if gap < 0 else "±"
    return f"{sign}{localized(abs(gap), 1)}"


@dataclass
class GapRow:
    key: str
    label: str
    ours: int | None
    theirs: int | None
    gap: float | None
    words: str
    trend: str = ""
    earlier: list[float | None] = field(default_factory=list)


def gap_rows(review: Review, earlier: list[Review] | None = None) -> list[GapRow]:
    """Both sides of every scored item, the gap in words, and its trend across the
    earlier completed reviews of the same relationship (oldest first)."""
    sides = answers_by_side(review)
    earlier = earlier or []
    rows = []
    for question in ReviewQuestion.objects.filter(kind=ReviewQuestion.Kind.SCALE, active=True):
        label = question.label()
        ours = sides[Side.OURS].get(question.key)
        theirs = sides[Side.THEIRS].get(question.key)
        gap = None if ours is None or theirs is None else float(theirs - ours)
        history = [r.gaps.get(question.key) for r in earlier]
        previous = next((g for g in reversed(history) if g is not None), None)
        rows.append(
            GapRow(
                key=question.key,
                label=label,
                ours=ours,
                theirs=theirs,
                gap=gap,
                words=gap_sentence(label, gap),
                trend=trend_sentence(previous, gap),
                earlier=history,
            )
        )
    return rows


def open_answers(review: Review) -> list[dict[str, Any]]:
    sides = answers_by_side(review)
    return [
        {
            "label": q.prompt(Side.THEIRS),
            "ours": sides[Side.OURS].get(q.key, ""),
            "theirs": sides[Side.THEIRS].get(q.key, ""),
        }
        for q in ReviewQuestion.objects.filter(kind=ReviewQuestion.Kind.OPEN, active=True)
    ]


def quarter_start(today: date | None = None) -> date:
    today = today or timezone.localdate()
    return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


def coverage(today: date | None = None, *, rows: int = 10) -> dict[str, Any]:
    """Directors' page: which key stakeholders were reviewed this quarter, the mean gap
    per team and per goal, and the largest gaps (each linking to its review)."""
    start = quarter_start(today)
    done = Review.objects.completed().filter(completed_at__date__gte=start)
    reviewed = done.filter(relationship__stakeholder=OuterRef("pk"))
    key = (
        Stakeholder.objects.key().filter(erased_at__isnull=True).annotate(reviewed=Exists(reviewed))
    )
    # Two counts, not one aggregate with a filter on the EXISTS annotation: SQLite
    # counted every row there.
    totals = {"total": key.count(), "reviewed": key.filter(reviewed=True).count()}
    not_reviewed = list(key.filter(reviewed=False).order_by("name")[:rows])
    largest = list(
        done.filter(largest_gap__isnull=False)
        .select_related("relationship__stakeholder", "relationship__user")
        .order_by(Abs("largest_gap").desc(), "-completed_at")[:rows]
    )
    labels = {q.key: q.label() for q in ReviewQuestion.objects.all()}
    for review in largest:
        label = labels.get(review.largest_gap_key, review.largest_gap_key)
        review.largest_words = gap_sentence(label, review.largest_gap)
    teams = [
        {
            "name": team.name,
            "mean_gap": team.mean_gap,
            "reviews": team.reviews,
            "words": mean_gap_sentence(team.mean_gap),
        }
        for team in Team.objects.annotate(
            mean_gap=Avg(
                "members__relationships__reviews__mean_gap",
                filter=Q(
                    members__relationships__reviews__status=Review.Status.COMPLETED,
                    members__relationships__reviews__completed_at__date__gte=start,
                ),
            ),
            reviews=Count(
                "members__relationships__reviews",
                filter=Q(
                    members__relationships__reviews__status=Review.Status.COMPLETED,
                    members__relationships__reviews__completed_at__date__gte=start,
                ),
            ),
        ).order_by("name")
    ]
    goal_gap = (
        done.filter(
            relationship__stakeholder__in=GoalStakeholder.objects.filter(
                goal=OuterRef("pk")
            ).values("stakeholder")
        )
        .values("status")
        .annotate(mean=Avg("mean_gap"))
        .values("mean")
    )
    goals = [
        {
            "goal": goal,
            "mean_gap": goal.mean_gap,
            "words": mean_gap_sentence(goal.mean_gap),
        }
        for goal in StrategicGoal.objects.filter(status=StrategicGoal.Status.ACTIVE)
        .annotate(mean_gap=goal_gap[:1])
        .order_by("title")
    ]
    total, covered = totals["total"], totals["reviewed"]
    return {
        "quarter_start": start,
        "key_total": total,
        "key_reviewed": covered,
        "share": covered / total if total else None,
        "not_reviewed": not_reviewed,
        "largest": largest,
        "teams": teams,
        "goals": goals,
    }


def due_for(user, today: date | None = None, *, rows: int = 10) -> dict[str, Any]:
    """Manager home: the user's reviews falling due or waiting, and answers received
    (one query for both lists)."""
    today = today or timezone.localdate()
    waiting = Q(status__in=[Review.Status.SCHEDULED, Review.Status.SENT])
    received = Q(status__in=[Review.Status.ANSWERED, Review.Status.DECLINED]) | Q(
        status=Review.Status.COMPLETED, completed_at__date__gte=today.replace(day=1)
    )
    mine = list(
        Review.objects.filter(relationship__user=user)
        .filter(waiting | received)
        .select_related("relationship__stakeholder")
        .order_by("due_on", "pk")[: 4 * rows]
    )
    due = [r for r in mine if r.status in (Review.Status.SCHEDULED, Review.Status.SENT)]
    answered = [r for r in mine if r not in due]
    answered.sort(key=lambda r: r.theirs_answered_at or r.declined_at or r.updated_at, reverse=True)
    return {"due": due[:rows], "received": answered[:rows], "today": today}


def relationship_panel(relationship: Relationship, user) -> dict[str, Any]:
    """The relationship page's panel: the latest review's gaps, the trend, trust beside."""
    reviews = list(
        Review.objects.visible_to(user)
        .filter(relationship=relationship)
        .order_by("-due_on", "-pk")[:6]
    )
    completed = sorted(
        (r for r in reviews if r.status == Review.Status.COMPLETED),
        key=lambda r: r.completed_at,
    )
    latest = completed[-1] if completed else None
    return {
        "relationship": relationship,
        "reviews": reviews,
        "latest": latest,
        "rows": gap_rows(latest, completed[:-1]) if latest else [],
        "trend": [
            {"review": r, "words": mean_gap_sentence(r.mean_gap), "points": gap_points(r.mean_gap)}
            for r in completed
        ],
    }
