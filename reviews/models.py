"""Two-sided reviews of a relationship (issue 23).

A review asks both sides the same questions: the owner (the relationship's user)
answers for us, the stakeholder answers about us through a single-use invitation
link. When both have answered the review is completed and the perception gap
(theirs minus ours) is stored per item, so pages and dashboards read it without
recomputing. The questions are rows (`ReviewQuestion`), seeded by a data migration:
the seven Relational Coordination items, the pulse's three authenticity items and
one open question.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from relations.models import Commitment, Relationship, Stakeholder
from relations.roles import Action, is_staff_member, may

User = settings.AUTH_USER_MODEL

# Days an invitation link stays valid (the default).
INVITATION_VALID_DAYS = 14
# Key stakeholders are reviewed this often when their plan names no review date.
KEY_REVIEW_INTERVAL_DAYS = 90


class Side(models.TextChoices):
    OURS = "ours", _("Ours")
    THEIRS = "theirs", _("Theirs")


class Language(models.TextChoices):
    EN = "en", "English"
    NL = "nl", "Nederlands"


class ReviewQuestion(models.Model):
    """One item of the questionnaire, in both languages and from both sides."""

    class Kind(models.TextChoices):
        SCALE = "scale", _("Scale 1–5")
        OPEN = "open", _("Open question")

    class Group(models.TextChoices):
        COMMUNICATION = "communication", _("Communication")
        RELATIONSHIP = "relationship", _("Relationship")
        AUTHENTICITY = "authenticity", _("Authenticity")
        OPEN = "open", _("In your own words")

    key = models.SlugField(_("key"), max_length=40, unique=True)
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.SCALE)
    group = models.CharField(_("group"), max_length=20, choices=Group)
    label_en = models.CharField(max_length=80)
    label_nl = models.CharField(max_length=80)
    # "Ours" is asked of the owner about the relationship, "theirs" of the stakeholder
    # about us; the gap compares the two answers to the same item.
    ours_en = models.CharField(max_length=300)
    ours_nl = models.CharField(max_length=300)
    theirs_en = models.CharField(max_length=300)
    theirs_nl = models.CharField(max_length=300)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("review question")

    def __str__(self) -> str:
        return self.key

    def _in(self, stem: str, language: str | None) -> str:
        language = (language or get_language() or "en")[:2]
        return getattr(self, f"{stem}_{'nl' if language == 'nl' else 'en'}")

    def label(self, language: str | None = None) -> str:
        return self._in("label", language)

    def prompt(self, side: str, language: str | None = None) -> str:
        return self._in("ours" if side == Side.OURS else "theirs", language)

    @property
    def is_scale(self) -> bool:
        return self.kind == self.Kind.SCALE


class ReviewQuerySet(models.QuerySet):
    def visible_to(self, user) -> ReviewQuerySet:
        """A review holds the stakeholder's answers about us: the members of the
        relationship's stakeholder (those with a relationship to it) and directors."""
        if may(user, Action.SEE_EVERYONES_FIGURES):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        member = Relationship.objects.filter(
            stakeholder=OuterRef("relationship__stakeholder"), user=user
        )
        return self.filter(Exists(member))

    def completed(self) -> ReviewQuerySet:
        return self.filter(status=Review.Status.COMPLETED)

    def open(self) -> ReviewQuerySet:
        return self.exclude(status__in=Review.CLOSED)


