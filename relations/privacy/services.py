"""Data protection (GDPR): data-subject export, erasure, retention and the register.

Every action here is recorded twice: in the register of data-protection actions
(`DataProtectionAction`, for directors) and as an `AuditEvent`, neither holding
the person's data.

Erasure anonymises; it does not delete. The stakeholder's row, its interactions,
commitments, outcomes and links stay with their numbers, so scores and network
health are the same before and after; only what identifies the person goes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import F, Max, Q, TextField
from django.db.models.functions import Cast, Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relations import registry
from relations.capture.models import CaptureBatch
from relations.models import (
    AuditEvent,
    AuthenticityPulse,
    Commitment,
    DataProtectionAction,
    GoalStakeholder,
    Interaction,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    Tag,
)
from relations.privacy.redaction import (
    ERASED,
    needles_regex,
    redact_json,
    redact_text,
    redaction_pattern,
    search_needles,
)
from relations.services import audit_record, diff, snapshot

# The stakeholder's own fields that identify or describe the person.
PERSONAL_FIELDS = ("name", "title", "email", "phone", "notes", "data_source", "objection_note")
# Fields the data-protection form edits (beside the personal ones the stakeholder form edits).
PRIVACY_FIELDS = (
    "legal_basis",
    "consent_date",
    "data_source_kind",
    "data_source",
    "objection_on",
    "objection_note",
)
# The person's own free text (notes, source, objection) is searched for elsewhere
# (a copy of their notes in a webhook payload) when it is this long and no other
# stakeholder has the same text: a shared "Imported from the CRM" or a title such
# as "Head of Public Affairs" identifies nobody, and erasing it everywhere would
# damage other records. Titles are never searched for (see `erasure_terms`).
LONG_TEXT_MIN_LENGTH = 12
# Parts of the name searched for in the person's own interactions, commitments…
# ("Lunch with Jane"); shorter parts ("de", "van") would match too much.
NAME_PART_MIN_LENGTH = 3


def scrubbed_apps() -> tuple[str, ...]:
    """Apps whose tables are searched for mentions of an erased person: relations, the
    apps that registered personal data (`relations.registry`), and Django's admin, which
    keeps the name of an edited record in its log."""
    return ("relations", *registry.personal_data_apps(), "admin")


DEFAULT_RETENTION_DAYS = 3 * 365


def retention_days() -> int:
    return int(getattr(settings, "RAPPORT_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def _register(
    kind: str, stakeholder: Stakeholder, by: User | None, reason: str = ""
) -> DataProtectionAction:
    return DataProtectionAction.objects.create(
        kind=kind,
        stakeholder_id=stakeholder.pk,
        actor=by if by is not None and by.is_authenticated else None,
        reason=reason,
    )


# --- The data-protection fields ------------------------------------------------------


def objection_register_if_new(
    stakeholder: Stakeholder, *, had_objection: bool, by: User | None
) -> DataProtectionAction | None:
    """Enter a newly recorded objection in the register (the form and the API call this)."""
    if stakeholder.objection_on is not None and not had_objection:
        return _register(DataProtectionAction.Kind.OBJECTION, stakeholder, by)
    return None


@transaction.atomic
def stakeholder_privacy_update(stakeholder: Stakeholder, *, by: User, **fields: Any) -> Stakeholder:
    """Change the source, legal basis, consent and objection of a stakeholder, audited.

    A newly recorded objection is entered in the register. Raises ValidationError
    (nothing saved) on bad input or when the record was erased.
    """
    unknown = set(fields) - set(PRIVACY_FIELDS)
    if unknown:
        raise TypeError(f"Unknown data-protection fields: {sorted(unknown)}")
    if stakeholder.is_erased:
        raise ValidationError(_("This stakeholder was erased; the record cannot be changed."))
    before = snapshot(stakeholder)
    had_objection = stakeholder.objection_on is not None
    for name, value in fields.items():
        setattr(stakeholder, name, value)
    stakeholder.full_clean(validate_constraints=False)
    stakeholder.save()
    changes = diff(before, snapshot(stakeholder))
    if changes:
        audit_record(actor=by, action=AuditEvent.Action.UPDATE, obj=stakeholder, changes=changes)
    objection_register_if_new(stakeholder, had_objection=had_objection, by=by)
    return stakeholder


# --- Data-subject export (GDPR Art. 15 and 20) -------------------------------------------


def _user_ref(user: User | None) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": user.get_full_name()}


def _row(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(obj, name) for name in fields}


def stakeholder_export_data(stakeholder: Stakeholder) -> dict[str, Any]:
    """Everything held about a stakeholder, as plain data (encode with DjangoJSONEncoder).

    Other stakeholders appear by id only: their data is theirs, not part of this
    person's request. A bounded number of queries, whatever the history's length.
    """
    pk = stakeholder.pk
    person = (
        Stakeholder.objects.select_related("organization", "owner")
        .prefetch_related("tags")
        .get(pk=pk)
    )
    record = _row(
        person,
        (
            "id",
            "name",
            "title",
            "email",
            "phone",
            "importance",
            "influence",
            "interest",
            "cadence_days",
            "legal_basis",
            "consent_date",
            "data_source_kind",
            "data_source",
            "objection_on",
            "objection_note",
            "notes",
            "created_at",
            "updated_at",
            "erased_at",
            "retention_flagged_at",
            "retention_reviewed_at",
        ),
    )
    record["organization"] = (
        {"id": person.organization.pk, "name": person.organization.name}
        if person.organization
        else None
    )
    record["owner"] = _user_ref(person.owner)
    record["tags"] = sorted(t.name for t in person.tags.all())

    sections = {
        section.name: _row(obj, section.fields) if obj else None
        for section in registry.export_sections()
        for obj in [section.model.objects.filter(**{section.key: pk}).first()]
    }

    relationships = list(Relationship.objects.filter(stakeholder_id=pk).select_related("user"))
    relationship_sections = [
        (
            section,
            {
                getattr(row, section.key): row
                for row in section.model.objects.filter(
                    **{f"{section.key}__in": [r.pk for r in relationships]}
                )
            },
        )
        for section in registry.relationship_export_sections()
    ]
    lists = {name: rows(pk) for name, rows in registry.export_lists()}
    interactions = list(
        Interaction.objects.of_stakeholder(pk)
        .order_by("occurred_at", "pk")
        .prefetch_related("internal_participants", "stakeholders")
    )
    return {
        "format": "rapport.stakeholder-export/1",
        "exported_at": timezone.now(),
        "stakeholder": record,
        **sections,
        "relationships": [
            {
                **_row(
                    r,
                    (
                        "id",
                        "role",
                        "status",
                        "started_on",
                        "objective",
                        "desired_strength",
                        "next_review",
                    ),
                ),
                "user": _user_ref(r.user),
                **{
                    section.name: _row(rows[r.pk], section.fields) if r.pk in rows else None
                    for section, rows in relationship_sections
                },
            }
            for r in relationships
        ],
        **lists,
        "interactions": [
            {
                **_row(
                    i,
                    (
                        "id",
                        "occurred_at",
                        "kind",
                        "subject",
                        "notes",
                        "private",
                        "value_given",
                        "value_received",
                        "sentiment",
                        "duration_minutes",
                        "cost",
                    ),
                ),
                "internal_participants": [_user_ref(u) for u in i.internal_participants.all()],
                "other_stakeholders": sorted(s.pk for s in i.stakeholders.all() if s.pk != pk),
            }
            for i in interactions
        ],
        "commitments": [
            {
                **_row(
                    c,
                    (
                        "id",
                        "direction",
                        "description",
                        "due_date",
                        "status",
                        "completed_on",
                        "interaction_id",
                    ),
                ),
                "responsible": _user_ref(c.responsible),
            }
            for c in Commitment.objects.filter(stakeholder_id=pk)
            .select_related("responsible")
            .order_by("due_date", "pk")
        ],
        "outcomes": [
            {
                **_row(o, ("id", "kind", "value", "occurred_on", "description", "goal_id")),
                "credited_to": _user_ref(o.credited_to),
            }
            for o in Outcome.objects.filter(stakeholder_id=pk)
            .select_related("credited_to")
            .order_by("occurred_on", "pk")
        ],
        "links": [
            {
                "id": link.pk,
                "kind": link.kind,
                "strength": link.strength,
                "direction": "from" if link.from_stakeholder_id == pk else "to",
                "other_stakeholder": (
                    link.to_stakeholder_id
                    if link.from_stakeholder_id == pk
                    else link.from_stakeholder_id
                ),
            }
            for link in StakeholderLink.objects.filter(
                Q(from_stakeholder_id=pk) | Q(to_stakeholder_id=pk)
            ).order_by("pk")
        ],
        "goals": [
            {"goal": link.goal_id, "title": link.goal.title, "role": link.role}
            for link in GoalStakeholder.objects.filter(stakeholder_id=pk)
            .select_related("goal")
            .order_by("goal__title")
        ],
        "pulses": [
            {
                **_row(
                    p,
                    (
                        "id",
                        "relationship_id",
                        "assessed_on",
                        "integrity",
                        "transparency",
                        "reliability",
                        "note",
                    ),
                ),
                "assessed_by": _user_ref(p.assessed_by),
            }
            for p in AuthenticityPulse.objects.filter(relationship__stakeholder_id=pk)
            .select_related("assessed_by")
            .order_by("assessed_on", "pk")
        ],
        "audit_events": [
            {
                **_row(e, ("id", "at", "action", "object_repr", "changes")),
                "actor": _user_ref(e.actor),
            }
            for e in AuditEvent.objects.filter(
                object_type=Stakeholder._meta.label_lower, object_id=str(pk)
            )
            .select_related("actor")
            .order_by("at", "pk")
        ],
        "data_protection_actions": [
            {
                **_row(a, ("id", "kind", "at", "reason")),
                "actor": _user_ref(a.actor),
            }
            for a in DataProtectionAction.objects.filter(stakeholder_id=pk)
            .select_related("actor")
            .order_by("at", "pk")
        ],
    }


@transaction.atomic
def stakeholder_export(stakeholder: Stakeholder, *, by: User) -> dict[str, Any]:
    """The data-subject export, entered in the register and the audit log first
    (so that the export lists itself)."""
    _register(DataProtectionAction.Kind.EXPORT, stakeholder, by)
    audit_record(actor=by, action=AuditEvent.Action.EXPORT, obj=stakeholder)
    return stakeholder_export_data(stakeholder)


# --- Erasure (GDPR Art. 17) -----------------------------------------------------------


# Identifying whatever their length: a name, an e-mail address, a phone number.
ALWAYS_SEARCHED_FIELDS = ("name", "email", "phone")
# Searched for only when long and the person's own (see LONG_TEXT_MIN_LENGTH).
FREE_TEXT_FIELDS = ("notes", "data_source", "objection_note")


def _earlier_values(stakeholder: Stakeholder) -> dict[str, set[str]]:
    """The values the person's fields had before, from the audit trail of their record
    (a changed phone number is still theirs)."""
    values: dict[str, set[str]] = {name: set() for name in PERSONAL_FIELDS}
    events = AuditEvent.objects.filter(
        object_type=Stakeholder._meta.label_lower, object_id=str(stakeholder.pk)
    ).values_list("changes", flat=True)
    for changes in events:
        if not isinstance(changes, dict):
            continue
        for name in PERSONAL_FIELDS:
            value = changes.get(name)
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item.strip():
                    values[name].add(item.strip())
    return values


def erasure_terms(stakeholder: Stakeholder) -> list[str]:
    """What identifies the person anywhere in the database: their name, e-mail and
    phone, now and before, and the long free text that is theirs alone."""
    values = _earlier_values(stakeholder)
    for name in PERSONAL_FIELDS:
        current = (getattr(stakeholder, name) or "").strip()
        if current:
            values[name].add(current)
    terms = set()
    for name in ALWAYS_SEARCHED_FIELDS:
        terms |= values[name]
    for name in FREE_TEXT_FIELDS:
        long_texts = {v for v in values[name] if len(v) >= LONG_TEXT_MIN_LENGTH}
        if not long_texts:
            continue
        shared = set(
            Stakeholder.objects.exclude(pk=stakeholder.pk)
            .filter(**{f"{name}__in": long_texts})
            .values_list(name, flat=True)
        )
        terms |= long_texts - shared
    terms.discard(ERASED)
    return sorted(terms)


def _name_parts(name: str) -> list[str]:
    """ "Anne-Marie van Dijk-Jansen": Anne-Marie, Anne, Marie, Dijk-Jansen, Dijk, Jansen."""
    words = [w for w in re.split(r"[\s,]+", name) if w]
    parts = set(words) | {p for w in words for p in re.split(r"[-–']", w)}
    return sorted(p for p in parts if len(p) >= NAME_PART_MIN_LENGTH)


def _redact_rows(
    queryset: models.QuerySet,
    fields: Iterable[str],
    pattern: re.Pattern,
    *,
    person_id: int | None = None,
    person_pattern: re.Pattern | None = None,
    own_fields: tuple[str, ...] = (),
    unique: Iterable[str] = (),
) -> int:
    """Redact text `fields` of the rows of `queryset`; returns how many rows changed.

    In JSON, objects that refer to the person are redacted with `person_pattern`
    (see `redact_json`). A `unique` field that mentions the person becomes
    "[erased] #<id>": a redacted value could collide with another row's.

    `.update()`: the numbers stay, so no recomputation is due, and no signal or
    webhook repeats the text being removed.
    """
    fields = list(fields)
    unique = set(unique)
    versioned = any(f.name == "version" for f in queryset.model._meta.concrete_fields)
    changed = 0
    for row in queryset.values("pk", *fields):
        new = {}
        for name in fields:
            value = row[name]
            redacted = (
                redact_text(value, pattern)
                if isinstance(value, str)
                else redact_json(
                    value,
                    pattern,
                    person_id=person_id,
                    person_pattern=person_pattern,
                    own_fields=own_fields,
                )
            )
            if redacted != value:
                new[name] = f"{ERASED} #{row['pk']}" if name in unique else redacted
        if new:
            if versioned:
                # An editor who opened the record before the erasure gets a conflict
                # instead of saving the person's name back.
                new["version"] = F("version") + 1
            queryset.model._base_manager.filter(pk=row["pk"]).update(**new)
            changed += 1
    return changed


def _linked_records(pk: int) -> list[tuple[models.QuerySet, tuple[str, ...]]]:
    """The person's own records and the free text in them."""
    return [
        (Interaction.objects.of_stakeholder(pk), ("subject", "notes")),
        (Commitment.objects.filter(stakeholder_id=pk), ("description",)),
        (Outcome.objects.filter(stakeholder_id=pk), ("description",)),
        (Relationship.objects.filter(stakeholder_id=pk), ("objective",)),
        (AuthenticityPulse.objects.filter(relationship__stakeholder_id=pk), ("note",)),
        (GoalStakeholder.objects.filter(stakeholder_id=pk), ("role",)),
    ]


