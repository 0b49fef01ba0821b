"""Every write of a review, one function each, used by the pages, the API and the worker.

Each checks who may do it (the model's rules), writes its rows and audit row in one
transaction, and queues its after-commit work (the invitation e-mail, the
`review.completed` webhook).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, mailers
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from relations.integrations.webhooks import webhook_emit
from relations.models import AuditEvent, Commitment, Relationship, Stakeholder, Webhook
from relations.publishing import enqueue_on_commit
from relations.services import audit_record, relationships_ensure

from . import gaps as gap_maths
from .models import (
    KEY_REVIEW_INTERVAL_DAYS,
    Language,
    Review,
    ReviewAction,
    ReviewAnswer,
    ReviewInvitation,
    ReviewQuestion,
    Side,
    relationship_review_startable_by,
    token_digest,
)

logger = logging.getLogger(__name__)

# The link's signature is checked before the database is asked: a tampered or guessed
# link costs no query. The salt keeps other signed values of the site from passing.
TOKEN_SALT = "reviews.invitation"
OPEN_TEXT_MAX = 2000
SCORES = {"1", "2", "3", "4", "5"}
DECLINE_REASON_MAX = 1000


# --- Scheduling ------------------------------------------------------------------------


def review_due_on(
    relationship: Relationship, *, last_completed: date | None, is_key: bool
) -> date | None:
    """When the next review of `relationship` falls due: the plan's next review date when
    it lies after the last completed review; else, for a key stakeholder, 90 days after
    that review (today when never reviewed); None for others without a plan date."""
    plan = relationship.next_review
    if plan is not None and (last_completed is None or plan > last_completed):
        return plan
    if not is_key:
        return None
    if last_completed is None:
        return timezone.localdate()
    return last_completed + timedelta(days=KEY_REVIEW_INTERVAL_DAYS)


def reviews_schedule(today: date | None = None, *, horizon_days: int = 14) -> int:
    """Create a scheduled review for each active relationship whose review falls due
    within `horizon_days` and has none open: those with a plan date, and the owners'
    relationships with key stakeholders. Idempotent (the nightly task)."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=horizon_days)
    open_review = Review.objects.open().filter(relationship=OuterRef("pk"))
    key_ids = Stakeholder.objects.key().values("pk")
    candidates = (
        Relationship.objects.filter(status=Relationship.Status.ACTIVE)
        .filter(
            Q(next_review__isnull=False) | Q(role=Relationship.Role.OWNER, stakeholder__in=key_ids)
        )
        .exclude(Exists(open_review))
        .exclude(stakeholder__erased_at__isnull=False)
        .annotate(is_key=Exists(Stakeholder.objects.key().filter(pk=OuterRef("stakeholder"))))
    )
    last = {
        row["relationship_id"]: row["completed_at"]
        for row in Review.objects.completed()
        .order_by("relationship_id", "completed_at")
        .values("relationship_id", "completed_at")
    }
    created = []
    for relationship in candidates:
        completed = last.get(relationship.pk)
        due = review_due_on(
            relationship,
            last_completed=timezone.localdate(completed) if completed else None,
            is_key=relationship.is_key,
        )
        if due is not None and due <= horizon:
            created.append(Review(relationship=relationship, due_on=due))
    Review.objects.bulk_create(created)
    return len(created)


# --- Starting and our side ---------------------------------------------------------------


@transaction.atomic
def review_start(*, relationship: Relationship, by: User, due_on: date | None = None) -> Review:
    """Start a review of `relationship` (its user or a director): takes the scheduled one,
    or opens a new one. Raises PermissionDenied."""
    if not relationship_review_startable_by(relationship, by):
        raise PermissionDenied
    if relationship.stakeholder.is_erased:
        raise ValidationError(_("This stakeholder's data was erased."))
    review = Review.objects.select_for_update().open().filter(relationship=relationship).first()
    now = timezone.now()
    if review is None:
        review = Review(relationship=relationship, due_on=due_on or timezone.localdate())
    created = review.pk is None
    if review.started_at is None:
        review.started_at = now
        review.started_by = by
    review.save()
    audit_record(
        actor=by,
        action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
        obj=review,
        changes={"status": review.status, "started": True},
    )
    return review


