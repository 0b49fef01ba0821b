"""The relationship page's inline plan form carries the version it was read at, as the
relationship's edit page does (issue #17): a plan saved meanwhile by someone else,
on a page or through the API, is not overwritten; theirs is shown, what the editor
typed is kept, and saving again replaces it.

Maria (`manager`) is the relationship's user; Dana (`director`)."""

from __future__ import annotations

import pytest

from relations.models import Relationship
from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def relationship(manager):
    stakeholder = StakeholderFactory(name="Anna Andersen", owner=manager)
    return Relationship.objects.create(user=manager, stakeholder=stakeholder, role="owner")


def _plan(version, **changes):
    return {"status": "active", "objective": "", "desired_strength": "", "next_review": "",
            "version": version, **changes}  # fmt: skip


def test_the_plan_form_carries_the_version(manager_client, relationship):
    html = manager_client.get(relationship.get_absolute_url()).content.decode()
    assert 'id="plan-form"' in html
    assert f'name="version" value="{relationship.version}"' in html


def test_a_stale_plan_is_refused_and_theirs_shown(manager_client, director_api, relationship):
    read_at = relationship.version
    response = director_api.patch(
        f"/api/v1/relationships/{relationship.pk}/",
        {"objective": "Dana's objective"},
        format="json",
    )
    assert response.status_code == 200
    response = manager_client.post(
        relationship.get_absolute_url(), _plan(read_at, objective="Maria's objective")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this record" in html
    assert 'id="edit-conflict"' in html and "Dana&#x27;s objective" in html
    assert "Maria&#x27;s objective" in html  # what Maria typed is kept in the form
    assert f'name="version" value="{read_at + 1}"' in html  # her next save is deliberate
    relationship.refresh_from_db()
    assert relationship.objective == "Dana's objective"
    response = manager_client.post(
        relationship.get_absolute_url(), _plan(read_at + 1, objective="Maria's objective")
    )
    assert response.status_code == 302
    relationship.refresh_from_db()
    assert relationship.objective == "Maria's objective"


def test_the_edit_page_and_the_plan_form_see_each_others_saves(manager_client, relationship):
    read_at = relationship.version
    manager_client.post(
        f"/relationships/{relationship.pk}/edit/",
        {"role": "owner", "status": "dormant", "objective": "From the edit page",
         "version": read_at},
    )  # fmt: skip
    relationship.refresh_from_db()
    assert relationship.status == "dormant"
    response = manager_client.post(
        relationship.get_absolute_url(), _plan(read_at, objective="From the plan form")
    )
    assert "Someone else saved this record" in response.content.decode()
    relationship.refresh_from_db()
    assert relationship.objective == "From the edit page"


def test_a_plan_without_its_version_is_a_form_error(manager_client, relationship):
    data = _plan("", objective="No version")
    response = manager_client.post(relationship.get_absolute_url(), data)
    assert response.status_code == 200
    assert "version" in response.context["form"].errors
    relationship.refresh_from_db()
    assert relationship.objective == ""