def _capture_batches_redact(
    pk: int, emails: set[str], pattern: re.Pattern | None, linked_pattern: re.Pattern
) -> list[int]:
    """Captures (calendar files, e-mails) in which the person took part: their title
    ("Call re <surname>") and every item or address about the person lose the name and
    its parts; the other items lose the person's full name, e-mail and phone only.
    Returns the ids of those captures (their audit events are masked too).

    A capture records the addresses it matched, so the person's e-mail addresses (now
    and before) find the candidates in the database."""
    if not emails:
        return []
    needles = [n for email in emails for n in search_needles(email)]
    candidates = (
        CaptureBatch.objects.annotate(_erasure_items=Cast("items", TextField()))
        .annotate(_erasure_addresses=Cast("addresses", TextField()))
        .filter(
            Q(_erasure_items__iregex=needles_regex(needles))
            | Q(_erasure_addresses__iregex=needles_regex(needles))
        )
    )

    def about_person(entry: Any) -> bool:
        if not isinstance(entry, dict):
            return False
        if pk in (entry.get("stakeholders") or []) or entry.get("stakeholder") == pk:
            return True
        if str(entry.get("email", "")).lower() in emails:
            return True
        addresses = entry.get("addresses") or []
        return any(str(a.get("email", "")).lower() in emails for a in addresses)

    linked = []
    for batch in candidates.only("pk", "name", "items", "addresses"):
        items = [
            redact_json(i, linked_pattern if about_person(i) else pattern) for i in batch.items
        ]
        addresses = [
            redact_json(a, linked_pattern if about_person(a) else pattern) for a in batch.addresses
        ]
        if not any(about_person(e) for e in [*batch.items, *batch.addresses]):
            continue
        linked.append(batch.pk)
        CaptureBatch.objects.filter(pk=batch.pk).update(
            name=redact_text(batch.name, linked_pattern), items=items, addresses=addresses
        )
    return linked