def questions() -> list[ReviewQuestion]:
    return list(ReviewQuestion.objects.filter(active=True))


def _answers_clean(answers: Mapping[str, Any]) -> dict[ReviewQuestion, Any]:
    """Each active question's answer: scale items 1–5 (required), the open one text
    (optional). Raises ValidationError naming each bad item by its key."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[ReviewQuestion, Any] = {}
    for question in questions():
        value = answers.get(question.key)
        if question.is_scale:
            try:
                score = int(value)
            except (TypeError, ValueError):
                score = None
            if score is None or str(value).strip() not in SCORES:
                errors[question.key] = [_("Choose a score from 1 to 5.")]
                continue
            cleaned[question] = score
        else:
            text = "" if value is None else str(value).strip()
            if len(text) > OPEN_TEXT_MAX:
                errors[question.key] = [
                    _("Keep the answer under %(max)d characters.") % {"max": OPEN_TEXT_MAX}
                ]
                continue
            cleaned[question] = text
    if errors:
        raise ValidationError(errors)
    return cleaned


def _answers_save(review: Review, side: str, cleaned: dict[ReviewQuestion, Any]) -> None:
    now = timezone.now()
    ReviewAnswer.objects.bulk_create(
        [
            ReviewAnswer(
                review=review,
                question=question,
                side=side,
                score=value if question.is_scale else None,
                text="" if question.is_scale else value,
                answered_at=now,
            )
            for question, value in cleaned.items()
        ]
    )


@transaction.atomic
def review_answer_ours(review: Review, *, by: User, answers: Mapping[str, Any]) -> Review:
    """The owner's answers (once). Completes the review when the stakeholder's are in."""
    review = (
        Review.objects.select_for_update(of=("self",))
        .select_related("relationship")
        .get(pk=review.pk)
    )
    if not review.ours_answerable_by(by):
        raise PermissionDenied
    cleaned = _answers_clean(answers)
    _answers_save(review, Side.OURS, cleaned)
    review.ours_answered_at = timezone.now()
    review.ours_answered_by = by
    if review.started_at is None:
        review.started_at, review.started_by = review.ours_answered_at, by
    review.save()
    audit_record(actor=by, action=AuditEvent.Action.UPDATE, obj=review, changes={"ours": True})
    if review.theirs_answered_at is not None:
        review_complete(review, by=by)
    return review


# --- The invitation ----------------------------------------------------------------------


@transaction.atomic
def review_invite(
    review: Review, *, by: User, email: str = "", language: str = Language.EN
) -> ReviewInvitation:
    """Invite the stakeholder to give their side: an e-mail with a single-use link, sent
    by the worker after commit. An earlier link of the review stops working."""
    review = (
        Review.objects.select_for_update(of=("self",))
        .select_related("relationship__stakeholder")
        .get(pk=review.pk)
    )
    if not review.invitable_by(by):
        raise PermissionDenied
    stakeholder = review.stakeholder
    email = (email or stakeholder.email or "").strip()
    errors = {}
    if not email:
        errors["email"] = [_("Give the address to send the invitation to.")]
    else:
        from django.core.validators import validate_email

        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid e-mail address.")]
    if language not in Language.values:
        errors["language"] = [_("Choose English or Dutch.")]
    if stakeholder.objection_on is not None:
        errors["email"] = [_("This person objected to the processing of their data.")]
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    review.invitations.filter(used_at__isnull=True).update(expires_at=now, token_hash=None)
    invitation = ReviewInvitation.objects.create(
        review=review,
        email=email,
        language=language,
        legal_basis=stakeholder.legal_basis,
        created_by=by,
    )
    if review.started_at is None:
        review.started_at, review.started_by = now, by
        review.save(update_fields=["started_at", "started_by", "updated_at"])
    audit_record(
        actor=by,
        action=AuditEvent.Action.CREATE,
        obj=invitation,
        changes={"review": review.pk, "language": language},
    )
    from .tasks import review_invitation_send

    enqueue_on_commit(review_invitation_send, invitation.pk)
    return invitation


def invitation_link(token: str) -> str:
    signed = signing.Signer(salt=TOKEN_SALT).sign(token)
    return settings.RAPPORT_BASE_URL + reverse("review-answer", args=[signed])


def invitation_message(invitation: ReviewInvitation, link: str) -> EmailMultiAlternatives:
    """The invitation in the stakeholder's language: plain text and HTML, no images, no
    tracking (nothing in it calls home but the link they choose to follow)."""
    review = invitation.review
    with translation.override(invitation.language):
        context = {
            "stakeholder": review.stakeholder,
            "owner": review.relationship.user,
            "owner_name": review.relationship.user.get_full_name()
            or review.relationship.user.username,
            "link": link,
            "expires_at": invitation.expires_at,
            "days": settings.RAPPORT_REVIEW_LINK_DAYS,
            "lang": invitation.language,
        }
        subject = _("How is our collaboration going? Your view in five minutes")
        text = render_to_string("reviews/email/invitation.txt", context)
        html = render_to_string("reviews/email/invitation.html", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
        headers={"Auto-Submitted": "auto-generated", "Content-Language": invitation.language},
    )
    message.attach_alternative(html, "text/html")
    return message


class SendFailed(Exception):
    """A temporary failure: the task retries."""


def invitation_send(invitation_id: int, *, final_attempt: bool = False) -> str:
    """Make the invitation's link and send it (the worker's task). A fresh token each
    attempt: only the link in a delivered message ever works. Returns the delivery state;
    raises SendFailed on a temporary failure (recorded on the invitation)."""
    invitation = (
        ReviewInvitation.objects.select_related("review__relationship__stakeholder")
        .select_related("review__relationship__user")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.delivery in (
        ReviewInvitation.Delivery.SENT,
        ReviewInvitation.Delivery.BOUNCED,
    ):
        return "nothing to do"
    if invitation.used_at is not None or invitation.review.is_closed:
        return "nothing to do"
    if invitation.expires_at is not None and invitation.token_hash is None:
        return "replaced"
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    invitation.token_hash = token_digest(token)
    invitation.expires_at = now + timedelta(days=settings.RAPPORT_REVIEW_LINK_DAYS)
    invitation.attempts += 1
    message = invitation_message(invitation, invitation_link(token))
    try:
        mailers.default.send_messages([message])
    except smtplib.SMTPRecipientsRefused as exc:
        # The server refused the address outright: a bounce, not worth retrying.
        invitation.token_hash = None
        invitation.delivery = ReviewInvitation.Delivery.BOUNCED
        invitation.bounced_at = now
        invitation.last_error = _smtp_error(exc)
        invitation.save()
        return invitation.delivery
    except Exception as exc:  # noqa: BLE001 -- any transport failure is retried
        invitation.token_hash = None
        invitation.delivery = (
            ReviewInvitation.Delivery.FAILED
            if final_attempt
            else ReviewInvitation.Delivery.RETRYING
        )
        invitation.last_error = _smtp_error(exc)
        invitation.save()
        if final_attempt:
            return invitation.delivery
        raise SendFailed(invitation.last_error) from exc
    invitation.delivery = ReviewInvitation.Delivery.SENT
    invitation.sent_at = now
    invitation.last_error = ""
    invitation.save()
    Review.objects.filter(pk=invitation.review_id, status=Review.Status.SCHEDULED).update(
        status=Review.Status.SENT, updated_at=now
    )
    return invitation.delivery


def _smtp_error(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [f"{code} {msg.decode(errors='replace')}" for code, msg in exc.recipients.values()]
        return ("; ".join(codes) or str(exc))[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


@transaction.atomic
def invitation_bounce_record(invitation: ReviewInvitation, *, reason: str, by: User | None) -> None:
    """A bounce reported after delivery (a returned message): the link stops working and
    the review shows why."""
    now = timezone.now()
    ReviewInvitation.objects.filter(pk=invitation.pk).update(
        delivery=ReviewInvitation.Delivery.BOUNCED,
        bounced_at=now,
        token_hash=None,
        last_error=reason[:500],
    )
    audit_record(
        actor=by, action=AuditEvent.Action.UPDATE, obj=invitation, changes={"bounced": True}
    )


# --- The stakeholder's side --------------------------------------------------------------


def invitation_for_link(signed: str, *, now: datetime | None = None) -> ReviewInvitation | None:
    """The usable invitation a link names, or None (wrong signature, unknown, used,
    expired or its review closed): callers show one page for all of these."""
    try:
        token = signing.Signer(salt=TOKEN_SALT).unsign(signed)
    except signing.BadSignature:
        return None
    invitation = (
        ReviewInvitation.objects.by_token(token)
        .select_related("review__relationship__stakeholder", "review__relationship__user")
        .first()
    )
    if invitation is None or not invitation.usable(now):
        return None
    return invitation


def _invitation_lock(invitation: ReviewInvitation) -> ReviewInvitation:
    locked = (
        ReviewInvitation.objects.select_for_update(of=("self",))
        .select_related("review__relationship__stakeholder")
        .get(pk=invitation.pk)
    )
    if not locked.usable():
        raise PermissionDenied
    return locked


@transaction.atomic
def review_answer_theirs(
    invitation: ReviewInvitation, *, answers: Mapping[str, Any], language: str = ""
) -> Review:
    """The stakeholder's answers through their link; the link is used up. Completes the
    review when ours are in. Raises PermissionDenied when the link is no longer usable."""
    invitation = _invitation_lock(invitation)
    review = Review.objects.select_for_update().get(pk=invitation.review_id)
    cleaned = _answers_clean(answers)
    _answers_save(review, Side.THEIRS, cleaned)
    now = timezone.now()
    invitation.used_at = now
    invitation.token_hash = None
    if language in Language.values:
        invitation.language = language
    invitation.save(update_fields=["used_at", "token_hash", "language"])
    review.theirs_answered_at = now
    review.status = Review.Status.ANSWERED
    review.save()
    audit_record(
        actor=None,
        action=AuditEvent.Action.UPDATE,
        obj=review,
        changes={"theirs": True, "status": review.status},
    )
    if review.ours_answered_at is not None:
        review_complete(review, by=None)
    return review


@transaction.atomic
def review_decline(invitation: ReviewInvitation, *, reason: str = "") -> Review:
    """The stakeholder declines; the link is used up and the review closed."""
    invitation = _invitation_lock(invitation)
    reason = (reason or "").strip()
    if len(reason) > DECLINE_REASON_MAX:
        raise ValidationError(
            {"reason": [_("Keep it under %(max)d characters.") % {"max": DECLINE_REASON_MAX}]}
        )
    now = timezone.now()
    invitation.used_at = now
    invitation.token_hash = None
    invitation.save(update_fields=["used_at", "token_hash"])
    review = Review.objects.select_for_update().get(pk=invitation.review_id)
    review.status = Review.Status.DECLINED
    review.declined_at = now
    review.decline_reason = reason
    review.save()
    audit_record(
        actor=None, action=AuditEvent.Action.UPDATE, obj=review, changes={"status": review.status}
    )
    return review


def reviews_expire(now: datetime | None = None) -> int:
    """Reviews whose invitation ran out unanswered are marked expired (nightly)."""
    now = now or timezone.now()
    live = ReviewInvitation.objects.filter(
        review=OuterRef("pk"), used_at__isnull=True, expires_at__gt=now
    )
    lapsed = ReviewInvitation.objects.filter(
        review=OuterRef("pk"), used_at__isnull=True, expires_at__lte=now
    )
    return (
        Review.objects.filter(status=Review.Status.SENT, theirs_answered_at__isnull=True)
        .filter(Exists(lapsed))
        .exclude(Exists(live))
        .update(status=Review.Status.EXPIRED, updated_at=now)
    )


# --- Completion and what follows ---------------------------------------------------------


def answers_by_side(review: Review) -> dict[str, dict[str, Any]]:
    """{"ours": {key: score or text}, "theirs": {...}} in one query."""
    sides: dict[str, dict[str, Any]] = {Side.OURS: {}, Side.THEIRS: {}}
    for answer in review.answers.select_related("question"):
        value = answer.score if answer.question.is_scale else answer.text
        sides[answer.side][answer.question.key] = value
    return sides


@transaction.atomic
def review_complete(review: Review, *, by: User | None) -> Review:
    """Both sides are in: store the gaps, close the review, tell the webhooks."""
    review = (
        Review.objects.select_for_update(of=("self",))
        .select_related("relationship")
        .get(pk=review.pk)
    )
    if review.status == Review.Status.COMPLETED:
        return review
    if review.ours_answered_at is None or review.theirs_answered_at is None:
        raise ValidationError(_("Both sides must answer before the review is completed."))
    scale_keys = {q.key for q in questions() if q.is_scale}
    sides = answers_by_side(review)
    ours = {k: v for k, v in sides[Side.OURS].items() if k in scale_keys}
    theirs = {k: v for k, v in sides[Side.THEIRS].items() if k in scale_keys}
    item_gaps = gap_maths.item_gaps(ours, theirs)
    largest = gap_maths.largest_gap(item_gaps)
    review.gaps = item_gaps
    review.mean_gap = gap_maths.mean_gap(item_gaps)
    review.largest_gap_key, review.largest_gap = largest if largest else ("", None)
    review.status = Review.Status.COMPLETED
    review.completed_at = timezone.now()
    review.save()
    audit_record(
        actor=by,
        action=AuditEvent.Action.UPDATE,
        obj=review,
        changes={"status": review.status, "mean_gap": review.mean_gap},
    )
    webhook_emit(Webhook.Event.REVIEW_COMPLETED, review_completed_payload(review, sides))
    return review


def review_completed_payload(review: Review, sides: dict[str, dict[str, Any]]) -> dict:
    """The `data` of a `review.completed` delivery: scores and gaps, no free text (the
    stakeholder's words stay in Rapport, readable by those allowed to)."""
    return {
        "review": review.pk,
        "relationship": review.relationship_id,
        "stakeholder": review.relationship.stakeholder_id,
        "user": review.relationship.user_id,
        "completed_at": review.completed_at,
        "ours": {k: v for k, v in sides[Side.OURS].items() if isinstance(v, int)},
        "theirs": {k: v for k, v in sides[Side.THEIRS].items() if isinstance(v, int)},
        "gaps": review.gaps,
        "mean_gap": review.mean_gap,
    }


@transaction.atomic
def review_action_add(
    review: Review,
    *,
    by: User,
    description: str,
    direction: str,
    due_date: date,
    responsible: User | None = None,
) -> ReviewAction:
    """A joint action of a completed review, as a commitment of ours or theirs with the
    stakeholder: it counts in reliability like any other promise."""
    if not review.actions_editable_by(by):
        raise PermissionDenied
    relationship = review.relationship
    responsible = responsible or relationship.user
    commitment = Commitment(
        stakeholder_id=relationship.stakeholder_id,
        responsible=responsible,
        direction=direction,
        description=(description or "").strip(),
        due_date=due_date,
        created_by=by,
    )
    commitment.full_clean(exclude=["stakeholder", "responsible", "interaction"])
    if direction not in Commitment.Direction.values:
        raise ValidationError({"direction": [_("Choose who promised it.")]})
    commitment.save()
    relationships_ensure([responsible], [relationship.stakeholder], by=by)
    action = ReviewAction.objects.create(review=review, commitment=commitment)
    audit_record(
        actor=by,
        action=AuditEvent.Action.CREATE,
        obj=commitment,
        changes={"description": commitment.description, "review": review.pk},
    )
    return action
