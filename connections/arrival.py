"""What happens to a message or event a connected account brings in.

`record_arrivals(account, arrivals)` (and `record_arrival` for one item) takes records
shaped like `relations.capture.parsing`'s (occurred_at, kind, subject, notes,
duration_minutes, addresses [{email, name, role}], external_id, outcome) and:

1. **Keeps out what is private** (never logged, nothing stored, not even a suggestion):
   mail or meetings among staff only; an item naming an address on the account's
   exclude list; for mail, a mailing list (List-Id and other list headers, Precedence
   list/bulk/junk: `mailing_list`, connections.mail) or more than
   RAPPORT_CONNECTIONS_MAX_RECIPIENTS recipients.
2. **Matches** every address to staff (active managers, directors, superusers) and to the
   stakeholders the owner may see, by `Stakeholder.email` and their other addresses
   (`StakeholderAddress`), compared by `relations.matching.email_key`.
3. **Files unknown external people** in the owner's review queue (`SuggestedStakeholder`,
   counting messages and meetings), with a stakeholder of the same name and
   organisation offered as a merge; nobody is created silently.
4. **Is one interaction per message or event across sources**: the interaction's
   (source, external_id) is unique (`Interaction`), and a connection writes the source
   the file upload and the capture API write ("email", "calendar") with the same
   external id (the Message-ID; the iCal UID, with the occurrence's RECURRENCE-ID
   for a recurring one). When the interaction exists (another user's mailbox, an upload, the
   API), the owner and the staff named in it join it as participants, and the
   stakeholders found join it too; otherwise it is created, private to its
   participants (`Interaction.private`: its notes are theirs and directors' only).
   An item without any known stakeholder waits (`SyncedItem.record`) until the owner
   accepts one of its people from the review queue.
5. **Remembers** each item as a `SyncedItem` (account, remote id): the same remote id
   again adds nothing; the same external id under another remote id (an IMAP folder
   whose UIDVALIDITY changed) adds nothing either; a changed ETag updates the
   interaction (an event moved).

Only what the account's content level allows is kept of a message: METADATA (the
default) the subject and a header summary (from, to, cc), no body; SUBJECT the subject
alone; FULL the subject and the text. Calendar events keep their description.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from connections.models import (
    ConnectedAccount,
    StakeholderAddress,
    SuggestedStakeholder,
    SyncedItem,
)
from relations.matching import email_key, match_key
from relations.models import AuditEvent, Interaction, Stakeholder
from relations.roles import DIRECTOR, MANAGER
from relations.services import (
    audit_record,
    interaction_delete,
    interaction_log,
    interaction_update,
    interactions_created_announce,
    relationships_ensure,
)

# The interaction's `source`: the same values the file upload and the capture API write,
# so that the unique (source, external_id) makes them one interaction.
SOURCE_BY_KIND = {
    ConnectedAccount.Kind.IMAP: "email",
    ConnectedAccount.Kind.CALDAV: "calendar",
}
# What a waiting item keeps (its notes per the content level are added).
KEPT_FIELDS = (
    "occurred_at",
    "kind",
    "subject",
    "duration_minutes",
    "external_id",
    "addresses",
    "recipient_count",
)
# Addresses whose domain names no organisation.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "ziggo.nl",
        "kpnmail.nl",
        "xs4all.nl",
        "hetnet.nl",
        "planet.nl",
        "home.nl",
        "telenet.be",
        "skynet.be",
        "fastmail.com",
        "mail.com",
        "qq.com",
        "163.com",
    }
)


@dataclass
class Arrival:
    """One item a syncer hands over: its record, where it lives on the server, its ETag."""

    item: dict
    remote_id: str
    etag: str = ""


@dataclass
class ArrivalResult:
    added: int = 0  # interactions created
    updated: int = 0  # interactions joined or changed
    waiting: int = 0  # items with no known stakeholder yet
    refused: int = 0  # kept out by the privacy filters (or unreadable)
    suggested: int = 0  # new suggestions in the review queue
    interactions: list[Interaction | None] = field(default_factory=list)


def max_recipients() -> int:
    return int(getattr(settings, "RAPPORT_CONNECTIONS_MAX_RECIPIENTS", 15))


def own_addresses(account: ConnectedAccount) -> set[str]:
    """The owner's addresses: their user's e-mail and the mailbox's login when it is one."""
    found = {email_key(account.owner.email)} if account.owner.email else set()
    if "@" in account.username:
        found.add(email_key(account.username))
    return found