def _tags_forget(tag_ids: list[int]) -> int:
    """The person's tags that nobody else uses are deleted: a tag of one person
    describes that person (and lists them in the tag filter). Shared tags stay; one
    that names the person is renamed by the scrub like any unique column."""
    if not tag_ids:
        return 0
    deleted, _by_model = Tag.objects.filter(pk__in=tag_ids, stakeholders__isnull=True).delete()
    return deleted


def _searchable_fields(model: type[models.Model]) -> list[models.Field]:
    # Unique columns (a tag or team named after the person) are searched too; a
    # mention there replaces the whole value by one unique to the row (see
    # `_redact_rows`). Choice columns hold codes, not text.
    return [
        f
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField | models.JSONField)
        and not f.primary_key
        and not f.choices
    ]


def _scrub_everywhere(
    terms: list[str],
    pattern: re.Pattern,
    *,
    person_id: int,
    name_parts: list[str],
    person_pattern: re.Pattern,
    skip: set[type],
) -> int:
    """Redact every mention of `terms` in every text and JSON column of our apps.

    JSON objects about the person (see `redact_json`) also lose the parts of
    their name: "Lunch with Jane" in a webhook payload names her as surely.
    """
    needles = [n for term in terms for n in search_needles(term)]
    text_regex = needles_regex(needles)
    json_regex = needles_regex(needles + [n for part in name_parts for n in search_needles(part)])
    changed = 0
    for label in scrubbed_apps():
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            if model in skip or not model._meta.managed or model._meta.proxy:
                continue
            fields = _searchable_fields(model)
            if not fields:
                continue
            queryset = model._base_manager.all()
            condition = Q()
            for field in fields:
                if isinstance(field, models.JSONField):
                    lookup = f"_erasure_{field.attname}"
                    queryset = queryset.annotate(**{lookup: Cast(field.attname, TextField())})
                    condition |= Q(**{f"{lookup}__iregex": json_regex})
                else:
                    condition |= Q(**{f"{field.attname}__iregex": text_regex})
            changed += _redact_rows(
                queryset.filter(condition),
                [f.attname for f in fields],
                pattern,
                person_id=person_id,
                person_pattern=person_pattern,
                own_fields=PERSONAL_FIELDS,
                unique=[f.attname for f in fields if f.unique],
            )
    return changed


