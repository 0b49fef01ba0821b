"""What reviews adds to relations, registered from `ReviewsConfig.ready()` (see
`relations.registry`): panels on the relationship and stakeholder pages and the
manager home, the reviews in a GDPR export, and erasure of the stakeholder's answers."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Q
from django.utils.translation import gettext as _

from relations import registry
from relations.registry import TimelineEvent, TimelineScope

from . import figures
from .models import Review, ReviewAnswer, ReviewInvitation, Side, relationship_review_startable_by


def relationship_panel(context: Any, relationship) -> dict[str, Any]:
    user = context["request"].user
    values = figures.relationship_panel(relationship, user)
    latest = values["latest"]
    values["latest_words"] = figures.mean_gap_sentence(latest.mean_gap) if latest else ""
    values["open_review"] = next((r for r in values["reviews"] if not r.is_closed), None)
    values["can_start"] = relationship_review_startable_by(relationship, user)
    return values


def stakeholder_panel(context: Any, stakeholder) -> dict[str, Any]:
    user = context["request"].user
    reviews = list(
        Review.objects.visible_to(user)
        .filter(relationship__stakeholder=stakeholder)
        .select_related("relationship__user")
        .order_by("-due_on", "-pk")[:10]
    )
    for review in reviews:
        review.words = figures.mean_gap_sentence(review.mean_gap)
    return {"reviews": reviews}


def home_panel(context: Any, user) -> dict[str, Any]:
    return figures.due_for(user)


def export_reviews(stakeholder_id: int) -> list[dict[str, Any]]:
    """Every review of the person, with both sides' answers and the invitations sent."""
    reviews = Review.objects.filter(relationship__stakeholder_id=stakeholder_id).order_by(
        "due_on", "pk"
    )
    answers: dict[int, list[dict]] = {}
    for answer in ReviewAnswer.objects.filter(review__in=reviews).select_related("question"):
        answers.setdefault(answer.review_id, []).append(
            {
                "question": answer.question.key,
                "side": answer.side,
                "score": answer.score,
                "text": answer.text,
                "answered_at": answer.answered_at,
            }
        )
    invitations: dict[int, list[dict]] = {}
    for inv in ReviewInvitation.objects.filter(review__in=reviews):
        invitations.setdefault(inv.review_id, []).append(
            {
                "email": inv.email,
                "language": inv.language,
                "legal_basis": inv.legal_basis,
                "sent_at": inv.sent_at,
                "expires_at": inv.expires_at,
                "used_at": inv.used_at,
                "delivery": inv.delivery,
            }
        )
    return [
        {
            "id": r.pk,
            "relationship_id": r.relationship_id,
            "status": r.status,
            "due_on": r.due_on,
            "completed_at": r.completed_at,
            "declined_at": r.declined_at,
            "decline_reason": r.decline_reason,
            "gaps": r.gaps,
            "mean_gap": r.mean_gap,
            "answers": answers.get(r.pk, []),
            "invitations": invitations.get(r.pk, []),
        }
        for r in reviews
    ]


def erase_reviews(stakeholder_id: int) -> int:
    """The person's own words and address go; their scores stay, as figures do."""
    reviews = Review.objects.filter(relationship__stakeholder_id=stakeholder_id)
    changed = (
        ReviewAnswer.objects.filter(review__in=reviews, side=Side.THEIRS)
        .exclude(text="")
        .update(text="")
    )
    changed += reviews.exclude(decline_reason="").update(decline_reason="")
    changed += ReviewInvitation.objects.filter(review__in=reviews).update(
        email="erased@invalid", token_hash=None
    )
    return changed


def review_events(viewer: Any, scope: TimelineScope) -> list[TimelineEvent]:
    """Completed reviews on a trust time line: each side's mean answer (1–5 read as
    0–1) drawn as a point, so the line shows where the two views met trust (two
    queries, whatever the span)."""
    reviews = Review.objects.visible_to(viewer).filter(
        relationship__stakeholder_id=scope.stakeholder_id,
        # The time line's days are UTC dates (as its snapshots'), not local ones.
        completed_at__gte=datetime.combine(scope.first, time.min, tzinfo=UTC),
        completed_at__lt=datetime.combine(scope.last + timedelta(days=1), time.min, tzinfo=UTC),
    )
    if scope.relationship_id is not None:
        reviews = reviews.filter(relationship_id=scope.relationship_id)
    reviews = list(reviews.order_by("completed_at", "pk"))
    if not reviews:
        return []
    means = {
        review_id: {"ours": ours, "theirs": theirs}
        for review_id, ours, theirs in ReviewAnswer.objects.filter(
            review__in=[r.pk for r in reviews], score__isnull=False
        )
        .values("review_id")
        .annotate(
            ours=Avg("score", filter=Q(side=Side.OURS)),
            theirs=Avg("score", filter=Q(side=Side.THEIRS)),
        )
        .values_list("review_id", "ours", "theirs")
    }
    series = {"ours": _("Review: our answers"), "theirs": _("Review: their answers")}
    events = []
    for review in reviews:
        day = review.completed_at.astimezone(UTC).date()
        for side, mean in means.get(review.pk, {}).items():
            if mean is None:
                continue
            events.append(
                TimelineEvent(
                    day=day,
                    kind="review_completed",
                    label=_("review completed"),
                    url=review.get_absolute_url(),
                    record_type="review",
                    record_id=review.pk,
                    score=(mean - 1) / 4,
                    series=series[side],
                )
            )
    return events


def register() -> None:
    registry.timeline_source_register(review_events)
    registry.personal_data_register("reviews")
    registry.export_list_register("reviews", export_reviews)
    registry.erasure_register(erase_reviews)
    registry.page_panel_register(
        "relationship.reviews",
        registry.template_panel("reviews/partials/relationship_panel.html", relationship_panel),
    )
    registry.page_panel_register(
        "stakeholder.reviews",
        registry.template_panel("reviews/partials/stakeholder_panel.html", stakeholder_panel),
    )
    registry.page_panel_register(
        "home.reviews",
        registry.template_panel("reviews/partials/home_panel.html", home_panel),
    )
