"""Return on relationship with no recorded return says so and links to recording an
outcome, instead of −100 % (DESIGN §5b), on every page that shows RoR."""

import re

import pytest
from django.urls import reverse

from metrics.recompute import scores_recompute_all
from networks import services as network_services
from relations.models import GoalStakeholder
from tests.dashboards.conftest import meet
from tests.factories import GoalFactory, StakeholderFactory

pytestmark = pytest.mark.django_db

NO_RETURN = "No return recorded yet"


@pytest.fixture
def no_return(manager, director):
    """Maria met Gina twice (an investment) and nothing came of it yet (no outcome)."""
    gina = StakeholderFactory(
        name="Gina", owner=manager, importance=5, influence=4, interest=4, cadence_days=30
    )
    meet(manager, gina, 1)
    meet(manager, gina, 3)
    goal = GoalFactory(title="Grid tender", owner=director)
    GoalStakeholder.objects.create(goal=goal, stakeholder=gina, role="Champion")
    scores_recompute_all()
    network_services.network_recompute()
    return {"gina": gina, "goal": goal}


def element(html: str, element_id: str) -> str:
    """The markup from the element with this id to its enclosing block's end."""
    start = html.index(f'id="{element_id}"')
    return html[start : start + 600]


def assert_no_return(fragment: str, record_url: str | None) -> None:
    assert NO_RETURN in fragment
    assert "−100" not in fragment and "-100" not in fragment
    if record_url is None:
        assert "/outcomes/new/" not in fragment
    else:
        assert f'href="{record_url}"' in fragment
        assert "Record an outcome" in fragment


def test_the_dashboard_tile_says_no_return_and_links_to_recording_one(
    no_return, director, client_for
):
    html = client_for(director).get(reverse("dashboard")).content.decode()
    tile = html.split('data-figure="ror"')[1].split("</div>")[0]
    assert_no_return(tile, reverse("outcome-create"))
    # The breakdown tables say it too, without a link per row.
    breakdown = html.split("breakdown-goal")[1].split("</table>")[0]
    row = breakdown.split("Grid tender")[1].split("</tr>")[0]
    assert_no_return(row, None)


def test_the_goal_page_says_no_return_and_links_to_recording_one_for_the_goal(
    no_return, director, client_for
):
    goal = no_return["goal"]
    client = client_for(director)
    html = client.get(reverse("goal-detail", args=[goal.pk])).content.decode()
    assert_no_return(element(html, "goal-ror"), f"{reverse('outcome-create')}?goal={goal.pk}")
    # The link fills in the goal on the outcome form.
    form = client.get(reverse("outcome-create"), {"goal": goal.pk}).content.decode()
    assert re.search(rf'<option value="{goal.pk}" selected>', form)
    listing = client.get(reverse("goal-list")).content.decode()
    row = listing.split("Grid tender")[1].split("</tr>")[0]
    assert_no_return(row, None)


def test_the_scorecard_says_no_return_and_links_to_recording_one(no_return, manager, client_for):
    url = reverse("person-scorecard", args=[manager.pk])
    html = client_for(manager).get(url).content.decode()
    assert_no_return(element(html, "figure-ror"), reverse("outcome-create"))


def test_a_recorded_return_still_reads_as_a_percentage(known, director, client_for):
    # The known network: a 5,000 deal against 800 of investment → +525 %.
    html = client_for(director).get(reverse("dashboard")).content.decode()
    tile = html.split('data-figure="ror"')[1].split("</div>")[0]
    assert "+525%" in tile and NO_RETURN not in tile
    goal = known["goal"]
    html = client_for(director).get(reverse("goal-detail", args=[goal.pk])).content.decode()
    assert NO_RETURN not in element(html, "goal-ror")
