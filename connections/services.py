"""Writes of connected accounts: syncing one (status and back-off), adding, editing and
removing one, and the review queue's decisions. Used by the pages, the API and the worker.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from connections.arrival import Arrival, record_arrivals
from connections.errors import AuthenticationFailed, ServerUnreachable, SyncError, SyncResult
from connections.models import (
    ConnectedAccount,
    StakeholderAddress,
    SuggestedStakeholder,
    SyncedItem,
)
from relations.matching import email_key
from relations.models import AuditEvent, Interaction, Organization, Stakeholder
from relations.services import audit_record, interaction_delete, interaction_update, snapshot

logger = logging.getLogger(__name__)

SYNCERS = {
    ConnectedAccount.Kind.IMAP: "connections.imap_sync.sync_imap",
    ConnectedAccount.Kind.CALDAV: "connections.dav_sync.sync_caldav",
    ConnectedAccount.Kind.CARDDAV: "connections.dav_sync.sync_carddav",
}
# Back-off after transient failures: the interval doubles per failure, up to this.
MAX_BACKOFF = timedelta(hours=6)
# The fields whose change is worth a new try of an account that needed attention.
CONNECTION_FIELDS = ("host", "port", "security", "url", "username", "secret", "folders")
# A sync of one account runs once at a time (the lock expires should a worker die).
LOCK_SECONDS = 30 * 60


def _account_snapshot(account: ConnectedAccount) -> dict:
    """The audited fields of an account: never its secret (redacted by `snapshot`), its
    exclude list (addresses the owner wants kept out of every record) or sync state."""
    values = snapshot(account)
    for name in ("exclude_addresses", "sync_state", "secret"):
        values.pop(name, None)
    return values


def _lock_key(account_id: int) -> str:
    return f"connections:sync:{account_id}"


def backoff(account: ConnectedAccount) -> timedelta:
    interval = timedelta(minutes=max(account.sync_interval_minutes, 1))
    return min(interval * (2 ** min(account.failure_count, 16)), MAX_BACKOFF)


def sync_account(account: ConnectedAccount) -> SyncResult | None:
    """Sync one account with the syncer of its kind and record how it went: None when
    another sync of it is running. Wrong password and unreachable server: needs
    attention, no retries until the owner edits it; other failures: retried with
    back-off. Messages shown to the owner are plain words, never a secret."""
    if not cache.add(_lock_key(account.pk), 1, timeout=LOCK_SECONDS):
        return None
    try:
        syncer = import_string(SYNCERS[account.kind])
        now = timezone.now
        try:
            result = syncer(account)
        except (AuthenticationFailed, ServerUnreachable) as exc:
            _record_failure(account, status=ConnectedAccount.Status.NEEDS_ATTENTION, message=exc)
            return SyncResult()
        except SyncError as exc:
            _record_failure(account, status=ConnectedAccount.Status.FAILING, message=exc)
            return SyncResult()
        except Exception:
            if not ConnectedAccount.objects.filter(pk=account.pk).exists():
                return None  # removed while it synced
            logger.exception("Sync of connected account %s failed", account.pk)
            _record_failure(
                account,
                status=ConnectedAccount.Status.FAILING,
                message=_("Something went wrong on our side; Rapport tries again later."),
            )
            return SyncResult()
        synced_at = now()
        ConnectedAccount.objects.filter(pk=account.pk).update(
            status=ConnectedAccount.Status.ACTIVE,
            status_message="",
            failure_count=0,
            last_synced_at=synced_at,
            next_sync_at=synced_at + timedelta(minutes=max(account.sync_interval_minutes, 1)),
        )
        account.refresh_from_db()
        return result
    finally:
        cache.delete(_lock_key(account.pk))


def _record_failure(account: ConnectedAccount, *, status: str, message: Any) -> None:
    account.refresh_from_db()
    account.status = status
    account.status_message = str(message)[:1000]
    account.failure_count += 1
    if status == ConnectedAccount.Status.NEEDS_ATTENTION:
        account.next_sync_at = None  # no retries until the owner edits the account
    else:
        account.next_sync_at = timezone.now() + backoff(account)
    account.save(update_fields=["status", "status_message", "failure_count", "next_sync_at"])
    logger.info("Sync of connected account %s: %s", account.pk, status)


def sync_due(now=None) -> list[int]:
    """The accounts whose next sync is due (working or retrying), claimed so that the
    next minute's run does not queue them again: their ids."""
    now = now or timezone.now()
    due = ConnectedAccount.objects.filter(
        status__in=[ConnectedAccount.Status.ACTIVE, ConnectedAccount.Status.FAILING]
    ).filter(next_sync_at__lte=now) | ConnectedAccount.objects.filter(
        status=ConnectedAccount.Status.ACTIVE, next_sync_at__isnull=True
    )
    claimed = []
    for account in due.order_by("next_sync_at", "pk")[:1000]:
        claim_until = now + timedelta(minutes=max(account.sync_interval_minutes, 1))
        if ConnectedAccount.objects.filter(pk=account.pk, next_sync_at=account.next_sync_at).update(
            next_sync_at=claim_until
        ):
            claimed.append(account.pk)
    return claimed