def _emails(item: dict) -> list[str]:
    seen: list[str] = []
    for address in item.get("addresses") or []:
        key = email_key(address.get("email", ""))
        if key and key not in seen:
            seen.append(key)
    return seen


def privacy_refusal(account: ConnectedAccount, item: dict, staff: set[str]) -> str:
    """Why `item` must never be logged ("" when it may). `staff`: the staff addresses
    among the item's (the owner's own included)."""
    emails = _emails(item)
    if not emails:
        return "no addresses"
    if set(emails) & account.excluded():
        return "excluded address"
    if item.get("kind") == "email":
        if item.get("mailing_list"):
            return "mailing list"
        recipients = item.get("recipient_count")
        if recipients is None:
            recipients = max(len(emails) - 1, 0)
        if recipients > max_recipients():
            return "too many recipients"
    if all(e in staff for e in emails):
        return "staff only"
    return ""


def staff_by_email(emails: Iterable[str]) -> dict[str, User]:
    keys = {email_key(e) for e in emails if e}
    if not keys:
        return {}
    users = (
        User.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=[MANAGER, DIRECTOR]))
        .annotate(email_lower=Lower("email"))
        .filter(email_lower__in=keys)
        .distinct()
        .order_by("pk")
    )
    found: dict[str, User] = {}
    for user in users:
        found.setdefault(email_key(user.email), user)
    return found


def stakeholders_by_email(emails: Iterable[str], viewer: User) -> dict[str, Stakeholder]:
    """Stakeholders `viewer` may see, by every address they have (the oldest record first
    when two share one)."""
    keys = {email_key(e) for e in emails if e}
    if not keys:
        return {}
    visible = Stakeholder.objects.visible_to(viewer).filter(erased_at__isnull=True)
    found: dict[str, Stakeholder] = {}
    for stakeholder in visible.filter(email_key__in=keys).order_by("pk"):
        found.setdefault(stakeholder.email_key, stakeholder)
    others = (
        StakeholderAddress.objects.filter(email_key__in=keys - set(found))
        .filter(stakeholder__in=visible)
        .select_related("stakeholder")
        .order_by("stakeholder_id")
    )
    for address in others:
        found.setdefault(address.email_key, address.stakeholder)
    return found


def _header_summary(item: dict) -> str:
    lines = []
    for role, label in (("from", "From"), ("to", "To"), ("cc", "Cc")):
        people = [
            f"{a['name']} <{a['email']}>" if a.get("name") else a["email"]
            for a in item.get("addresses") or []
            if a.get("role") == role
        ]
        if people:
            lines.append(f"{label}: {', '.join(people)}")
    return "\n".join(lines)


def kept_record(account: ConnectedAccount, item: dict) -> dict:
    """What may be stored of `item` under the account's content level."""
    kept = {name: item.get(name) for name in KEPT_FIELDS}
    kept["addresses"] = [
        {"email": a.get("email", ""), "name": a.get("name", ""), "role": a.get("role", "")}
        for a in item.get("addresses") or []
    ]
    if item.get("kind") != "email" or account.content == ConnectedAccount.Content.FULL:
        kept["notes"] = item.get("notes", "") or ""
    elif account.content == ConnectedAccount.Content.METADATA:
        kept["notes"] = _header_summary(kept)
    else:
        kept["notes"] = ""
    kept["duration_minutes"] = kept.get("duration_minutes") or 0
    return kept


