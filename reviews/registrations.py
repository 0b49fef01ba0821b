"""What reviews adds to relations, registered from `ReviewsConfig.ready()` (see
`relations.registry`): panels on the relationship and stakeholder pages and the
manager home, the reviews in a GDPR export, and erasure of the stakeholder's answers."""

from __future__ import annotations

from typing import Any

from relations import registry

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


def register() -> None:
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
