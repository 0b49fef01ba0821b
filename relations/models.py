"""The domain of DESIGN §2: who we know, what happened, what we promised, what it produced."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Cast, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relations.audit.services import AuditEventQuerySet
from relations.matching import fill_keys
from relations.querysets import (
    KEY_IMPORTANCE,
    CommitmentQuerySet,
    GoalQuerySet,
    InteractionQuerySet,
    OrganizationQuerySet,
    OutcomeQuerySet,
    PulseQuerySet,
    RelationshipQuerySet,
    StaffVisibleQuerySet,
    StakeholderQuerySet,
    WebhookQuerySet,
)
from relations.roles import is_director, is_staff_member

User = settings.AUTH_USER_MODEL

# Default contact interval by importance (DESIGN §2).
CADENCE_DAYS_BY_IMPORTANCE = {5: 30, 4: 45, 3: 60, 2: 90, 1: 120}


def one_to_five() -> list:
    return [MinValueValidator(1), MaxValueValidator(5)]


def range_check(field: str, low: float, high: float) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__gte": low, f"{field}__lte": high}),
        name=f"%(app_label)s_%(class)s_{field}_range",
    )


class TimeStamped(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


class Editable(models.Model):
    """What the browser's edit pages need of a record (DESIGN §5a): a version that every
    saved edit bumps, so that a stale edit is refused instead of silently overwriting
    someone else's; and an archive date, so that a non-director takes a record out of
    the lists without deleting what the figures were computed from."""

    # db_default: bulk loaders (seed_demo, importers) insert rows without the ORM.
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Team(TimeStamped):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)

    objects = StaffVisibleQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")

    def __str__(self) -> str:
        return self.name

    def editable_by(self, user) -> bool:
        """Every staff member reads teams; directors make, change and delete them."""
        return is_director(user)


def _fill_keys_on_save(obj: models.Model, kwargs: dict) -> None:
    """Fill the key columns; a save of some fields also saves the keys they feed."""
    fill_keys(obj)
    fields = kwargs.get("update_fields")
    if fields is not None:
        fields = set(fields)
        kwargs["update_fields"] = fields | {
            key for key, source in obj.MATCH_KEYS.items() if source in fields
        }


class Organization(Editable, TimeStamped):
    class Tier(models.IntegerChoices):
        STRATEGIC = 1, _("Strategic")
        IMPORTANT = 2, _("Important")
        STANDARD = 3, _("Standard")

    name = models.CharField(_("name"), max_length=200)
    sector = models.CharField(_("sector"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=100, blank=True)
    website = models.URLField(_("website"), blank=True)
    tier = models.PositiveSmallIntegerField(_("tier"), choices=Tier, default=Tier.STANDARD)
    notes = models.TextField(_("notes"), blank=True)
    # match_key(name): duplicates and merges compare it (relations.matching).
    name_key = models.CharField(
        max_length=255, blank=True, default="", db_default="", db_index=True, editable=False
    )

    objects = OrganizationQuerySet.as_manager()
    MATCH_KEYS = {"name_key": "name"}

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        constraints = [range_check("tier", 1, 3)]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(Lower("name"), name="organization_name_lower"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        _fill_keys_on_save(self, kwargs)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("organization-detail", args=[self.pk])

    # Who may change what (DESIGN §7): every staff member edits; directors delete and
    # merge (an organisation has no owner to decide for it).
    def editable_by(self, user) -> bool:
        return is_staff_member(user)

    def deletable_by(self, user) -> bool:
        return is_director(user)

    def mergeable_by(self, user) -> bool:
        return is_director(user)


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=60, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")

    def __str__(self) -> str:
        return self.name


class Stakeholder(Editable, TimeStamped):
    class LegalBasis(models.TextChoices):
        LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")
        CONSENT = "consent", _("Consent")
        CONTRACT = "contract", _("Contract")
        LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")
        VITAL_INTERESTS = "vital_interests", _("Vital interests")
        PUBLIC_TASK = "public_task", _("Public task")

    class DataSource(models.TextChoices):
        """Where the personal data came from (GDPR Art. 14 asks us to say so)."""

        DIRECT = "direct", _("From the person")
        INTRODUCTION = "introduction", _("Introduction by a third party")
        EVENT = "event", _("Event or meeting")
        PUBLIC = "public", _("Public source")
        IMPORT = "import", _("Imported list")
        OTHER = "other", _("Other")

    name = models.CharField(_("name"), max_length=200)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stakeholders",
        verbose_name=_("organization"),
    )
    title = models.CharField(_("role / title"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    # match_key(name) and match_key(email): duplicates, merges and attendee matching
    # compare these (relations.matching).
    name_key = models.CharField(
        max_length=255, blank=True, default="", db_default="", db_index=True, editable=False
    )
    email_key = models.CharField(
        max_length=255, blank=True, default="", db_default="", db_index=True, editable=False
    )
    # surname_sort_key(name): "Jan van den Berg" → "berg jan van den"; the lists' and the
    # API's sort by last name (relations.matching).
    surname_key = models.CharField(
        max_length=255, blank=True, default="", db_default="", db_index=True, editable=False
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    tags = models.ManyToManyField(Tag, related_name="stakeholders", blank=True)
    importance = models.PositiveSmallIntegerField(
        _("importance"), default=3, validators=one_to_five()
    )
    influence = models.PositiveSmallIntegerField(
        _("influence"), default=3, validators=one_to_five()
    )
    interest = models.PositiveSmallIntegerField(_("interest"), default=3, validators=one_to_five())
    owner = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_stakeholders",
        verbose_name=_("owner"),
        help_text=_("Accountable for this stakeholder's relationship health."),
    )
    cadence_days = models.PositiveIntegerField(
        _("contact cadence (days)"),
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
        help_text=_("Target contact interval; defaults by importance."),
    )
    legal_basis = models.CharField(
        _("legal basis"),
        max_length=30,
        choices=LegalBasis,
        default=LegalBasis.LEGITIMATE_INTEREST,
    )
    consent_date = models.DateField(
        _("consent date"),
        null=True,
        blank=True,
        help_text=_("Required when the legal basis is consent."),
    )
    # db_default: bulk loaders (seed_demo, importers) insert rows without the ORM.
    data_source_kind = models.CharField(
        _("source of the data"),
        max_length=20,
        choices=DataSource,
        blank=True,
        default="",
        db_default="",
    )
    data_source = models.CharField(_("source details"), max_length=200, blank=True)
    objection_on = models.DateField(
        _("objection recorded on"),
        null=True,
        blank=True,
        help_text=_("The date the person objected to the processing of their data."),
    )
    objection_note = models.TextField(_("objection note"), blank=True, default="", db_default="")
    notes = models.TextField(_("notes"), blank=True)
    # Set by the erasure service (relations.privacy.services); the row stays so that the
    # aggregate figures it feeds are unchanged.
    erased_at = models.DateTimeField(_("erased"), null=True, blank=True, editable=False)
    # Set by the nightly retention task; cleared when a director keeps the record.
    retention_flagged_at = models.DateTimeField(
        _("flagged for retention review"), null=True, blank=True, editable=False
    )
    retention_reviewed_at = models.DateTimeField(
        _("retention last reviewed"), null=True, blank=True, editable=False
    )

    objects = StakeholderQuerySet.as_manager()
    MATCH_KEYS = {"name_key": "name", "email_key": "email", "surname_key": "name"}

    class Meta:
        ordering = ["name"]
        verbose_name = _("stakeholder")
        constraints = [
            range_check("importance", 1, 5),
            range_check("influence", 1, 5),
            range_check("interest", 1, 5),
            models.CheckConstraint(
                condition=Q(cadence_days__gte=1), name="relations_stakeholder_cadence_positive"
            ),
            models.CheckConstraint(
                condition=~Q(legal_basis="consent") | Q(consent_date__isnull=False),
                name="relations_stakeholder_consent_dated",
            ),
        ]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["owner", "name"]),
            models.Index(fields=["email"]),
            models.Index(fields=["importance"]),
            # Duplicate detection of imports matches e-mail and name case-insensitively.
            models.Index(Lower("email"), name="stakeholder_email_lower"),
            models.Index(Lower("name"), name="stakeholder_name_lower"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        _fill_keys_on_save(self, kwargs)
        if not self.cadence_days:
            self.cadence_days = CADENCE_DAYS_BY_IMPORTANCE.get(self.importance, 60)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("stakeholder-detail", args=[self.pk])

    def clean(self) -> None:
        super().clean()
        errors = {}
        today = timezone.localdate()
        if self.legal_basis == self.LegalBasis.CONSENT and not self.consent_date:
            errors["consent_date"] = _("Give the date of consent when consent is the basis.")
        if self.consent_date and self.consent_date > today:
            errors["consent_date"] = _("Consent cannot be dated in the future.")
        if self.objection_on and self.objection_on > today:
            errors["objection_on"] = _("An objection cannot be dated in the future.")
        if self.objection_note and not self.objection_on:
            errors["objection_on"] = _("Give the date of the objection.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def is_key(self) -> bool:
        """`StakeholderQuerySet.key()` for one row; reads `on_active_goal` when the row
        came through `with_key_flag()`."""
        if self.importance >= KEY_IMPORTANCE:
            return True
        on_goal = getattr(self, "on_active_goal", None)
        if on_goal is None:
            on_goal = self.goals.filter(status=StrategicGoal.Status.ACTIVE).exists()
        return bool(on_goal)

    # Who may change what (DESIGN §7). Every staff member edits a stakeholder (an
    # erased record stays anonymous: nobody fills it in again); its owner or a
    # director hands it over to someone else; directors delete.
    def editable_by(self, user) -> bool:
        return is_staff_member(user) and not self.is_erased

    def owner_changeable_by(self, user) -> bool:
        if not is_staff_member(user):
            return False
        return is_director(user) or (self.owner_id is not None and self.owner_id == user.pk)

    def relationships_assignable_by(self, user) -> bool:
        """Who may give a colleague a relationship with this stakeholder: its owner or a
        director, as for handing it over (anyone may declare their own)."""
        return self.owner_changeable_by(user)

    def deletable_by(self, user) -> bool:
        return is_director(user)

    def mergeable_by(self, user) -> bool:
        """A merge deletes one record and moves its owner's data: directors, or a
        manager merging records she owns herself (the owner decides for her records,
        as with a hand-over)."""
        return self.owner_changeable_by(user)


class Relationship(Editable, TimeStamped):
    """The tie between one internal user and one stakeholder, with its tactical plan."""

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        SUPPORTING = "supporting", _("Supporting")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DORMANT = "dormant", _("Dormant")
        ENDED = "ended", _("Ended")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="relationships")
    stakeholder = models.ForeignKey(
        Stakeholder, on_delete=models.CASCADE, related_name="relationships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.SUPPORTING)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.ACTIVE)
    started_on = models.DateField(_("started"), default=timezone.localdate)
    objective = models.TextField(_("objective"), blank=True)
    desired_strength = models.FloatField(
        _("desired strength"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    next_review = models.DateField(_("next review"), null=True, blank=True)

    objects = RelationshipQuerySet.as_manager()

    class Meta:
        ordering = ["stakeholder__name"]
        verbose_name = _("relationship")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "stakeholder"], name="relationship_unique_pair"
            ),
            range_check("desired_strength", 0, 1),
        ]
        indexes = [models.Index(fields=["stakeholder", "user"])]

    def __str__(self) -> str:
        return f"{self.user} ↔ {self.stakeholder}"

    def get_absolute_url(self) -> str:
        return reverse("relationship-detail", args=[self.pk])

    # Who may change what (DESIGN §7): the plan is changed by the relationship's user,
    # the stakeholder's owner and directors; its scores and pulses are the user's own
    # (`RelationshipQuerySet.scores_visible_to`): only the user and directors assess it.
    def editable_by(self, user) -> bool:
        if not is_staff_member(user):
            return False
        return is_director(user) or user.pk in (self.user_id, self.stakeholder.owner_id)

    def scores_visible_to(self, user) -> bool:
        return is_director(user) or (is_staff_member(user) and self.user_id == user.pk)

    def pulse_recordable_by(self, user) -> bool:
        return self.scores_visible_to(user)


# Interactions happen in these years (inclusive). Far-off years are typos, and
# overflow when converted between time zones (year 9999 at -12:00 is year 10000 in
# UTC). The API, the forms and the list filters all accept these years only.
INTERACTION_YEARS = (1900, 2200)


def in_interaction_years(moment: date | datetime) -> bool:
    """Whether a date or moment lies within INTERACTION_YEARS, in UTC as well."""
    first, last = INTERACTION_YEARS
    if not first <= moment.year <= last:
        return False
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        try:
            return first <= moment.astimezone(UTC).year <= last
        except OverflowError:
            return False
    return True


class Interaction(TimeStamped):
    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        VIDEO_CALL = "video_call", _("Video call")
        CALL = "call", _("Call")
        EVENT = "event", _("Event")
        INTRODUCTION = "introduction", _("Introduction")
        EMAIL = "email", _("E-mail")
        MESSAGE = "message", _("Message")
        OTHER = "other", _("Other")

    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.MEETING)
    subject = models.CharField(_("subject"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    internal_participants = models.ManyToManyField(
        User, related_name="interactions", verbose_name=_("colleagues")
    )
    stakeholders = models.ManyToManyField(
        Stakeholder, related_name="interactions", verbose_name=_("stakeholders")
    )
    value_given = models.PositiveSmallIntegerField(
        _("value given"),
        default=0,
        validators=[MaxValueValidator(5)],
        help_text=_("What we delivered to them, 0–5."),
    )
    value_received = models.PositiveSmallIntegerField(
        _("value received"),
        default=0,
        validators=[MaxValueValidator(5)],
        help_text=_("What they delivered to us, 0–5."),
    )
    sentiment = models.SmallIntegerField(
        _("sentiment"),
        null=True,
        blank=True,
        validators=[MinValueValidator(-2), MaxValueValidator(2)],
    )
    duration_minutes = models.PositiveIntegerField(
        _("duration (minutes)"), default=0, validators=[MaxValueValidator(24 * 60)]
    )
    cost = models.DecimalField(
        _("cost"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    private = models.BooleanField(
        _("private"),
        default=False,
        help_text=_("Notes visible to participants and directors only."),
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    # Bumped on every edit so that concurrent edits are detected, not lost.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Where a captured interaction came from (a calendar event's UID, an e-mail's
    # Message-ID), so that importing the same file or message again adds nothing.
    # db_default: bulk loaders (seed_demo's COPY) insert rows without these columns.
    source = models.CharField(
        _("captured from"), max_length=10, blank=True, default="", db_default="", editable=False
    )
    external_id = models.CharField(
        max_length=255, blank=True, default="", db_default="", editable=False
    )

    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name = _("interaction")
        constraints = [
            range_check("value_given", 0, 5),
            range_check("value_received", 0, 5),
            range_check("sentiment", -2, 2),
            range_check("duration_minutes", 0, 24 * 60),
            models.CheckConstraint(
                condition=Q(cost__gte=0), name="relations_interaction_cost_gte_0"
            ),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=~Q(external_id=""),
                name="interaction_unique_external_id",
            ),
        ]
        indexes = [models.Index(fields=["-occurred_at"])]

    def __str__(self) -> str:
        return self.subject

    def get_absolute_url(self) -> str:
        return reverse("interaction-detail", args=[self.pk])

    def notes_visible_to(self, user) -> bool:
        """A private interaction's notes: its participants and directors only."""
        if not self.private or is_director(user):
            return True
        return any(p.pk == user.pk for p in self.internal_participants.all())

    @staticmethod
    def notes_readable_condition(user) -> Q | None:
        """`notes_visible_to` as a condition on interaction rows, for searching notes:
        None where every row's notes are readable (a director)."""
        if is_director(user):
            return None
        participant = Interaction.internal_participants.through.objects.filter(
            interaction=OuterRef("pk"), user=user
        )
        return Q(private=False) | Exists(participant)

    def editable_by(self, user) -> bool:
        if is_director(user) or self.created_by_id == user.pk:
            return True
        return any(p.pk == user.pk for p in self.internal_participants.all())


