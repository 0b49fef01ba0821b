"""Imports whose task or worker was lost: the sweep queues them again, the next run
imports every row exactly once, and after the last attempt the job fails visibly."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from relations.importing import services, tasks
from relations.importing.models import ImportJob
from relations.models import AuditEvent, Organization, Stakeholder

pytestmark = pytest.mark.django_db(transaction=True)

CSV = ("name,organization\n" + "".join(f"P{i},Org{i % 2}\n" for i in range(5))).encode()
LATER = timedelta(minutes=11)  # past RAPPORT_IMPORT_STALE_SECONDS (10 minutes)


class WorkerKilled(BaseException):
    """Not an Exception: like SIGKILL, the run gets no chance to clean up after itself."""


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)


@pytest.fixture
def kill_in_batch(monkeypatch):
    """`kill_in_batch(n)`: the worker dies while writing batch n (the batches before it
    are committed). Only once: the next run is unharmed."""
    original = services.StakeholderImporter.write
    plan = {"at": None, "calls": 0}

    def write(self, rows):
        plan["calls"] += 1
        if plan["calls"] == plan["at"]:
            plan["at"] = None
            raise WorkerKilled
        return original(self, rows)

    monkeypatch.setattr(services.StakeholderImporter, "write", write)

    def arm(batch: int) -> None:
        plan["at"], plan["calls"] = batch, 0

    return arm


def queued_but_lost(user, monkeypatch) -> ImportJob:
    """Start an import whose task never reaches a worker (the broker lost it)."""
    job, _ = services.import_job_create(
        owner=user, kind="stakeholders", file_name="people.csv", content=CSV
    )
    with monkeypatch.context() as patch:
        patch.setattr(tasks.import_run, "delay", lambda *args, **kwargs: None)
        services.import_job_start(job, mapping=None, duplicates="merge")
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportJob.Status.PENDING, 1)
    return job


def killed_half_way(user, monkeypatch, kill_in_batch) -> ImportJob:
    job = queued_but_lost(user, monkeypatch)
    kill_in_batch(2)
    with pytest.raises(WorkerKilled):
        services.import_run(job.pk, 1)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    assert job.processed_rows == 2
    assert Stakeholder.objects.count() == 2  # the first batch is committed
    return job


def test_a_killed_run_is_queued_again_and_imports_every_row_once(
    manager, monkeypatch, small_batches, kill_in_batch
):
    job = killed_half_way(manager, monkeypatch, kill_in_batch)

    # The run is silent, but not for long enough yet.
    assert services.import_sweep_stale() == {"requeued": 0, "failed": 0}

    # In process (no broker), the queued run happens when the sweep commits.
    counts = services.import_sweep_stale(now=timezone.now() + LATER)

    assert counts == {"requeued": 1, "failed": 0}
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.attempts, job.created_count, job.processed_rows) == (2, 5, 5)
    assert sorted(Stakeholder.objects.values_list("name", flat=True)) == [f"P{i}" for i in range(5)]
    assert sorted(Organization.objects.values_list("name", flat=True)) == ["Org0", "Org1"]
    # The first attempt's task, redelivered late, changes nothing.
    assert services.import_run(job.pk, 1) == "done"
    assert Stakeholder.objects.count() == 5
    # Nor does the next sweep.
    assert services.import_sweep_stale(now=timezone.now() + LATER) == {
        "requeued": 0,
        "failed": 0,
    }


def test_a_lost_task_of_a_queued_job_is_queued_again(manager, monkeypatch):
    job = queued_but_lost(manager, monkeypatch)

    assert services.import_sweep_stale(now=timezone.now() + LATER)["requeued"] == 1

    job.refresh_from_db()
    assert (job.status, job.attempts, job.created_count) == (ImportJob.Status.DONE, 2, 5)


def test_jobs_making_progress_are_left_alone(manager, monkeypatch, small_batches, kill_in_batch):
    running = killed_half_way(manager, monkeypatch, kill_in_batch)
    # Its last batch was a minute ago: a slow batch, not a lost run.
    ImportJob.objects.filter(pk=running.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=1)
    )
    pending = queued_but_lost(manager, monkeypatch)
    finished, _ = services.import_job_create(
        owner=manager, kind="stakeholders", file_name="old.csv", content=CSV
    )
    ImportJob.objects.filter(pk=finished.pk).update(
        status=ImportJob.Status.DONE, heartbeat_at=timezone.now() - timedelta(days=1)
    )

    assert services.import_sweep_stale() == {"requeued": 0, "failed": 0}

    states = dict(ImportJob.objects.values_list("pk", "status"))
    assert states == {
        running.pk: ImportJob.Status.RUNNING,
        pending.pk: ImportJob.Status.PENDING,
        finished.pk: ImportJob.Status.DONE,
    }
    assert set(ImportJob.objects.values_list("attempts", flat=True)) == {0, 1}
    assert Stakeholder.objects.count() == 2


def test_after_the_last_attempt_the_job_fails_and_its_page_says_why(
    client, manager, monkeypatch, settings, small_batches, kill_in_batch
):
    settings.RAPPORT_IMPORT_MAX_ATTEMPTS = 2
    job = killed_half_way(manager, monkeypatch, kill_in_batch)
    monkeypatch.setattr(tasks.import_run, "delay", lambda *args, **kwargs: None)
    now = timezone.now()

    assert services.import_sweep_stale(now=now + LATER) == {"requeued": 1, "failed": 0}
    # The second attempt is lost too.
    assert services.import_sweep_stale(now=now + 2 * LATER) == {"requeued": 0, "failed": 1}

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.attempts == 2
    assert "did not finish after 2 attempts" in job.error
    # What the killed run had written is gone: nothing half-imported stays behind.
    assert not Stakeholder.objects.exists()
    assert not Organization.objects.exists()
    assert job.created == {} and job.created_count == 0
    client.force_login(manager)
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert "The import did not finish after 2 attempts" in page
    assert client.get(f"/imports/{job.pk}/status/").json()["active"] is False
    # A give-up is final: later sweeps leave the job alone.
    assert services.import_sweep_stale(now=now + 3 * LATER) == {"requeued": 0, "failed": 0}


def test_a_run_taken_over_by_a_later_one_stops_before_its_next_batch(
    manager, monkeypatch, small_batches
):
    """The sweep took a slow run for a lost one and queued the job again. The slow run
    resumes while the later run is half-way: it must write nothing more (each batch
    checks the run's claim), and the later run imports every row once."""
    job = queued_but_lost(manager, monkeypatch)
    slow_paused, slow_resume = threading.Event(), threading.Event()
    original = services._claim_hold
    calls = {"slow": 0, "later": 0}
    result = {}

    def claim_hold(job_id, claim):
        run = "slow" if threading.current_thread().name == "slow-run" else "later"
        calls[run] += 1
        if run == "slow" and calls[run] == 2:  # between its first and second batch
            slow_paused.set()
            assert slow_resume.wait(30)
        if run == "later" and calls[run] == 2:  # after its first batch
            slow_resume.set()
            thread.join(30)
        return original(job_id, claim)

    monkeypatch.setattr(services, "_claim_hold", claim_hold)

    def slow_run():
        try:
            result["slow"] = services.import_run(job.pk, 1)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_run, name="slow-run")
    thread.start()
    try:
        assert slow_paused.wait(30)
        assert services.import_sweep_stale(now=timezone.now() + LATER)["requeued"] == 1
    finally:
        slow_resume.set()
        thread.join(30)

    assert result["slow"] == "superseded"
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportJob.Status.DONE, 2)
    assert (job.created_count, job.merged_count) == (5, 0)
    assert sorted(Stakeholder.objects.values_list("name", flat=True)) == [f"P{i}" for i in range(5)]


