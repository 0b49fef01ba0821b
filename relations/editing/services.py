"""Writes of the records a user creates and changes by hand (DESIGN §5a).

One function per write, called by the browser's edit pages and the API alike, so both
apply the same permission, validation and audit. Each `*_update` takes the version
the editor read (`expected_version`; the API passes none) and raises
`EditConflict` when someone else saved the record meanwhile; `*_archive` takes a
record out of the lists and keeps it for the figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relations.integrations import webhooks
from relations.models import (
    CADENCE_DAYS_BY_IMPORTANCE,
    AuditEvent,
    Commitment,
    GoalStakeholder,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
    StrategicGoal,
    Tag,
    Team,
    Webhook,
)
from relations.roles import Action, may
from relations.services import EditConflict, audit_record, diff, snapshot

__all__ = ["EditConflict"]


def _validate(obj: models.Model) -> None:
    # validate_constraints=False: as the other services (relations.services); the
    # uniqueness rules that matter to a user are checked with a field message below.
    obj.full_clean(validate_constraints=False)


def _create(
    obj: models.Model, *, by: User, after: Callable[[Any], None] | None = None
) -> models.Model:
    _validate(obj)
    obj.save()
    if after is not None:
        after(obj)
    audit_record(actor=by, action=AuditEvent.Action.CREATE, obj=obj, changes=snapshot(obj))
    return obj


def _update(
    obj: Any,
    *,
    by: User,
    fields: dict[str, Any],
    expected_version: int | None,
    after: Callable[[Any], None] | None = None,
) -> Any:
    """Apply `fields` to `obj` under a row lock, refusing a stale edit. Records without
    a version (teams, webhooks: the API checks none either) are saved as they come."""
    locked = type(obj).objects.select_for_update().get(pk=obj.pk)
    versioned = hasattr(locked, "version")
    if versioned and expected_version is not None and locked.version != expected_version:
        raise EditConflict(locked)
    before = snapshot(locked)
    for name, value in fields.items():
        setattr(obj, name, value)
    if versioned:
        obj.version = locked.version + 1
    _validate(obj)
    obj.save()
    if after is not None:
        after(obj)
    audit_record(
        actor=by, action=AuditEvent.Action.UPDATE, obj=obj, changes=diff(before, snapshot(obj))
    )
    return obj


def _archive(obj: Any, *, by: User, archived: bool = True) -> Any:
    if not obj.editable_by(by):
        raise PermissionDenied
    was = obj.archived_at
    obj.archived_at = timezone.now() if archived else None
    obj.version += 1
    obj.save(update_fields=["archived_at", "version", "updated_at"])
    audit_record(
        actor=by,
        action=AuditEvent.Action.UPDATE,
        obj=obj,
        changes={"archived_at": [was, obj.archived_at]},
    )
    return obj


def _check_owner_change(obj: Any, owner: User | None, by: User) -> None:
    if getattr(owner, "pk", None) != obj.owner_id and not obj.owner_changeable_by(by):
        raise PermissionDenied(_("Only its owner or a director may give this to someone else."))


# --- Organisations ------------------------------------------------------------------


@transaction.atomic
def organization_create(*, by: User, **fields: Any) -> Organization:
    return _create(Organization(**fields), by=by)


@transaction.atomic
def organization_update(
    organization: Organization, *, by: User, expected_version: int | None = None, **fields: Any
) -> Organization:
    if not organization.editable_by(by):
        raise PermissionDenied
    return _update(organization, by=by, fields=fields, expected_version=expected_version)


@transaction.atomic
def organization_archive(
    organization: Organization, *, by: User, archived: bool = True
) -> Organization:
    return _archive(organization, by=by, archived=archived)


# --- Stakeholders -------------------------------------------------------------------


def _tags_set(stakeholder: Stakeholder, names: Iterable[str] | None) -> None:
    if names is None:
        return
    names = sorted({name.strip() for name in names if name.strip()})
    existing = set(Tag.objects.filter(name__in=names).values_list("name", flat=True))
    # ignore_conflicts: a concurrent request may create the same tag.
    Tag.objects.bulk_create(
        [Tag(name=n) for n in names if n not in existing], ignore_conflicts=True
    )
    stakeholder.tags.set(Tag.objects.filter(name__in=names))
    # The API's `with_tag_names` annotation is stale now: its answer reads the tags.
    stakeholder.__dict__.pop("tag_names", None)


@transaction.atomic
def stakeholder_create(
    *, by: User, tags: Iterable[str] | None = None, **fields: Any
) -> Stakeholder:
    """A new stakeholder with its tags (unknown names are created); a recorded objection
    is entered in the data-protection register."""
    from relations.privacy.services import objection_register_if_new

    if fields.get("cadence_days") is None:
        fields.pop("cadence_days", None)
    stakeholder = _create(Stakeholder(**fields), by=by, after=lambda s: _tags_set(s, tags))
    objection_register_if_new(stakeholder, had_objection=False, by=by)
    return stakeholder


@transaction.atomic
def stakeholder_update(
    stakeholder: Stakeholder,
    *,
    by: User,
    expected_version: int | None = None,
    tags: Iterable[str] | None = None,
    **fields: Any,
) -> Stakeholder:
    """Change a stakeholder (every colleague; handing it to another owner is for its
    owner or a director); cadence None means "by importance"."""
    from relations.privacy.services import objection_register_if_new

    if not stakeholder.editable_by(by):
        raise PermissionDenied
    if "owner" in fields:
        _check_owner_change(stakeholder, fields["owner"], by)
    if "cadence_days" in fields and fields["cadence_days"] is None:
        importance = fields.get("importance", stakeholder.importance)
        fields["cadence_days"] = CADENCE_DAYS_BY_IMPORTANCE.get(importance, 60)
    had_objection = Stakeholder.objects.filter(
        pk=stakeholder.pk, objection_on__isnull=False
    ).exists()
    _update(
        stakeholder,
        by=by,
        fields=fields,
        expected_version=expected_version,
        after=lambda s: _tags_set(s, tags),
    )
    objection_register_if_new(stakeholder, had_objection=had_objection, by=by)
    return stakeholder


@transaction.atomic
def stakeholder_archive(
    stakeholder: Stakeholder, *, by: User, archived: bool = True
) -> Stakeholder:
    return _archive(stakeholder, by=by, archived=archived)


# --- Relationships --------------------------------------------------------------------


@transaction.atomic
def relationship_create(*, by: User, **fields: Any) -> Relationship:
    relationship = Relationship(**fields)
    if relationship.user_id is None:
        relationship.user = by
    if relationship.user_id != by.pk and not relationship.stakeholder.relationships_assignable_by(
        by
    ):
        raise ValidationError(
            {"user": _("Only the stakeholder's owner or a director may add someone else.")}
        )
    if Relationship.objects.filter(
        user_id=relationship.user_id, stakeholder_id=relationship.stakeholder_id
    ).exists():
        raise ValidationError(
            {"stakeholder": _("This user already has a relationship with this stakeholder.")}
        )
    return _create(relationship, by=by)


@transaction.atomic
def relationship_update(
    relationship: Relationship, *, by: User, expected_version: int | None = None, **fields: Any
) -> Relationship:
    """The plan, role and status of a relationship (its user, the stakeholder's owner
    or a director); its user and stakeholder never change."""
    if not relationship.editable_by(by):
        raise PermissionDenied
    for name in ("user", "stakeholder"):
        if name in fields and fields[name] != getattr(relationship, name):
            raise ValidationError({name: _("A relationship's user and stakeholder cannot change.")})
    return _update(relationship, by=by, fields=fields, expected_version=expected_version)


# --- Stakeholder links --------------------------------------------------------------


def _link_check(link: StakeholderLink) -> None:
    if link.from_stakeholder_id and link.from_stakeholder_id == link.to_stakeholder_id:
        raise ValidationError({"to_stakeholder": _("A stakeholder cannot be linked to itself.")})
    duplicate = StakeholderLink.objects.filter(
        from_stakeholder_id=link.from_stakeholder_id,
        to_stakeholder_id=link.to_stakeholder_id,
        kind=link.kind,
    ).exclude(pk=link.pk)
    if duplicate.exists():
        raise ValidationError({"to_stakeholder": _("This link of this kind already exists.")})


@transaction.atomic
def stakeholder_link_create(*, by: User, **fields: Any) -> StakeholderLink:
    link = StakeholderLink(created_by=by, **fields)
    _link_check(link)
    return _create(link, by=by)


@transaction.atomic
def stakeholder_link_update(
    link: StakeholderLink, *, by: User, expected_version: int | None = None, **fields: Any
) -> StakeholderLink:
    if not link.editable_by(by):
        raise PermissionDenied
    for name, value in fields.items():
        setattr(link, name, value)
    _link_check(link)
    return _update(link, by=by, fields=fields, expected_version=expected_version)


@transaction.atomic
def stakeholder_link_delete(link: StakeholderLink, *, by: User) -> None:
    if not link.editable_by(by):
        raise PermissionDenied
    audit_record(actor=by, action=AuditEvent.Action.DELETE, obj=link, changes=snapshot(link))
    link.delete()


# --- Commitments ----------------------------------------------------------------------


@transaction.atomic
def commitment_update(
    commitment: Commitment, *, by: User, expected_version: int | None = None, **fields: Any
) -> Commitment:
    """Change a promise (its responsible, its creator, the stakeholder's owner or a
    director): text, due date, responsible, direction, status. Closing it dates its
    completion today; reopening it clears that date."""
    if not commitment.editable_by(by):
        raise PermissionDenied
    fields.pop("completed_on", None)
    # The stored status: a bound form has already put its input on `commitment`.
    was = Commitment.objects.filter(pk=commitment.pk).values_list("status", flat=True).get()
    status = fields.get("status", was)
    if status != was:
        fields["completed_on"] = timezone.localdate() if status != Commitment.Status.OPEN else None
    return _update(commitment, by=by, fields=fields, expected_version=expected_version)


# --- Deleting (directors, or whom the record's `deletable_by` names) ------------------


def may_delete(obj: Any, user: User) -> bool:
    """The record's `deletable_by` rule, or `editable_by` where it has none: the API's
    DELETE and the browser's delete pages both ask this."""
    deletable_by = getattr(obj, "deletable_by", None)
    return bool(deletable_by(user) if deletable_by else obj.editable_by(user))