@transaction.atomic
def stakeholder_erase(
    stakeholder: Stakeholder,
    *,
    by: User | None,
    reason: str,
    kind: str = DataProtectionAction.Kind.ERASURE,
) -> DataProtectionAction:
    """Anonymise a stakeholder and every mention of them; keep the figures.

    Clears the person's own fields, removes their name (and its parts), e-mail,
    phone and long free text from their interactions, commitments, outcomes,
    relationship plans, pulses, goal roles and the captures they took part in,
    drops or redacts the stored import files that hold them, deletes the tags
    only they had, then scrubs every other text, JSON and unique column
    (webhook payloads, stored API answers, other records' notes, tag names, the
    admin log) and masks the audit trail. Records the erasure in the
    register and the audit log, without the personal data. Raises
    ValidationError when the stakeholder was already erased or no reason is given.
    """
    from relations.importing.services import import_files_forget

    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the erasure.")})
    person = Stakeholder.objects.select_for_update().get(pk=stakeholder.pk)
    if person.is_erased:
        raise ValidationError(_("This stakeholder was erased already."))
    pk = person.pk
    terms = erasure_terms(person)
    pattern = redaction_pattern(terms)
    name_parts = _name_parts(person.name)
    linked_pattern = redaction_pattern(terms + name_parts)

    scrubbed = 0
    captures: list[int] = []
    if linked_pattern is not None:
        for queryset, fields in _linked_records(pk):
            scrubbed += _redact_rows(queryset, fields, linked_pattern)
        emails = {t.lower() for t in terms if "@" in t}
        captures = _capture_batches_redact(pk, emails, pattern, linked_pattern)
        scrubbed += len(captures)
        scrubbed += import_files_forget(
            stakeholder_id=pk, pattern=pattern, linked_pattern=linked_pattern
        )

    for hook in registry.erasure_hooks():
        scrubbed += hook(pk)

    now = timezone.now()
    anonymised = dict.fromkeys(PERSONAL_FIELDS, "")
    anonymised["name"] = f"{ERASED} #{pk}"
    Stakeholder.objects.filter(pk=pk).update(
        **anonymised, erased_at=now, retention_flagged_at=None, updated_at=now
    )
    own_tags = list(person.tags.values_list("pk", flat=True))
    person.tags.clear()
    _tags_forget(own_tags)

    if pattern is not None:
        scrubbed += _scrub_everywhere(
            terms,
            pattern,
            person_id=pk,
            name_parts=name_parts,
            person_pattern=linked_pattern,
            skip={AuditEvent},
        )
    linked_objects = {
        Interaction._meta.label_lower: Interaction.objects.of_stakeholder(pk).values_list(
            "pk", flat=True
        ),
        Commitment._meta.label_lower: Commitment.objects.filter(stakeholder_id=pk).values_list(
            "pk", flat=True
        ),
        Outcome._meta.label_lower: Outcome.objects.filter(stakeholder_id=pk).values_list(
            "pk", flat=True
        ),
        Relationship._meta.label_lower: Relationship.objects.filter(stakeholder_id=pk).values_list(
            "pk", flat=True
        ),
        AuthenticityPulse._meta.label_lower: AuthenticityPulse.objects.filter(
            relationship__stakeholder_id=pk
        ).values_list("pk", flat=True),
        CaptureBatch._meta.label_lower: captures,
    }
    masked = AuditEvent.objects.mask_for_erasure(
        object_type=Stakeholder._meta.label_lower,
        object_id=str(pk),
        # The person's tags describe them too (a deleted tag's name stays nowhere).
        own_fields=(*PERSONAL_FIELDS, "tags"),
        pattern=linked_pattern,
        needles=[n for term in terms for n in search_needles(term)],
        related={label: [str(i) for i in ids] for label, ids in linked_objects.items()},
    )

    # The reason is typed after the fact and may name the person: it is redacted too.
    reason = redact_text(reason, linked_pattern)
    action = _register(kind, person, by, reason)
    person.refresh_from_db()
    audit_record(
        actor=by,
        action=AuditEvent.Action.ERASE,
        obj=person,
        changes={
            "anonymised_fields": list(PERSONAL_FIELDS),
            "records_redacted": scrubbed,
            "audit_events_masked": masked,
            "register_entry": action.pk,
        },
    )
    stakeholder.refresh_from_db()
    return action


