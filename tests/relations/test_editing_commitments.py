"""A commitment's edit page (issue #17): what the API changes, the browser changes too,
through the same service (`commitment_update`), rule (`editable_by`) and audit, with a
stale edit refused and the other person's change shown.

Maria (`manager`) is responsible for the promise; Otto (`other_manager`) knows the
stakeholder too (so he sees the promise) but has no part in it; Dana (`director`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from relations.models import AuditEvent, Commitment, Relationship
from tests.factories import CommitmentFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def promise(manager, other_manager):
    stakeholder = StakeholderFactory(name="Anna Andersen", owner=manager)
    Relationship.objects.create(user=other_manager, stakeholder=stakeholder)
    return CommitmentFactory(
        stakeholder=stakeholder,
        responsible=manager,
        created_by=manager,
        description="Send the grid study",
    )


def _data(promise, **changes):
    data = {
        "description": promise.description,
        "direction": promise.direction,
        "due_date": promise.due_date.isoformat(),
        "responsible": promise.responsible_id,
        "status": promise.status,
        "version": promise.version,
    }
    data.update(changes)
    return data


def test_the_responsible_edits_and_closes_a_commitment(
    manager_client, manager, other_manager, promise
):
    due = timezone.localdate() + timedelta(days=30)
    response = manager_client.post(
        f"/commitments/{promise.pk}/edit/",
        _data(
            promise,
            description="Send the revised grid study",
            due_date=due.isoformat(),
            responsible=other_manager.pk,
            status="kept",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == promise.stakeholder.get_absolute_url()
    promise.refresh_from_db()
    assert promise.description == "Send the revised grid study"
    assert promise.due_date == due and promise.responsible == other_manager
    assert promise.status == "kept" and promise.completed_on == timezone.localdate()
    assert promise.version == 2
    event = AuditEvent.objects.get(action="update", object_type="relations.commitment")
    assert event.actor == manager
    assert set(event.changes) >= {"description", "due_date", "responsible", "status"}


def test_reopening_clears_the_completion_date(manager_client, promise, manager):
    manager_client.post(f"/commitments/{promise.pk}/edit/", _data(promise, status="broken"))
    promise.refresh_from_db()
    assert promise.completed_on is not None
    manager_client.post(f"/commitments/{promise.pk}/edit/", _data(promise, status="open"))
    promise.refresh_from_db()
    assert promise.status == "open" and promise.completed_on is None


def test_the_edit_page_is_for_whom_the_api_lets_change_it(
    other_client, other_api, director_client, promise
):
    assert other_client.get(f"/commitments/{promise.pk}/edit/").status_code == 403
    assert (
        other_client.post(
            f"/commitments/{promise.pk}/edit/", _data(promise, description="Hijacked")
        ).status_code
        == 403
    )
    assert (
        other_api.patch(
            f"/api/v1/commitments/{promise.pk}/", {"description": "Hijacked"}, format="json"
        ).status_code
        == 403
    )
    promise.refresh_from_db()
    assert promise.description == "Send the grid study"
    assert director_client.get(f"/commitments/{promise.pk}/edit/").status_code == 200


def test_bad_input_is_a_form_error_and_changes_nothing(manager_client, promise):
    response = manager_client.post(
        f"/commitments/{promise.pk}/edit/",
        _data(promise, description="", due_date="not a date", status="maybe"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved" in html
    promise.refresh_from_db()
    assert promise.description == "Send the grid study" and promise.version == 1


def test_a_stale_edit_is_refused_with_the_other_persons_change(
    manager_client, director_api, promise
):
    page = manager_client.get(f"/commitments/{promise.pk}/edit/").content.decode()
    assert 'name="version" value="1"' in page
    # Dana changes it through the API meanwhile (the same service).
    assert (
        director_api.patch(
            f"/api/v1/commitments/{promise.pk}/",
            {"description": "Send the short study"},
            format="json",
        ).status_code
        == 200
    )
    response = manager_client.post(
        f"/commitments/{promise.pk}/edit/", _data(promise, description="Send the long study")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this record" in html
    assert 'id="edit-conflict"' in html and "Send the short study" in html
    assert 'value="Send the long study"' in html  # what Maria typed is kept
    promise.refresh_from_db()
    assert promise.description == "Send the short study"
    # Saving again, having seen theirs, replaces it.
    response = manager_client.post(
        f"/commitments/{promise.pk}/edit/",
        _data(promise, description="Send the long study", version=promise.version),
    )
    assert response.status_code == 302
    promise.refresh_from_db()
    assert promise.description == "Send the long study"


def test_a_status_set_on_the_list_makes_an_open_edit_stale(manager_client, promise):
    manager_client.post(f"/commitments/{promise.pk}/status/", {"status": "kept"})
    response = manager_client.post(
        f"/commitments/{promise.pk}/edit/", _data(promise, description="Changed")
    )
    assert "Someone else saved this record" in response.content.decode()
    promise.refresh_from_db()
    assert promise.status == "kept" and promise.description == "Send the grid study"


def test_the_api_refuses_a_stale_if_match_and_shows_the_version(manager_api, promise):
    answer = manager_api.get(f"/api/v1/commitments/{promise.pk}/").json()
    assert answer["version"] == 1
    stale = manager_api.patch(
        f"/api/v1/commitments/{promise.pk}/",
        {"status": "kept"},
        format="json",
        HTTP_IF_MATCH='"0"',
    )
    assert stale.status_code == 409
    fresh = manager_api.patch(
        f"/api/v1/commitments/{promise.pk}/",
        {"status": "kept"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert fresh.status_code == 200
    assert fresh.json()["version"] == 2 and fresh.json()["completed_on"] is not None


def test_commitment_lists_link_to_the_edit_page(manager_client, other_client, promise):
    link = f'href="/commitments/{promise.pk}/edit/?next='
    assert link in manager_client.get(f"/stakeholders/{promise.stakeholder_id}/").content.decode()
    assert link in manager_client.get("/commitments/").content.decode()
    # Otto sees the promise on the stakeholder page, not the link he may not follow.
    html = other_client.get(f"/stakeholders/{promise.stakeholder_id}/").content.decode()
    assert "Send the grid study" in html and link not in html


def test_after_saving_the_page_returns_where_it_came_from(manager_client, promise):
    response = manager_client.post(
        f"/commitments/{promise.pk}/edit/?next=/commitments/",
        {**_data(promise, description="Call back"), "next": "/commitments/"},
    )
    assert response["Location"] == "/commitments/"
    assert Commitment.objects.get(pk=promise.pk).description == "Call back"