class Review(models.Model):
    """One review of one relationship: both sides' answers and the gap between them."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        SENT = "sent", _("Invitation sent")
        ANSWERED = "answered", _("Answered by the stakeholder")
        DECLINED = "declined", _("Declined by the stakeholder")
        EXPIRED = "expired", _("Invitation expired")
        COMPLETED = "completed", _("Completed")

    CLOSED = (Status.DECLINED, Status.EXPIRED, Status.COMPLETED)

    relationship = models.ForeignKey(Relationship, on_delete=models.CASCADE, related_name="reviews")
    status = models.CharField(
        _("status"), max_length=12, choices=Status, default=Status.SCHEDULED, db_index=True
    )
    # From the plan's next review date, or every KEY_REVIEW_INTERVAL_DAYS for a key
    # stakeholder (reviews.services.review_due_on).
    due_on = models.DateField(_("due"))
    started_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ours_answered_at = models.DateTimeField(_("we answered"), null=True, blank=True)
    ours_answered_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    theirs_answered_at = models.DateTimeField(_("they answered"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined"), null=True, blank=True)
    decline_reason = models.TextField(_("reason given"), blank=True, default="")
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True, db_index=True)
    # Stored at completion (reviews.gaps): item key -> theirs minus ours, and their mean,
    # so lists and dashboards aggregate without reading every answer.
    gaps = models.JSONField(_("gaps"), default=dict, blank=True)
    mean_gap = models.FloatField(_("mean gap"), null=True, blank=True)
    largest_gap_key = models.CharField(max_length=40, blank=True, default="")
    largest_gap = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-due_on", "-pk"]
        verbose_name = _("review")
        indexes = [models.Index(fields=["relationship", "status"])]

    def __str__(self) -> str:
        return f"review of {self.relationship}"

    def get_absolute_url(self) -> str:
        return reverse("review-detail", args=[self.pk])

    @property
    def stakeholder(self) -> Stakeholder:
        return self.relationship.stakeholder

    @property
    def is_closed(self) -> bool:
        return self.status in self.CLOSED

    # Who may do what (DESIGN §7): the relationship's user (its owner) runs the review
    # and answers for us; a director may start one and invite; both read it.
    def startable_by(self, user) -> bool:
        return relationship_review_startable_by(self.relationship, user)

    def ours_answerable_by(self, user) -> bool:
        return (
            not self.is_closed
            and is_staff_member(user)
            and self.relationship.user_id == user.pk
            and self.ours_answered_at is None
        )

    def invitable_by(self, user) -> bool:
        return not self.is_closed and self.theirs_answered_at is None and self.startable_by(user)

    def actions_editable_by(self, user) -> bool:
        return self.status == self.Status.COMPLETED and self.startable_by(user)


def relationship_review_startable_by(relationship: Relationship, user) -> bool:
    """The relationship's user or a director starts a review of it."""
    if not is_staff_member(user):
        return False
    return relationship.user_id == user.pk or may(user, Action.START_REVIEWS)


class ReviewAnswer(models.Model):
    """One side's answer to one item of one review."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(ReviewQuestion, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(_("side"), max_length=6, choices=Side)
    score = models.PositiveSmallIntegerField(
        _("score"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(_("answer"), blank=True, default="")
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["question__position", "side"]
        verbose_name = _("review answer")
        constraints = [
            models.UniqueConstraint(
                fields=["review", "question", "side"], name="reviews_answer_once_per_side"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=1, score__lte=5),
                name="reviews_answer_score_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.side} {self.question_id}"


def token_digest(token: str) -> str:
    """The stored form of an invitation token: only its SHA-256 is kept."""
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def by_token(self, token: str) -> InvitationQuerySet:
        return self.filter(token_hash=token_digest(token))


class ReviewInvitation(models.Model):
    """The e-mail asking the stakeholder for their side; its link is single-use."""

    class Delivery(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        RETRYING = "retrying", _("Sending failed, retrying")
        FAILED = "failed", _("Sending failed")
        BOUNCED = "bounced", _("Bounced")

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("sent to"))
    language = models.CharField(_("language"), max_length=2, choices=Language, default="en")
    # The lawful basis under which the answers are held (GDPR Art. 6), as stated on
    # the page the stakeholder answers on: the stakeholder record's at sending time.
    legal_basis = models.CharField(_("legal basis"), max_length=30, choices=Stakeholder.LegalBasis)
    # Null until the worker makes the link (the raw token is never stored).
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    delivery = models.CharField(
        _("delivery"), max_length=10, choices=Delivery, default=Delivery.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True, default="")
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("review invitation")

    def __str__(self) -> str:
        return f"invitation {self.pk}"

    def usable(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.token_hash is not None
            and self.used_at is None
            and self.expires_at is not None
            and now < self.expires_at
            and not self.review.is_closed
            and self.review.theirs_answered_at is None
        )


class ReviewAction(models.Model):
    """A joint action agreed in the review; it becomes a commitment (ours or theirs), so
    what the review agreed counts in reliability."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="actions")
    commitment = models.OneToOneField(
        Commitment, on_delete=models.CASCADE, related_name="review_action"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["commitment__due_date", "pk"]
        verbose_name = _("review action")

    def __str__(self) -> str:
        return f"action {self.commitment_id} of review {self.review_id}"
