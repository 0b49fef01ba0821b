"""Syncing a CalDAV calendar into interactions and a CardDAV address book into stakeholders.

Both ask the collection what changed since the state kept in `account.sync_state`
(`sync_token`, `ctag`, `etags` {href: ETag}: connections.dav), fetch the changed items
in batches, and save the ETags of each batch as it is applied, the new sync token only
at the end: a sync interrupted by a stopped server or a restarted worker asks again from
the old token next time, and the items of the batches already applied come back with
the ETags already known, so they are skipped (no duplicate, no loss).

**Calendars.** Each calendar object is read by the capture's own parser
(`relations.capture.parsing.parse_calendar`): past events and past occurrences of
recurring ones, with the parser's external id (the iCal UID; with the occurrence's
RECURRENCE-ID for a recurring one, so a moved occurrence stays the same interaction),
the same id a file upload or the capture API gives, so the same meeting is one
interaction whichever way it came. One `SyncedItem` per event or
occurrence, its remote id the object's href with `#` and the external id. An object
changed on the server is read again: its events are recorded again through
`connections.arrival` (an event moved: the interaction's time and subject follow), and
the ones no longer in it, cancelled (STATUS:CANCELLED) or moved into the future are
withdrawn; a deleted object withdraws all of its events. Events that have not happened
yet are looked at again once their time has come (`recheck` in the state).

**Address books.** A contact is offered for import with the vCard import's duplicate
rule (`relations.importing.services.stakeholder_duplicate_of`): one that is a known
stakeholder is linked to it (and fills the stakeholder's empty fields); a new one waits
in the owner's review queue (a `SuggestedStakeholder`), and is linked once the owner
has accepted it. A change on the server updates the linked stakeholder — the fields the
server changed — unless someone edited the stakeholder in Rapport since the last sync
(its version moved on): then nothing is overwritten and the difference is kept for the
connections page (`contact_differences`). A contact deleted on the server is unlinked;
the stakeholder stays (removing a phone's contact is no reason to forget a
relationship), a suggestion only the card made is withdrawn.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from connections import dav
from connections.arrival import Arrival, possible_match, record_arrivals, withdraw_arrival
from connections.errors import SyncResult
from connections.models import ConnectedAccount, SuggestedStakeholder, SyncedItem
from relations.capture.parsing import CaptureError, parse_calendar
from relations.importing.parsing import ImportFileError, read_vcards
from relations.importing.services import stakeholder_duplicate_of
from relations.matching import email_key, match_key
from relations.models import Organization, Stakeholder
from relations.services import EditConflict

# Calendar objects or cards fetched and applied together (one transaction each).
BATCH = 50
# A recurring series is looked at again this often for its new occurrences.
RECURRING_RECHECK = timedelta(days=1)
# The stakeholder fields a card fills, with their lengths.
CARD_FIELDS = {"name": 200, "email": 254, "phone": 40, "title": 200, "organization": 200}


def client_for(account: ConnectedAccount) -> dav.DavClient:
    return dav.DavClient(
        base_url=account.collection_url or account.url,
        username=account.username,
        password=account.secret,
    )


def collection_of(account: ConnectedAccount, kind: str) -> tuple[dav.DavClient, str]:
    """The client and the collection URL, discovered from the address the user gave on
    the first sync (or after the user changed it); a changed collection starts afresh."""
    state = account.sync_state or {}
    if account.collection_url and state.get("url", account.url) == account.url:
        return client_for(account), account.collection_url
    client = dav.DavClient(base_url=account.url, username=account.username, password=account.secret)
    collection = dav.discover(client, account.url, kind)
    if collection != account.collection_url:
        # Another collection: its items are all new (a forced ETag fallback stays).
        state = {k: v for k, v in state.items() if k == "etags_only"}
    account.collection_url = collection
    account.sync_state = {**state, "url": account.url}
    ConnectedAccount.objects.filter(pk=account.pk).update(
        collection_url=collection, sync_state=account.sync_state
    )
    return client_for(account), collection


def _progress(account: ConnectedAccount, done: int, total: int, state: dict | None = None) -> None:
    fields: dict[str, Any] = {"progress_done": done, "progress_total": total}
    if state is not None:
        account.sync_state = state
        fields["sync_state"] = state
    account.progress_done, account.progress_total = done, total
    ConnectedAccount.objects.filter(pk=account.pk).update(**fields)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _sync(account: ConnectedAccount, kind: str, apply_item, apply_gone) -> SyncResult:
    """The common loop: changes, deletions, then the changed items in batches, the state
    saved after each batch and the new token at the end."""
    client, collection = collection_of(account, kind)
    state = dict(account.sync_state or {})
    state.setdefault("etags", {})
    changes = dav.changes_since(
        client, collection, state, use_sync_token=not state.get("etags_only")
    )
    now = timezone.now()
    due = [
        href
        for href, moment in (state.get("recheck") or {}).items()
        if datetime.fromisoformat(moment) <= now and href not in changes.deleted
    ]
    hrefs = sorted(set(changes.changed) | set(due))
    total = len(hrefs) + len(changes.deleted)
    result = SyncResult()
    done = 0
    _progress(account, done, total)
    with transaction.atomic():
        for href in changes.deleted:
            apply_gone(account, href, result)
            state["etags"].pop(href, None)
            (state.get("recheck") or {}).pop(href, None)
            done += 1
        _progress(account, done, total, state)
    for batch in _chunks(hrefs, BATCH):
        fetched = {i.href: i for i in dav.multiget(client, collection, batch, kind)}
        with transaction.atomic():
            for href in batch:
                item = fetched.get(href)
                if item is None:  # deleted between the listing and the fetching
                    apply_gone(account, href, result)
                    state["etags"].pop(href, None)
                    (state.get("recheck") or {}).pop(href, None)
                else:
                    apply_item(account, item, state, result, now)
                    state["etags"][href] = item.etag or changes.changed.get(href, "")
                done += 1
            _progress(account, done, total, state)
    state["sync_token"] = changes.sync_token
    state["ctag"] = changes.ctag
    state["method"] = changes.method
    _progress(account, done, total, state)
    return result


# --- Calendars ----------------------------------------------------------------------------


def _remote_id(href: str, external_id: str) -> str:
    return f"{href}#{external_id}"[:500]


def _recorded(account: ConnectedAccount, href: str) -> set[str]:
    return set(
        SyncedItem.objects.filter(account=account, remote_id__startswith=f"{href}#").values_list(
            "remote_id", flat=True
        )
    )


def _before_window(account: ConnectedAccount, remote_id: str, now: datetime) -> bool:
    """Whether a recorded occurrence lies before the window the parser reads recurring
    events in (RAPPORT_CAPTURE_RECURRENCE_DAYS): a weekly meeting's occurrences of two
    years ago are no longer in its output, and must not be withdrawn for that."""
    from django.conf import settings

    synced = (
        SyncedItem.objects.filter(account=account, remote_id=remote_id)
        .select_related("interaction")
        .first()
    )
    if synced is None:
        return False
    if synced.interaction is not None:
        moment = synced.interaction.occurred_at
    else:
        try:
            moment = datetime.fromisoformat(str((synced.record or {}).get("occurred_at")))
        except ValueError:
            return False
    window_start = now - timedelta(days=settings.RAPPORT_CAPTURE_RECURRENCE_DAYS)
    return moment < window_start


def _calendar_object(
    account: ConnectedAccount, item: dav.Item, state: dict, result: SyncResult, now: datetime
) -> None:
    try:
        records = parse_calendar(item.data, now=now)
    except CaptureError:
        records = []  # unreadable: none of its events is (any longer) logged
    happened = {
        _remote_id(item.href, r["external_id"]): r
        for r in records
        if r.get("outcome") == "new" and r.get("external_id")
    }
    for remote_id in sorted(_recorded(account, item.href) - set(happened)):
        if _before_window(account, remote_id, now):
            continue  # an occurrence the parser no longer reads back to: it happened
        withdraw_arrival(account, remote_id)  # cancelled, removed, or moved to the future
        result.removed += 1
    arrivals = [Arrival(record, remote_id, item.etag) for remote_id, record in happened.items()]
    if arrivals:
        arrived = record_arrivals(account, arrivals)
        result.added += arrived.added
        result.updated += arrived.updated
        result.suggested += arrived.suggested
    recheck = state.setdefault("recheck", {})
    recheck.pop(item.href, None)
    upcoming = [
        r["occurred_at"]
        for r in records
        if r.get("occurred_at") and r["occurred_at"] > now.isoformat() and r.get("external_id")
    ]
    if b"RRULE" in item.data.upper():
        upcoming.append((now + RECURRING_RECHECK).isoformat())
    if upcoming:
        recheck[item.href] = min(upcoming)


def _calendar_object_gone(account: ConnectedAccount, href: str, result: SyncResult) -> None:
    for remote_id in sorted(_recorded(account, href)):
        withdraw_arrival(account, remote_id)
        result.removed += 1


def sync_caldav(account: ConnectedAccount) -> SyncResult:
    """Sync the account's calendar (see the module's docstring)."""
    return _sync(account, dav.CALENDAR, _calendar_object, _calendar_object_gone)


# --- Address books ------------------------------------------------------------------------


def card_values(data: bytes) -> dict[str, str] | None:
    """The stakeholder fields of a card, read as the vCard import reads them (None when
    the card cannot be used)."""
    try:
        cards = read_vcards(data)
    except ImportFileError:
        return None
    values = cards[0].values if cards else {"_error": "empty"}
    if "_error" in values or not values.get("name", "").strip():
        return None
    email = values.get("email", "").strip()
    try:
        validate_email(email)
    except ValidationError:
        email = ""
    return {
        "name": values["name"].strip()[: CARD_FIELDS["name"]],
        "email": email.lower()[: CARD_FIELDS["email"]],
        "phone": values.get("phone", "").strip()[: CARD_FIELDS["phone"]],
        "title": values.get("title", "").strip()[: CARD_FIELDS["title"]],
        "organization": values.get("organization", "").strip()[: CARD_FIELDS["organization"]],
    }


def stakeholder_values(stakeholder: Stakeholder) -> dict[str, str]:
    return {
        "name": stakeholder.name,
        "email": stakeholder.email.lower(),
        "phone": stakeholder.phone,
        "title": stakeholder.title,
        "organization": stakeholder.organization.name if stakeholder.organization_id else "",
    }


def _organization(name: str, *, by) -> Organization | None:
    from relations.editing.services import organization_create

    if not name.strip():
        return None
    found = Organization.objects.filter(name_key=match_key(name)).order_by("pk").first()
    return found or organization_create(by=by, name=name)


def _as_fields(values: dict[str, str], *, by) -> dict[str, Any]:
    fields: dict[str, Any] = {k: v for k, v in values.items() if k != "organization"}
    if "organization" in values:
        fields["organization"] = _organization(values["organization"], by=by)
    return fields


def _update_stakeholder(
    stakeholder: Stakeholder, fields: dict[str, str], *, by, expected_version: int | None
) -> bool:
    """Apply the card's `fields` through the edit service; False when someone edited the
    stakeholder since (`expected_version`) or the owner may not change it."""
    from relations.editing.services import stakeholder_update

    if not fields:
        return True
    try:
        with transaction.atomic():
            stakeholder_update(
                stakeholder, by=by, expected_version=expected_version, **_as_fields(fields, by=by)
            )
    except (EditConflict, PermissionDenied, ValidationError):
        stakeholder.refresh_from_db()
        return False
    return True


def _link(synced: SyncedItem, stakeholder: Stakeholder, card: dict[str, str], *, by) -> None:
    """Link a card to its stakeholder: the stakeholder's empty fields are filled from it
    (what Rapport holds is never overwritten by a first link)."""
    current = stakeholder_values(stakeholder)
    blanks = {k: v for k, v in card.items() if v and not current.get(k)}
    _update_stakeholder(stakeholder, blanks, by=by, expected_version=None)
    synced.stakeholder = stakeholder
    synced.record = {"card": card, "version": stakeholder.version}


def _suggest(account: ConnectedAccount, card: dict[str, str], now: datetime) -> int:
    """The card's person in the owner's review queue; 1 when the suggestion is new."""
    if not card["email"]:
        return 0  # the queue is by address; a card without one waits for its stakeholder
    owner = account.owner
    email = email_key(card["email"])
    suggestion = SuggestedStakeholder.objects.filter(owner=owner, email=email).first()
    if suggestion is not None:
        updates: dict[str, Any] = {"last_seen_at": now}
        if not suggestion.name:
            updates["name"] = card["name"]
        if not suggestion.organisation_name and card["organization"]:
            updates["organisation_name"] = card["organization"]
        SuggestedStakeholder.objects.filter(pk=suggestion.pk).update(**updates)
        return 0
    SuggestedStakeholder.objects.create(
        owner=owner,
        email=email,
        name=card["name"],
        organisation_name=card["organization"],
        possible_match=possible_match(owner, email, card["name"], card["organization"]),
        first_seen_at=now,
        last_seen_at=now,
    )
    return 1


def _match(account: ConnectedAccount, card: dict[str, str]) -> Stakeholder | None:
    return stakeholder_duplicate_of(
        name=card["name"],
        email=card["email"],
        organization_name=card["organization"],
        among=Stakeholder.objects.visible_to(account.owner),
    )


def _contact(
    account: ConnectedAccount, item: dav.Item, state: dict, result: SyncResult, now: datetime
) -> None:
    card = card_values(item.data)
    synced = SyncedItem.objects.filter(account=account, remote_id=item.href).first()
    if synced is None:
        synced = SyncedItem(account=account, remote_id=item.href)
    synced.etag = item.etag
    if card is None:
        synced.save()
        return
    owner = account.owner
    previous: dict[str, str] = dict((synced.record or {}).get("card") or {})
    stakeholder = synced.stakeholder
    if stakeholder is not None and stakeholder.is_erased:
        stakeholder = None
    if stakeholder is None:
        match = _match(account, card)
        if match is not None:
            _link(synced, match, card, by=owner)
            result.added += 1
        else:
            result.suggested += _suggest(account, card, now)
            synced.record = {"card": card}
        synced.save()
        return
    changed = {k: v for k, v in card.items() if previous.get(k, "") != v}
    record: dict[str, Any] = {"card": card, "version": stakeholder.version}
    if changed:
        expected = (synced.record or {}).get("version")
        if _update_stakeholder(stakeholder, changed, by=owner, expected_version=expected):
            result.updated += 1
        else:
            # Edited in Rapport since the last sync: nothing is overwritten; the
            # difference is shown on the connections page.
            current = stakeholder_values(stakeholder)
            record["differences"] = {
                k: {"rapport": current.get(k, ""), "server": v}
                for k, v in changed.items()
                if current.get(k, "") != v
            }
            record["differences_at"] = now.isoformat()
        record["version"] = stakeholder.version
    elif (synced.record or {}).get("differences"):
        record["differences"] = synced.record["differences"]
        record["differences_at"] = synced.record.get("differences_at", "")
    synced.record = record
    synced.save()


def _contact_gone(account: ConnectedAccount, href: str, result: SyncResult) -> None:
    synced = SyncedItem.objects.filter(account=account, remote_id=href).first()
    if synced is None:
        return
    card = (synced.record or {}).get("card") or {}
    if synced.stakeholder_id is None and card.get("email"):
        # A suggestion the card alone made (no message or meeting) goes with it.
        SuggestedStakeholder.objects.filter(
            owner=account.owner,
            email=email_key(card["email"]),
            status=SuggestedStakeholder.Status.PENDING,
            message_count=0,
            meeting_count=0,
        ).delete()
    synced.delete()
    result.removed += 1


def _waiting_contacts(account: ConnectedAccount, result: SyncResult) -> None:
    """Cards not linked yet, matched again: a suggestion the owner accepted (or a
    stakeholder added by hand since) is linked now."""
    waiting = SyncedItem.objects.filter(account=account, stakeholder__isnull=True).order_by("pk")
    for synced in waiting[:1000]:
        card = (synced.record or {}).get("card")
        if not card:
            continue
        match = _match(account, card)
        if match is not None:
            with transaction.atomic():
                _link(synced, match, card, by=account.owner)
                synced.save()
            result.added += 1


def sync_carddav(account: ConnectedAccount) -> SyncResult:
    """Sync the account's address book (see the module's docstring)."""
    result = _sync(account, dav.ADDRESS_BOOK, _contact, _contact_gone)
    _waiting_contacts(account, result)
    return result


def contact_differences(owner) -> list[dict[str, Any]]:
    """The owner's contacts changed on the server while someone edited the stakeholder
    in Rapport: per stakeholder, the fields and both values (for the connections page)."""
    items = (
        SyncedItem.objects.filter(
            account__owner=owner,
            account__kind=ConnectedAccount.Kind.CARDDAV,
            stakeholder__isnull=False,
            record__has_key="differences",
        )
        .select_related("stakeholder", "stakeholder__organization", "account")
        .order_by("stakeholder__name", "pk")
    )
    found = []
    for synced in items[:200]:
        if synced.stakeholder.is_erased:
            continue
        # Read against the stakeholder as it is now: a difference the user has since
        # settled (by taking the address book's value) is no longer shown.
        current = stakeholder_values(synced.stakeholder)
        fields = [
            {"field": name, "rapport": current.get(name, ""), "server": pair["server"]}
            for name, pair in sorted((synced.record.get("differences") or {}).items())
            if current.get(name, "") != pair["server"]
        ]
        if fields:
            found.append(
                {"stakeholder": synced.stakeholder, "account": synced.account, "fields": fields}
            )
    return found
