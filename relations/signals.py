"""The one domain signal, `records_changed`, and how writes made one row at a time
are told as it. `relations` itself depends on no other app of ours.

Services, the admin, factories and the shell save our models row by row; these
receivers of Django's model signals turn each such write into the one domain
signal, so that its listeners (metrics, networks) know nothing of our models'
signals. Deletes and participant removals are told before the rows disappear
(pre_delete, pre_remove, pre_clear).

Bulk writes (`bulk_create`, `QuerySet.update()`) send no model signals: their
writers send `records_changed` themselves. A bulk delete whose rows its writer
has told already goes through `announced()`, so that the receivers here skip
the query they would make for each deleted interaction and stakeholder.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Model, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import Signal

from relations.models import (
    Commitment,
    GoalStakeholder,
    Interaction,
    Outcome,
    Relationship,
    Stakeholder,
    StakeholderLink,
)

# Sent inside the transaction of every write to the records that scores and the
# network are computed from, naming what changed, so that the apps deriving
# figures from them (metrics, networks) mark those figures stale. One row at a
# time (services, the admin, the shell), the receivers below send it
# from the model signals; bulk writers that bypass them (the importer, merges)
# send it themselves. Keyword arguments, each an iterable, empty when nothing of
# that kind changed:
# - `interactions`: ids of interactions created, edited, about to be deleted or
#   to lose a participant (sent while their rows are still there);
# - `stakeholders`: ids of stakeholders whose own figures' inputs changed (their
#   settings, or a commitment or an outcome filed under them);
# - `pairs`: (user id, stakeholder id) of the relationships whose inputs changed;
# - `links`: ids of stakeholder links saved or deleted;
# - `goals`: ids of the goals whose linked stakeholders changed.
records_changed = Signal()

ParticipantLink = Interaction.internal_participants.through
StakeholderInteraction = Interaction.stakeholders.through

_ANNOUNCED = "_rapport_records_changed_sent"


def announced[Q: QuerySet](queryset: Q) -> Q:
    """The same rows, for a caller that has sent `records_changed` for them already:
    deleting this queryset skips the per-row receivers' work for its interactions
    and stakeholders (a query each, which a large import's undo would repeat
    thousands of times). Commitments and outcomes deleted with them are still told."""
    clone = queryset.all()
    setattr(clone, _ANNOUNCED, True)
    return clone


def _send(sender: type[Model], **kinds: Iterable) -> None:
    kinds = {kind: list(ids) for kind, ids in kinds.items()}
    if any(kinds.values()):
        records_changed.send(sender=sender, **kinds)


def _interaction_saved(sender, instance: Interaction, created: bool, raw: bool = False, **kw):
    # A new interaction has no participants yet: their addition tells it.
    if not (raw or created):
        _send(sender, interactions=[instance.pk])


def _interaction_deleting(sender, instance: Interaction, origin=None, **kwargs):
    if not getattr(origin, _ANNOUNCED, False):
        _send(sender, interactions=[instance.pk])


def _participants_changing(sender, instance, action: str, reverse: bool, pk_set, **kwargs):
    """Either participant set of an interaction changes (from either side).

    Before a removal or clear the leaving participants are still there; after
    an addition the new ones are: telling the interaction then covers both.
    """
    if action not in {"pre_remove", "pre_clear", "post_add"}:
        return
    if not reverse:
        interaction_ids = [instance.pk]
    elif pk_set is not None:
        interaction_ids = list(pk_set)
    else:  # user.interactions.clear() / stakeholder.interactions.clear()
        interaction_ids = list(instance.interactions.values_list("pk", flat=True))
    _send(Interaction, interactions=interaction_ids)


def _filed_under(stakeholder_id: int | None, person_id: int | None) -> dict:
    """A commitment's or an outcome's stakeholder, and its (person, stakeholder) pair."""
    if stakeholder_id is None:
        return {"stakeholders": [], "pairs": []}
    return {
        "stakeholders": [stakeholder_id],
        "pairs": [(person_id, stakeholder_id)] if person_id else [],
    }


def _person_id(instance: Commitment | Outcome) -> int | None:
    return instance.responsible_id if isinstance(instance, Commitment) else instance.credited_to_id


def _remember_filing(sender, instance, raw: bool = False, **kwargs):
    """Before an edit, the stakeholder and person it was filed under (they may change)."""
    if raw or instance.pk is None or instance._state.adding:
        instance._filed_before = None
        return
    person = "responsible_id" if sender is Commitment else "credited_to_id"
    instance._filed_before = (
        sender.objects.filter(pk=instance.pk).values_list("stakeholder_id", person).first()
    )


def _filed_saved(sender, instance, raw: bool = False, **kwargs):
    if raw:
        return
    now = _filed_under(instance.stakeholder_id, _person_id(instance))
    before = getattr(instance, "_filed_before", None)
    if before:
        then = _filed_under(*before)
        now = {kind: now[kind] + then[kind] for kind in now}
    _send(sender, **now)


def _filed_deleting(sender, instance, **kwargs):
    _send(sender, **_filed_under(instance.stakeholder_id, _person_id(instance)))


def _stakeholder_saved(sender, instance: Stakeholder, created: bool, raw: bool = False, **kw):
    """Cadence and importance feed `overdue` and `at_risk` of every relationship too."""
    if raw or created:
        return
    users = Relationship.objects.filter(stakeholder=instance).values_list("user_id", flat=True)
    _send(sender, stakeholders=[instance.pk], pairs=[(u, instance.pk) for u in users])


def _stakeholder_deleting(sender, instance: Stakeholder, origin=None, **kwargs):
    """Its interactions stay but lose a participant: the others' shares change."""
    if not getattr(origin, _ANNOUNCED, False):
        _send(sender, interactions=instance.interactions.values_list("pk", flat=True))


def _link_changed(sender, instance: StakeholderLink, raw: bool = False, **kwargs):
    if not raw:
        _send(sender, links=[instance.pk])


def _goal_link_changed(sender, instance: GoalStakeholder, raw: bool = False, **kwargs):
    if not raw:
        _send(sender, goals=[instance.goal_id])


def connect() -> None:
    uid = "records-changed.%s"
    post_save.connect(_interaction_saved, sender=Interaction, dispatch_uid=uid % "i_saved")
    pre_delete.connect(_interaction_deleting, sender=Interaction, dispatch_uid=uid % "i_del")
    for through in (ParticipantLink, StakeholderInteraction):
        m2m_changed.connect(
            _participants_changing, sender=through, dispatch_uid=uid % through.__name__
        )
    for model in (Commitment, Outcome):
        name = model.__name__
        pre_save.connect(_remember_filing, sender=model, dispatch_uid=uid % f"{name}_pre")
        post_save.connect(_filed_saved, sender=model, dispatch_uid=uid % f"{name}_saved")
        pre_delete.connect(_filed_deleting, sender=model, dispatch_uid=uid % f"{name}_del")
    post_save.connect(_stakeholder_saved, sender=Stakeholder, dispatch_uid=uid % "s_saved")
    pre_delete.connect(_stakeholder_deleting, sender=Stakeholder, dispatch_uid=uid % "s_del")
    network_shape = ((StakeholderLink, _link_changed), (GoalStakeholder, _goal_link_changed))
    for model, receiver in network_shape:
        name = model.__name__
        post_save.connect(receiver, sender=model, dispatch_uid=uid % f"{name}_saved")
        post_delete.connect(receiver, sender=model, dispatch_uid=uid % f"{name}_del")
