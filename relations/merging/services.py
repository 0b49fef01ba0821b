"""Merging duplicate stakeholders and organisations.

`keep` survives with everything of both: interactions, commitments, outcomes,
links, relationships (one per user: the two of the same user become one, with
their pulses), goal links, tags, and any other record that points at a
stakeholder. Blank fields of `keep` are filled from `absorb`; `absorb` is then
deleted. Both records are audited, and the scores the merge touches are marked
stale in the same transaction (recomputed by the worker after commit, then the
network; see `relations.signals.records_changed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from relations import registry
from relations.importing.bulk import statistics_refresh_after_bulk
from relations.models import (
    AuditEvent,
    AuthenticityPulse,
    Commitment,
    GoalStakeholder,
    Interaction,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
)
from relations.services import audit_record, diff, snapshot
from relations.signals import records_changed

STAKEHOLDER_FILL_FIELDS = (
    "organization",
    "title",
    "email",
    "phone",
    "owner",
    "consent_date",
    "data_source",
    "notes",
    # An objection to processing (GDPR Art. 21) made to either record binds the person.
    "objection_on",
    "objection_note",
)
ORGANIZATION_FILL_FIELDS = ("sector", "country", "website", "notes")


@dataclass
class MergePreview:
    """What a merge will move, for the confirmation page and the audit trail."""

    interactions: int = 0
    commitments: int = 0
    outcomes: int = 0
    links: int = 0
    relationships: int = 0
    goal_links: int = 0
    tags: int = 0
    filled: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _is_blank(value) -> bool:
    return value is None or value == ""


def _fillable(keep: models.Model, absorb: models.Model, names: tuple[str, ...]) -> list[str]:
    """The fields among `names` blank on `keep` that `absorb` has (foreign keys by id)."""
    found = []
    for name in names:
        attname = keep._meta.get_field(name).attname
        if _is_blank(getattr(keep, attname)) and not _is_blank(getattr(absorb, attname)):
            found.append(name)
    return found


def _fill_blanks(keep: models.Model, absorb: models.Model, names: tuple[str, ...]) -> None:
    for name in _fillable(keep, absorb, names):
        attname = keep._meta.get_field(name).attname
        setattr(keep, attname, getattr(absorb, attname))


def stakeholder_merge_preview(keep: Stakeholder, absorb: Stakeholder) -> MergePreview:
    return MergePreview(
        interactions=absorb.interactions.count(),
        commitments=absorb.commitments.count(),
        outcomes=absorb.outcomes.count(),
        links=absorb.links_out.count() + absorb.links_in.count(),
        relationships=absorb.relationships.count(),
        goal_links=absorb.goal_links.count(),
        tags=absorb.tags.count(),
        filled={
            name: str(getattr(absorb, name))
            for name in _fillable(keep, absorb, STAKEHOLDER_FILL_FIELDS)
        },
    )


def merge_refusal(keep: models.Model, absorb: models.Model) -> str | None:
    """Why these two records cannot be merged, whoever asks; None when they can.

    An erased stakeholder (GDPR Art. 17) is merged with nothing: merged into a new
    record of the same name, its history would be re-identified; merged into, it
    would take personal data again."""
    if keep.pk == absorb.pk:
        return _("A record cannot be merged with itself.")
    if getattr(keep, "is_erased", False) or getattr(absorb, "is_erased", False):
        return _("An erased stakeholder cannot be merged with another record.")
    return None


def _validate_pair(keep, absorb, by: User) -> None:
    refusal = merge_refusal(keep, absorb)
    if refusal:
        raise ValidationError({"other": [refusal]})
    if not (keep.mergeable_by(by) and absorb.mergeable_by(by)):
        raise PermissionDenied


def _lock_pair[M: models.Model](keep: M, absorb: M, *, gone: str) -> tuple[M, M]:
    """Both rows read afresh and locked, in id order so that two merges of the same pair
    cannot deadlock. `gone`: the message when one of them no longer exists."""
    model = type(keep)
    locked = {
        obj.pk: obj
        for obj in model._default_manager.select_for_update()
        .filter(pk__in=[keep.pk, absorb.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise ValidationError({"other": [gone]})
    return locked[keep.pk], locked[absorb.pk]


def _absorbed_delete(
    *, keep: models.Model, absorb: models.Model, by: User, before: dict, absorbed: dict, moved: dict
) -> None:
    """Delete `absorb`, audited with what it held, then save `keep`, audited with what it
    gained. Deleted first: `absorb` may hold a unique value (an e-mail address) that
    `keep` has just taken over."""
    absorb_pk, absorb_name = absorb.pk, absorb.name
    audit_record(
        actor=by,
        action=AuditEvent.Action.DELETE,
        obj=absorb,
        changes={**absorbed, "merged_into": keep.pk},
    )
    absorb.delete()
    keep.save()
    audit_record(
        actor=by,
        action=AuditEvent.Action.UPDATE,
        obj=keep,
        changes={
            "merged_from": absorb_pk,
            "merged_name": absorb_name,
            **moved,
            **diff(before, snapshot(keep)),
        },
    )


def _merge_relationships(keep: Stakeholder, absorb: Stakeholder) -> set[int]:
    """One relationship per user: the absorbed one's pulses and plan join the kept one."""
    users: set[int] = set()
    kept = {r.user_id: r for r in keep.relationships.all()}
    for theirs in list(absorb.relationships.all()):
        users.add(theirs.user_id)
        ours = kept.get(theirs.user_id)
        if ours is None:
            theirs.stakeholder = keep
            theirs.save(update_fields=["stakeholder", "updated_at"])
            continue
        AuthenticityPulse.objects.filter(relationship=theirs).update(relationship=ours)
        if theirs.role == Relationship.Role.OWNER:
            ours.role = Relationship.Role.OWNER
        if theirs.status == Relationship.Status.ACTIVE:
            ours.status = Relationship.Status.ACTIVE
        ours.started_on = min(ours.started_on, theirs.started_on)
        for name in ("objective", "desired_strength", "next_review"):
            if _is_blank(getattr(ours, name)) and not _is_blank(getattr(theirs, name)):
                setattr(ours, name, getattr(theirs, name))
        theirs.delete()
        ours.save()
    return users


