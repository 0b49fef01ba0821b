"""Stored scores (DESIGN §3), their daily snapshots, and the bookkeeping of recomputation (§5).

Pages and the API read these rows; they never compute a score in a request.
The worker writes them (`metrics.recompute`), after every committed change and
every night.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relations.models import Relationship, Stakeholder

from . import scoring
from .fields import ExplanationField
from .querysets import RelationshipScoreQuerySet, StakeholderScoreQuerySet


class ScoreFigures(models.Model):
    """The figures a snapshot keeps for trend charts; null means "not enough data"."""

    given = models.FloatField(_("given"), null=True, blank=True)
    received = models.FloatField(_("received"), null=True, blank=True)
    reciprocity_balance = models.FloatField(_("reciprocity balance"), null=True, blank=True)
    reciprocity = models.FloatField(_("reciprocity"), null=True, blank=True)
    strength = models.FloatField(_("strength"), null=True, blank=True)
    sentiment = models.FloatField(_("sentiment"), null=True, blank=True)
    reliability = models.FloatField(_("reliability"), null=True, blank=True)
    trust = models.FloatField(_("trust"), null=True, blank=True)
    investment = models.FloatField(_("investment"), null=True, blank=True)
    # `return` is a Python keyword; the column (and the API field) keep the contract's name.
    return_value = models.FloatField(_("return"), null=True, blank=True, db_column="return")
    ror = models.FloatField(_("return on relationship"), null=True, blank=True)
    at_risk = models.BooleanField(_("at risk"), default=False)

    class Meta:
        abstract = True


class CurrentScore(ScoreFigures):
    """The latest scores of one object, as of `computed_at`, with their explanation."""

    last_contact = models.DateTimeField(_("last contact"), null=True, blank=True)
    # As of computed_at; `contact_status()` gives the values as of now between refreshes.
    days_since_contact = models.IntegerField(_("days since last contact"), null=True, blank=True)
    overdue = models.BooleanField(_("overdue"), null=True, blank=True)
    cadence_days = models.PositiveIntegerField(_("cadence (days)"), null=True, blank=True)
    risk_reasons = models.JSONField(_("risk reasons"), default=list, blank=True)
    # A dict when read; stored packed (see metrics.fields).
    explanation = ExplanationField(_("explanation"), default=dict, blank=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        abstract = True

    def contact_status(self, now: datetime | None = None) -> tuple[int | None, bool | None]:
        """(days since last contact, overdue) as of `now`: both move with the clock,
        so pages stay exact between the nightly refreshes."""
        if self.last_contact is None:
            return None, None
        now = now or timezone.now()
        days = scoring.days_since(self.last_contact.timestamp(), now.timestamp())
        return days, scoring.is_overdue(days, self.cadence_days)

    @property
    def days_since_contact_now(self) -> int | None:
        return self.contact_status()[0]

    @property
    def overdue_now(self) -> bool | None:
        return self.contact_status()[1]


class StakeholderScore(CurrentScore):
    """Stakeholder-level scores: our organisation ↔ the stakeholder."""

    stakeholder = models.OneToOneField(
        Stakeholder, on_delete=models.CASCADE, primary_key=True, related_name="score"
    )

    objects = StakeholderScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("stakeholder score")
        indexes = [models.Index(fields=["at_risk"]), models.Index(fields=["trust"])]

    def __str__(self) -> str:
        return f"scores of stakeholder {self.stakeholder_id}"


class RelationshipScore(CurrentScore):
    """Relationship-level scores: one internal user ↔ one stakeholder."""

    relationship = models.OneToOneField(
        Relationship, on_delete=models.CASCADE, primary_key=True, related_name="score"
    )

    objects = RelationshipScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("relationship score")
        indexes = [models.Index(fields=["strength"])]

    def __str__(self) -> str:
        return f"scores of relationship {self.relationship_id}"


class StakeholderScoreSnapshot(ScoreFigures):
    stakeholder = models.ForeignKey(
        Stakeholder, on_delete=models.CASCADE, related_name="score_snapshots"
    )
    date = models.DateField(_("date"))

    class Meta:
        ordering = ["stakeholder", "date"]
        verbose_name = _("stakeholder score snapshot")
        constraints = [
            models.UniqueConstraint(
                fields=["stakeholder", "date"], name="stakeholder_snapshot_unique_date"
            )
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"stakeholder {self.stakeholder_id} on {self.date}"


class RelationshipScoreSnapshot(ScoreFigures):
    relationship = models.ForeignKey(
        Relationship, on_delete=models.CASCADE, related_name="score_snapshots"
    )
    date = models.DateField(_("date"))

    class Meta:
        ordering = ["relationship", "date"]
        verbose_name = _("relationship score snapshot")
        constraints = [
            models.UniqueConstraint(
                fields=["relationship", "date"], name="relationship_snapshot_unique_date"
            )
        ]
        indexes = [models.Index(fields=["date"])]

    def __str__(self) -> str:
        return f"relationship {self.relationship_id} on {self.date}"


class RecomputeJob(models.Model):
    """A requested full recomputation, with progress the API and the command report."""

    class Kind(models.TextChoices):
        FULL = "full", _("Full recomputation")
        NIGHTLY = "nightly", _("Nightly refresh")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=10, choices=Kind, default=Kind.FULL)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    progress = models.FloatField(default=0.0)
    message = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(_("as of"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("recompute job")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress__gte=0, progress__lte=1),
                name="metrics_recomputejob_progress_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.status})"


class PendingRecompute(models.Model):
    """A dirty marker: scores that a committed change made stale.

    Written in the transaction of the change, so a change is never lost even
    when the broker is down or the worker dies; the worker deletes exactly the
    markers it processed. `user_id` null marks the stakeholder-level scores,
    set marks the relationship (user, stakeholder).

    Plain integers, not foreign keys: markers are written while the rows they
    name may be in the middle of being deleted (a cascade), and a vanished
    stakeholder is simply skipped when the marker is processed.
    """

    stakeholder_id = models.BigIntegerField()
    user_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("pending recomputation")

    def __str__(self) -> str:
        return f"stakeholder {self.stakeholder_id}, user {self.user_id}"
