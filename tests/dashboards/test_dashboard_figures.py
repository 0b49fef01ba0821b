"""The director dashboard and the lists behind its figures, against known answers
(see conftest.py for the network and the arithmetic)."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from networks.models import NetworkHealth
from relations.models import Team

pytestmark = pytest.mark.django_db


def names_in(html: str, table_id: str) -> list[str]:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row" class="fw-normal"><a href="[^"]+">([^<]+)</a>', table)


def test_the_stored_health_holds_the_known_answers(known):
    health = NetworkHealth.objects.get(scope="organisation", scope_id=0)
    assert health.key_stakeholders == 3
    assert health.coverage == pytest.approx(2 / 3)
    assert health.single_threaded_share == pytest.approx(1 / 3)
    assert health.unthreaded_share == pytest.approx(1 / 3)
    assert health.mean_trust == pytest.approx(0.5)
    assert health.mean_reciprocity == pytest.approx(0.5)
    assert health.health_index == pytest.approx(50)
    assert health.investment == pytest.approx(800)
    assert health.return_value == pytest.approx(5000)
    assert health.ror == pytest.approx(5.25)
    assert health.at_risk_count == 1


def test_dashboard_shows_the_figures_and_their_trend(known, director, client_for):
    # A snapshot 30 days ago, 10 points lower: the trend says +10.
    today = NetworkHealth.objects.get(scope="organisation", scope_id=0)
    NetworkHealth.objects.create(
        scope="organisation",
        scope_id=0,
        date=today.date - timedelta(days=30),
        health_index=40,
        computed_at=timezone.now(),
    )
    response = client_for(director).get(reverse("dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<span class="health-index" id="health-index">50</span>' in html
    assert "10.0 points over 90 days" in html
    for figure, shown in [
        ("covered", "67%"),
        ("single_threaded", "33%"),
        ("unthreaded", "33%"),
        ("return", "€5,000"),
        ("investment", "€800"),
        ("ror", "+525%"),
        ("at_risk", "1"),
        ("key", "3"),
    ]:
        assert f'data-figure="{figure}">{shown}</div>' in html, figure
        # Every figure links to the stakeholders behind it.
        assert f"?figure={figure}" in html
    # Scores show 0–100 with their band word (DESIGN §5b).
    for figure in ("trust", "reciprocity"):
        assert re.search(
            rf'data-figure="{figure}"><span class="score score-fair"[^>]*>'
            r'<span class="score-value">50</span> <span class="score-band">fair</span>',
            html,
        ), figure
    # The at-risk list names Bram, his reason and his owner.
    at_risk = html.split('id="at-risk-table"')[1].split("</table>")[0]
    assert "Bram" in at_risk and "Maria Manager" in at_risk and "Alba" not in at_risk
    # Charts: their data blocks and the figures as a table on demand.
    for chart in ("chart-health-index", "chart-health-shares", "chart-distribution"):
        assert f'data-chart="{chart}"' in html and f'id="{chart}"' in html
    assert html.count("Show the figures") == 3
    assert response.context["index_chart"]["datasets"][0]["data"] == [40, 50]


def test_power_interest_grid_places_and_colours_key_stakeholders(known, director, client_for):
    response = client_for(director).get(reverse("dashboard"))
    grid = {q["name"]: q for q in response.context["grid"]}
    names = {name: [p["stakeholder"].name for p in q["people"]] for name, q in grid.items()}
    assert names == {
        "manage_closely": ["Alba"],
        "keep_satisfied": ["Bram"],
        "keep_informed": ["Cleo"],
        "monitor": [],
    }
    html = response.content.decode()
    for label in ("Manage closely", "Keep satisfied", "Keep informed", "Monitor"):
        assert label in html
    # One colour scale for scores everywhere (DESIGN §5b): strong / fair / weak.
    assert re.search(r'class="score-strong" href="[^"]+"[^>]*>Alba', html)
    assert re.search(r'class="score-weak" href="[^"]+"[^>]*>Bram', html)
    assert re.search(r'class="score-none" href="[^"]+"[^>]*>Cleo', html)


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        ("key", ["Alba", "Bram", "Cleo"]),
        ("covered", ["Alba", "Bram"]),
        ("not_covered", ["Cleo"]),
        ("single_threaded", ["Alba"]),
        ("unthreaded", ["Cleo"]),
        ("trust", ["Bram", "Alba"]),
        ("at_risk", ["Bram"]),
        ("return", ["Alba"]),
        ("investment", ["Bram", "Alba", "Eve"]),
        ("manage_closely", ["Alba"]),
        ("monitor", []),
    ],
)
def test_each_figure_lists_the_stakeholders_behind_it(
    known, director, client_for, figure, expected
):
    response = client_for(director).get(reverse("dashboard-figure"), {"figure": figure})
    assert response.status_code == 200
    assert [s.name for s in response.context["page"].object_list] == expected


def test_breakdown_per_team_and_goal_links_to_the_filtered_view(
    known, manager, other_manager, director, client_for
):
    team = Team.objects.create(name="Energy desk")
    team.members.add(manager)
    from networks.services import network_recompute

    network_recompute()
    client = client_for(director)
    html = client.get(reverse("dashboard")).content.decode()
    assert f'href="/dashboard/?team={team.pk}">Energy desk</a>' in html
    goal = known["goal"]
    assert f'href="/dashboard/?goal={goal.pk}">Energy transition</a>' in html

    # The team's view: Maria's stakeholders only (Alba, Bram key; Cleo is Otto's).
    scoped = client.get(reverse("dashboard"), {"team": team.pk})
    assert scoped.context["health"].key_stakeholders == 2
    assert scoped.context["health"].unthreaded_share == 0
    behind = client.get(reverse("dashboard-figure"), {"figure": "key", "team": team.pk})
    assert [s.name for s in behind.context["page"].object_list] == ["Alba", "Bram"]
    # The goal's view: Alba and Bram, health 100 × (1 + 0.5 + 0.5 + 0.5) / 4.
    by_goal = client.get(reverse("dashboard"), {"goal": goal.pk})
    assert by_goal.context["health"].health_index == pytest.approx(62.5)


def test_bad_scope_input_is_a_field_error_not_a_500(known, director, client_for):
    client = client_for(director)
    response = client.get(reverse("dashboard"), {"team": "nope", "period": "7"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() == {"team", "period"}
    # The organisation's figures are shown meanwhile.
    assert response.context["scope"].kind == "organisation"
    both = client.get(reverse("dashboard"), {"team": "", "goal": known["goal"].pk})
    assert both.context["scope"].kind == "goal"
    odd = client.get(reverse("dashboard-figure"), {"figure": "<script>"})
    assert odd.status_code == 200 and odd.context["figure"] == "key"


def test_dashboard_is_for_directors(known, manager, client_for, client):
    assert client_for(manager).get(reverse("dashboard")).status_code == 403
    assert client_for(manager).get(reverse("dashboard-figure")).status_code == 403
    client.logout()
    assert client.get(reverse("dashboard")).status_code == 302


def test_dashboard_before_the_first_computation(director, client_for):
    response = client_for(director).get(reverse("dashboard"))
    assert response.status_code == 200
    assert "has not been computed yet" in response.content.decode()


@pytest.mark.parametrize(("query", "days"), [("", 90), ("?team=", 90), ("?period=30", 30)])
def test_the_period_box_shows_the_period_of_the_headings(known, director, client_for, query, days):
    html = client_for(director).get(reverse("dashboard") + query).content.decode()

    assert f"Trends over {days} days" in html
    period = html.split('id="id_period"', 1)[1].split("</select>", 1)[0]
    assert re.search(rf'<option value="{days}" selected>', period)
    assert 'class="form-select"' in html.split('id="id_team"', 1)[0].rsplit("<select", 1)[1]