def imported_then_undo_lost(user, monkeypatch) -> ImportJob:
    """An import that finished, then an undo whose task never reached a worker."""
    job = queued_but_lost(user, monkeypatch)
    services.import_run(job.pk, 1)
    with monkeypatch.context() as patch:
        patch.setattr(tasks.import_undo, "delay", lambda *args, **kwargs: None)
        services.import_undo_start(job, by=user)
    job.refresh_from_db()
    assert (job.status, job.undo_by, Stakeholder.objects.count()) == (
        ImportJob.Status.UNDOING,
        user,
        5,
    )
    return job


def test_a_lost_undo_is_queued_again_on_behalf_of_who_asked(manager, monkeypatch):
    job = imported_then_undo_lost(manager, monkeypatch)

    assert services.import_sweep_stale() == {"requeued": 0, "failed": 0}
    assert services.import_sweep_stale(now=timezone.now() + LATER) == {"requeued": 1, "failed": 0}

    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE
    assert not Stakeholder.objects.exists()
    undo = AuditEvent.objects.filter(object_id=str(job.pk), changes__has_key="undo").get()
    assert undo.actor == manager


def test_an_undo_lost_every_time_gives_the_import_back(client, manager, monkeypatch, settings):
    settings.RAPPORT_IMPORT_MAX_ATTEMPTS = 2
    job = imported_then_undo_lost(manager, monkeypatch)
    monkeypatch.setattr(tasks.import_undo, "delay", lambda *args, **kwargs: None)
    now = timezone.now()

    assert services.import_sweep_stale(now=now + LATER) == {"requeued": 1, "failed": 0}
    assert services.import_sweep_stale(now=now + 2 * LATER) == {"requeued": 0, "failed": 1}

    job.refresh_from_db()
    # Nothing was removed: the import stands, and says why it is not undone.
    assert job.status == ImportJob.Status.DONE
    assert Stakeholder.objects.count() == 5
    client.force_login(manager)
    assert "The undo did not finish" in client.get(f"/imports/{job.pk}/").content.decode()
    # It can be undone again, and then the message goes.
    monkeypatch.undo()
    services.import_undo_start(job, by=manager)
    job.refresh_from_db()
    assert (job.status, job.error) == (ImportJob.Status.UNDONE, "")
    assert not Stakeholder.objects.exists()
