"""Turning captured calendar events and e-mails into interactions.

Matching: internal participants are the capturing user plus every active staff
member whose e-mail address appears; stakeholders are those the capturing user
may see (DESIGN §7) with a matching e-mail address (case-insensitive; the oldest
record when two share one). Every other address is listed as unmatched, for the
user to create a stakeholder from or to ignore; an address of a record the user
may not see is unmatched too, so a capture never reveals that it exists.

An event or message with no known stakeholder cannot be an interaction (one
needs at least one stakeholder): it waits (`pending`) in the capture until the
user creates a stakeholder from one of its addresses. Items already captured
(same source and UID or Message-ID: by an upload, the API or a connected mailbox or
calendar of anyone) are `duplicate`s: the one interaction, which the capturing user
joins as a participant.
Every interaction is written through `interaction_log`, so relationships, the
audit trail and score recomputation follow as for one logged by hand; their
`interaction.created` webhooks go out together at the end of the capture.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from relations.capture.models import CalendarFeed, CaptureBatch
from relations.matching import email_key
from relations.models import AuditEvent, Interaction, Stakeholder
from relations.publishing import enqueue_on_commit
from relations.roles import DIRECTOR, MANAGER
from relations.services import (
    audit_record,
    interaction_log,
    interaction_update,
    interactions_created_announce,
    relationships_ensure,
    snapshot,
)

# E-mail bodies can hold anything: their notes are private (participants and
# directors only); calendar descriptions are meeting agendas, shared as usual.
PRIVATE_BY_SOURCE = {CaptureBatch.Source.EMAIL: True, CaptureBatch.Source.CALENDAR: False}


def _staff_by_email(emails: Iterable[str]) -> dict[str, User]:
    emails = {e.lower() for e in emails}
    if not emails:
        return {}
    users = (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=[MANAGER, DIRECTOR]))
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .distinct()
        .order_by("pk")
    )
    found: dict[str, User] = {}
    for user in users:
        found.setdefault(user.email_lower, user)
    return found


def _stakeholders_by_email(emails: Iterable[str], viewer: User) -> dict[str, Stakeholder]:
    """Stakeholders by address, compared by their key (case folded in every script)."""
    keys = {email_key(e): e.lower() for e in emails}
    if not keys:
        return {}
    stakeholders = Stakeholder.objects.visible_to(viewer).filter(email_key__in=keys).order_by("pk")
    found: dict[str, Stakeholder] = {}
    for stakeholder in stakeholders:
        found.setdefault(keys[stakeholder.email_key], stakeholder)
    return found


def _item_emails(item: dict) -> list[str]:
    return [a["email"] for a in item.get("addresses", [])]


def _participant_join(interaction_id: int, by: User) -> None:
    """The same message or event captured again by someone else (their upload, the API,
    a connected mailbox) stays one interaction, with them among its participants."""
    interaction = Interaction.objects.filter(pk=interaction_id).first()
    if interaction is None or interaction.internal_participants.filter(pk=by.pk).exists():
        return
    interaction.internal_participants.add(by)
    relationships_ensure([by], interaction.stakeholders.all(), by=by)
    audit_record(
        actor=by,
        action=AuditEvent.Action.UPDATE,
        obj=interaction,
        changes={"internal_participants": {"added": [by.pk]}},
    )


def _log(item: dict, *, by: User, source: str, users: list[User], stakeholders: list) -> tuple:
    """Create the interaction of `item`; (outcome, interaction id). A concurrent capture
    of the same item wins the unique constraint, and this one becomes its duplicate."""
    participants = [by, *[u for u in users if u.pk != by.pk]]
    try:
        interaction = interaction_log(
            by=by,
            participants=participants,
            stakeholders=stakeholders,
            occurred_at=datetime.fromisoformat(item["occurred_at"]),
            kind=item["kind"],
            subject=item["subject"],
            notes=item.get("notes", ""),
            duration_minutes=item.get("duration_minutes", 0),
            private=PRIVATE_BY_SOURCE[source],
            source=source,
            external_id=item["external_id"],
            emit_webhook=False,  # the caller announces all of them at once
        )
    except IntegrityError:
        existing = Interaction.objects.filter(
            source=source, external_id=item["external_id"]
        ).first()
        if existing is None:
            raise
        return "duplicate", existing.pk
    return "created", interaction.pk


@transaction.atomic
def capture_import(
    *,
    by: User,
    source: str,
    name: str,
    records: Sequence[dict],
    feed: CalendarFeed | None = None,
    batch: CaptureBatch | None = None,
) -> CaptureBatch:
    """Create the interactions of parsed `records`; the batch lists what became of each.

    `batch`: a waiting batch (a feed fetch) to complete instead of a new one."""
    items = [dict(r) for r in records]
    all_emails = {e for item in items for e in _item_emails(item)}
    staff = _staff_by_email(all_emails)
    stakeholders = _stakeholders_by_email(all_emails, by)
    own = (by.email or "").lower()
    wanted = [i for i in items if i.get("outcome") == "new"]
    existing = dict(
        Interaction.objects.filter(
            source=source, external_id__in=[i["external_id"] for i in wanted]
        ).values_list("external_id", "pk")
    )
    seen: dict[str, int | None] = {}
    unmatched: dict[str, dict] = {}
    for index, item in enumerate(items):
        for address in item.get("addresses", []):
            email = address["email"]
            if email in staff or email in stakeholders or email == own:
                continue
            entry = unmatched.setdefault(
                email, {"email": email, "name": "", "status": "open", "items": []}
            )
            entry["name"] = entry["name"] or address.get("name", "")
            entry["items"].append(index)
        if item.get("outcome") != "new":
            continue
        key = item["external_id"]
        if key in existing:
            item["outcome"], item["interaction"] = "duplicate", existing[key]
            _participant_join(existing[key], by)
            continue
        if key in seen:  # the same event twice in one file
            item["outcome"], item["interaction"] = "duplicate", seen[key]
            continue
        emails = _item_emails(item)
        matched = [stakeholders[e] for e in emails if e in stakeholders]
        if not matched:
            item["outcome"] = "pending"
            seen[key] = None
            continue
        users = [staff[e] for e in emails if e in staff]
        item["outcome"], item["interaction"] = _log(
            item, by=by, source=source, users=users, stakeholders=matched
        )
        seen[key] = item["interaction"]
    interactions_created_announce(_created_ids(items))
    for item in items:
        item["stakeholders"] = [stakeholders[e].pk for e in _item_emails(item) if e in stakeholders]
    batch = batch or CaptureBatch(created_by=by, source=source, name=name[:300], feed=feed)
    batch.items = items
    batch.addresses = sorted(unmatched.values(), key=lambda a: a["email"])
    batch.status = CaptureBatch.Status.DONE
    batch.error = ""
    batch.save()
    audit_record(
        actor=by,
        action=AuditEvent.Action.CREATE,
        obj=batch,
        changes={
            "source": source,
            "name": name[:300],
            "created": batch.count("created"),
            "duplicate": batch.count("duplicate"),
            "pending": batch.count("pending"),
            "skipped": batch.count("skipped"),
        },
    )
    return batch


def _created_ids(items: Iterable[dict]) -> list[int]:
    return [i["interaction"] for i in items if i.get("outcome") == "created"]


class AddressNotFound(LookupError):
    pass


def _address_entry(batch: CaptureBatch, email: str) -> dict:
    email = email.strip().lower()
    for entry in batch.addresses:
        if entry["email"] == email:
            return entry
    raise AddressNotFound(email)


@transaction.atomic
def capture_address_ignore(batch: CaptureBatch, *, email: str, by: User) -> None:
    batch = CaptureBatch.objects.select_for_update().get(pk=batch.pk)
    entry = _address_entry(batch, email)
    if entry["status"] == "open":
        entry["status"] = "ignored"
        batch.save(update_fields=["addresses"])


@transaction.atomic
def capture_address_create_stakeholder(
    batch: CaptureBatch, *, email: str, name: str, by: User
) -> Stakeholder:
    """Make `email` a stakeholder (owned by the capturing user), then add it to the
    interactions this capture created with it and log the events that waited for it."""
    batch = CaptureBatch.objects.select_for_update().get(pk=batch.pk)
    entry = _address_entry(batch, email)
    if entry["status"] == "created" and entry.get("stakeholder"):
        found = Stakeholder.objects.filter(pk=entry["stakeholder"]).first()
        if found is not None:
            return found
    stakeholder = _stakeholders_by_email([entry["email"]], by).get(entry["email"])
    if stakeholder is None:
        stakeholder = Stakeholder(
            name=(name or entry["name"] or entry["email"].split("@")[0])[:200],
            email=entry["email"],
            owner=by,
            data_source=(
                _("Captured from %(source)s “%(name)s”")
                % {"source": batch.get_source_display().lower(), "name": batch.name}
            )[:200],
        )
        stakeholder.full_clean(validate_constraints=False)
        stakeholder.save()
        audit_record(
            actor=by,
            action=AuditEvent.Action.CREATE,
            obj=stakeholder,
            changes=snapshot(stakeholder),
        )
    entry["status"], entry["stakeholder"] = "created", stakeholder.pk

    logged = []
    for index in entry["items"]:
        item = batch.items[index]
        if stakeholder.pk not in item.setdefault("stakeholders", []):
            item["stakeholders"].append(stakeholder.pk)
        if item.get("outcome") == "created":
            interaction = (
                Interaction.objects.filter(pk=item["interaction"])
                .prefetch_related("stakeholders", "internal_participants")
                .first()
            )
            if interaction is None or not interaction.editable_by(by):
                continue
            current = list(interaction.stakeholders.all())
            if stakeholder not in current:
                interaction_update(interaction, by=by, stakeholders=[*current, stakeholder])
        elif item.get("outcome") == "pending":
            emails = _item_emails(item)
            known = _stakeholders_by_email(emails, by)
            staff = _staff_by_email(emails)
            matched = [known[e] for e in emails if e in known]
            users = [staff[e] for e in emails if e in staff]
            item["outcome"], item["interaction"] = _log(
                item, by=by, source=batch.source, users=users, stakeholders=matched
            )
            logged.append(item)
    interactions_created_announce(_created_ids(logged))
    batch.save(update_fields=["items", "addresses"])
    return stakeholder


# --- Calendar feeds ---------------------------------------------------------------------


@transaction.atomic
def calendar_feed_request(*, url: str, by: User) -> CaptureBatch:
    """Register (or reuse) `by`'s feed at `url` and queue its fetch by the worker.

    The URL is checked here, so that a private or local address is refused at once;
    the worker checks it again (DNS may have changed since).
    """
    from relations.integrations.outbound import check_destination
    from relations.tasks import calendar_feed_capture

    check_destination(url)
    feed, _created = CalendarFeed.objects.get_or_create(owner=by, url=url)
    batch = CaptureBatch.objects.create(
        created_by=by,
        source=CaptureBatch.Source.CALENDAR,
        name=url[:300],
        feed=feed,
        status=CaptureBatch.Status.PENDING,
    )

    def failed(exc: Exception) -> None:
        # Recorded like a failed fetch, so the nightly refresh does not wait on it forever.
        CaptureBatch.objects.filter(pk=batch.pk, status=CaptureBatch.Status.PENDING).update(
            status=CaptureBatch.Status.FAILED, error=f"Could not queue the fetch: {exc}"[:500]
        )

    enqueue_on_commit(calendar_feed_capture, batch.pk, on_failure=failed)
    return batch


def calendar_feed_fetch_and_import(batch: CaptureBatch) -> CaptureBatch:
    """Fetch the batch's feed (SSRF guard, timeout, size cap), then import it.

    Any failure is recorded on the batch and the feed, with nothing imported."""
    from django.conf import settings
    from django.utils import timezone

    from relations.capture.parsing import CaptureError, parse_calendar
    from relations.integrations.outbound import FetchFailed, UnsafeDestination, fetch_limited

    feed = batch.feed
    try:
        raw = fetch_limited(
            feed.url,
            max_bytes=settings.RAPPORT_CAPTURE_MAX_BYTES,
            timeout=settings.RAPPORT_CAPTURE_FETCH_TIMEOUT,
        )
        records = parse_calendar(raw)
        batch = capture_import(
            by=batch.created_by,
            source=CaptureBatch.Source.CALENDAR,
            name=batch.name,
            records=records,
            feed=feed,
            batch=batch,
        )
        feed.last_error = ""
    except (FetchFailed, UnsafeDestination, CaptureError) as exc:
        batch.status = CaptureBatch.Status.FAILED
        batch.error = str(exc)[:500]
        batch.save(update_fields=["status", "error"])
        feed.last_error = batch.error
    feed.last_fetched_at = timezone.now()
    feed.save(update_fields=["last_fetched_at", "last_error"])
    return batch
