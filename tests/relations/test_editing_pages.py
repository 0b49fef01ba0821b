"""Create, edit and archive in the browser (DESIGN §5a): the API's rules, validation and
audit through the same services; stale edits refused with the other person's change
shown; bad input answered inline without losing what was typed.

Maria (`manager`) owns her stakeholders; Otto (`other_manager`) is a colleague; Dana
(`director`)."""

from __future__ import annotations

import pytest

from relations.models import AuditEvent, Organization, Outcome, Stakeholder, StrategicGoal
from tests.factories import GoalFactory, OrganizationFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


def _stakeholder_data(**changes):
    data = {
        "name": "Chloé Dubois",
        "title": "CFO",
        "email": "chloe@acme.example",
        "importance": 4,
        "influence": 3,
        "interest": 5,
        "legal_basis": "legitimate_interest",
        "data_source_kind": "event",
        "tags": "energy, board",
    }
    data.update(changes)
    return data


def test_a_manager_adds_a_stakeholder_with_a_new_organisation(manager_client, manager):
    response = manager_client.post(
        "/stakeholders/new/", _stakeholder_data(new_organization="Acme", owner=manager.pk)
    )
    assert response.status_code == 302
    stakeholder = Stakeholder.objects.get(name="Chloé Dubois")
    assert response["Location"] == stakeholder.get_absolute_url()
    assert stakeholder.organization.name == "Acme"
    assert stakeholder.owner == manager
    assert stakeholder.cadence_days == 45  # the default for importance 4
    assert sorted(stakeholder.tags.values_list("name", flat=True)) == ["board", "energy"]
    audited = set(
        AuditEvent.objects.filter(action="create", actor=manager).values_list(
            "object_type", flat=True
        )
    )
    assert audited == {"relations.organization", "relations.stakeholder"}