@transaction.atomic
def record_delete(obj: Any, *, by: User) -> None:
    """Delete a record for good, with its audit row (the API's DELETE and the delete
    pages); what cascades with it goes too, the scores it fed are recomputed."""
    if not may_delete(obj, by):
        raise PermissionDenied
    audit_record(actor=by, action=AuditEvent.Action.DELETE, obj=obj, changes=snapshot(obj))
    obj.delete()


# --- Outcomes ---------------------------------------------------------------------------


@transaction.atomic
def outcome_create(*, by: User, **fields: Any) -> Outcome:
    """Value a relationship produced: it counts towards RoR from its date."""
    return _create(Outcome(created_by=by, **fields), by=by)


@transaction.atomic
def outcome_update(
    outcome: Outcome, *, by: User, expected_version: int | None = None, **fields: Any
) -> Outcome:
    if not outcome.editable_by(by):
        raise PermissionDenied
    return _update(outcome, by=by, fields=fields, expected_version=expected_version)


@transaction.atomic
def outcome_archive(outcome: Outcome, *, by: User, archived: bool = True) -> Outcome:
    return _archive(outcome, by=by, archived=archived)


# --- Strategic goals ----------------------------------------------------------------


def _goal_links_set(goal: StrategicGoal, links: Sequence[dict] | None) -> None:
    """Replace the goal's linked stakeholders: dicts of `stakeholder` and `role`."""
    if links is None:
        return
    ids = [link["stakeholder"].pk for link in links]
    if len(ids) != len(set(ids)):
        raise ValidationError({"stakeholders": _("A stakeholder is listed twice.")})
    goal.links.all().delete()
    GoalStakeholder.objects.bulk_create(
        GoalStakeholder(goal=goal, stakeholder=link["stakeholder"], role=link.get("role", ""))
        for link in links
    )