def sync_request(account: ConnectedAccount) -> None:
    """ "Sync now": queue a sync of the account by the worker (any status: the owner asked)."""
    from connections.tasks import sync_account as task
    from relations.publishing import enqueue_on_commit

    # Without a broker, in a thread of its own: a first sync takes minutes, not a request.
    enqueue_on_commit(task, account.pk, background=True)


# --- Adding, editing, removing ---------------------------------------------------------


@transaction.atomic
def account_create(*, by: User, **fields: Any) -> ConnectedAccount:
    account = ConnectedAccount(owner=by, **fields)
    account.full_clean()
    account.next_sync_at = timezone.now()
    account.save()
    audit_record(
        actor=by, action=AuditEvent.Action.CREATE, obj=account, changes=_account_snapshot(account)
    )
    sync_request(account)
    return account


@transaction.atomic
def account_update(account: ConnectedAccount, *, by: User, **fields: Any) -> ConnectedAccount:
    """Save the owner's changes; a blank secret keeps the stored one. An account that
    needed attention (or was failing) whose server, login or folders changed is back on
    schedule, syncing at once."""
    if not fields.get("secret"):
        fields.pop("secret", None)
    before = _account_snapshot(account)
    reconnect = any(
        name in fields and fields[name] != getattr(account, name) for name in CONNECTION_FIELDS
    )
    for name, value in fields.items():
        setattr(account, name, value)
    account.full_clean()
    if (
        reconnect
        and "status" not in fields
        and account.status
        in (
            ConnectedAccount.Status.NEEDS_ATTENTION,
            ConnectedAccount.Status.FAILING,
        )
    ):
        account.status = ConnectedAccount.Status.ACTIVE
        account.status_message = ""
        account.failure_count = 0
        account.next_sync_at = timezone.now()
    account.save()
    changes = {k: v for k, v in _account_snapshot(account).items() if before.get(k) != v}
    if changes:
        audit_record(actor=by, action=AuditEvent.Action.UPDATE, obj=account, changes=changes)
    due = account.next_sync_at is not None and account.next_sync_at <= timezone.now()
    if account.status == ConnectedAccount.Status.ACTIVE and due:
        sync_request(account)
    return account


@transaction.atomic
def account_remove(account: ConnectedAccount, *, by: User, delete_captured: bool) -> int:
    """Remove the account. `delete_captured`: also delete the interactions it alone
    brought (others' captures of the same message stay, without this owner's link), and
    its waiting items and suggestions' links. Returns how many interactions were deleted."""
    deleted = 0
    if delete_captured:
        items = SyncedItem.objects.filter(account=account, interaction__isnull=False)
        for synced in items.select_related("interaction"):
            interaction = synced.interaction
            shared = (
                SyncedItem.objects.filter(interaction=interaction).exclude(account=account).exists()
            )
            if synced.brought and not shared:
                interaction_delete(interaction, by=by)
                deleted += 1
    audit_record(
        actor=by,
        action=AuditEvent.Action.DELETE,
        obj=account,
        changes={"delete_captured": delete_captured, "interactions_deleted": deleted},
    )
    account.delete()
    return deleted


# --- The review queue ---------------------------------------------------------------------


