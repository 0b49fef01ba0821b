"""Mark scores stale when the data under them changes, and queue their recomputation.

Every create, edit or delete of an interaction (its two participant sets
included), a commitment or an outcome writes dirty markers for exactly the
stakeholders and (user, stakeholder) relationships it touches, in the same
transaction; after commit one task per transaction is queued. Deletes are
captured before the rows disappear (pre_delete, pre_remove, pre_clear).

Not covered: `QuerySet.update()` and `bulk_create()`, which send no signals
(bulk loaders such as `seed_demo` run a full recomputation instead; the importer
sends `relations.signals.interactions_bulk_changed`), and the
nightly refresh catches up anything else (decay, key status).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.db import transaction
from django.db.models.signals import m2m_changed, post_save, pre_delete, pre_save
from django.dispatch import Signal

from relations.models import Commitment, Interaction, Outcome, Relationship, Stakeholder
from relations.signals import bulk_changes_announced

from .models import PendingRecompute

logger = logging.getLogger(__name__)

ParticipantLink = Interaction.internal_participants.through
StakeholderLink = Interaction.stakeholders.through

# A marker key: (None, stakeholder_id) for stakeholder level, (user_id, stakeholder_id)
# for a relationship.
MarkerKey = tuple[int | None, int]
_MARKS_ATTRIBUTE = "_rapport_stale_marks"


# Sent by the worker once stored scores changed; `full` is True after a full
# recomputation. The network listens, so it is rebuilt from fresh strengths.
scores_recomputed = Signal()


class _PublishAfterCommit:
    """The on_commit callback of one transaction's markers: queues one task.

    Several may be registered in one transaction (one per signal that wrote new
    markers); the first to run after commit queues the task for all of them.
    """

    def __init__(self, connection):
        self.connection = connection

    def __call__(self) -> None:
        if not getattr(self.connection, _MARKS_ATTRIBUTE, None):
            return  # an earlier callback of the same commit has queued the task
        setattr(self.connection, _MARKS_ATTRIBUTE, {})
        recompute_publish()


def recompute_publish() -> None:
    """Queue the processing of pending markers; never fails the caller.

    If the broker is down the markers stay and the periodic sweep recomputes them.
    """
    from .tasks import recompute_pending

    try:
        recompute_pending.delay()
    except Exception:
        logger.warning(
            "Could not queue score recomputation; the sweep will repair it", exc_info=True
        )


def scores_mark_stale(
    stakeholder_ids: Iterable[int] = (), pairs: Iterable[tuple[int, int]] = ()
) -> int:
    """Write dirty markers for these stakeholders and (user, stakeholder) pairs, in the
    current transaction, and queue their recomputation after commit.

    A key already marked in this transaction (and not rolled back since) is not
    written twice. Returns how many markers were written.
    """
    keys: dict[MarkerKey, None] = dict.fromkeys(
        [(None, int(s)) for s in stakeholder_ids] + [(int(u), int(s)) for u, s in pairs]
    )
    if not keys:
        return 0
    connection = transaction.get_connection()
    marks: dict[MarkerKey, _PublishAfterCommit] = getattr(connection, _MARKS_ATTRIBUTE, None)
    if marks is None:
        marks = {}
        setattr(connection, _MARKS_ATTRIBUTE, marks)
    # A mark counts only while its callback is still queued: a rolled-back
    # transaction or savepoint drops the callback, and with it the marker row.
    live = {id(entry[1]) for entry in connection.run_on_commit}
    new = [key for key in keys if key not in marks or id(marks[key]) not in live]
    if not new:
        return 0
    PendingRecompute.objects.bulk_create(
        [PendingRecompute(user_id=u, stakeholder_id=s) for u, s in new]
    )
    callback = _PublishAfterCommit(connection)
    for key in new:
        marks[key] = callback
    transaction.on_commit(callback)
    return len(new)


def interactions_touched(interaction_ids: Iterable[int]) -> tuple[set[int], set[tuple[int, int]]]:
    """The stakeholders and (user, stakeholder) pairs whose scores these interactions feed.

    Every stakeholder of an interaction, not only one that was added or removed:
    the investment of each is shared by the number of participants.
    """
    interaction_ids = list(interaction_ids)
    if not interaction_ids:
        return set(), set()
    stakeholders_of: dict[int, set[int]] = {}
    for interaction_id, stakeholder_id in StakeholderLink.objects.filter(
        interaction_id__in=interaction_ids
    ).values_list("interaction_id", "stakeholder_id"):
        stakeholders_of.setdefault(interaction_id, set()).add(stakeholder_id)
    users_of: dict[int, set[int]] = {}
    for interaction_id, user_id in ParticipantLink.objects.filter(
        interaction_id__in=interaction_ids
    ).values_list("interaction_id", "user_id"):
        users_of.setdefault(interaction_id, set()).add(user_id)
    stakeholders = set().union(*stakeholders_of.values())
    pairs = {
        (u, s)
        for interaction_id, ss in stakeholders_of.items()
        for u in users_of.get(interaction_id, ())
        for s in ss
    }
    return stakeholders, pairs


def _mark_interactions(interaction_ids: Iterable[int]) -> None:
    stakeholders, pairs = interactions_touched(interaction_ids)
    scores_mark_stale(stakeholders, pairs)


def _interaction_saved(sender, instance: Interaction, created: bool, raw: bool = False, **kwargs):
    # A new interaction has no participants yet: the m2m additions mark it.
    if raw or created:
        return
    _mark_interactions([instance.pk])


def _interaction_deleting(sender, instance: Interaction, **kwargs):
    if bulk_changes_announced.get():
        return  # the bulk deleter marked them all with one query
    _mark_interactions([instance.pk])


def _participants_changing(sender, instance, action: str, reverse: bool, pk_set, **kwargs):
    """Either participant set of an interaction changes (from either side).

    Before a removal or clear the leaving participants are still there; after
    an addition the new ones are: marking all current ones then covers both.
    """
    if action not in {"pre_remove", "pre_clear", "post_add"}:
        return
    if not reverse:
        interaction_ids = [instance.pk]
    elif pk_set is not None:
        interaction_ids = list(pk_set)
    else:  # user.interactions.clear() / stakeholder.interactions.clear()
        interaction_ids = list(instance.interactions.values_list("pk", flat=True))
    _mark_interactions(interaction_ids)


def _owned_keys(stakeholder_id: int | None, person_id: int | None) -> tuple[list, list]:
    if stakeholder_id is None:
        return [], []
    return [stakeholder_id], ([(person_id, stakeholder_id)] if person_id else [])


def _remember_previous(sender, instance, raw: bool = False, **kwargs):
    """Before an edit, the stakeholder and person it was filed under (they may change)."""
    if raw or instance.pk is None or instance._state.adding:
        instance._metrics_previous = None
        return
    person = "responsible_id" if sender is Commitment else "credited_to_id"
    instance._metrics_previous = (
        sender.objects.filter(pk=instance.pk).values_list("stakeholder_id", person).first()
    )


def _owned_saved(sender, instance, raw: bool = False, **kwargs):
    if raw:
        return
    person_id = instance.responsible_id if sender is Commitment else instance.credited_to_id
    stakeholders, pairs = _owned_keys(instance.stakeholder_id, person_id)
    previous = getattr(instance, "_metrics_previous", None)
    if previous:
        old_stakeholders, old_pairs = _owned_keys(*previous)
        stakeholders += old_stakeholders
        pairs += old_pairs
    scores_mark_stale(stakeholders, pairs)


def _owned_deleting(sender, instance, **kwargs):
    person_id = instance.responsible_id if sender is Commitment else instance.credited_to_id
    scores_mark_stale(*_owned_keys(instance.stakeholder_id, person_id))


def _stakeholder_saved(sender, instance: Stakeholder, created: bool, raw: bool = False, **kw):
    """Cadence and importance feed `overdue` and `at_risk` at both levels."""
    if raw or created:
        return
    users = Relationship.objects.filter(stakeholder=instance).values_list("user_id", flat=True)
    scores_mark_stale([instance.pk], [(u, instance.pk) for u in users])


def _stakeholder_deleting(sender, instance: Stakeholder, **kwargs):
    """Its interactions stay but lose a participant: the others' shares change."""
    if bulk_changes_announced.get():
        return
    _mark_interactions(instance.interactions.values_list("pk", flat=True))