def _goal_period_check(goal: StrategicGoal) -> None:
    if goal.period_start and goal.period_end and goal.period_end < goal.period_start:
        raise ValidationError({"period_end": _("The period cannot end before it starts.")})


@transaction.atomic
def goal_create(*, by: User, links: Sequence[dict] | None = None, **fields: Any) -> StrategicGoal:
    """A new goal with its linked stakeholders. A manager's new goal is her own: giving
    goals to others is for directors."""
    owner = fields.get("owner")
    if not StrategicGoal(owner=owner).owner_changeable_by(by):
        if owner is not None and owner.pk != by.pk:
            raise PermissionDenied(_("Only directors give a goal to someone else."))
        fields["owner"] = by
    goal = StrategicGoal(**fields)
    _goal_period_check(goal)
    return _create(goal, by=by, after=lambda g: _goal_links_set(g, links))


@transaction.atomic
def goal_update(
    goal: StrategicGoal,
    *,
    by: User,
    expected_version: int | None = None,
    links: Sequence[dict] | None = None,
    **fields: Any,
) -> StrategicGoal:
    if not goal.editable_by(by):
        raise PermissionDenied
    if "owner" in fields:
        _check_owner_change(goal, fields["owner"], by)
    for name in ("period_start", "period_end"):
        if name in fields:
            setattr(goal, name, fields[name])
    _goal_period_check(goal)
    return _update(
        goal,
        by=by,
        fields=fields,
        expected_version=expected_version,
        after=lambda g: _goal_links_set(g, links),
    )


