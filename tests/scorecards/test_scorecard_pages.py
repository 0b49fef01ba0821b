"""The scorecard pages, the lists behind their figures, and who may see them."""

import re
from html import unescape

import pytest
from django.urls import reverse

from dashboards.scorecards import Period, figure_links, scorecards_for

pytestmark = pytest.mark.django_db


def scorecard_url(user, query=""):
    return reverse("person-scorecard", args=[user.pk]) + query


def commitment_descriptions(response) -> list[str]:
    return re.findall(r'class="commitment-description">([^<]*)<', response.content.decode())


def stakeholder_names(response) -> list[str]:
    table = response.content.decode().split('id="stakeholder-results"', 1)[1]
    return re.findall(r'<td><a href="/stakeholders/\d+/">([^<]*)</a></td>', table)


def portfolio_names(response) -> list[str]:
    return re.findall(
        r'<th scope="row" class="fw-normal"><a href="/relationships/\d+/">([^<]*)</a>',
        response.content.decode(),
    )


def href(response, element_id: str) -> str:
    match = re.search(rf'id="{element_id}" href="([^"]*)"', response.content.decode())
    assert match, element_id
    return unescape(match.group(1))


# --- Who sees what ------------------------------------------------------------------------


def test_a_manager_sees_their_own_scorecard(world, manager, client_for):
    response = client_for(manager).get(scorecard_url(manager))
    assert response.status_code == 200
    assert "My scorecard" in response.content.decode()


def test_a_manager_cannot_see_another_managers_scorecard(world, manager, other_manager, client_for):
    assert client_for(other_manager).get(scorecard_url(manager)).status_code == 404


def test_a_director_sees_anyones_scorecard_with_its_coaching_signals(
    world, manager, director, client_for
):
    response = client_for(director).get(scorecard_url(manager))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Scorecard of Maria Manager" in body
    assert 'data-signal="kept_share_fell"' in body


def test_the_manager_does_not_get_coaching_signals_about_themselves(world, manager, client_for):
    body = client_for(manager).get(scorecard_url(manager)).content.decode()
    assert "data-signal" not in body


def test_an_unknown_or_non_staff_person_is_404(world, director, client_for):
    assert client_for(director).get(reverse("person-scorecard", args=[999999])).status_code == 404


@pytest.mark.parametrize("path", ["/team/", "TEAM"])
def test_the_team_view_is_for_directors_only(world, manager, path, client_for):
    url = reverse("team-detail-scorecard", args=[world["team"].pk]) if path == "TEAM" else path
    assert client_for(manager).get(url).status_code == 404


def test_a_manager_cannot_list_another_managers_commitments_or_portfolio(
    world, manager, other_manager, client_for
):
    links = figure_links(manager, Period.last(90))
    client = client_for(other_manager)
    assert client.get(links["kept"]).status_code == 404
    assert client.get(links["taking"]).status_code == 404


def test_score_filters_show_a_manager_only_stakeholders_whose_scores_they_see(
    world, manager, other_manager, client_for
):
    # Bram is at risk, but Otto neither owns nor knows him: the filter does not reveal it.
    response = client_for(other_manager).get(f"/stakeholders/?owner={manager.pk}&at_risk=yes")
    assert stakeholder_names(response) == []
    response = client_for(other_manager).get(f"/stakeholders/?sole_thread={manager.pk}")
    assert stakeholder_names(response) == []


def test_nav_offers_my_scorecard_to_everyone_and_team_to_directors(
    world, manager, director, client_for
):
    manager_page = client_for(manager).get("/").content.decode()
    assert f'href="/people/{manager.pk}/scorecard/"' in manager_page
    assert 'href="/team/"' not in manager_page
    director_page = client_for(director).get("/").content.decode()
    assert 'href="/team/"' in director_page


# --- Every figure links to exactly the items it counts -------------------------------------


def test_the_figures_show_on_the_page(world, manager, client_for):
    body = client_for(manager).get(scorecard_url(manager)).content.decode()
    for element_id, shown in {
        "figure-kept-share": "50%",
        "figure-kept": ">3<",
        "figure-broken": ">1<",
        "figure-overdue": ">2<",
        "figure-adherence": "50%",
        "figure-outside": ">2<",
        "figure-balance": "−0.20",
        "figure-taking": ">1<",
        "figure-trust": '<span class="score-value">50</span>',
        "figure-strength": '<span class="score-value">40</span>',
        "figure-at-risk": ">1<",
        "figure-active": ">2<",
        "figure-single-threaded": ">2<",
        "figure-ror": "+233%",
    }.items():
        fragment = body.split(f'id="{element_id}"', 1)[1][:600]
        assert shown in fragment, (element_id, fragment)


def test_commitment_figures_link_to_exactly_their_promises(world, manager, director, client_for):
    page = client_for(director).get(scorecard_url(manager))
    client = client_for(director)
    expected = {
        "figure-kept": {"Kept 10", "Kept 20", "Kept 30"},
        "figure-broken": {"Broken 40"},
        "figure-overdue": {"Overdue 5", "Overdue 15"},
        "figure-kept-share": {
            "Kept 10",
            "Kept 20",
            "Kept 30",
            "Broken 40",
            "Overdue 5",
            "Overdue 15",
        },
    }
    for element_id, descriptions in expected.items():
        listed = commitment_descriptions(client.get(href(page, element_id)))
        assert sorted(listed) == sorted(descriptions), element_id


