"""A manager brings in a CSV of 1,000 stakeholders in headless Chromium: upload,
preview and mapping, the progress bar following the worker to 100 %, the report
with the bad row, and undo. Offline, with no console errors (so no CSP violations)."""

import codecs
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from relations.importing import services, tasks
from relations.importing.models import ImportJob
from relations.models import Stakeholder
from tests.browser.menus import open_menu
from tests.factories import StakeholderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _tasks_in_process():
    # No worker serves browser tests: the undo runs in process, as without a broker.
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def worker_later(monkeypatch):
    """The import is queued but not run until the test says so, as with a busy worker."""
    monkeypatch.setattr(tasks.import_run, "delay", lambda *args, **kwargs: None)


def people_csv(path) -> str:
    lines = ["Naam;E-mailadres;Organisatie;Functie"]
    lines += [f"Person {i};person{i}@example.nl;Org {i % 10};Advisor" for i in range(1, 999)]
    lines.insert(500, "Broken Row;not-an-address;Org 1;Advisor")  # line 501
    lines.append("Anna Existing;anna@acme.nl;Acme;Director")  # matches an existing record
    path.write_bytes(codecs.BOM_UTF8 + "\r\n".join(lines).encode() + b"\r\n")
    return str(path)


def test_manager_imports_a_csv_follows_progress_and_undoes_it(
    page: Page, live_server, manager, offline, problems, worker_later, tmp_path
):
    anna = StakeholderFactory(name="Anna Existing", email="anna@acme.nl", title="Buyer")
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()

    open_menu(page, "Stakeholders")
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page).to_have_url(re.compile(r"/imports/$"))
    page.get_by_role("link", name="New import").click()
    page.get_by_label("What the file holds").select_option("stakeholders")
    page.locator("input[type=file][name=file]").set_input_files(people_csv(tmp_path / "people.csv"))
    page.get_by_role("button", name="Upload and preview").click()

    # The preview: how the file was read, the first rows, a guessed field per column.
    expect(page).to_have_url(re.compile(r"/imports/\d+/preview/$"))
    expect(page.locator("#import-summary")).to_contain_text("1000 rows of Stakeholders (CSV)")
    expect(page.locator("#import-summary")).to_contain_text("Separated by semicolons.")
    expect(page.locator("#import-preview")).to_contain_text("person1@example.nl")
    expect(page.get_by_label("Field for column E-mailadres")).to_have_value("email")
    expect(page.get_by_label("Field for column Functie")).to_have_value("title")
    page.get_by_label("Skip the row").check()
    page.get_by_role("button", name="Import 1000 rows").click()

    # Queued: the bar waits at 0 % and follows the job as the worker moves it.
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    job = ImportJob.objects.get()
    bar = page.locator("#import-bar")
    expect(bar).to_have_attribute("aria-valuenow", "0")
    expect(page.locator("#import-status-text")).to_have_text("Queued")
    ImportJob.objects.filter(pk=job.pk).update(status="running", processed_rows=400)
    expect(page.locator("#import-percent")).to_have_text("40 %")
    expect(page.locator("#import-status-text")).to_have_text("Importing")
    ImportJob.objects.filter(pk=job.pk).update(status="pending", processed_rows=0)
    services.import_run(job.pk)

    # Done: the page reloads itself with the report.
    expect(page.locator("#import-report")).to_be_visible()
    expect(page.locator("#import-percent")).to_have_text("100 %")
    expect(bar).to_have_attribute("aria-valuenow", "100")
    expect(page.locator("#count-created")).to_have_text("998")
    expect(page.locator("#count-skipped")).to_have_text("1")
    expect(page.locator("#count-errors")).to_have_text("1")
    errors = page.locator("#import-errors")
    expect(errors).to_contain_text("501")
    expect(errors).to_contain_text("“not-an-address” is not an e-mail address.")
    matched = page.locator("#import-matched")
    expect(matched).to_contain_text("Anna Existing")
    expect(matched).to_contain_text("skipped")
    assert Stakeholder.objects.count() == 999

    # The page survives a reload: the job lives in the database.
    page.reload()
    expect(page.locator("#count-created")).to_have_text("998")

    page.get_by_role("button", name="Undo this import…").click()
    page.get_by_role("button", name="Yes, undo the import").click()
    expect(page.locator("#import-undone")).to_be_visible()
    expect(page.locator("#import-status-text")).to_have_text("Undone")
    assert list(Stakeholder.objects.all()) == [anna]

    page.goto(f"{live_server.url}/stakeholders/?q=Person")
    expect(page.locator("main")).not_to_contain_text("person1@example.nl")
    assert offline == []
    assert problems == []


def test_an_import_whose_worker_was_lost_fails_with_a_message_on_its_page(
    page: Page, live_server, manager, offline, problems, worker_later, settings
):
    """The task never reaches a worker; the sweep gives the job up after its last attempt,
    and the open page, following the job, shows why."""
    settings.RAPPORT_IMPORT_MAX_ATTEMPTS = 1
    job, _ = services.import_job_create(
        owner=manager, kind="stakeholders", file_name="people.csv", content=b"name\nAnna\n"
    )
    services.import_job_start(job, mapping=None, duplicates="merge")
    page.goto(f"{live_server.url}/accounts/login/?next=/imports/{job.pk}/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#import-status-text")).to_have_text("Queued")

    services.import_sweep_stale(now=timezone.now() + timedelta(minutes=11))

    expect(page.locator("#import-status-text")).to_have_text("Failed")
    expect(page.locator("#import-error")).to_contain_text(
        "The import did not finish after 1 attempt (the worker stopped or the job was lost)."
    )
    assert not Stakeholder.objects.exists()
    assert offline == []
    assert problems == []
