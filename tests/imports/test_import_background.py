"""Imports on the embedded default (no broker) run in a thread of the web process: the
request that starts one returns at once, the job page's progress bar moves, and "See
the records" lists what that import created (issue 18 item 6)."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from relations.importing.models import ImportJob
from relations.models import Organization, Stakeholder
from relations.publishing import background_wait
from tests.factories import StakeholderFactory
from tests.imports.sqlite import reads_beside_a_writer

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 20_000
# A 20,000-row import takes seconds; a stuck thread must fail the test, not hang it.
DEADLINE_SECONDS = 300


@pytest.fixture
def in_background(settings):
    """The embedded default as `make run` has it: no broker, imports in a thread."""
    from config.celery import app

    assert app.conf.task_always_eager  # tests/imports/conftest.py: no broker here
    settings.RAPPORT_EMBEDDED_BACKGROUND = True
    with reads_beside_a_writer():
        yield
        assert background_wait(DEADLINE_SECONDS), "a background import is still running"


def csv_of(rows: int, prefix: str = "Person") -> bytes:
    lines = ["name,email,title"]
    lines += [f"{prefix} {i},{prefix.lower()}{i}@example.org,Buyer" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def start_import(client, content: bytes, kind="stakeholders", name="people.csv") -> ImportJob:
    uploaded = client.post(
        reverse("import-new"),
        {"kind": kind, "file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )
    assert uploaded.status_code == 302, uploaded.content.decode()[:500]
    job = ImportJob.objects.latest("pk")
    mapping = {f"column_{i}": field for i, field in enumerate(job.mapping)}
    started = client.post(
        reverse("import-preview", args=[job.pk]), {**mapping, "duplicates": "merge"}
    )
    assert started.status_code == 302 and started.url == job.get_absolute_url()
    return job


def poll_until_finished(client, job: ImportJob) -> list[dict]:
    seen = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        status = client.get(reverse("import-status", args=[job.pk]))
        assert status.status_code == 200
        seen.append(status.json())
        if not seen[-1]["active"]:
            return seen
        time.sleep(0.05)
    pytest.fail(f"the import did not finish in {DEADLINE_SECONDS} s: {seen[-1]}")


def test_a_large_import_runs_after_the_request_returned_and_its_progress_moves(
    client, manager, in_background
):
    client.force_login(manager)

    began = time.monotonic()
    job = start_import(client, csv_of(ROWS))
    returned_after = time.monotonic() - began

    job.refresh_from_db()
    # The request is back while the import is still under way: nothing held it.
    assert job.status in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING)
    assert job.processed_rows < ROWS
    page = client.get(job.get_absolute_url())
    assert page.status_code == 200 and 'data-active="true"' in page.content.decode()

    seen = poll_until_finished(client, job)

    assert seen[-1]["status"] == "done" and seen[-1]["progress"] == 1.0
    moving = sorted({s["progress"] for s in seen if 0 < s["progress"] < 1})
    assert len(moving) >= 3, (moving, returned_after)
    # Progress only ever goes forward.
    values = [s["progress"] for s in seen]
    assert values == sorted(values)
    job.refresh_from_db()
    assert (job.created_count, job.error_count) == (ROWS, 0)
    assert Stakeholder.objects.count() == ROWS


def test_see_the_records_lists_only_what_that_import_created(client, manager, in_background):
    client.force_login(manager)
    StakeholderFactory(name="Already here", owner=manager)
    first = start_import(client, csv_of(3, "First"), name="first.csv")
    assert background_wait(DEADLINE_SECONDS)
    second = start_import(client, csv_of(2, "Second"), name="second.csv")
    assert background_wait(DEADLINE_SECONDS)
    for job in (first, second):
        job.refresh_from_db()
        assert job.status == ImportJob.Status.DONE

    detail = client.get(second.get_absolute_url()).content.decode()
    link = f"{reverse('stakeholder-list')}?import_job={second.pk}"
    assert f'id="import-records" href="{link}"' in detail

    listed = client.get(link)
    names = {s.name for s in listed.context["page"].object_list}
    assert names == {"Second 0", "Second 1"}
    assert "Stakeholders created by the import of second.csv" in listed.content.decode()
    every = {s.name for s in client.get(reverse("stakeholder-list")).context["page"].object_list}
    assert {"Already here", "First 0", "Second 0"} <= every


def test_see_the_records_of_an_organisation_import(client, manager, in_background):
    client.force_login(manager)
    Organization.objects.create(name="Older Ltd")
    content = b"name,sector\nAcme,Retail\nGlobex,Energy\n"
    job = start_import(client, content, kind="organizations", name="orgs.csv")
    assert background_wait(DEADLINE_SECONDS)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE

    link = f"{reverse('organization-list')}?import_job={job.pk}"
    assert f'href="{link}"' in client.get(job.get_absolute_url()).content.decode()
    listed = client.get(link)
    assert {o.name for o in listed.context["page"].object_list} == {"Acme", "Globex"}
    assert "Organisations created by the import of orgs.csv" in listed.content.decode()


def test_another_managers_import_filters_nothing_in(client, manager, other_manager, in_background):
    client.force_login(manager)
    job = start_import(client, csv_of(2, "Mine"))
    assert background_wait(DEADLINE_SECONDS)
    StakeholderFactory(name="Otto's own", owner=other_manager)

    client.force_login(other_manager)
    listed = client.get(f"{reverse('stakeholder-list')}?import_job={job.pk}")
    # Not Otto's import: the hidden filter is refused (the list says so by showing no
    # import label) rather than revealing which rows it created.
    assert listed.status_code == 200
    assert "created by the import" not in listed.content.decode()


def test_an_import_whose_server_stopped_is_resumed_from_its_page(
    client, manager, in_background, settings
):
    """No broker, so no beat: a job left running by a stopped server (its heartbeat
    ages) is queued again when its page asks for it, and finishes in a thread."""
    from datetime import timedelta

    from django.utils import timezone

    from relations.importing import services

    client.force_login(manager)
    job, _ = services.import_job_create(
        owner=manager, kind="stakeholders", file_name="people.csv", content=csv_of(5)
    )
    old = timezone.now() - timedelta(seconds=settings.RAPPORT_IMPORT_STALE_SECONDS + 5)
    # What a killed server leaves: running, attempt 1, no progress since.
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, attempts=1, heartbeat_at=old, started_at=old
    )

    fresh = client.get(reverse("import-status", args=[job.pk])).json()
    # Running again, or, on a fast machine, already done by the thread it started.
    assert fresh["active"] or fresh["status"] == ImportJob.Status.DONE
    assert background_wait(DEADLINE_SECONDS)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.created_count) == (ImportJob.Status.DONE, 2, 5)
    assert Stakeholder.objects.count() == 5


def test_a_live_import_is_not_swept_from_its_page(client, manager, in_background):
    from django.utils import timezone

    from relations.importing import services

    client.force_login(manager)
    job, _ = services.import_job_create(
        owner=manager, kind="stakeholders", file_name="people.csv", content=csv_of(5)
    )
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, attempts=1, heartbeat_at=timezone.now()
    )

    assert client.get(reverse("import-status", args=[job.pk])).json()["active"]
    assert client.get(job.get_absolute_url()).status_code == 200
    assert background_wait(DEADLINE_SECONDS)
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportJob.Status.RUNNING, 1)