# --- Retention ------------------------------------------------------------------------


def last_activity() -> Greatest:
    """The latest of: the last interaction, the record's creation, its last review."""
    last_contact = Max("interactions__occurred_at")
    return Greatest(
        Coalesce(last_contact, "created_at"),
        Coalesce("retention_reviewed_at", "created_at"),
    )


def stale_stakeholders(now: datetime | None = None) -> models.QuerySet:
    """Stakeholders, not erased, with no contact (or review) for the retention period."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=retention_days())
    return (
        Stakeholder.objects.filter(erased_at__isnull=True)
        .annotate(last_activity=last_activity())
        .filter(last_activity__lt=cutoff)
    )


@transaction.atomic
def retention_flag_stale(now: datetime | None = None) -> int:
    """Flag for review every stale stakeholder not flagged yet, and every one who
    objected; each flag is entered in the register. Returns how many were flagged."""
    now = now or timezone.now()
    stale_ids = set(
        stale_stakeholders(now)
        .filter(retention_flagged_at__isnull=True)
        .values_list("pk", flat=True)
    )
    # An objection that a director has not reviewed since it was made.
    objected_ids = set(
        Stakeholder.objects.filter(
            erased_at__isnull=True,
            retention_flagged_at__isnull=True,
            objection_on__isnull=False,
        )
        .filter(
            Q(retention_reviewed_at__isnull=True)
            | Q(retention_reviewed_at__date__lt=models.F("objection_on"))
        )
        .values_list("pk", flat=True)
    )
    ids = sorted(stale_ids | objected_ids)
    if not ids:
        return 0
    Stakeholder.objects.filter(pk__in=ids).update(retention_flagged_at=now)
    days = retention_days()
    DataProtectionAction.objects.bulk_create(
        DataProtectionAction(
            kind=DataProtectionAction.Kind.RETENTION_FLAG,
            stakeholder_id=pk,
            at=now,
            reason=(
                "objection recorded"
                if pk in objected_ids and pk not in stale_ids
                else f"no contact for {days} days"
            ),
        )
        for pk in ids
    )
    return len(ids)


@transaction.atomic
def retention_keep(stakeholders: Iterable[Stakeholder], *, by: User, reason: str) -> int:
    """Keep flagged stakeholders (with the reason): the retention clock restarts today."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why these records are kept.")})
    now = timezone.now()
    kept = 0
    for stakeholder in stakeholders:
        Stakeholder.objects.filter(pk=stakeholder.pk).update(
            retention_flagged_at=None, retention_reviewed_at=now
        )
        _register(DataProtectionAction.Kind.RETENTION_KEEP, stakeholder, by, reason)
        audit_record(
            actor=by,
            action=AuditEvent.Action.UPDATE,
            obj=stakeholder,
            changes={"retention_reviewed_at": [None, now.isoformat()], "kept": True},
        )
        kept += 1
    return kept