@transaction.atomic
def goal_archive(goal: StrategicGoal, *, by: User, archived: bool = True) -> StrategicGoal:
    return _archive(goal, by=by, archived=archived)


# --- Teams (directors: the organisation's set-up) -------------------------------------


def _members_set(team: Team, members: Iterable[User] | None) -> None:
    if members is not None:
        team.members.set(members)


@transaction.atomic
def team_create(*, by: User, members: Iterable[User] | None = None, **fields: Any) -> Team:
    """A new team with its members (directors)."""
    if not may(by, Action.SET_UP_ORGANISATION):
        raise PermissionDenied
    return _create(Team(**fields), by=by, after=lambda t: _members_set(t, members))


@transaction.atomic
def team_update(
    team: Team, *, by: User, members: Iterable[User] | None = None, **fields: Any
) -> Team:
    """Rename a team, change its description or members (whom `editable_by` names)."""
    if not team.editable_by(by):
        raise PermissionDenied
    return _update(
        team,
        by=by,
        fields=fields,
        expected_version=None,
        after=lambda t: _members_set(t, members),
    )


# --- Webhooks (a director's own endpoints) --------------------------------------------


def _destination_check(url: str) -> None:
    """The outbound-address guard, as a message on the URL field."""
    try:
        webhooks.check_destination(url)
    except webhooks.UnsafeDestination as exc:
        raise ValidationError({"url": str(exc)}) from exc


@transaction.atomic
def webhook_create(*, by: User, **fields: Any) -> Webhook:
    """Register an endpoint of `by`'s (directors) with a new signing secret, audited
    (the secret redacted); the caller shows the secret once."""
    if not may(by, Action.SET_UP_ORGANISATION):
        raise PermissionDenied
    _destination_check(fields.get("url", ""))
    webhook = webhooks.webhook_create(owner=by, **fields)
    audit_record(actor=by, action=AuditEvent.Action.CREATE, obj=webhook, changes=snapshot(webhook))
    return webhook


@transaction.atomic
def webhook_update(webhook: Webhook, *, by: User, **fields: Any) -> Webhook:
    """Change an endpoint (its owner): a changed URL passes the outbound guard again;
    the secret never changes here."""
    if not webhook.editable_by(by):
        raise PermissionDenied
    fields.pop("secret", None)
    fields.pop("owner", None)
    # The stored URL: a bound form has already put its input on `webhook`.
    stored = Webhook.objects.filter(pk=webhook.pk).values_list("url", flat=True).get()
    if "url" in fields and fields["url"] != stored:
        _destination_check(fields["url"])
    if "events" in fields:
        fields["events"] = sorted(set(fields["events"]))
    return _update(webhook, by=by, fields=fields, expected_version=None)
