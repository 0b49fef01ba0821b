"""Issue #17 in the browser: Maria changes a promise from her commitment list and is
brought back to it; she logs a meeting choosing the value given and received from
labelled radio groups found by their legend; Dana deletes a stakeholder after the
confirmation that says what goes with it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from relations.models import Commitment, Interaction, Relationship, Stakeholder
from tests.factories import CommitmentFactory, StakeholderFactory, UserFactory
from tests.mfa import sign_in_through_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def maria(transactional_db):
    return UserFactory(username="maria", first_name="Maria", last_name="Manager", role="manager")


def _sign_in(page: Page, live_server, username: str) -> None:
    sign_in_through_form(page, live_server, username)  # with Dana's second factor
    expect(page.locator("h1").first).to_be_visible()


def test_a_promise_is_changed_from_the_commitment_list(page: Page, live_server, maria, problems):
    anna = StakeholderFactory(name="Anna Andersen", owner=maria)
    promise = CommitmentFactory(
        stakeholder=anna, responsible=maria, created_by=maria, description="Send the study"
    )
    _sign_in(page, live_server, "maria")
    page.goto(f"{live_server.url}/commitments/")
    page.get_by_role("link", name="Edit Send the study").click()
    expect(page.get_by_role("heading", name="Edit commitment to Anna Andersen")).to_be_visible()
    page.get_by_label("Description").fill("Send the revised study")
    due = timezone.localdate() + timedelta(days=21)
    page.get_by_label("Due date").fill(due.isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(r"/commitments/$"))
    expect(page.locator("#commitments")).to_contain_text("Send the revised study")
    promise.refresh_from_db()
    assert promise.description == "Send the revised study" and promise.due_date == due
    assert problems == []


def test_values_are_chosen_from_labelled_groups(page: Page, live_server, maria, problems):
    anna = StakeholderFactory(name="Anna Andersen", owner=maria)
    Relationship.objects.create(user=maria, stakeholder=anna)
    _sign_in(page, live_server, "maria")
    page.goto(f"{live_server.url}/interactions/new/?stakeholder={anna.pk}")
    page.get_by_label("Subject").fill("Advice on the grid")
    given = page.get_by_role("group", name="Value given")
    expect(given.get_by_label("0 none")).to_be_checked()
    given.get_by_label("4 a lot").check()
    page.get_by_role("group", name="Value received").get_by_label("1 a little").check()
    page.get_by_role("button", name="Log interaction", exact=True).last.click()
    expect(page).to_have_url(re.compile(rf"/stakeholders/{anna.pk}/$"))
    interaction = Interaction.objects.get(subject="Advice on the grid")
    assert (interaction.value_given, interaction.value_received) == (4, 1)
    assert problems == []


def test_a_director_deletes_a_stakeholder_after_the_confirmation(
    page: Page, live_server, director, problems
):
    anna = StakeholderFactory(name="Anna Andersen", owner=director)
    CommitmentFactory(stakeholder=anna, responsible=director, created_by=director)
    _sign_in(page, live_server, director.username)
    page.goto(f"{live_server.url}/stakeholders/{anna.pk}/edit/")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete “Anna Andersen”")).to_be_visible()
    expect(page.locator("#delete-consequences")).to_contain_text("Commitment")
    page.get_by_role("button", name="Delete for good").click()
    expect(page).to_have_url(re.compile(r"/stakeholders/$"))
    expect(page.get_by_role("status").or_(page.locator(".alert")).first).to_contain_text(
        "was deleted"
    )
    assert not Stakeholder.objects.filter(pk=anna.pk).exists()
    assert not Commitment.objects.exists()
    assert problems == []
