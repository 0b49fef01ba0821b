"""Connected accounts (a mailbox, a calendar, an address book) and what they bring in.

A user connects their own accounts; the worker syncs each one on a schedule
(`connections.services.sync_account`). Every item an account captured is kept as a
`SyncedItem`, so that a later sync adds nothing twice and removing the account can
keep or delete what it captured. People the sync meets who are no stakeholder yet wait
in the owner's review queue (`SuggestedStakeholder`) instead of being created silently.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from connections.fields import EncryptedTextField


def default_folders() -> list[str]:
    return ["INBOX", "Sent"]


class ConnectedAccount(models.Model):
    class Kind(models.TextChoices):
        IMAP = "imap", _("Mailbox (IMAP)")
        CALDAV = "caldav", _("Calendar (CalDAV)")
        CARDDAV = "carddav", _("Address book (CardDAV)")

    class Security(models.TextChoices):
        TLS = "tls", _("TLS")
        STARTTLS = "starttls", _("STARTTLS")
        NONE = "none", _("None (unencrypted)")

    class Content(models.TextChoices):
        METADATA = "metadata", _("Who, when and subject (no message text)")
        SUBJECT = "subject", _("Subject only")
        FULL = "full", _("Full text")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Working")  # syncing on schedule
        FAILING = "failing", _("Trying again")  # transient error: retried with back-off
        # wrong password / unreachable: no retries until the owner edits the account
        NEEDS_ATTENTION = "needs_attention", _("Needs your attention")
        PAUSED = "paused", _("Paused")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="connected_accounts"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind)
    label = models.CharField(_("name"), max_length=100)
    # IMAP
    host = models.CharField(_("server"), max_length=255, blank=True)
    port = models.PositiveIntegerField(_("port"), null=True, blank=True)
    security = models.CharField(
        _("encryption"), max_length=10, choices=Security, default=Security.TLS
    )
    # DAV: the URL the user gave (a server or a collection), and the collection found there.
    url = models.URLField(_("address"), max_length=500, blank=True)
    collection_url = models.URLField(max_length=500, blank=True)
    username = models.CharField(_("user name"), max_length=255)
    # Never shown again, never logged, exported or serialized.
    secret = EncryptedTextField(_("password"))
    folders = models.JSONField(_("folders"), default=default_folders, blank=True)
    content = models.CharField(
        _("what to keep of each message"),
        max_length=10,
        choices=Content,
        default=Content.METADATA,
    )
    exclude_addresses = models.TextField(
        _("never log these addresses"), blank=True, help_text=_("One address per line.")
    )
    # IMAP: {"folders": {"INBOX": {"uidvalidity": int, "last_uid": int}}}
    # DAV:  {"sync_token": str, "ctag": str, "etags": {href: etag}}
    sync_state = models.JSONField(default=dict, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.ACTIVE)
    status_message = models.TextField(blank=True)
    failure_count = models.PositiveIntegerField(default=0)
    last_synced_at = models.DateTimeField(_("last synced"), null=True, blank=True)
    next_sync_at = models.DateTimeField(null=True, blank=True, db_index=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    sync_interval_minutes = models.PositiveSmallIntegerField(_("sync every (minutes)"), default=5)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["label", "pk"]
        verbose_name = _("connected account")

    def __str__(self) -> str:
        return self.label

    def get_absolute_url(self) -> str:
        return reverse("connection-edit", args=[self.pk])

    def excluded(self) -> set[str]:
        return {
            line.strip().lower() for line in self.exclude_addresses.splitlines() if line.strip()
        }


class SyncedItem(models.Model):
    """One item an account captured: what removal keeps or deletes, and what a sync skips."""

    account = models.ForeignKey(ConnectedAccount, on_delete=models.CASCADE, related_name="items")
    # IMAP "FOLDER/UIDVALIDITY/UID"; DAV the href.
    remote_id = models.CharField(max_length=500)
    etag = models.CharField(max_length=255, blank=True)
    interaction = models.ForeignKey(
        "relations.Interaction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    stakeholder = models.ForeignKey(
        "relations.Stakeholder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The parsed item while no known stakeholder took part in it (no interaction yet): it
    # is logged when the owner accepts one of its people from the review queue. Holds only
    # what the account's content level keeps.
    record = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The Message-ID (or iCal UID + RECURRENCE-ID): the same message seen again under another
    # remote id (a folder's UIDVALIDITY changed) is recognised and adds nothing.
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    # This item created its interaction (rather than joining one another source brought):
    # withdrawing it may delete the interaction.
    brought = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "remote_id"], name="connections_synceditem_unique_remote_id"
            )
        ]

    def __str__(self) -> str:
        return self.remote_id


class SuggestedStakeholder(models.Model):
    """Someone external the owner's accounts met who is no stakeholder yet: the review queue."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for review")
        ACCEPTED = "accepted", _("Added")
        IGNORED = "ignored", _("Ignored")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="suggested_stakeholders"
    )
    email = models.EmailField(_("e-mail"))
    name = models.CharField(_("name"), max_length=200, blank=True)
    organisation_name = models.CharField(_("organisation"), max_length=200, blank=True)
    message_count = models.PositiveIntegerField(_("messages"), default=0)
    meeting_count = models.PositiveIntegerField(_("meetings"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    possible_match = models.ForeignKey(
        "relations.Stakeholder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("possibly the same as"),
    )
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    # The captured items this person appeared in: accepting adds the new stakeholder to
    # their interactions and logs the ones that waited for a known stakeholder.
    items = models.ManyToManyField(SyncedItem, blank=True, related_name="suggestions")

    class Meta:
        ordering = ["-last_seen_at", "pk"]
        verbose_name = _("suggested stakeholder")
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "email"], name="connections_suggestion_unique_email"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.email


class StakeholderAddress(models.Model):
    """Another e-mail address of a stakeholder (besides `Stakeholder.email`), learnt when a
    suggestion was merged into them: mail from or to it is matched to them."""

    stakeholder = models.ForeignKey(
        "relations.Stakeholder", on_delete=models.CASCADE, related_name="other_addresses"
    )
    email = models.EmailField(_("e-mail"))
    # relations.matching.email_key(email), compared on arrival.
    email_key = models.CharField(max_length=255, db_index=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("other e-mail address")
        constraints = [
            models.UniqueConstraint(
                fields=["stakeholder", "email_key"], name="connections_address_unique"
            )
        ]

    def __str__(self) -> str:
        return self.email