def test_bad_input_is_answered_inline_and_keeps_what_was_typed(manager_client):
    response = manager_client.post(
        "/stakeholders/new/",
        _stakeholder_data(email="not an e-mail", legal_basis="consent", notes="Met at the fair"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "Enter a valid email address." in html
    assert "Give the date of consent when consent is the basis." in html
    assert 'value="Chloé Dubois"' in html and "Met at the fair" in html
    assert not Stakeholder.objects.exists()


def test_a_stale_edit_is_refused_with_the_other_persons_change(
    manager_client, other_client, manager
):
    stakeholder = StakeholderFactory(name="Anna Andersen", title="CTO", owner=manager)
    version = stakeholder.version
    # Otto saves first, through the API's service (his page would do the same).
    other_client.post(
        f"/stakeholders/{stakeholder.pk}/edit/",
        _stakeholder_data(name="Anna Andersen", title="CEO", version=version, owner=manager.pk),
    )
    stakeholder.refresh_from_db()
    assert stakeholder.title == "CEO" and stakeholder.version == version + 1

    response = manager_client.post(
        f"/stakeholders/{stakeholder.pk}/edit/",
        _stakeholder_data(name="Anna Andersen", title="Chair", version=version, owner=manager.pk),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this record" in html
    assert 'id="edit-conflict"' in html and "CEO" in html  # their change
    assert 'value="Chair"' in html  # what Maria typed is kept
    stakeholder.refresh_from_db()
    assert stakeholder.title == "CEO"
    # Saving again, having seen theirs, is deliberate: it replaces it.
    response = manager_client.post(
        f"/stakeholders/{stakeholder.pk}/edit/",
        _stakeholder_data(
            name="Anna Andersen", title="Chair", version=version + 1, owner=manager.pk
        ),
    )
    assert response.status_code == 302
    stakeholder.refresh_from_db()
    assert stakeholder.title == "Chair"


def test_an_api_change_makes_an_open_edit_page_stale(manager_client, manager_api, manager):
    organization = OrganizationFactory(name="Acme")
    page = manager_client.get(f"/organizations/{organization.pk}/edit/")
    assert f'name="version" value="{organization.version}"' in page.content.decode()
    assert (
        manager_api.patch(
            f"/api/v1/organizations/{organization.pk}/", {"sector": "Energy"}, format="json"
        ).status_code
        == 200
    )
    response = manager_client.post(
        f"/organizations/{organization.pk}/edit/",
        {"name": "Acme", "tier": 3, "sector": "Oil", "version": organization.version},
    )
    assert response.status_code == 200
    assert "Energy" in response.content.decode()
    organization.refresh_from_db()
    assert organization.sector == "Energy"


def test_only_the_owner_or_a_director_hands_a_stakeholder_over(
    other_client, other_manager, manager
):
    stakeholder = StakeholderFactory(owner=manager)
    page = other_client.get(f"/stakeholders/{stakeholder.pk}/edit/").content.decode()
    assert "Only the owner or a director may hand this stakeholder over." in page
    # A disabled field ignores what is posted: the owner stays.
    other_client.post(
        f"/stakeholders/{stakeholder.pk}/edit/",
        _stakeholder_data(owner=other_manager.pk, version=stakeholder.version),
    )
    stakeholder.refresh_from_db()
    assert stakeholder.owner == manager


def test_archived_records_leave_the_lists_and_stay_in_the_figures(manager_client, manager):
    stakeholder = StakeholderFactory(name="Zed Archived", owner=manager)
    Outcome.objects.create(stakeholder=stakeholder, kind="deal", value=500, created_by=manager)
    response = manager_client.post(f"/stakeholders/{stakeholder.pk}/archive/")
    assert response.status_code == 302
    stakeholder.refresh_from_db()
    assert stakeholder.is_archived
    manager_client.get("/")  # shows (and so clears) the confirmation naming it
    assert "Zed Archived" not in manager_client.get("/stakeholders/").content.decode()
    assert manager_client.get(stakeholder.get_absolute_url()).status_code == 200
    assert Outcome.objects.filter(stakeholder=stakeholder).count() == 1
    # Restored, it is listed again.
    manager_client.post(f"/stakeholders/{stakeholder.pk}/archive/", {"restore": "1"})
    assert "Zed Archived" in manager_client.get("/stakeholders/").content.decode()
    assert AuditEvent.objects.filter(object_id=str(stakeholder.pk), action="update").count() == 2


def test_an_outcome_is_recorded_from_the_stakeholder_page(manager_client, manager):
    stakeholder = StakeholderFactory(owner=manager)
    page = manager_client.get(stakeholder.get_absolute_url()).content.decode()
    assert f"/outcomes/new/?stakeholder={stakeholder.pk}" in page
    form = manager_client.get(f"/outcomes/new/?stakeholder={stakeholder.pk}").content.decode()
    assert f'<option value="{stakeholder.pk}" selected>' in form
    response = manager_client.post(
        "/outcomes/new/",
        {
            "stakeholder": stakeholder.pk,
            "kind": "deal",
            "value": "2500.00",
            "occurred_on": "2026-11-20",
            "credited_to": manager.pk,
        },
    )
    assert response.status_code == 302
    outcome = Outcome.objects.get()
    assert outcome.created_by == manager and outcome.value == 2500
    assert "2,500.00" in manager_client.get(stakeholder.get_absolute_url()).content.decode()


def test_a_negative_outcome_value_is_refused_inline(manager_client, manager):
    stakeholder = StakeholderFactory(owner=manager)
    response = manager_client.post(
        "/outcomes/new/",
        {"stakeholder": stakeholder.pk, "kind": "deal", "value": "-5", "occurred_on": "2026-11-20"},
    )
    assert response.status_code == 200
    assert "Ensure this value is greater than or equal to 0" in response.content.decode()
    assert not Outcome.objects.exists()


def test_a_director_creates_a_goal_with_linked_stakeholders(director_client, manager):
    one, two = StakeholderFactory(), StakeholderFactory()
    response = director_client.post(
        "/goals/new/",
        {
            "title": "Enter Germany",
            "status": "active",
            "owner": manager.pk,
            "links-TOTAL_FORMS": 3,
            "links-INITIAL_FORMS": 0,
            "links-0-stakeholder": one.pk,
            "links-0-role": "sponsor",
            "links-1-stakeholder": two.pk,
            "links-1-role": "champion",
        },
    )
    assert response.status_code == 302
    goal = StrategicGoal.objects.get(title="Enter Germany")
    assert goal.owner == manager
    assert dict(goal.links.values_list("stakeholder_id", "role")) == {
        one.pk: "sponsor",
        two.pk: "champion",
    }


def test_a_managers_new_goal_is_her_own_and_others_goals_are_not_hers_to_edit(
    manager_client, manager, director
):
    response = manager_client.post(
        "/goals/new/",
        {
            "title": "Mine",
            "status": "draft",
            "owner": director.pk,
            "links-TOTAL_FORMS": 0,
            "links-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302
    assert StrategicGoal.objects.get(title="Mine").owner == manager
    dana_goal = GoalFactory(owner=director)
    assert manager_client.get(f"/goals/{dana_goal.pk}/edit/").status_code == 403
    assert manager_client.post(f"/goals/{dana_goal.pk}/archive/").status_code == 403


def test_a_link_is_added_and_removed_from_the_stakeholder_page(manager_client):
    one, two = StakeholderFactory(name="One"), StakeholderFactory(name="Two")
    response = manager_client.post(
        f"/stakeholders/{one.pk}/links/new/",
        {"to_stakeholder": two.pk, "kind": "reports_to", "strength": "0.8"},
    )
    assert response.status_code == 302
    link = one.links_out.get()
    duplicate = manager_client.post(
        f"/stakeholders/{one.pk}/links/new/",
        {"to_stakeholder": two.pk, "kind": "reports_to", "strength": "0.5"},
    )
    assert "This link of this kind already exists." in duplicate.content.decode()
    manager_client.post(f"/stakeholder-links/{link.pk}/edit/", {"delete": "1"})
    assert not one.links_out.exists()


def test_organisation_list_leaves_archived_out(manager_client, manager):
    kept, archived = OrganizationFactory(name="Kept BV"), OrganizationFactory(name="Gone BV")
    manager_client.post(f"/organizations/{archived.pk}/archive/")
    manager_client.get("/")  # shows (and so clears) the confirmation naming it
    html = manager_client.get("/organizations/").content.decode()
    assert "Kept BV" in html and "Gone BV" not in html
    assert Organization.objects.get(pk=archived.pk).is_archived and kept.archived_at is None


def test_the_stakeholder_page_stays_bounded(manager_client, manager, django_assert_max_num_queries):
    stakeholder = StakeholderFactory(owner=manager)
    for _ in range(5):
        Outcome.objects.create(stakeholder=stakeholder, kind="deal", value=1, created_by=manager)
        StakeholderFactory().links_in.create(from_stakeholder=stakeholder, kind="colleague")
    # Bounded whatever the number of outcomes and links; the upper apps' panels included.
    with django_assert_max_num_queries(40):
        assert manager_client.get(stakeholder.get_absolute_url()).status_code == 200


def test_quick_create_answers_the_type_ahead(manager_client, manager):
    response = manager_client.post(
        "/stakeholders/quick-new/",
        {"name": "Nina Newcomer", "organization_name": "Fairground BV", "email": "n@f.example"},
    )
    assert response.status_code == 201
    nina = Stakeholder.objects.get(name="Nina Newcomer")
    assert response.json() == {"value": nina.pk, "text": "Nina Newcomer — Fairground BV"}
    assert nina.owner == manager
    bad = manager_client.post("/stakeholders/quick-new/", {"name": "", "email": "nope"})
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"name", "email"}
