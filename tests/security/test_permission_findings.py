"""Security review, permission findings (issue 16 items 3, 10, 11): each fixed where
the rule lives (`relations` models and querysets, `NetworkHealth.scope_visible_to`),
each test failing before the fix.

- Maria (`manager`) and Otto (`other_manager`) are colleagues; Dana (`director`).
"""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from metrics.models import RelationshipScore
from networks.models import NetworkHealth
from relations.models import AuthenticityPulse, Relationship, Stakeholder, StrategicGoal
from tests.factories import GoalFactory, StakeholderFactory, TeamFactory


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- 16.3: taking over a colleague's stakeholder -----------------------------------------


@pytest.mark.django_db
def test_a_manager_cannot_give_herself_a_colleagues_stakeholder(manager, other_manager, director):
    his = StakeholderFactory(name="Otto's contact", owner=other_manager)
    url = f"/api/v1/stakeholders/{his.pk}/"

    response = api(manager).patch(url, {"owner": manager.pk}, format="json")

    assert response.status_code == 403
    his.refresh_from_db()
    assert his.owner == other_manager
    # She still edits the record itself, as every colleague does.
    assert api(manager).patch(url, {"title": "CFO"}, format="json").status_code == 200
    # Its owner hands it over, as in the browser; so does a director.
    assert api(other_manager).patch(url, {"owner": manager.pk}, format="json").status_code == 200
    assert api(director).patch(url, {"owner": other_manager.pk}, format="json").status_code == 200
    his.refresh_from_db()
    assert his.owner == other_manager


@pytest.mark.django_db
def test_after_a_refused_takeover_she_cannot_merge_his_stakeholder_into_hers(
    manager, other_manager
):
    hers = StakeholderFactory(name="Sam Smit", owner=manager)
    his = StakeholderFactory(name="Sam Smit", owner=other_manager)
    maria = api(manager)
    maria.patch(f"/api/v1/stakeholders/{his.pk}/", {"owner": manager.pk}, format="json")

    response = maria.post(
        f"/api/v1/stakeholders/{hers.pk}/merge/", {"other": his.pk}, format="json"
    )

    assert response.status_code == 403
    assert Stakeholder.objects.filter(pk=his.pk, owner=other_manager).exists()


@pytest.fixture
def _imports_in_process():
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_imports_in_process")
def test_a_merging_csv_import_cannot_change_a_colleagues_stakeholders_owner(manager, other_manager):
    his = StakeholderFactory(name="Kim Jansen", email="kim@acme.example", owner=other_manager)
    content = f"name,email,owner\nKim Jansen,kim@acme.example,{manager.username}\n".encode()

    response = api(manager).post(
        "/api/v1/imports/",
        {
            "file": SimpleUploadedFile("people.csv", content, content_type="text/csv"),
            "kind": "stakeholders",
            "mapping": json.dumps({"name": "name", "email": "email", "owner": "owner"}),
            "duplicates": "merge",
        },
        format="multipart",
    )

    assert response.status_code == 202, response.json()
    job = api(manager).get(response.json()["url"]).json()
    assert job["status"] == "done"
    assert job["error_count"] == 1
    his.refresh_from_db()
    assert his.owner == other_manager


# --- 16.10: a director's strategic goal ------------------------------------------------


@pytest.mark.django_db
def test_a_manager_cannot_change_delete_or_take_a_directors_goal(manager, director):
    goal = GoalFactory(title="Enter Germany", owner=director)
    url = f"/api/v1/goals/{goal.pk}/"
    maria = api(manager)

    assert maria.get(url).status_code == 200  # every colleague sees goals
    assert maria.patch(url, {"title": "Mine now"}, format="json").status_code == 403
    assert maria.patch(url, {"owner": manager.pk}, format="json").status_code == 403
    assert maria.delete(url).status_code == 403
    goal.refresh_from_db()
    assert (goal.title, goal.owner) == ("Enter Germany", director)
    # …so its health figures stay the directors'.
    assert maria.get("/api/v1/network/health/", {"goal": goal.pk}).status_code == 403