def _organisation(name: str) -> Organization | None:
    from relations.matching import match_key

    key = match_key(name)
    if not key:
        return None
    return Organization.objects.filter(name_key=key).order_by("pk").first()


def _attach(suggestion: SuggestedStakeholder, stakeholder: Stakeholder, by: User) -> int:
    """Add `stakeholder` to the interactions its address took part in, and log the items
    that waited for a known stakeholder: how many interactions were logged."""
    logged = 0
    for synced in suggestion.items.select_related("interaction", "account", "account__owner"):
        interaction = synced.interaction
        if interaction is not None:
            current = list(interaction.stakeholders.all())
            if stakeholder not in current and interaction.editable_by(by):
                interaction_update(interaction, by=by, stakeholders=[*current, stakeholder])
            continue
        # An address book's card is no interaction: its sync links it to the stakeholder.
        if not synced.record or synced.account.kind == ConnectedAccount.Kind.CARDDAV:
            continue
        result = record_arrivals(
            synced.account, [Arrival(synced.record, synced.remote_id, synced.etag)], again=True
        )
        logged += result.added
    return logged


@transaction.atomic
def suggestion_accept(
    suggestion: SuggestedStakeholder, *, by: User, name: str = "", organisation_name: str = ""
) -> Stakeholder:
    """Create the stakeholder (owned by `by`) and log what waited for them."""
    suggestion = SuggestedStakeholder.objects.select_for_update().get(pk=suggestion.pk)
    stakeholder = (
        Stakeholder.objects.filter(email_key=email_key(suggestion.email), erased_at__isnull=True)
        .order_by("pk")
        .first()
    )
    if stakeholder is None:
        stakeholder = Stakeholder(
            name=(name or suggestion.name or suggestion.email.split("@")[0])[:200],
            email=suggestion.email,
            owner=by,
            organization=_organisation(organisation_name or suggestion.organisation_name),
            data_source_kind=Stakeholder.DataSource.OTHER,
            data_source=_("Met through a connected account")[:200],
        )
        stakeholder.full_clean(validate_constraints=False)
        stakeholder.save()
        changes = snapshot(stakeholder)
        audit_record(actor=by, action=AuditEvent.Action.CREATE, obj=stakeholder, changes=changes)
    suggestion.status = SuggestedStakeholder.Status.ACCEPTED
    suggestion.save(update_fields=["status"])
    _attach(suggestion, stakeholder, by)
    return stakeholder


@transaction.atomic
def suggestion_merge(suggestion: SuggestedStakeholder, *, by: User) -> Stakeholder:
    """The suggestion is its possible match: the address becomes theirs (matched from now
    on), and what waited for them is logged with them."""
    suggestion = SuggestedStakeholder.objects.select_for_update().get(pk=suggestion.pk)
    stakeholder = suggestion.possible_match
    if stakeholder is None or stakeholder.is_erased:
        raise ValueError("no possible match")
    key = email_key(suggestion.email)
    if stakeholder.email_key != key:
        if not stakeholder.email:
            before = snapshot(stakeholder)
            stakeholder.email = suggestion.email
            stakeholder.save()
            audit_record(
                actor=by,
                action=AuditEvent.Action.UPDATE,
                obj=stakeholder,
                changes={"email": [before.get("email"), stakeholder.email]},
            )
        else:
            StakeholderAddress.objects.get_or_create(
                stakeholder=stakeholder,
                email_key=key,
                defaults={"email": suggestion.email, "added_by": by},
            )
    suggestion.status = SuggestedStakeholder.Status.ACCEPTED
    suggestion.save(update_fields=["status"])
    _attach(suggestion, stakeholder, by)
    return stakeholder


@transaction.atomic
def suggestion_ignore(suggestion: SuggestedStakeholder, *, by: User) -> None:
    SuggestedStakeholder.objects.filter(pk=suggestion.pk).update(
        status=SuggestedStakeholder.Status.IGNORED
    )


__all__ = [
    "Interaction",
    "account_create",
    "account_remove",
    "account_update",
    "suggestion_accept",
    "suggestion_ignore",
    "suggestion_merge",
    "sync_account",
    "sync_due",
    "sync_request",
]
