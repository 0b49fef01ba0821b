"""Delete pages (issue #17): whoever the API lets DELETE a record (`deletable_by`:
directors for stakeholders and organisations) deletes it in the browser too, after a
confirmation that says what goes with it, through the same service and audit row;
everybody else gets 403 on the page as in the API, and managers archive instead.

Maria (`manager`) owns the stakeholder; Dana (`director`)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from metrics.models import StakeholderScore
from relations.models import (
    AuditEvent,
    AuthenticityPulse,
    Commitment,
    Organization,
    Outcome,
    Relationship,
    Stakeholder,
    StrategicGoal,
)
from tests.factories import (
    CommitmentFactory,
    GoalFactory,
    OrganizationFactory,
    OutcomeFactory,
    StakeholderFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def anna(manager):
    stakeholder = StakeholderFactory(name="Anna Andersen", owner=manager)
    Relationship.objects.create(user=manager, stakeholder=stakeholder)
    CommitmentFactory(stakeholder=stakeholder, responsible=manager, created_by=manager)
    CommitmentFactory(stakeholder=stakeholder, responsible=manager, created_by=manager)
    OutcomeFactory(stakeholder=stakeholder, credited_to=manager)
    return stakeholder


def test_a_director_sees_what_goes_with_a_stakeholder_then_deletes_it(
    director_client, director, anna
):
    StakeholderScore.objects.create(stakeholder=anna, trust=0.5, computed_at=timezone.now())
    page = director_client.get(f"/stakeholders/{anna.pk}/delete/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Delete “Anna Andersen”" in html and "cannot be undone" in html
    assert 'id="delete-consequences"' in html
    assert "Commitment</dt>" in html and '<dd class="col-4 col-sm-7 mb-1">2</dd>' in html
    assert "Relationship</dt>" in html and "Outcome</dt>" in html
    assert "score" not in html.lower().split('id="delete-consequences"')[1].split("</dl>")[0]
    assert f'href="/stakeholders/{anna.pk}/archive/"' in html  # archiving is offered
    assert Stakeholder.objects.filter(pk=anna.pk).exists()  # a GET deletes nothing

    response = director_client.post(f"/stakeholders/{anna.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/stakeholders/"
    assert not Stakeholder.objects.filter(pk=anna.pk).exists()
    assert not Commitment.objects.filter(stakeholder_id=anna.pk).exists()
    event = AuditEvent.objects.get(action="delete", object_type="relations.stakeholder")
    assert event.actor == director and event.object_id == str(anna.pk)
    assert event.changes["name"] == "Anna Andersen"


def test_a_manager_is_refused_as_in_the_api(manager_client, manager_api, anna):
    organization = OrganizationFactory(name="Acme")
    for path, api in (
        (f"/stakeholders/{anna.pk}/delete/", f"/api/v1/stakeholders/{anna.pk}/"),
        (f"/organizations/{organization.pk}/delete/", f"/api/v1/organizations/{organization.pk}/"),
    ):
        assert manager_client.get(path).status_code == 403
        assert manager_client.post(path).status_code == 403
        assert manager_api.delete(api).status_code == 403
    assert Stakeholder.objects.filter(pk=anna.pk).exists()
    assert Organization.objects.filter(pk=organization.pk).exists()
    assert not AuditEvent.objects.filter(action="delete").exists()


def test_the_edit_page_links_to_delete_only_for_whom_may(manager_client, director_client, anna):
    link = f'href="/stakeholders/{anna.pk}/delete/"'
    assert link not in manager_client.get(f"/stakeholders/{anna.pk}/edit/").content.decode()
    assert link in director_client.get(f"/stakeholders/{anna.pk}/edit/").content.decode()
    organization = OrganizationFactory()
    link = f'href="/organizations/{organization.pk}/delete/"'
    assert (
        link not in manager_client.get(f"/organizations/{organization.pk}/edit/").content.decode()
    )
    assert link in director_client.get(f"/organizations/{organization.pk}/edit/").content.decode()


def test_records_their_editors_may_delete_have_the_page_for_them(
    manager_client, other_client, manager, anna
):
    """A goal's owner, and those who may change an outcome, relationship or commitment,
    may delete it in the API: the page is theirs too."""
    goal = GoalFactory(owner=manager, title="Grid 2030")
    outcome = Outcome.objects.get(stakeholder=anna)
    relationship = Relationship.objects.get(stakeholder=anna, user=manager)
    commitment = Commitment.objects.filter(stakeholder=anna).first()
    for path, edit in (
        (f"/goals/{goal.pk}/delete/", f"/goals/{goal.pk}/edit/"),
        (f"/outcomes/{outcome.pk}/delete/", f"/outcomes/{outcome.pk}/edit/"),
        (f"/relationships/{relationship.pk}/delete/", f"/relationships/{relationship.pk}/edit/"),
        (f"/commitments/{commitment.pk}/delete/", f"/commitments/{commitment.pk}/edit/"),
    ):
        assert manager_client.get(path).status_code == 200, path
        assert f'href="{path}"' in manager_client.get(edit).content.decode(), edit
        assert other_client.get(path).status_code in (403, 404), path
    assert manager_client.post(f"/goals/{goal.pk}/delete/").status_code == 302
    assert manager_client.post(f"/commitments/{commitment.pk}/delete/").status_code == 302
    assert not StrategicGoal.objects.filter(pk=goal.pk).exists()
    assert not Commitment.objects.filter(pk=commitment.pk).exists()
    assert set(
        AuditEvent.objects.filter(action="delete").values_list("object_type", flat=True)
    ) == {"relations.strategicgoal", "relations.commitment"}


def test_the_api_deletes_through_the_same_service(director_api, director, anna):
    assert director_api.delete(f"/api/v1/stakeholders/{anna.pk}/").status_code == 204
    event = AuditEvent.objects.get(action="delete", object_type="relations.stakeholder")
    assert event.actor == director


def test_a_pulse_is_deleted_by_its_author_through_the_apis_service(
    manager_client, other_client, manager, other_manager, anna
):
    """The API deletes a pulse for its author or a director (`pulse_delete`): the page
    too, linked from the relationship page's pulse history for them only."""
    relationship = Relationship.objects.get(stakeholder=anna, user=manager)
    Relationship.objects.create(user=other_manager, stakeholder=anna)
    pulse = AuthenticityPulse.objects.create(
        relationship=relationship,
        assessed_by=manager,
        integrity=4,
        transparency=3,
        reliability=5,
    )
    history = manager_client.get(relationship.get_absolute_url()).content.decode()
    assert f'href="/pulses/{pulse.pk}/delete/"' in history
    page = manager_client.get(f"/pulses/{pulse.pk}/delete/")
    assert page.status_code == 200
    assert "Delete “Pulse of" in page.content.decode()
    # Otto may not see Maria's pulse: 404, as in the API.
    assert other_client.get(f"/pulses/{pulse.pk}/delete/").status_code == 404
    assert other_client.post(f"/pulses/{pulse.pk}/delete/").status_code == 404
    response = manager_client.post(f"/pulses/{pulse.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == relationship.get_absolute_url()
    assert not AuthenticityPulse.objects.filter(pk=pulse.pk).exists()
    assert AuditEvent.objects.filter(
        action="delete", object_type="relations.authenticitypulse", actor=manager
    ).exists()