def test_stakeholder_figures_link_to_exactly_their_stakeholders(
    world, manager, director, client_for
):
    page = client_for(director).get(scorecard_url(manager))
    client = client_for(director)
    expected = {
        "figure-within": ["Alba", "Dirk"],
        "figure-outside": ["Bram", "Cleo"],
        "figure-owned": ["Alba", "Bram", "Cleo", "Dirk"],
        "figure-at-risk": ["Bram"],
        "figure-single-threaded": ["Alba", "Gina"],
    }
    for element_id, names in expected.items():
        assert stakeholder_names(client.get(href(page, element_id))) == names, element_id


def test_relationship_figures_link_to_the_persons_portfolio(world, manager, director, client_for):
    page = client_for(director).get(scorecard_url(manager))
    client = client_for(director)
    taking = client.get(href(page, "figure-taking"))
    assert "Portfolio of Maria Manager" in taking.content.decode()
    assert portfolio_names(taking) == ["Bram"]
    assert sorted(portfolio_names(client.get(href(page, "figure-active")))) == ["Alba", "Bram"]
    assert sorted(portfolio_names(client.get(href(page, "figure-balance")))) == [
        "Alba",
        "Bram",
        "Erik",
    ]


def test_the_manager_follows_their_own_links(world, manager, client_for):
    client = client_for(manager)
    page = client.get(scorecard_url(manager))
    assert len(commitment_descriptions(client.get(href(page, "figure-overdue")))) == 2
    assert stakeholder_names(client.get(href(page, "figure-outside"))) == ["Bram", "Cleo"]
    assert stakeholder_names(client.get(href(page, "figure-single-threaded"))) == ["Alba", "Gina"]


def test_a_past_period_links_to_contacts_as_of_its_end(world, manager, director, client_for):
    from tests.scorecards.known import days_ago

    start, end = days_ago(179), days_ago(90)
    query = f"?from={start.isoformat()}&to={end.isoformat()}"
    page = client_for(director).get(scorecard_url(manager, query))
    assert page.status_code == 200
    within = client_for(director).get(href(page, "figure-within"))
    assert stakeholder_names(within) == ["Alba"]
    assert 'id="hidden-filters"' in within.content.decode()


# --- The period -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "?period=7",
        "?period=x",
        "?from=2026-02-30&to=2026-03-01",
        "?from=2026-03-01&to=2026-01-01",
        "?from=1900-01-01&to=1900-02-01",
        "?from=2010-01-01&to=2026-01-01",
        "?from=2026-01-01",
    ],
)
def test_a_bad_period_shows_the_error_and_the_default_period(world, manager, client_for, query):
    response = client_for(manager).get(scorecard_url(manager, query))
    assert response.status_code == 200
    assert "invalid-feedback" in response.content.decode()


def test_a_preset_wins_over_dates_left_in_the_form(world, manager, client_for):
    response = client_for(manager).get(scorecard_url(manager, "?period=30&from=junk&to="))
    assert response.status_code == 200
    assert response.context["period"].days == 30


# --- The team view ---------------------------------------------------------------------------


def test_the_team_view_shows_people_side_by_side_with_signals_and_their_links(
    world, manager, other_manager, director, client_for
):
    url = reverse("team-detail-scorecard", args=[world["team"].pk])
    response = client_for(director).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('class="team-row"') == 2
    signal = re.search(
        rf'data-signal="kept_share_fell" data-person="{manager.pk}">.*?'
        r'class="signal-link" href="([^"]*)"',
        body,
        re.S,
    )
    assert signal, "Maria's kept share fell from 100% to 50%"
    listed = commitment_descriptions(client_for(director).get(unescape(signal.group(1))))
    assert sorted(listed) == ["Broken 40", "Overdue 15", "Overdue 5"]


def test_the_team_view_sorts_by_a_column_but_never_by_ror(world, director, client_for):
    client = client_for(director)
    response = client.get("/team/?sort=-overdue")
    assert response.status_code == 200
    assert "sort=ror" not in response.content.decode()
    # An unknown sort falls back to names.
    assert client.get("/team/?sort=ror").context["sort"] == "name"


def test_the_everyone_view_lists_every_staff_member(world, director, client_for):
    body = client_for(director).get("/team/").content.decode()
    assert body.count('class="team-row"') == 3  # Maria, Otto, Dana


def test_scorecards_share_the_people_in_the_order_given(world, manager, other_manager):
    cards = scorecards_for([other_manager, manager], Period.last(90))
    assert [c.user for c in cards] == [other_manager, manager]


def test_the_everyone_view_sets_teams_side_by_side(world, director, client_for):
    response = client_for(director).get("/team/?period=365")
    (row,) = response.context["teams"]
    assert row["team"] == world["team"]
    # Maria's and Otto's figures together: 3 + 4 kept (a year holds both periods), 2 broken.
    assert (row["total"].commitments.kept, row["total"].commitments.broken) == (7, 2)
    body = response.content.decode()
    assert f'href="/teams/{world["team"].pk}/?period=365"' in body


def test_a_follow_through_signal_names_the_relationships_where_promises_slipped(
    world, manager, director, client_for
):
    response = client_for(director).get(reverse("team-detail-scorecard", args=[world["team"].pk]))
    (fell,) = [s for row in response.context["rows"] for s in row["card"].signals]
    assert fell.code == "kept_share_fell"
    # Bram: broken 40 and overdue 5; Cleo: overdue 15. Most slips first.
    assert [(s.name, s.missed) for s in fell.stakeholders] == [("Bram", 2), ("Cleo", 1)]
    body = response.content.decode()
    slipped = body.split('class="small mt-1 slipped"', 1)[1].split("</div>", 1)[0]
    assert f'href="/stakeholders/{world["bram"].pk}/">Bram</a> (2)' in slipped