def organisation_guess(email: str) -> str:
    """The organisation an address's domain names ("anna@acme.example.nl" → "Acme"), or ""
    for a public mail service."""
    domain = email.rpartition("@")[2].lower()
    if not domain or domain in PUBLIC_MAIL_DOMAINS:
        return ""
    labels = domain.split(".")
    name = labels[-2] if len(labels) >= 2 else labels[0]
    if len(labels) >= 3 and len(name) <= 3 and labels[-3]:  # acme.co.uk
        name = labels[-3]
    return name.replace("-", " ").title()[:200]


def possible_match(owner: User, email: str, name: str, organisation: str) -> Stakeholder | None:
    """A stakeholder `owner` may see with the same name and the same organisation (by its
    name, or by the domain of its e-mail address): offered as a merge."""
    key = match_key(name)
    if not key or "@" in name:
        return None
    domain = email.rpartition("@")[2].lower()
    candidates = (
        Stakeholder.objects.visible_to(owner)
        .filter(name_key=key, erased_at__isnull=True)
        .select_related("organization")
        .order_by("pk")
    )
    for candidate in candidates[:20]:
        org = candidate.organization
        if organisation and org is not None and org.name_key == match_key(organisation):
            return candidate
        if domain not in PUBLIC_MAIL_DOMAINS and candidate.email.lower().endswith("@" + domain):
            return candidate
    return None


def _join(interaction: Interaction, *, owner: User, users: list[User], stakeholders: list) -> bool:
    """Add the owner, the staff named and the stakeholders found to an interaction another
    source brought; True when anyone was added."""
    have_users = set(interaction.internal_participants.values_list("pk", flat=True))
    have_stakeholders = set(interaction.stakeholders.values_list("pk", flat=True))
    new_users = [u for u in _unique([owner, *users]) if u.pk not in have_users]
    new_stakeholders = [s for s in _unique(stakeholders) if s.pk not in have_stakeholders]
    if not new_users and not new_stakeholders:
        return False
    interaction.internal_participants.add(*new_users)
    interaction.stakeholders.add(*new_stakeholders)
    Interaction.objects.filter(pk=interaction.pk).update(version=F("version") + 1)
    relationships_ensure(
        interaction.internal_participants.all(), interaction.stakeholders.all(), by=owner
    )
    audit_record(
        actor=owner,
        action=AuditEvent.Action.UPDATE,
        obj=interaction,
        changes={
            "internal_participants": {"added": sorted(u.pk for u in new_users)},
            "stakeholders": {"added": sorted(s.pk for s in new_stakeholders)},
        },
    )
    return True


def _unique(objects: Iterable) -> list:
    seen, found = set(), []
    for obj in objects:
        if obj.pk not in seen:
            seen.add(obj.pk)
            found.append(obj)
    return found


def _create_or_join(
    kept: dict, *, owner: User, source: str, users: list[User], stakeholders: list
) -> tuple[Interaction, bool]:
    """The interaction of `kept`, created (True) or, when a concurrent capture of the
    same item won the unique constraint, joined (False)."""
    participants = _unique([owner, *users])
    try:
        with transaction.atomic():
            interaction = interaction_log(
                by=owner,
                participants=participants,
                stakeholders=_unique(stakeholders),
                occurred_at=datetime.fromisoformat(kept["occurred_at"]),
                kind=kept["kind"],
                subject=kept["subject"],
                notes=kept.get("notes", ""),
                duration_minutes=kept.get("duration_minutes") or 0,
                private=True,
                source=source,
                external_id=kept["external_id"],
                emit_webhook=False,  # announced together at the end of the batch
            )
        return interaction, True
    except IntegrityError:
        existing = Interaction.objects.filter(
            source=source, external_id=kept["external_id"]
        ).first()
        if existing is None:
            raise
        _join(existing, owner=owner, users=users, stakeholders=stakeholders)
        return existing, False