def retention_anonymise(
    stakeholder_ids: Iterable[int], *, by: User | None, reason: str = ""
) -> int:
    """Anonymise reviewed stakeholders through the erasure service; returns how many.

    One transaction per person, so a long batch (the worker runs it) keeps what it
    has done if it stops; those erased already (a repeated request) are skipped.
    """
    reason = (reason or "").strip() or _("Retention period expired")
    count = 0
    for pk in stakeholder_ids:
        with transaction.atomic():
            stakeholder = (
                Stakeholder.objects.select_for_update()
                .filter(pk=pk, erased_at__isnull=True)
                .first()
            )
            if stakeholder is None:
                continue
            stakeholder_erase(
                stakeholder,
                by=by,
                reason=reason,
                kind=DataProtectionAction.Kind.RETENTION_ANONYMISE,
            )
        count += 1
    return count


# --- Record of processing activities (GDPR Art. 30) -------------------------------------


def processing_record() -> dict[str, Any]:
    """The application's own record of processing: one structure for the page and
    the JSON and CSV exports. Strings are lazy, rendered in the reader's language."""
    years = retention_days() / 365
    retention = gettext_lazy(
        "Until %(days)s days (about %(years).1f years) after the last contact; "
        "then flagged for review and anonymised unless a director keeps the record."
    ) % {"days": retention_days(), "years": years}
    security = [
        gettext_lazy(
            "Access only for signed-in staff; roles (manager, director) limit who sees what."
        ),
        gettext_lazy("Private interaction notes visible to participants and directors only."),
        gettext_lazy("API tokens stored hashed; HTTPS and a strict content security policy."),
        gettext_lazy("Every change, export and erasure recorded in an append-only audit log."),
        gettext_lazy("Erasure anonymises the person everywhere, audit log included."),
    ]
    return {
        "controller": (
            getattr(settings, "RAPPORT_CONTROLLER", "") or gettext_lazy("This organisation")
        ),
        "activities": [
            {
                "name": gettext_lazy("Relationship management"),
                "purposes": [
                    gettext_lazy("Keeping track of contacts with external stakeholders"),
                    gettext_lazy("Keeping the promises made to them"),
                    gettext_lazy("Assigning who is responsible for each relationship"),
                ],
                "data_subjects": [gettext_lazy("External stakeholders (contacts)")],
                "data_categories": [
                    gettext_lazy("Identity and contact details: name, e-mail, phone"),
                    gettext_lazy("Professional details: organisation, role or title"),
                    gettext_lazy("Interactions: dates, subjects, notes"),
                    gettext_lazy("Commitments and outcomes"),
                    gettext_lazy("Source of the data, legal basis, consent, objections"),
                ],
                "legal_bases": [str(label) for label in Stakeholder.LegalBasis.labels],
                "recipients": [
                    gettext_lazy("Staff of the organisation (managers and directors)"),
                    gettext_lazy(
                        "Integrations the organisation connects through the API and webhooks"
                    ),
                ],
                "retention": retention,
                "security_measures": security,
            },
            {
                "name": gettext_lazy("Relationship scores and network analysis"),
                "purposes": [
                    gettext_lazy("Measuring reciprocity, trust and strength of relationships"),
                    gettext_lazy("Network health, key-person risk and introduction paths"),
                ],
                "data_subjects": [
                    gettext_lazy("External stakeholders (contacts)"),
                    gettext_lazy("Staff members"),
                ],
                "data_categories": [
                    gettext_lazy("Scores derived from interactions, commitments and outcomes"),
                    gettext_lazy("Links between stakeholders"),
                    gettext_lazy("Authenticity assessments by staff"),
                ],
                "legal_bases": [str(Stakeholder.LegalBasis.LEGITIMATE_INTEREST.label)],
                "recipients": [gettext_lazy("Directors; managers for their own relationships")],
                "retention": retention,
                "security_measures": security,
            },
            {
                "name": gettext_lazy("Staff accounts"),
                "purposes": [gettext_lazy("Signing in, roles and accountability")],
                "data_subjects": [gettext_lazy("Staff members")],
                "data_categories": [
                    gettext_lazy("Name, e-mail, user name, team membership"),
                    gettext_lazy("Audit log of their actions"),
                ],
                "legal_bases": [str(Stakeholder.LegalBasis.CONTRACT.label)],
                "recipients": [gettext_lazy("Directors and administrators")],
                "retention": gettext_lazy("For the duration of employment"),
                "security_measures": security,
            },
        ],
    }


PROCESSING_LIST_FIELDS = (
    "purposes",
    "data_subjects",
    "data_categories",
    "legal_bases",
    "recipients",
    "security_measures",
)


def processing_record_rows() -> list[dict[str, str]]:
    """One flat row per activity, lists joined with "; " (the CSV export)."""
    rows = []
    for activity in processing_record()["activities"]:
        row = {"name": str(activity["name"]), "retention": str(activity["retention"])}
        for name in PROCESSING_LIST_FIELDS:
            row[name] = "; ".join(str(v) for v in activity[name])
        rows.append(row)
    return rows