class Commitment(TimeStamped):
    class Direction(models.TextChoices):
        US = "us", _("We promised")
        THEM = "them", _("They promised")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")
        CANCELLED = "cancelled", _("Cancelled")

    stakeholder = models.ForeignKey(
        Stakeholder, on_delete=models.CASCADE, related_name="commitments"
    )
    responsible = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="commitments", verbose_name=_("responsible")
    )
    direction = models.CharField(
        _("direction"), max_length=4, choices=Direction, default=Direction.US
    )
    description = models.CharField(_("description"), max_length=300)
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN)
    completed_on = models.DateField(_("completed"), null=True, blank=True)
    interaction = models.ForeignKey(
        Interaction,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="commitments",
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )
    # Bumped on every change (edit page, API, a status set on the list), so that a stale
    # edit is refused instead of silently overwriting someone else's (`EditConflict`).
    # db_default: bulk loaders (seed_demo, importers) insert rows without the ORM.
    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)

    objects = CommitmentQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "pk"]
        verbose_name = _("commitment")
        indexes = [
            models.Index(fields=["responsible", "status", "due_date"]),
            models.Index(fields=["stakeholder", "status"]),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_date < timezone.localdate()

    def editable_by(self, user) -> bool:
        """Changed and closed by the responsible, its creator, the stakeholder's owner
        or a director."""
        if not is_staff_member(user):
            return False
        return is_director(user) or user.pk in (
            self.responsible_id,
            self.created_by_id,
            self.stakeholder.owner_id,
        )

    can_be_closed_by = editable_by


class StrategicGoal(Editable, TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Active")
        ACHIEVED = "achieved", _("Achieved")
        ABANDONED = "abandoned", _("Abandoned")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="owned_goals"
    )
    period_start = models.DateField(_("period start"), null=True, blank=True)
    period_end = models.DateField(_("period end"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.ACTIVE)
    stakeholders = models.ManyToManyField(
        Stakeholder, through="GoalStakeholder", related_name="goals", blank=True
    )

    objects = GoalQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("strategic goal")
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__isnull=True)
                | Q(period_start__isnull=True)
                | Q(period_end__gte=F("period_start")),
                name="relations_goal_period_order",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("goal-detail", args=[self.pk])

    # Who may change what (DESIGN §7), as `GoalQuerySet` filters lists: directors and
    # the goal's owner change it and see its health figures; only directors give a
    # goal to someone else.
    def editable_by(self, user) -> bool:
        if not is_staff_member(user):
            return False
        return is_director(user) or (self.owner_id is not None and self.owner_id == user.pk)

    def deletable_by(self, user) -> bool:
        return self.editable_by(user)

    def owner_changeable_by(self, user) -> bool:
        return is_director(user)

    def health_visible_to(self, user) -> bool:
        return self.editable_by(user)


class GoalStakeholder(models.Model):
    goal = models.ForeignKey(StrategicGoal, on_delete=models.CASCADE, related_name="links")
    stakeholder = models.ForeignKey(
        Stakeholder, on_delete=models.CASCADE, related_name="goal_links"
    )
    role = models.CharField(_("role for the goal"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("goal stakeholder")
        constraints = [
            models.UniqueConstraint(fields=["goal", "stakeholder"], name="goal_stakeholder_unique")
        ]

    def __str__(self) -> str:
        return f"{self.goal}: {self.stakeholder}"


class Outcome(Editable, TimeStamped):
    class Kind(models.TextChoices):
        DEAL = "deal", _("Deal")
        INTRODUCTION = "introduction", _("Introduction")
        FUNDING = "funding", _("Funding")
        PARTNERSHIP = "partnership", _("Partnership")
        KNOWLEDGE = "knowledge", _("Knowledge")
        OTHER = "other", _("Other")

    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="outcomes")
    credited_to = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="credited_outcomes"
    )
    goal = models.ForeignKey(
        StrategicGoal, on_delete=models.SET_NULL, null=True, blank=True, related_name="outcomes"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.OTHER)
    value = models.DecimalField(
        _("value"),
        max_digits=14,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    occurred_on = models.DateField(_("date"), default=timezone.localdate)
    description = models.TextField(_("description"), blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )

    objects = OutcomeQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        verbose_name = _("outcome")
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="relations_outcome_value_gte_0")
        ]
        indexes = [models.Index(fields=["stakeholder", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.stakeholder}"

    def get_absolute_url(self) -> str:
        return reverse("stakeholder-detail", args=[self.stakeholder_id]) + "#outcomes-heading"

    def editable_by(self, user) -> bool:
        """Changed by its creator, the person credited, the stakeholder's owner or a
        director."""
        if not is_staff_member(user):
            return False
        return is_director(user) or user.pk in (
            self.created_by_id,
            self.credited_to_id,
            self.stakeholder.owner_id,
        )


class StakeholderLink(Editable, TimeStamped):
    class Kind(models.TextChoices):
        COLLEAGUE = "colleague", _("Colleague")
        REPORTS_TO = "reports_to", _("Reports to")
        ADVISES = "advises", _("Advises")
        FRIEND = "friend", _("Friend")
        FAMILY = "family", _("Family")
        BOARD = "board", _("Board member with")
        OTHER = "other", _("Other")

    from_stakeholder = models.ForeignKey(
        Stakeholder, on_delete=models.CASCADE, related_name="links_out"
    )
    to_stakeholder = models.ForeignKey(
        Stakeholder, on_delete=models.CASCADE, related_name="links_in"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.COLLEAGUE)
    strength = models.FloatField(
        _("strength"), default=0.5, validators=[MinValueValidator(0.0), MaxValueValidator(1.0)]
    )
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", editable=False
    )

    objects = StaffVisibleQuerySet.as_manager()

    class Meta:
        verbose_name = _("stakeholder link")
        constraints = [
            range_check("strength", 0, 1),
            models.CheckConstraint(
                condition=~Q(from_stakeholder=F("to_stakeholder")),
                name="relations_link_not_self",
            ),
            models.UniqueConstraint(
                fields=["from_stakeholder", "to_stakeholder", "kind"], name="link_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_stakeholder} → {self.to_stakeholder} ({self.get_kind_display()})"

    def editable_by(self, user) -> bool:
        """Links between people are common knowledge: every staff member keeps them."""
        return is_staff_member(user)


class AuthenticityPulse(TimeStamped):
    """A dated assessment of a relationship by its user (or a director)."""

    relationship = models.ForeignKey(Relationship, on_delete=models.CASCADE, related_name="pulses")
    assessed_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="pulses")
    assessed_on = models.DateField(_("date"), default=timezone.localdate)
    integrity = models.PositiveSmallIntegerField(_("integrity"), validators=one_to_five())
    transparency = models.PositiveSmallIntegerField(_("transparency"), validators=one_to_five())
    reliability = models.PositiveSmallIntegerField(_("reliability"), validators=one_to_five())
    note = models.TextField(_("note"), blank=True)

    objects = PulseQuerySet.as_manager()

    class Meta:
        ordering = ["-assessed_on", "-pk"]
        verbose_name = _("authenticity pulse")
        constraints = [
            range_check("integrity", 1, 5),
            range_check("transparency", 1, 5),
            range_check("reliability", 1, 5),
        ]

    def __str__(self) -> str:
        return f"{self.relationship} ({self.assessed_on})"

    def editable_by(self, user) -> bool:
        """A pulse is its author's own assessment: the author or a director changes it."""
        return is_director(user) or (is_staff_member(user) and self.assessed_by_id == user.pk)

    @property
    def score(self) -> float:
        """The mean of the three dimensions on the 0–1 scale of computed trust."""
        return ((self.integrity + self.transparency + self.reliability) / 3 - 1) / 4

    @staticmethod
    def score_expression() -> models.Expression:
        """`score` in SQL, for lists that filter or annotate by it: ((sum / 3) − 1) / 4."""
        total = F("integrity") + F("transparency") + F("reliability")
        return models.ExpressionWrapper(
            (Cast(total, models.FloatField()) / 3.0 - 1.0) / 4.0,
            output_field=models.FloatField(),
        )


class AuditEvent(models.Model):
    """Append-only record of who created, changed or deleted what."""

    class Action(models.TextChoices):
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        DELETE = "delete", _("Deleted")
        EXPORT = "export", _("Exported")
        ERASE = "erase", _("Erased")
        OTHER = "other", _("Other")
        # Security events (accounts.security): the object is the user concerned.
        SIGN_IN = "sign_in", _("Signed in")
        SIGN_IN_FAILED = "sign_in_failed", _("Sign-in failed")
        SIGN_OUT = "sign_out", _("Signed out")
        LOCKED_OUT = "locked_out", _("Locked out")
        ACCESS_DENIED = "denied", _("Access refused")
        MFA_ENROLLED = "mfa_enrolled", _("Two-factor enabled")
        MFA_DISABLED = "mfa_disabled", _("Two-factor disabled")
        MFA_FAILED = "mfa_failed", _("Two-factor code refused")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    action = models.CharField(max_length=20, choices=Action)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)

    # The sanctioned changes to existing rows: relations.audit.services.
    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("audit event")
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            models.Index(fields=["actor", "at"]),
            models.Index(fields=["action", "at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)


class Webhook(TimeStamped):
    """An integration's endpoint, called with signed JSON when subscribed events happen."""

    class Event(models.TextChoices):
        INTERACTION_CREATED = "interaction.created", "interaction.created"
        SCORES_UPDATED = "scores.updated", "scores.updated"
        STAKEHOLDER_AT_RISK = "stakeholder.at_risk", "stakeholder.at_risk"
        # Both sides of a two-sided review answered and its gap computed (reviews app).
        REVIEW_COMPLETED = "review.completed", "review.completed"

    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(_("endpoint URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=64, editable=False)
    active = models.BooleanField(_("active"), default=True)
    description = models.CharField(_("description"), max_length=200, blank=True)

    objects = WebhookQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("webhook")

    def __str__(self) -> str:
        return self.url

    def editable_by(self, user) -> bool:
        """A webhook carries a secret: its owner, a director (`WebhookQuerySet`)."""
        return is_director(user) and self.owner_id == user.pk


class WebhookDelivery(models.Model):
    """One event for one webhook: written with the change (an outbox), sent by the worker."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook_id} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first successful answer to a POST carrying an `Idempotency-Key` (API v1).

    A retried request with the same key gets this answer back instead of creating
    a duplicate; keys are per user, so one integration cannot replay another's.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class DataProtectionAction(models.Model):
    """The register of data-protection actions (GDPR), for directors.

    The stakeholder is referred to without a database constraint: the register
    outlives the record it speaks of. It never holds the person's data: only
    the id, the kind of action, who, when and why.
    """

    class Kind(models.TextChoices):
        EXPORT = "export", _("Data-subject export")
        ERASURE = "erasure", _("Erasure")
        RETENTION_FLAG = "retention_flag", _("Flagged for retention review")
        RETENTION_KEEP = "retention_keep", _("Kept after retention review")
        RETENTION_ANONYMISE = "retention_anonymise", _("Anonymised after retention review")
        OBJECTION = "objection", _("Objection recorded")

    kind = models.CharField(_("action"), max_length=20, choices=Kind)
    stakeholder = models.ForeignKey(
        Stakeholder,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="data_protection_actions",
        verbose_name=_("stakeholder"),
    )
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("data-protection action")
        indexes = [models.Index(fields=["stakeholder", "at"]), models.Index(fields=["kind", "at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.stakeholder_id} ({self.at:%Y-%m-%d})"


# Imports live in their own package; imported here so Django registers the model.
from relations.capture.models import CalendarFeed, CaptureBatch  # noqa: E402,F401  (registered with the app)
from relations.importing.models import ImportJob  # noqa: E402, F401