@pytest.mark.django_db
def test_a_manager_changes_her_own_goal_but_only_directors_give_goals_away(
    manager, other_manager, director
):
    goal = GoalFactory(title="Grow Benelux", owner=manager)
    url = f"/api/v1/goals/{goal.pk}/"
    maria = api(manager)

    assert maria.patch(url, {"title": "Grow the Benelux"}, format="json").status_code == 200
    assert maria.patch(url, {"owner": other_manager.pk}, format="json").status_code == 403
    assert api(other_manager).patch(url, {"title": "x"}, format="json").status_code == 403
    assert api(director).patch(url, {"owner": other_manager.pk}, format="json").status_code == 200
    # A manager's new goal is her own; she cannot make one for somebody else.
    made = maria.post("/api/v1/goals/", {"title": "New"}, format="json")
    assert made.status_code == 201 and made.json()["owner"] == manager.pk
    other = {"title": "For Dana", "owner": director.pk}
    assert maria.post("/api/v1/goals/", other, format="json").status_code == 403
    assert not StrategicGoal.objects.filter(title="For Dana").exists()


# --- 16.11: network-health figures, relationship scores and pulses ------------------------


def _health(scope: str, scope_id: int = 0) -> NetworkHealth:
    return NetworkHealth.objects.create(
        scope=scope,
        scope_id=scope_id,
        date=timezone.localdate(),
        health_index=61.5,
        computed_at=timezone.now(),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/network/health/", "/api/v1/network/health/history/"])
def test_network_health_figures_reach_managers_as_the_pages_say(path, manager, director):
    team = TeamFactory()
    theirs = GoalFactory(owner=director)
    mine = GoalFactory(owner=manager)
    for scope, scope_id in [("organisation", 0), ("team", team.pk), ("goal", theirs.pk)]:
        _health(scope, scope_id)
    _health("goal", mine.pk)
    maria, dana = api(manager), api(director)

    # As /dashboard/ (403) and /goals/<id>/ (figures for directors and the goal's owner).
    assert browser(manager).get("/dashboard/").status_code == 403
    assert maria.get(path).status_code == 403
    assert maria.get(path, {"team": team.pk}).status_code == 403
    assert maria.get(path, {"goal": theirs.pk}).status_code == 403
    assert maria.get(path, {"goal": mine.pk}).status_code == 200
    for query in ({}, {"team": team.pk}, {"goal": theirs.pk}, {"goal": mine.pk}):
        assert dana.get(path, query).status_code == 200


@pytest.fixture
def marias_relationship(manager, other_manager, stakeholder):
    """Maria's relationship with Sam, with stored scores; Otto also knows Sam."""
    relationship = Relationship.objects.create(user=manager, stakeholder=stakeholder)
    Relationship.objects.create(user=other_manager, stakeholder=stakeholder)
    RelationshipScore.objects.create(
        relationship=relationship, trust=0.8, strength=0.7, computed_at=timezone.now()
    )
    return relationship


@pytest.mark.django_db
def test_a_colleague_who_knows_the_stakeholder_cannot_read_or_assess_her_relationship(
    manager, other_manager, director, marias_relationship
):
    scores = f"/api/v1/relationships/{marias_relationship.pk}/scores/"
    pulses = f"/api/v1/relationships/{marias_relationship.pk}/pulses/"
    body = {"integrity": 4, "transparency": 4, "reliability": 4}
    otto = api(other_manager)

    assert otto.get(scores).status_code == 404
    assert otto.post(pulses, body, format="json").status_code == 403
    page = browser(other_manager).get(marias_relationship.get_absolute_url()).content.decode()
    assert "0.80" not in page and "0,80" not in page
    assert not AuthenticityPulse.objects.exists()
    # Hers and the directors'.
    assert api(manager).get(scores).json()["trust"] == 0.8
    assert api(director).get(scores).status_code == 200
    assert api(manager).post(pulses, body, format="json").status_code == 201