def _changed_fields(interaction: Interaction, kept: dict) -> dict:
    wanted = {
        "occurred_at": datetime.fromisoformat(kept["occurred_at"]),
        "subject": kept["subject"],
        "duration_minutes": kept.get("duration_minutes") or 0,
    }
    if kept.get("kind") != "email" and kept.get("notes"):
        # The event's description, when it has one: an event without one (a moved
        # occurrence often has none) leaves the notes written in Rapport.
        wanted["notes"] = kept["notes"]
    return {k: v for k, v in wanted.items() if getattr(interaction, k) != v}


def _suggest(
    owner: User, found: dict[str, dict], now: datetime
) -> tuple[dict[str, SuggestedStakeholder], int]:
    """Upsert the owner's suggestions for the unknown addresses in `found`
    ({email: {"name", "messages", "meetings"}}); (suggestions by e-mail, how many new)."""
    if not found:
        return {}, 0
    existing = {
        s.email: s for s in SuggestedStakeholder.objects.filter(owner=owner, email__in=list(found))
    }
    new = 0
    for email, seen in found.items():
        suggestion = existing.get(email)
        if suggestion is None:
            organisation = organisation_guess(email)
            suggestion = SuggestedStakeholder.objects.create(
                owner=owner,
                email=email,
                name=seen["name"][:200],
                organisation_name=organisation,
                message_count=seen["messages"],
                meeting_count=seen["meetings"],
                possible_match=possible_match(owner, email, seen["name"], organisation),
                first_seen_at=now,
                last_seen_at=now,
            )
            existing[email] = suggestion
            new += 1
            continue
        updates = {
            "message_count": F("message_count") + seen["messages"],
            "meeting_count": F("meeting_count") + seen["meetings"],
            "last_seen_at": now,
        }
        if not suggestion.name and seen["name"]:
            updates["name"] = seen["name"][:200]
        SuggestedStakeholder.objects.filter(pk=suggestion.pk).update(**updates)
    return existing, new


