"""An import of a CSV or vCard file: the file, its mapping, progress and report.

The uploaded bytes are stored in the database (bounded by RAPPORT_IMPORT_MAX_BYTES),
so a worker process, on this machine or in another container, reads exactly
what was uploaded without a shared media volume.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relations.roles import is_director, is_staff_member


class ImportJobQuerySet(models.QuerySet):
    def visible_to(self, user) -> ImportJobQuerySet:
        """An import is its owner's; directors see every import."""
        if is_director(user):
            return self.all()
        if not is_staff_member(user):
            return self.none()
        return self.filter(owner=user)


class ImportJob(models.Model):
    class Kind(models.TextChoices):
        STAKEHOLDERS = "stakeholders", _("Stakeholders (CSV)")
        ORGANIZATIONS = "organizations", _("Organizations (CSV)")
        INTERACTIONS = "interactions", _("Interactions (CSV)")
        VCARD = "vcard", _("Stakeholders (vCard)")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Awaiting column mapping")
        PENDING = "pending", _("Queued")
        RUNNING = "running", _("Importing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        UNDOING = "undoing", _("Undoing")
        UNDONE = "undone", _("Undone")

    class Duplicates(models.TextChoices):
        MERGE = "merge", _("Merge into the existing record")
        SKIP = "skip", _("Skip the row")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="import_jobs"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.UPLOADED)
    file_name = models.CharField(_("file name"), max_length=255)
    content = models.BinaryField(editable=False)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    headers = models.JSONField(default=list, blank=True)
    # One field name per column ("" = ignored), in column order.
    mapping = models.JSONField(default=list, blank=True)
    duplicates = models.CharField(
        _("duplicates"), max_length=5, choices=Duplicates, default=Duplicates.MERGE
    )
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    merged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    # {"errors": [{"line", "reason"}], "matched": [{"line", "id", "name", "action"}]},
    # each list capped at RAPPORT_IMPORT_REPORT_LIMIT entries; the counts stay exact.
    report = models.JSONField(default=dict, blank=True)
    # What undo deletes: {"relations.stakeholder": [[first_id, last_id], ...] (id ranges),
    # ..., "relationships": [[user_id, stakeholder_id], ...]}
    created = models.JSONField(default=dict, blank=True)
    # What undo reverts: [{"model", "id", "changes": {field: [old, new]}, "tags": [ids]}]
    merged = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    # Times the job was queued: once when started, again by `import_sweep_stale` each
    # time its run stopped reporting progress (worker killed, task lost).
    attempts = models.PositiveSmallIntegerField(default=0)
    # Written when queued, when a run takes the job and after every batch: a job whose
    # heartbeat is old has no run working on it.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Who asked for the undo: a lost undo task is queued again on their behalf.
    undo_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        app_label = "relations"
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        indexes = [models.Index(fields=["owner", "-created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(processed_rows__lte=models.F("total_rows")),
                name="relations_importjob_processed_le_total",
            )
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_kind_display()})"

    def get_absolute_url(self) -> str:
        return reverse("import-detail", args=[self.pk])

    @property
    def progress(self) -> float:
        if self.status in {self.Status.DONE, self.Status.UNDONE}:
            return 1.0
        return self.processed_rows / self.total_rows if self.total_rows else 0.0

    def created_filter(self, label: str) -> Q:
        """The rows of model `label` ("relations.stakeholder") this import created, from
        the id ranges it recorded; matches nothing when it created none."""
        selected = Q(pk__in=[])
        for start, end in (self.created or {}).get(label, []):
            selected |= Q(pk__range=(start, end))
        return selected

    @property
    def is_active(self) -> bool:
        return self.status in {self.Status.PENDING, self.Status.RUNNING, self.Status.UNDOING}

    def can_undo(self, user) -> bool:
        return self.status == self.Status.DONE and (user.pk == self.owner_id or is_director(user))