def _interactions_bulk_changed(sender, interaction_ids: Iterable[int], **kwargs):
    _mark_interactions(interaction_ids)


def _stakeholders_merged(
    sender, keep_id: int, interaction_ids, user_ids, absorbed_id: int | None = None, **kwargs
):
    """A merge moves rows with bulk updates (no model signals): mark what they feed."""
    _mark_interactions(interaction_ids)
    scores_mark_stale([keep_id], [(u, keep_id) for u in user_ids if u is not None])


def connect() -> None:
    from relations.signals import interactions_bulk_changed

    uid = "metrics.%s"
    interactions_bulk_changed.connect(_interactions_bulk_changed, dispatch_uid=uid % "bulk")
    post_save.connect(_interaction_saved, sender=Interaction, dispatch_uid=uid % "i_saved")
    pre_delete.connect(_interaction_deleting, sender=Interaction, dispatch_uid=uid % "i_del")
    for through in (ParticipantLink, StakeholderLink):
        m2m_changed.connect(
            _participants_changing, sender=through, dispatch_uid=uid % through.__name__
        )
    for model in (Commitment, Outcome):
        name = model.__name__
        pre_save.connect(_remember_previous, sender=model, dispatch_uid=uid % f"{name}_pre")
        post_save.connect(_owned_saved, sender=model, dispatch_uid=uid % f"{name}_saved")
        pre_delete.connect(_owned_deleting, sender=model, dispatch_uid=uid % f"{name}_del")
    post_save.connect(_stakeholder_saved, sender=Stakeholder, dispatch_uid=uid % "s_saved")
    from relations.merging.services import stakeholders_merged

    stakeholders_merged.connect(_stakeholders_merged, dispatch_uid=uid % "s_merged")
    pre_delete.connect(_stakeholder_deleting, sender=Stakeholder, dispatch_uid=uid % "s_del")