def _merge_links(keep: Stakeholder, absorb: Stakeholder) -> None:
    """Re-point links; a link that would join keep to itself or repeat one is dropped
    (the stronger strength survives)."""
    existing = {
        (link.from_stakeholder_id, link.to_stakeholder_id, link.kind): link
        for link in StakeholderLink.objects.filter(
            models.Q(from_stakeholder=keep) | models.Q(to_stakeholder=keep)
        )
    }
    moving = StakeholderLink.objects.filter(
        models.Q(from_stakeholder=absorb) | models.Q(to_stakeholder=absorb)
    )
    for link in list(moving):
        source = keep.pk if link.from_stakeholder_id == absorb.pk else link.from_stakeholder_id
        target = keep.pk if link.to_stakeholder_id == absorb.pk else link.to_stakeholder_id
        key = (source, target, link.kind)
        if source == target:
            link.delete()
        elif key in existing:
            survivor = existing[key]
            if link.strength > survivor.strength:
                survivor.strength = link.strength
                survivor.save(update_fields=["strength", "updated_at"])
            link.delete()
        else:
            link.from_stakeholder_id, link.to_stakeholder_id = source, target
            link.save(update_fields=["from_stakeholder", "to_stakeholder", "updated_at"])
            existing[key] = link


def _move_other_references(keep: Stakeholder, absorb: Stakeholder, handled: set) -> list[str]:
    """Any other model pointing at a stakeholder (other features' records) follows too."""
    moved = []
    for relation in Stakeholder._meta.related_objects:
        model = relation.related_model
        if (
            relation.one_to_one
            or relation.many_to_many
            or model._meta.app_label in registry.derived_data_apps()
            or model in handled
        ):
            continue
        name = relation.field.name
        try:
            with transaction.atomic():
                count = model._default_manager.filter(**{name: absorb}).update(**{name: keep})
        except IntegrityError:
            continue  # a one-per-stakeholder record: keep's own stays, absorb's goes
        if count:
            moved.append(f"{model._meta.label_lower}:{count}")
    return moved