@transaction.atomic
def record_arrivals(
    account: ConnectedAccount, arrivals: Sequence[Arrival], *, again: bool = False
) -> ArrivalResult:
    """Record a batch of items of one account (see the module's docstring). One
    transaction: a batch is recorded whole or not at all, so a sync interrupted
    mid-batch repeats it without duplicates.

    `again`: items already recorded are matched once more (a waiting item, after the
    owner accepted one of its people); their people are not counted again."""
    result = ArrivalResult()
    owner = account.owner
    source = SOURCE_BY_KIND.get(account.kind)
    if source is None:
        raise ValueError(f"{account.kind} accounts bring in no interactions")
    remote_ids = [a.remote_id for a in arrivals]
    known = {
        si.remote_id: si
        for si in SyncedItem.objects.filter(account=account, remote_id__in=remote_ids)
        .select_related("interaction")
        .order_by("pk")
    }
    items = [dict(a.item) for a in arrivals]
    all_emails = {e for item in items for e in _emails(item)}
    staff = staff_by_email(all_emails)
    own = own_addresses(account)
    staff_keys = set(staff) | own
    stakeholders = stakeholders_by_email(all_emails - staff_keys, owner)
    external_ids = [i.get("external_id") for i in items if i.get("external_id")]
    interactions = {
        i.external_id: i
        for i in Interaction.objects.filter(source=source, external_id__in=external_ids)
    }
    seen_here = {
        si.external_id: si
        for si in SyncedItem.objects.filter(account=account, external_id__in=external_ids)
        .exclude(external_id="")
        .select_related("interaction")
        .order_by("pk")
    }
    created_ids: list[int] = []
    unknown: dict[str, dict] = {}
    links: list[tuple[str, SyncedItem]] = []
    now = timezone.now()

    for arrival, item in zip(arrivals, items, strict=True):
        synced = known.get(arrival.remote_id)
        if synced is not None and synced.etag == arrival.etag and not again:
            result.interactions.append(synced.interaction)  # seen before, unchanged
            continue
        ext = item.get("external_id") or ""
        if synced is None and ext in seen_here:  # the same item under another remote id
            result.interactions.append(seen_here[ext].interaction)
            continue
        if item.get("outcome", "new") != "new" or not ext or not item.get("occurred_at"):
            result.refused += 1
            result.interactions.append(None)
            continue
        if privacy_refusal(account, item, staff_keys):
            result.refused += 1
            result.interactions.append(None)
            continue
        emails = _emails(item)
        users = [staff[e] for e in emails if e in staff]
        matched = [stakeholders[e] for e in emails if e in stakeholders]
        kept = kept_record(account, item)
        interaction: Interaction | None = None
        brought = bool(synced and synced.brought)
        if synced is not None and synced.interaction is not None:
            # Changed on the server (a moved event): the interaction follows.
            interaction = synced.interaction
            changes = _changed_fields(interaction, kept)
            if changes:
                interaction_update(interaction, by=owner, **changes)
            _join(interaction, owner=owner, users=users, stakeholders=matched)
            result.updated += 1
        elif ext in interactions:
            interaction = interactions[ext]
            if _join(interaction, owner=owner, users=users, stakeholders=matched) or not synced:
                result.updated += 1
        elif matched:
            interaction, brought = _create_or_join(
                kept, owner=owner, source=source, users=users, stakeholders=matched
            )
            interactions[ext] = interaction
            if brought:
                created_ids.append(interaction.pk)
                result.added += 1
            else:
                result.updated += 1
        else:
            result.waiting += 1
        counted = synced is None
        if synced is None:
            synced = SyncedItem(account=account, remote_id=arrival.remote_id)
        synced.etag = arrival.etag
        synced.external_id = ext
        synced.interaction = interaction
        synced.brought = brought
        synced.record = {} if interaction is not None else kept
        synced.save()
        seen_here[ext] = synced
        result.interactions.append(interaction)
        is_meeting = item.get("kind") != "email"
        for address in kept["addresses"]:
            key = email_key(address["email"])
            if key in staff_keys or key in stakeholders:
                continue
            entry = unknown.setdefault(key, {"name": "", "messages": 0, "meetings": 0})
            entry["name"] = entry["name"] or address.get("name", "")
            if counted:
                entry["meetings" if is_meeting else "messages"] += 1
            links.append((key, synced))

    suggestions, result.suggested = _suggest(owner, unknown, now)
    through = SuggestedStakeholder.items.through
    through.objects.bulk_create(
        [
            through(suggestedstakeholder_id=suggestions[key].pk, synceditem_id=synced.pk)
            for key, synced in links
        ],
        ignore_conflicts=True,
    )
    interactions_created_announce(created_ids)
    return result


def record_arrival(
    account: ConnectedAccount, item: dict, *, remote_id: str, etag: str = ""
) -> Interaction | None:
    """Record one item (see the module's docstring): its interaction, or None when it
    was kept out or waits for a known stakeholder."""
    return record_arrivals(account, [Arrival(item, remote_id, etag)]).interactions[0]


@transaction.atomic
def withdraw_arrival(account: ConnectedAccount, remote_id: str) -> None:
    """The server deleted or cancelled the item at `remote_id`: the interaction this
    account alone brought is deleted; one that others captured too is marked cancelled
    (its subject says so) and kept for them. The SyncedItem goes."""
    synced = (
        SyncedItem.objects.select_for_update(of=("self",))
        .filter(account=account, remote_id=remote_id)
        .select_related("interaction")
        .first()
    )
    if synced is None:
        return
    interaction = synced.interaction
    synced.delete()
    if interaction is None:
        return
    others = SyncedItem.objects.filter(interaction=interaction).exists()
    if synced.brought and not others:
        interaction_delete(interaction, by=account.owner)
        return
    prefix = _("Cancelled: ")
    if not interaction.subject.startswith(prefix):
        interaction_update(
            interaction, by=account.owner, subject=(prefix + interaction.subject)[:200]
        )
