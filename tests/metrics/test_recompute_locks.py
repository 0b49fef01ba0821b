"""Recomputation locks (PostgreSQL): a worker scoring a stakeholder holds that
stakeholder's group, so a second worker waits for it and reads what it committed,
while workers scoring other stakeholders go on side by side; a full recomputation
excludes every incremental one."""

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from metrics import recompute
from metrics.models import PendingRecompute, StakeholderScore
from metrics.recompute import RECOMPUTE_LOCK_KEY, STAKEHOLDER_LOCK_GROUPS
from tests.factories import InteractionFactory, StakeholderFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="advisory locks exist on PostgreSQL only"
    ),
]


class HoldInAnotherConnection:
    """Run `take()` in a transaction of another connection and keep it open (its locks
    held) until the block ends."""

    def __init__(self, take):
        self.take, self.result = take, None
        self.holding, self.release = threading.Event(), threading.Event()
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            with transaction.atomic():
                self.result = self.take()
                self.holding.set()
                self.release.wait(30)
        except BaseException as error:  # reported in the test's thread
            self.error = error
            self.holding.set()
        finally:
            connections.close_all()

    def __enter__(self):
        self.thread = threading.Thread(target=self._run)
        self.thread.start()
        assert self.holding.wait(30)
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(30)


def _locks_within(stakeholder_ids, seconds: str) -> bool:
    """Whether this connection gets the recomputation locks of these stakeholders
    within `seconds` (then released with the transaction)."""
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = %s", [seconds])
            recompute.recomputation_lock(stakeholder_ids)
    except OperationalError:
        return False
    return True


def _group_free(stakeholder_id: int) -> bool:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)",
            [RECOMPUTE_LOCK_KEY, stakeholder_id % STAKEHOLDER_LOCK_GROUPS],
        )
        return cursor.fetchone()[0]


def test_a_stakeholder_being_scored_makes_a_second_worker_wait_and_no_other():
    first, second = 7, 8  # two groups
    with HoldInAnotherConnection(lambda: recompute.recomputation_lock([first])):
        assert not _locks_within([first], "300ms")
        assert not _locks_within([second, first], "300ms")
        assert _locks_within([second], "2s")
        assert _locks_within([first + STAKEHOLDER_LOCK_GROUPS + 1], "2s")
    assert _locks_within([first], "2s")


def test_a_full_recomputation_waits_for_incremental_ones_and_they_for_it():
    incremental = HoldInAnotherConnection(lambda: recompute.recomputation_lock([3]))
    with incremental, connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RECOMPUTE_LOCK_KEY])
        assert cursor.fetchone()[0] is False

    def full_run_lock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [RECOMPUTE_LOCK_KEY])

    with HoldInAnotherConnection(full_run_lock):
        assert not _locks_within([3], "300ms")


def test_claiming_markers_holds_their_stakeholders_groups_until_commit():
    claimed_stakeholder = StakeholderFactory()
    other = StakeholderFactory()
    PendingRecompute.objects.all().delete()
    PendingRecompute.objects.create(stakeholder_id=claimed_stakeholder.pk)

    with HoldInAnotherConnection(lambda: recompute._markers_claim(None)) as worker:
        assert worker.result == [(claimed_stakeholder.pk, None)]
        assert not _group_free(claimed_stakeholder.pk)
        if other.pk % STAKEHOLDER_LOCK_GROUPS != claimed_stakeholder.pk % STAKEHOLDER_LOCK_GROUPS:
            assert _group_free(other.pk)
    assert _group_free(claimed_stakeholder.pk)


def test_the_worker_that_waited_stores_the_later_reading():
    stakeholder = StakeholderFactory()
    InteractionFactory(with_stakeholders=[stakeholder])
    recompute.scores_recompute([stakeholder.pk])
    before = StakeholderScore.objects.get(stakeholder=stakeholder).given

    # The first worker holds the stakeholder; meanwhile an interaction is committed.
    with HoldInAnotherConnection(lambda: recompute.recomputation_lock([stakeholder.pk])):
        with transaction.atomic():
            InteractionFactory(with_stakeholders=[stakeholder])
            # Scored by the waiting worker below, not by a task run here on commit
            # (without a broker it would run in this thread and wait for the lock).
            connection.run_on_commit.clear()
        waited = threading.Thread(target=_recompute_in_own_transaction, args=[stakeholder.pk])
        waited.start()
        waited.join(0.5)
        assert waited.is_alive(), "the second worker must wait for the first"
    waited.join(30)
    assert StakeholderScore.objects.get(stakeholder=stakeholder).given > before


def _recompute_in_own_transaction(stakeholder_id: int) -> None:
    try:
        with transaction.atomic():
            recompute.recomputation_lock([stakeholder_id])
            recompute.scores_recompute([stakeholder_id])
    finally:
        connections.close_all()
