"""Mark scores stale when the data under them changes, and queue their recomputation.

One receiver of `relations.signals.records_changed`, which every write to
interactions (their two participant sets included), commitments, outcomes and
stakeholders sends in its transaction (`relations.signals` for writes of
one row, the bulk writers themselves otherwise): it writes dirty markers for
exactly the stakeholders and (user, stakeholder) relationships the change
touches, in the same transaction, and after commit one task per transaction is
queued.

Not covered: `QuerySet.update()` and `bulk_create()` by writers that do not send
`records_changed` (bulk loaders such as `seed_demo` run a full recomputation
instead), and the nightly refresh catches up anything else (decay, key status).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

from relations.models import Interaction
from relations.publishing import enqueue
from relations.signals import records_changed

from .models import PendingRecompute

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
    Broker down: the markers stay and the periodic sweep recomputes them.
    """

    def __init__(self, connection):
        self.connection = connection

    def __call__(self) -> None:
        from .tasks import recompute_pending

        if not getattr(self.connection, _MARKS_ATTRIBUTE, None):
            return  # an earlier callback of the same commit has queued the task
        setattr(self.connection, _MARKS_ATTRIBUTE, {})
        enqueue(recompute_pending)


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


def _records_changed(
    sender,
    interactions: Iterable[int] = (),
    stakeholders: Iterable[int] = (),
    pairs: Iterable[tuple[int, int]] = (),
    **kwargs,
) -> None:
    touched_stakeholders, touched_pairs = interactions_touched(interactions)
    scores_mark_stale([*touched_stakeholders, *stakeholders], [*touched_pairs, *pairs])


def connect() -> None:
    records_changed.connect(_records_changed, dispatch_uid="metrics.records_changed")
