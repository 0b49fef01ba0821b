"""Everything in the browser (issue 17): a manager adds a stakeholder and their
organisation, logs a meeting with a commitment, records an outcome and sees RoR move;
adds someone new from the interaction form's type-ahead without losing what she typed;
and an edit that crossed a colleague's is refused with the colleague's change shown."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from relations.models import Interaction, Stakeholder
from tests.browser.menus import open_menu
from tests.dashboards.conftest import _tasks_in_process  # noqa: F401 (autouse: scores on commit)
from tests.factories import UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def maria(transactional_db):
    return UserFactory(username="maria", first_name="Maria", last_name="Manager", role="manager")


def _sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/accounts/login/")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Hello, Maria")).to_be_visible()


def _ror(page: Page) -> str:
    return page.locator(".scores-panel .score-row-ror summary").inner_text()


def test_new_stakeholder_meeting_outcome_and_ror(page: Page, live_server, maria, problems):
    _sign_in(page, live_server.url)
    page.get_by_role("link", name="Stakeholders").first.click()
    page.get_by_role("link", name="New stakeholder").click()
    page.locator("#id_name").fill("Chloé Dubois")
    page.locator("#id_new_organization").fill("Acme Energy")
    page.locator("#id_title").fill("CFO")
    page.locator("#id_importance").fill("4")
    page.get_by_role("button", name="Save").click()
    chloe = Stakeholder.objects.get(name="Chloé Dubois")
    expect(page).to_have_url(re.compile(rf"/stakeholders/{chloe.pk}/$"))
    expect(page.locator("main")).to_contain_text("Acme Energy")

    # "Log interaction" on her page prefills her.
    page.get_by_role("link", name="Log interaction").last.click()
    expect(page.locator("#id_stakeholders option[selected]")).to_have_text(
        "Chloé Dubois — Acme Energy"
    )
    page.get_by_label("Subject").fill("Budget meeting")
    page.locator("#id_cost").fill("200")
    page.get_by_label("Commitment").fill("Send the budget")
    page.get_by_label("Due").fill((timezone.localdate() + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Log interaction", exact=True).last.click()
    expect(page).to_have_url(re.compile(rf"/stakeholders/{chloe.pk}/$"))
    expect(page.locator("#timeline")).to_contain_text("Budget meeting")
    expect(page.locator("#commitments-heading + ul")).to_contain_text("Send the budget")
    page.reload()  # the scores were computed on commit
    before = _ror(page)

    page.get_by_role("link", name="Record an outcome").first.click()
    page.locator("#id_kind").select_option("deal")
    page.locator("#id_value").fill("5000")
    page.locator("#id_occurred_on").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/stakeholders/{chloe.pk}/$"))
    expect(page.locator("#outcome-list")).to_contain_text("5,000.00")
    page.reload()
    assert _ror(page) != before
    assert problems == []


def test_someone_new_is_added_from_the_interaction_form(page: Page, live_server, maria, problems):
    _sign_in(page, live_server.url)
    page.get_by_role("link", name="Log interaction").first.click()
    page.get_by_label("Subject").fill("Coffee at the fair")
    page.locator("#id_stakeholders-ts-control").fill("Nina Newcomer")
    page.locator(".ts-dropdown .create").click()
    panel = page.locator("#quick-stakeholder")
    expect(panel).to_be_visible()
    expect(panel.locator("#quick-name")).to_have_value("Nina Newcomer")
    panel.locator("#quick-organization").fill("Fairground BV")
    panel.locator("#quick-email").fill("nina@fair.example")
    panel.get_by_role("button", name="Create and add").click()
    expect(panel).to_be_hidden()
    # She is picked, and the subject typed before is still there.
    expect(page.locator(".ts-control .item", has_text="Nina Newcomer")).to_have_count(1)
    expect(page.get_by_label("Subject")).to_have_value("Coffee at the fair")
    page.get_by_role("button", name="Log interaction", exact=True).last.click()
    nina = Stakeholder.objects.get(name="Nina Newcomer")
    expect(page).to_have_url(re.compile(rf"/stakeholders/{nina.pk}/$"))
    assert nina.organization.name == "Fairground BV" and nina.email == "nina@fair.example"
    assert Interaction.objects.get().subject == "Coffee at the fair"
    assert problems == []


def test_an_edit_that_crossed_a_colleagues_is_refused(page: Page, live_server, maria):
    chloe = Stakeholder.objects.create(name="Chloé Dubois", title="CFO", owner=maria)
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/stakeholders/{chloe.pk}/edit/")
    # A colleague saves first, in another tab.
    other = page.context.new_page()
    other.goto(f"{live_server.url}/stakeholders/{chloe.pk}/edit/")
    other.locator("#id_title").fill("CEO")
    other.get_by_role("button", name="Save").click()
    expect(other).to_have_url(re.compile(rf"/stakeholders/{chloe.pk}/$"))

    page.locator("#id_title").fill("Chair of the board")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#form-errors")).to_contain_text("Someone else saved this record")
    expect(page.locator("#edit-conflict")).to_contain_text("CEO")
    expect(page.locator("#id_title")).to_have_value("Chair of the board")
    chloe.refresh_from_db()
    assert chloe.title == "CEO"


def test_header_search_finds_chloe_from_dubois_chloe(page: Page, live_server, maria, problems):
    chloe = Stakeholder.objects.create(name="Chloé Dubois", title="CFO", owner=maria)
    Stakeholder.objects.create(name="Anna Andersen")
    _sign_in(page, live_server.url)
    page.goto(f"{live_server.url}/commitments/")
    page.keyboard.press("/")
    search = page.locator("#header-search-input")
    expect(search).to_be_focused()
    search.press_sequentially("dubois chloe", delay=20)
    results = page.locator("#header-search-results")
    expect(results).to_contain_text("Chloé Dubois")
    expect(results).not_to_contain_text("Anna Andersen")
    results.get_by_role("link", name=re.compile("Chloé Dubois")).click()
    expect(page).to_have_url(re.compile(rf"/stakeholders/{chloe.pk}/$"))
    # Ctrl-K as well, from any page.
    page.keyboard.press("Control+k")
    expect(page.locator("#header-search-input")).to_be_focused()
    assert problems == []


def test_a_meeting_with_someone_new_in_eight_clicks(page: Page, live_server, maria, problems):
    """Issue 17's budget: a meeting with a new stakeholder, a note and a commitment in at
    most 8 clicks and no more keystrokes than the text typed plus 10."""
    _sign_in(page, live_server.url)
    clicks, keys, text = 0, 0, 0

    def click(locator) -> None:
        nonlocal clicks
        clicks += 1
        locator.click()

    def type_text(value: str) -> None:
        nonlocal keys, text
        keys += len(value)
        text += len(value)
        page.keyboard.type(value)

    click(page.get_by_role("link", name="Log interaction").first)
    type_text("Intro at the fair")  # the subject has the focus
    click(page.locator("#id_stakeholders-ts-control"))
    type_text("Nina Newcomer")
    click(page.locator(".ts-dropdown .create"))
    type_text("Fairground BV")  # the new person's organisation has the focus
    click(page.get_by_role("button", name="Create and add"))
    click(page.get_by_label("Notes"))
    type_text("Wants a pilot in spring")
    click(page.get_by_label("Commitment"))
    type_text("Send the pilot terms")
    click(page.get_by_role("button", name="+1 week"))
    click(page.get_by_role("button", name="Log interaction", exact=True).last)

    nina = Stakeholder.objects.get(name="Nina Newcomer")
    expect(page).to_have_url(re.compile(rf"/stakeholders/{nina.pk}/$"))
    interaction = Interaction.objects.get()
    assert interaction.kind == "meeting" and interaction.notes == "Wants a pilot in spring"
    commitment = interaction.commitments.get()
    # A week from the browser's today (its clock may sit on the other side of midnight).
    week = timezone.localdate() + timedelta(days=7)
    assert abs((commitment.due_date - week).days) <= 1
    assert clicks <= 8 and keys <= text + 10, (clicks, keys, text)
    assert problems == []


def test_a_goal_with_linked_stakeholders(page: Page, live_server, maria, problems):
    """A manager's goal is her own (directors may give goals to others: tests/relations)."""
    chloe = Stakeholder.objects.create(name="Chloé Dubois", owner=maria)
    _sign_in(page, live_server.url)
    open_menu(page, "Insights")
    page.get_by_role("link", name="Goals").first.click()
    page.get_by_role("link", name="New goal").click()
    page.locator("#id_title").fill("Enter the French market")
    page.locator("#id_status").select_option("active")
    # Wait for the type-ahead's answer, so that the option clicked is not re-rendered.
    with page.expect_response(lambda r: "/autocomplete/stakeholders/" in r.url):
        page.locator("#id_links-0-stakeholder-ts-control").fill("dubois")
    page.locator(".ts-dropdown .option", has_text="Chloé Dubois").click()
    expect(page.locator("#id_links-0-stakeholder")).to_have_value(str(chloe.pk))
    page.locator("#id_links-0-role").fill("sponsor")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Enter the French market")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Chloé Dubois")
    goal = chloe.goals.get()
    assert goal.owner == maria and goal.links.get().role == "sponsor"
    assert problems == []
