"""Multi-step writes of the domain. Every page, the API and the importers call these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.forms.models import model_to_dict

from relations.integrations.webhooks import webhook_emit, webhook_emit_many, webhook_subscribers
from relations.models import (
    AuditEvent,
    AuthenticityPulse,
    Commitment,
    Interaction,
    Relationship,
    Stakeholder,
    Webhook,
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "pk"):
        return value.pk
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def audit_event(
    *,
    actor: User | None,
    action: str,
    obj: Any,
    changes: dict | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
) -> AuditEvent:
    """The one shape of an audit row (unsaved; `audit_record` writes it).

    `obj` is named by its model's label, its id and its text, unless `object_id`
    and `object_repr` say otherwise (an import's batch, an API token, an unknown
    user's sign-in: `obj` may then be the model itself). An anonymous actor is
    recorded as none; the changes are stored as JSON values (records by their id).
    """
    return AuditEvent(
        actor=actor if actor and actor.is_authenticated else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk) if object_id is None else object_id,
        object_repr=(str(obj) if object_repr is None else object_repr)[:200],
        changes={k: _jsonable(v) for k, v in (changes or {}).items()},
    )


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: Any,
    changes: dict | None = None,
    object_id: str | None = None,
    object_repr: str | None = None,
) -> AuditEvent:
    """Write the audit row of a change (see `audit_event`), in the caller's transaction:
    every audited write (services, the admin, the API, sign-in security) goes through here
    or, for many rows at once, `audit_record_many`."""
    event = audit_event(
        actor=actor,
        action=action,
        obj=obj,
        changes=changes,
        object_id=object_id,
        object_repr=object_repr,
    )
    event.save(force_insert=True)
    return event


def audit_record_many(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Write rows made by `audit_event` in one statement (bulk writers: imports)."""
    return AuditEvent.objects.bulk_create(events)


def snapshot(obj: Any) -> dict:
    """The audit-comparable field values of a model instance (many-to-many as sorted
    ids, a goal's stakeholder links with their roles, secrets redacted)."""
    from relations.audit.services import REDACTED, SECRET_FIELD_NAMES
    from relations.models import GoalStakeholder, StrategicGoal

    values = {k: _jsonable(v) for k, v in model_to_dict(obj).items()}
    for name, value in values.items():
        if name in SECRET_FIELD_NAMES:
            values[name] = REDACTED
        elif isinstance(value, list) and all(isinstance(v, int) for v in value):
            values[name] = sorted(value)
    if isinstance(obj, StrategicGoal) and obj.pk:
        values["stakeholders"] = [
            [stakeholder, role]
            for stakeholder, role in GoalStakeholder.objects.filter(goal=obj)
            .order_by("stakeholder_id")
            .values_list("stakeholder_id", "role")
        ]
    return values


def diff(before: dict, after: dict) -> dict:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


def relationships_ensure(
    users: Iterable[User], stakeholders: Iterable[Stakeholder], *, by: User | None = None
) -> int:
    """Create the relationship of every (user, stakeholder) pair that has none yet.

    The stakeholder's owner gets the `owner` role, anyone else `supporting`.
    Each new relationship is audited as created by `by`. Returns how many were created.
    """
    stakeholders = list(stakeholders)
    new = [
        Relationship(
            user=user,
            stakeholder=stakeholder,
            role=(
                Relationship.Role.OWNER
                if stakeholder.owner_id == user.pk
                else Relationship.Role.SUPPORTING
            ),
        )
        for user in users
        for stakeholder in stakeholders
    ]
    if not new:
        return 0
    existing = set(
        Relationship.objects.filter(
            user__in=[r.user for r in new], stakeholder__in=stakeholders
        ).values_list("user_id", "stakeholder_id")
    )
    missing = [r for r in new if (r.user.pk, r.stakeholder.pk) not in existing]
    # ignore_conflicts: two interactions logged at once may race for the same pair.
    Relationship.objects.bulk_create(missing, ignore_conflicts=True)
    if missing:
        _audit_relationships_created(missing, by=by)
    return len(missing)


def _audit_relationships_created(missing: list[Relationship], *, by: User | None) -> None:
    # bulk_create with ignore_conflicts returns no ids: read the new rows back (one query).
    pairs = {(r.user.pk, r.stakeholder.pk) for r in missing}
    created = [
        r
        for r in Relationship.objects.filter(
            user__in={u for u, _s in pairs}, stakeholder__in={s for _u, s in pairs}
        ).select_related("user", "stakeholder")
        if (r.user_id, r.stakeholder_id) in pairs
    ]
    audit_record_many(
        audit_event(actor=by, action=AuditEvent.Action.CREATE, obj=r, changes=snapshot(r))
        for r in created
    )


# `validate_constraints=False`: every check constraint has a field validator that
# full_clean runs in Python, and the database enforces the constraint on save;
# validating constraints again would cost one query each per record (bulk imports).


@transaction.atomic
def interaction_log(
    *,
    by: User,
    participants: Sequence[User],
    stakeholders: Sequence[Stakeholder],
    commitments: Sequence[dict] = (),
    emit_webhook: bool = True,
    **fields: Any,
) -> Interaction:
    """Log an interaction with its participants and any commitments made in it.

    `emit_webhook=False`: the caller logs many and announces them together
    (`interactions_created_announce`)."""
    interaction = Interaction(created_by=by, **fields)
    interaction.full_clean(
        exclude=["internal_participants", "stakeholders"], validate_constraints=False
    )
    interaction.save()
    interaction.internal_participants.set(participants)
    interaction.stakeholders.set(stakeholders)
    relationships_ensure(participants, stakeholders, by=by)
    for commitment_fields in commitments:
        commitment = Commitment(interaction=interaction, created_by=by, **commitment_fields)
        commitment.full_clean(validate_constraints=False)
        commitment.save()
        audit_record(
            actor=by, action=AuditEvent.Action.CREATE, obj=commitment, changes=snapshot(commitment)
        )
    audit_record(
        actor=by,
        action=AuditEvent.Action.CREATE,
        obj=interaction,
        changes=snapshot(interaction),
    )
    if emit_webhook:
        webhook_emit(
            Webhook.Event.INTERACTION_CREATED,
            interaction_created_payload(
                interaction,
                participant_ids=[u.pk for u in participants],
                stakeholder_ids=[s.pk for s in stakeholders],
            ),
        )
    return interaction


def interaction_created_payload(
    interaction: Interaction, *, participant_ids: list[int], stakeholder_ids: list[int]
) -> dict[str, Any]:
    """The `data` of an `interaction.created` webhook delivery."""
    return {
        # Notes are left out: receivers see what any participant's colleague may see.
        "id": interaction.pk,
        "occurred_at": interaction.occurred_at,
        "kind": interaction.kind,
        "subject": interaction.subject,
        "internal_participants": participant_ids,
        "stakeholders": stakeholder_ids,
        "value_given": interaction.value_given,
        "value_received": interaction.value_received,
    }


# Interactions read back per chunk when announcing a bulk creation: bounds the memory
# and the size of one delivery insert for a 100,000-row import.
ANNOUNCE_CHUNK = 2000


def interactions_created_announce(interaction_ids: Sequence[int]) -> int:
    """Send `interaction.created` for interactions written in bulk (imports, captures),
    with the payload `interaction_log` gives one. Call it in the transaction that created
    them: deliveries are written with it and sent after commit. Without a subscriber
    this is one query, whatever the number of interactions; returns the deliveries made."""
    if not interaction_ids:
        return 0
    event = Webhook.Event.INTERACTION_CREATED
    hooks = webhook_subscribers(event)
    if not hooks:
        return 0
    ids = sorted(set(interaction_ids))
    made = 0
    for start in range(0, len(ids), ANNOUNCE_CHUNK):
        chunk = ids[start : start + ANNOUNCE_CHUNK]
        participants: dict[int, list[int]] = {pk: [] for pk in chunk}
        for interaction_id, user_id in (
            Interaction.internal_participants.through.objects.filter(interaction_id__in=chunk)
            .order_by("interaction_id", "user_id")
            .values_list("interaction_id", "user_id")
        ):
            participants[interaction_id].append(user_id)
        stakeholders: dict[int, list[int]] = {pk: [] for pk in chunk}
        for interaction_id, stakeholder_id in (
            Interaction.stakeholders.through.objects.filter(interaction_id__in=chunk)
            .order_by("interaction_id", "stakeholder_id")
            .values_list("interaction_id", "stakeholder_id")
        ):
            stakeholders[interaction_id].append(stakeholder_id)
        interactions = (
            Interaction.objects.filter(pk__in=chunk)
            .order_by("pk")
            .only("occurred_at", "kind", "subject", "value_given", "value_received")
        )
        made += len(
            webhook_emit_many(
                event,
                [
                    interaction_created_payload(
                        i,
                        participant_ids=participants[i.pk],
                        stakeholder_ids=stakeholders[i.pk],
                    )
                    for i in interactions
                ],
                hooks=hooks,
            )
        )
    return made


class EditConflict(Exception):
    """Someone else saved the record after this edit began; `current` is the record as
    they left it (when the service read it), for the editor to compare."""

    def __init__(self, current: Any = None) -> None:
        super().__init__()
        self.current = current


@transaction.atomic
def interaction_update(
    interaction: Interaction,
    *,
    by: User,
    expected_version: int | None = None,
    participants: Sequence[User] | None = None,
    stakeholders: Sequence[Stakeholder] | None = None,
    **fields: Any,
) -> Interaction:
    """Save an edit, refusing it when the record changed since `expected_version`."""
    before = snapshot(Interaction.objects.get(pk=interaction.pk))
    for name, value in fields.items():
        setattr(interaction, name, value)
    interaction.full_clean(
        exclude=["internal_participants", "stakeholders"], validate_constraints=False
    )
    # Optimistic locking: the UPDATE only matches the version the editor saw.
    version = expected_version if expected_version is not None else interaction.version
    updated = Interaction.objects.filter(pk=interaction.pk, version=version).update(
        version=version + 1
    )
    if not updated:
        raise EditConflict
    interaction.version = version + 1
    interaction.save()
    if participants is not None:
        interaction.internal_participants.set(participants)
    if stakeholders is not None:
        interaction.stakeholders.set(stakeholders)
    relationships_ensure(
        interaction.internal_participants.all(), interaction.stakeholders.all(), by=by
    )
    audit_record(
        actor=by,
        action=AuditEvent.Action.UPDATE,
        obj=interaction,
        changes=diff(before, snapshot(interaction)),
    )
    return interaction


@transaction.atomic
def interaction_delete(interaction: Interaction, *, by: User) -> None:
    audit_record(
        actor=by, action=AuditEvent.Action.DELETE, obj=interaction, changes=snapshot(interaction)
    )
    interaction.delete()


@transaction.atomic
def commitment_set_status(commitment: Commitment, *, by: User, status: str) -> Commitment:
    from django.utils import timezone

    before = snapshot(commitment)
    commitment.status = status
    commitment.completed_on = timezone.localdate() if status != Commitment.Status.OPEN else None
    commitment.full_clean()
    # A status set on the list is a change too: an edit begun before it is stale.
    commitment.version = F("version") + 1
    commitment.save()
    commitment.refresh_from_db(fields=["version"])
    audit_record(
        actor=by,
        action=AuditEvent.Action.UPDATE,
        obj=commitment,
        changes=diff(before, snapshot(commitment)),
    )
    return commitment


# An introduction is a meeting to arrange, not a task for today: two weeks.
HAND_OVER_INTRODUCTION_DAYS = 14


@transaction.atomic
def stakeholder_hand_over(
    stakeholder: Stakeholder,
    *,
    successor: User,
    by: User,
    introducer: User | None = None,
) -> Commitment:
    """Make `successor` the owner of `stakeholder` and plan their introduction.

    The successor's relationship becomes the owner's; every other relationship
    that held the owner role becomes supporting. The introduction is a promise
    of ours (`introducer`, the colleague who actually knows the stakeholder;
    by default the previous owner) due in two weeks. Both the ownership change
    and the commitment are audited. Returns the commitment.
    """
    from datetime import timedelta

    from django.core.exceptions import ValidationError
    from django.utils import timezone
    from django.utils.translation import gettext as _

    from relations.roles import is_staff_member

    # Locked, so that two hand-overs of the same stakeholder cannot interleave.
    locked = (
        Stakeholder.objects.select_for_update(of=("self",))
        .select_related("owner")
        .get(pk=stakeholder.pk)
    )
    previous = locked.owner
    if not is_staff_member(successor):
        raise ValidationError({"successor": _("Choose an active colleague.")})
    if previous is not None and previous.pk == successor.pk:
        raise ValidationError(
            {"successor": _("%(name)s already owns this stakeholder.") % {"name": successor}}
        )

    locked.owner = successor
    locked.save(update_fields=["owner", "updated_at"])
    demoted = list(
        locked.relationships.filter(role=Relationship.Role.OWNER)
        .exclude(user=successor)
        .values_list("user_id", flat=True)
    )
    locked.relationships.filter(user_id__in=demoted).update(role=Relationship.Role.SUPPORTING)
    relationship, created = Relationship.objects.get_or_create(
        user=successor,
        stakeholder=locked,
        defaults={"role": Relationship.Role.OWNER},
    )
    if not created:
        relationship.role = Relationship.Role.OWNER
        relationship.status = Relationship.Status.ACTIVE
        relationship.save(update_fields=["role", "status", "updated_at"])
    audit_record(
        actor=by,
        action=AuditEvent.Action.UPDATE,
        obj=locked,
        changes={
            "owner": [previous.pk if previous else None, successor.pk],
            "relationships_demoted_to_supporting": demoted,
            "successor_relationship": relationship.pk,
        },
    )

    successor_name = successor.get_full_name() or successor.username
    commitment = Commitment(
        stakeholder=locked,
        responsible=introducer or previous or by,
        direction=Commitment.Direction.US,
        description=(
            _("Introduce %(successor)s to %(stakeholder)s")
            % {"successor": successor_name, "stakeholder": locked.name}
        )[:300],
        due_date=timezone.localdate() + timedelta(days=HAND_OVER_INTRODUCTION_DAYS),
        created_by=by,
    )
    commitment.full_clean()
    commitment.save()
    audit_record(
        actor=by, action=AuditEvent.Action.CREATE, obj=commitment, changes=snapshot(commitment)
    )
    stakeholder.owner = successor
    return commitment


# --- Authenticity pulses ---------------------------------------------------

PULSE_FIELDS = ("assessed_on", "integrity", "transparency", "reliability", "note")
# A note is a sentence or two beside three numbers, not a report.
PULSE_NOTE_MAX_LENGTH = 2000


def _pulse_validate(pulse: AuthenticityPulse) -> None:
    from django.core.exceptions import ValidationError
    from django.utils import timezone
    from django.utils.translation import gettext as _

    pulse.full_clean(exclude=["relationship", "assessed_by"], validate_constraints=False)
    errors: dict[str, list[str]] = {}
    if pulse.assessed_on > timezone.localdate():
        errors["assessed_on"] = [_("An assessment cannot be dated in the future.")]
    if len(pulse.note) > PULSE_NOTE_MAX_LENGTH:
        errors["note"] = [
            _("Keep the note under %(max)d characters.") % {"max": PULSE_NOTE_MAX_LENGTH}
        ]
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def pulse_record(*, relationship: Relationship, by: User, **fields: Any) -> AuthenticityPulse:
    """Save a dated authenticity assessment of `relationship` by `by`, audited.

    Raises PermissionDenied when `by` may not assess it, ValidationError (with
    field messages, nothing saved) on bad input.
    """
    from django.core.exceptions import PermissionDenied

    if not relationship.pulse_recordable_by(by):
        raise PermissionDenied
    unknown = set(fields) - set(PULSE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown pulse fields: {sorted(unknown)}")
    if fields.get("note") is None:
        fields.pop("note", None)
    if fields.get("assessed_on") is None:
        fields.pop("assessed_on", None)
    pulse = AuthenticityPulse(relationship=relationship, assessed_by=by, **fields)
    _pulse_validate(pulse)
    pulse.save()
    audit_record(actor=by, action=AuditEvent.Action.CREATE, obj=pulse, changes=snapshot(pulse))
    return pulse


@transaction.atomic
def pulse_update(pulse: AuthenticityPulse, *, by: User, **fields: Any) -> AuthenticityPulse:
    """Change a pulse (its author or a director), audited with what changed."""
    from django.core.exceptions import PermissionDenied

    if not pulse.editable_by(by):
        raise PermissionDenied
    unknown = set(fields) - set(PULSE_FIELDS)
    if unknown:
        raise TypeError(f"Unknown pulse fields: {sorted(unknown)}")
    # The stored row: the edit page's bound form has already put its input on `pulse`.
    before = snapshot(AuthenticityPulse.objects.select_for_update().get(pk=pulse.pk))
    for name, value in fields.items():
        setattr(pulse, name, value)
    _pulse_validate(pulse)
    pulse.save()
    audit_record(
        actor=by, action=AuditEvent.Action.UPDATE, obj=pulse, changes=diff(before, snapshot(pulse))
    )
    return pulse


@transaction.atomic
def pulse_delete(pulse: AuthenticityPulse, *, by: User) -> None:
    from django.core.exceptions import PermissionDenied

    if not pulse.editable_by(by):
        raise PermissionDenied
    audit_record(actor=by, action=AuditEvent.Action.DELETE, obj=pulse, changes=snapshot(pulse))
    pulse.delete()
