"""A 20,000-row import on the embedded default in headless Chromium: the request that
starts it returns at once, the progress bar moves through several values while the
import runs in a thread of the server, the page stays responsive, and "See the
records" lists what that import created. Offline, with no console errors."""

import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from relations.importing.models import ImportJob
from relations.models import Stakeholder
from relations.publishing import background_wait
from tests.factories import StakeholderFactory
from tests.imports.sqlite import reads_beside_a_writer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROWS = 20_000
# A 20,000-row import takes seconds; a stuck one fails the journey instead of hanging.
DEADLINE_SECONDS = 300


@pytest.fixture(autouse=True)
def _embedded_default(settings):
    """No broker, imports in a thread of the server: `make run` without environment."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    settings.RAPPORT_EMBEDDED_BACKGROUND = True
    with reads_beside_a_writer():
        yield
        assert background_wait(300), "the background import did not end"
    app.conf.task_always_eager = before


def test_a_large_import_moves_the_bar_and_see_the_records_filters(
    page: Page, live_server, manager, offline, problems, tmp_path
):
    StakeholderFactory(name="Anna Existing", owner=manager)
    path = tmp_path / "people.csv"
    lines = ["name,email,title"] + [f"Person {i},p{i}@example.org,Buyer" for i in range(ROWS)]
    path.write_text("\n".join(lines) + "\n")

    page.goto(f"{live_server.url}/accounts/login/?next=/imports/new/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("What the file holds").select_option("stakeholders")
    page.locator("input[type=file][name=file]").set_input_files(str(path))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/preview/$"))

    began = time.monotonic()
    page.get_by_role("button", name=f"Import {ROWS} rows").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    answered_after = time.monotonic() - began
    job = ImportJob.objects.get()
    assert job.status in (ImportJob.Status.PENDING, ImportJob.Status.RUNNING), answered_after

    # Responsive while it runs: another page of the app answers meanwhile.
    started = time.monotonic()
    assert page.evaluate("async () => (await fetch('/imports/')).status") == 200
    assert time.monotonic() - started < 5

    # What the bar shows, read as the user would see it, until the report replaces it.
    shown = []
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            if page.locator("#import-report").is_visible():
                break
            shown.append(int(page.locator("#import-bar").get_attribute("aria-valuenow")))
        except (PlaywrightError, TypeError):
            pass  # the page is reloading itself with the report
        page.wait_for_timeout(100)
    moving = sorted({value for value in shown if 0 < value < 100})
    assert len(moving) >= 3, shown
    assert shown == sorted(shown)

    expect(page.locator("#import-report")).to_be_visible()
    expect(page.locator("#import-percent")).to_have_text("100 %")
    expect(page.locator("#count-created")).to_have_text(str(ROWS))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE

    page.get_by_role("link", name="See the records").click()
    expect(page.locator("#hidden-filters")).to_contain_text(
        "Stakeholders created by the import of people.csv"
    )
    expect(page.locator("main")).not_to_contain_text("Anna Existing")
    assert Stakeholder.objects.count() == ROWS + 1
    assert offline == []
    assert problems == []
