"""Network endpoints of DESIGN §6 on the designed network."""

import pytest

from networks.models import NetworkHealth


def test_health_of_the_organisation(designed, api, director):
    body = api(director).get("/api/v1/network/health/").json()
    assert body["key_stakeholders"] == 3
    assert body["single_threaded_share"] == pytest.approx(1 / 3)
    assert set(body) >= {
        "coverage",
        "single_threaded_share",
        "unthreaded_share",
        "mean_trust",
        "mean_reciprocity",
        "return",
        "investment",
        "ror",
        "at_risk_count",
        "key_stakeholders",
        "health_index",
        "computed_at",
    }


def test_health_of_a_team_and_a_goal(designed, api, director, manager):
    from tests.factories import GoalFactory, TeamFactory

    team = TeamFactory()
    team.members.add(manager)
    goal = GoalFactory()
    goal.links.create(stakeholder=designed["cleo"], role="sponsor")
    from networks.services import network_recompute

    network_recompute()

    team_body = api(director).get(f"/api/v1/network/health/?team={team.pk}").json()
    # Maria owns Alba and Bram, both key, Alba single-threaded.
    assert team_body["key_stakeholders"] == 2
    assert team_body["single_threaded_share"] == pytest.approx(0.5)
    goal_body = api(director).get(f"/api/v1/network/health/?goal={goal.pk}").json()
    assert goal_body["key_stakeholders"] == 1
    assert goal_body["unthreaded_share"] == 1.0


def test_health_history_lists_daily_points(designed, api, director):
    body = api(director).get("/api/v1/network/health/history/").json()
    assert body["scope"] == "organisation"
    assert len(body["results"]) == NetworkHealth.objects.filter(scope="organisation").count() == 1


@pytest.mark.parametrize(
    "query", ["team=abc", "goal=0", "team=1&goal=1", "min_strength=2", "limit=0", "limit=99999"]
)
def test_bad_query_parameters_are_400_naming_the_field(designed, api, director, query):
    url = (
        "/api/v1/network/graph/"
        if "strength" in query or "limit" in query
        else ("/api/v1/network/health/")
    )
    response = api(director).get(f"{url}?{query}")
    assert response.status_code == 400
    field = query.split("=")[0] if "&" not in query else "goal"
    assert field in response.json()


def test_unknown_team_is_404(designed, api, director):
    assert api(director).get("/api/v1/network/health/?team=99999").status_code == 404


def test_key_person_risk_director_sees_all_manager_only_self(
    designed, api, director, manager, other_manager
):
    expected = [{"user": manager.pk, "single_threaded": [designed["alba"].pk]}]
    assert api(director).get("/api/v1/network/key-person-risk/").json()["users"] == expected
    assert api(manager).get("/api/v1/network/key-person-risk/").json()["users"] == expected
    assert api(other_manager).get("/api/v1/network/key-person-risk/").json()["users"] == []


def test_intro_paths_strongest_first_target_last(designed, api, other_manager):
    body = api(other_manager).get(f"/api/v1/stakeholders/{designed['daan'].pk}/intro-paths/").json()
    assert body["paths"][0]["nodes"][-1] == {"type": "stakeholder", "id": designed["daan"].pk}
    strengths = [p["strength"] for p in body["paths"]]
    assert strengths == sorted(strengths, reverse=True)


def test_intro_paths_show_a_manager_only_her_own_relationships_strength(
    designed, api, manager, other_manager, director
):
    # Maria's route to Daan starts with her relationship with Alba: its strength is hers
    # and the directors' to see (DESIGN §7), not Otto's.
    url = f"/api/v1/stakeholders/{designed['daan'].pk}/intro-paths/"

    def starts(user):
        return {path["nodes"][0]["id"] for path in api(user).get(url).json()["paths"]}

    assert starts(director) == {manager.pk, other_manager.pk}
    assert starts(other_manager) == {other_manager.pk}
    assert starts(manager) == {manager.pk}


def test_intro_paths_of_unknown_stakeholder_is_404(designed, api, manager):
    assert api(manager).get("/api/v1/stakeholders/999999/intro-paths/").status_code == 404


def test_graph_for_director_and_its_bound(designed, api, director):
    body = api(director).get("/api/v1/network/graph/").json()
    ids = {n["id"] for n in body["nodes"]}
    assert f"stakeholder-{designed['alba'].pk}" in ids
    assert body["truncated"] is False
    assert all(e["source"] in ids and e["target"] in ids for e in body["edges"])

    cut = api(director).get("/api/v1/network/graph/?limit=2").json()
    assert len(cut["nodes"]) == 2
    assert cut["truncated"] is True
    assert "best-connected" in cut["message"]


def test_graph_for_a_manager_shows_only_their_part(designed, api, other_manager):
    body = api(other_manager).get("/api/v1/network/graph/").json()
    stakeholder_ids = {n["object_id"] for n in body["nodes"] if n["type"] == "stakeholder"}
    # Otto owns Cleo and Daan and knows Bram; Alba is Maria's alone.
    assert designed["alba"].pk not in stakeholder_ids
    assert designed["bram"].pk in stakeholder_ids


def test_anonymous_is_401(designed, client):
    assert client.get("/api/v1/network/health/").status_code == 401


def test_graph_queries_are_bounded(designed, api, director, django_assert_max_num_queries):
    client = api(director)
    # session + user + groups, latest run, users, stakeholders, key flags, node metrics
    with django_assert_max_num_queries(10):
        client.get("/api/v1/network/graph/")


def test_intro_paths_of_a_malformed_id_is_a_json_404(designed, api, manager):
    response = api(manager).get("/api/v1/stakeholders/abc/intro-paths/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