@transaction.atomic
def stakeholder_merge(*, keep: Stakeholder, absorb: Stakeholder, by: User) -> Stakeholder:
    """Merge `absorb` into `keep` (see the module's docstring). Returns `keep`, saved."""
    _validate_pair(keep, absorb, by)
    keep, absorb = _lock_pair(keep, absorb, gone=_("That stakeholder no longer exists."))
    # Checked again on the locked rows: an erasure may have committed in between.
    _validate_pair(keep, absorb, by)
    before = snapshot(keep)
    preview = stakeholder_merge_preview(keep, absorb)
    absorbed_snapshot = snapshot(absorb)

    through = Interaction.stakeholders.through
    interaction_ids = list(
        through.objects.filter(stakeholder=absorb).values_list("interaction_id", flat=True)
    )
    already = set(
        through.objects.filter(stakeholder=keep, interaction_id__in=interaction_ids).values_list(
            "interaction_id", flat=True
        )
    )
    through.objects.filter(stakeholder=absorb, interaction_id__in=already).delete()
    through.objects.filter(stakeholder=absorb).update(stakeholder=keep)

    commitment_users = set(
        Commitment.objects.filter(stakeholder=absorb).values_list("responsible_id", flat=True)
    )
    Commitment.objects.filter(stakeholder=absorb).update(stakeholder=keep)
    outcome_users = set(
        Outcome.objects.filter(stakeholder=absorb, credited_to__isnull=False).values_list(
            "credited_to_id", flat=True
        )
    )
    Outcome.objects.filter(stakeholder=absorb).update(stakeholder=keep)
    _merge_links(keep, absorb)
    relationship_users = _merge_relationships(keep, absorb)
    for goal_link in list(GoalStakeholder.objects.filter(stakeholder=absorb)):
        ours = GoalStakeholder.objects.filter(goal_id=goal_link.goal_id, stakeholder=keep).first()
        if ours is None:
            goal_link.stakeholder = keep
            goal_link.save(update_fields=["stakeholder"])
        else:
            if not ours.role and goal_link.role:
                ours.role = goal_link.role
                ours.save(update_fields=["role"])
            goal_link.delete()
    keep.tags.add(*absorb.tags.all())
    other = _move_other_references(
        keep,
        absorb,
        handled={
            Relationship,
            Commitment,
            Outcome,
            StakeholderLink,
            GoalStakeholder,
            through,
        },
    )

    _fill_blanks(keep, absorb, STAKEHOLDER_FILL_FIELDS)
    _absorbed_delete(
        keep=keep,
        absorb=absorb,
        by=by,
        before=before,
        absorbed=absorbed_snapshot,
        moved={
            **{f"moved_{k}": v for k, v in preview.as_dict().items() if k != "filled"},
            "moved_other": other,
        },
    )
    # The rows moved with bulk updates, which send no model signals.
    user_ids = relationship_users | commitment_users | outcome_users
    records_changed.send(
        sender=Stakeholder,
        interactions=interaction_ids,
        stakeholders=[keep.pk],
        pairs=[(u, keep.pk) for u in user_ids if u is not None],
    )
    # A large record's rows now point at `keep`: the per-stakeholder estimates changed.
    statistics_refresh_after_bulk(len(interaction_ids), [through, Commitment, Outcome])
    return keep


def organization_merge_preview(keep: Organization, absorb: Organization) -> MergePreview:
    return MergePreview(
        filled={
            name: getattr(absorb, name)
            for name in _fillable(keep, absorb, ORGANIZATION_FILL_FIELDS)
        }
    )


@transaction.atomic
def organization_merge(*, keep: Organization, absorb: Organization, by: User) -> Organization:
    """Merge organisation `absorb` into `keep`: its stakeholders move, blanks are filled."""
    _validate_pair(keep, absorb, by)
    keep, absorb = _lock_pair(keep, absorb, gone=_("That organisation no longer exists."))
    before = snapshot(keep)
    moved_ids = list(absorb.stakeholders.values_list("pk", flat=True))
    Stakeholder.objects.filter(pk__in=moved_ids).update(organization=keep)
    _fill_blanks(keep, absorb, ORGANIZATION_FILL_FIELDS)
    keep.tier = min(keep.tier, absorb.tier)  # the more strategic of the two
    _absorbed_delete(
        keep=keep,
        absorb=absorb,
        by=by,
        before=before,
        absorbed=snapshot(absorb),
        moved={"stakeholders_moved": moved_ids},
    )
    statistics_refresh_after_bulk(len(moved_ids), [Stakeholder])
    return keep
