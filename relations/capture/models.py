"""What calendar and e-mail capture keeps: each import's result, and feeds to re-fetch.

Imported in relations.models, so that Django registers them with the app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CalendarFeed(models.Model):
    """A calendar published at a URL (an .ics feed), fetched by the worker on request."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    url = models.URLField(_("feed URL"), max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    last_fetched_at = models.DateTimeField(_("last fetched"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("calendar feed")
        constraints = [
            models.UniqueConstraint(fields=["owner", "url"], name="calendar_feed_unique_url")
        ]

    def __str__(self) -> str:
        return self.url


class CaptureBatch(models.Model):
    """One capture: a file, a feed fetch or a message, and what became of each item in it.

    `items` holds the parsed events or messages (JSON) with their outcome:
    `created` or `duplicate` (with the interaction id), `pending` (no known
    stakeholder took part yet), or `skipped` with a reason. `addresses` holds the
    attendees and correspondents that matched nobody, with `open`, `ignored` or
    `created` (with the stakeholder id) as the user decides.
    """

    class Source(models.TextChoices):
        CALENDAR = "calendar", _("Calendar")
        EMAIL = "email", _("E-mail")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="capture_batches"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(_("source"), max_length=10, choices=Source)
    name = models.CharField(_("file or feed"), max_length=300, blank=True)
    feed = models.ForeignKey(
        CalendarFeed, on_delete=models.SET_NULL, null=True, blank=True, related_name="batches"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DONE)
    error = models.CharField(_("error"), max_length=500, blank=True)
    items = models.JSONField(default=list, blank=True)
    addresses = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("capture")

    def __str__(self) -> str:
        return f"{self.get_source_display()}: {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("capture-result", args=[self.pk])

    def count(self, outcome: str) -> int:
        return sum(1 for item in self.items if item.get("outcome") == outcome)
