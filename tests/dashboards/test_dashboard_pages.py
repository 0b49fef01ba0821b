"""The manager home, the portfolio, goals, plans, the organisation roll-up and the
give/take ledger, against the known network of conftest.py."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from metrics.models import RelationshipScoreSnapshot, StakeholderScore
from relations.models import Commitment, Relationship
from tests.factories import CommitmentFactory, OrganizationFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


class TestManagerHome:
    def test_losing_touch_queue_lists_overdue_then_never_contacted(
        self, known, manager, client_for
    ):
        response = client_for(manager).get(reverse("home"))
        assert response.status_code == 200
        rows = response.context["losing_touch"]["rows"]
        assert [(r["stakeholder"].name, r["overdue_by"]) for r in rows] == [
            ("Eve", 40),
            ("Finn", None),
        ]
        html = response.content.decode()
        eve = known["eve"]
        assert f'href="/interactions/new/?stakeholder={eve.pk}"' in html

    def test_losing_touch_is_ordered_by_days_overdue(self, manager, client_for):
        from metrics.recompute import scores_recompute_all
        from tests.dashboards.conftest import meet

        # Ana: 5 days past a 10-day cadence (50 %); Ben: 30 days past 100 (30 %).
        ana = StakeholderFactory(name="Ana", owner=manager, cadence_days=10)
        ben = StakeholderFactory(name="Ben", owner=manager, cadence_days=100)
        meet(manager, ana, days_ago=15.5)
        meet(manager, ben, days_ago=130.5)
        scores_recompute_all()
        rows = client_for(manager).get(reverse("home")).context["losing_touch"]["rows"]
        assert [(r["stakeholder"].name, r["overdue_by"]) for r in rows] == [
            ("Ben", 30),
            ("Ana", 5),
        ]

    def test_any_logged_contact_resets_the_queue(self, known, manager, other_manager, client_for):
        from metrics.recompute import scores_recompute_all
        from tests.dashboards.conftest import meet

        # Otto, not Eve's owner, talks to Eve: the contact counts for everyone.
        # (The browser journey checks the same through the worker after commit.)
        meet(other_manager, known["eve"], days_ago=0.1)
        scores_recompute_all()
        rows = client_for(manager).get(reverse("home")).context["losing_touch"]["rows"]
        assert [r["stakeholder"].name for r in rows] == ["Finn"]

    def test_commitments_due_ours_and_theirs(self, known, manager, client_for):
        today = timezone.localdate()
        CommitmentFactory(
            stakeholder=known["alba"],
            responsible=manager,
            description="Send the plan",
            due_date=today + timedelta(days=3),
        )
        CommitmentFactory(
            stakeholder=known["alba"],
            responsible=manager,
            direction="them",
            description="Alba sends the figures",
            due_date=today - timedelta(days=1),
        )
        CommitmentFactory(
            stakeholder=known["alba"],
            responsible=manager,
            description="Far away",
            due_date=today + timedelta(days=60),
        )
        CommitmentFactory(
            stakeholder=known["alba"],
            responsible=manager,
            description="Done already",
            due_date=today,
            status=Commitment.Status.KEPT,
        )
        context = client_for(manager).get(reverse("home")).context
        assert [c.description for c in context["ours_due"]] == ["Send the plan"]
        assert [c.description for c in context["theirs_due"]] == ["Alba sends the figures"]
        assert (context["open_count"], context["overdue_count"]) == (3, 1)

    def test_at_risk_plans_due_and_recent_interactions(self, known, manager, client_for):
        today = timezone.localdate()
        plan = Relationship.objects.get(user=manager, stakeholder=known["alba"])
        plan.objective = "Co-author the roadmap"
        plan.next_review = today + timedelta(days=3)
        plan.save()
        Relationship.objects.filter(user=manager, stakeholder=known["eve"]).update(
            next_review=today + timedelta(days=90)
        )
        context = client_for(manager).get(reverse("home")).context
        assert [s.stakeholder.name for s in context["at_risk"]] == ["Bram"]
        assert [r.stakeholder.name for r in context["plans_due"]] == ["Alba"]
        # Otto's meetings with Bram (whom Maria owns) show too; newest first.
        recent = list(context["recent_interactions"])
        assert len(recent) == 8
        assert recent[0].occurred_at >= recent[-1].occurred_at
        assert context["health"] is None

    def test_a_directors_home_links_to_the_dashboard(self, known, director, client_for):
        response = client_for(director).get(reverse("home"))
        html = response.content.decode()
        assert response.context["health"].health_index == pytest.approx(50)
        assert 'href="/dashboard/"' in html and "Open the director dashboard" in html

    def test_other_manager_sees_only_their_own_queue(self, known, other_manager, client_for):
        context = client_for(other_manager).get(reverse("home")).context
        # Otto owns Cleo (never contacted) and knows Bram (recently met).
        assert [r["stakeholder"].name for r in context["losing_touch"]["rows"]] == ["Cleo"]
        assert [s.stakeholder.name for s in context["at_risk"]] == ["Bram"]


class TestPortfolio:
    def test_sorts_by_trust_reciprocity_overdue_and_risk(self, known, manager, client_for):
        client = client_for(manager)

        def order(sort):
            page = client.get(reverse("portfolio"), {"sort": sort}).context["page"]
            return [r.stakeholder.name for r in page.object_list]

        assert order("trust") == ["Bram", "Alba", "Eve"]
        assert order("-trust")[-1] == "Bram"
        assert order("reciprocity")[0] == "Bram"
        assert order("overdue")[0] == "Eve"
        assert order("risk")[0] == "Bram"
        assert order("bogus") == order("risk")

    def test_sparkline_from_snapshots(self, known, manager, client_for):
        relationship = Relationship.objects.get(user=manager, stakeholder=known["alba"])
        today = timezone.now().date()
        for days, trust in ((20, 0.2), (10, 0.6), (0, 0.9)):
            RelationshipScoreSnapshot.objects.create(
                relationship=relationship, date=today - timedelta(days=days), trust=trust
            )
        html = client_for(manager).get(reverse("portfolio")).content.decode()
        # Scores read 0–100 with their band (DESIGN §5b).
        assert 'aria-label="Trust from 20\u00a0weak to 90\u00a0strong over 3 snapshots"' in html
        assert html.count("<polyline") == 1

    def test_only_my_relationships(self, known, other_manager, client_for):
        page = client_for(other_manager).get(reverse("portfolio")).context["page"]
        assert [r.stakeholder.name for r in page.object_list] == ["Bram"]


class TestGoals:
    def test_goal_list_and_detail_for_the_owner(self, known, director, client_for):
        goal = known["goal"]
        client = client_for(director)
        listing = client.get(reverse("goal-list"))
        row = listing.context["page"].object_list[0]
        assert (row.title, row.stakeholder_count) == ("Energy transition", 2)
        assert row.health_index == pytest.approx(62.5)
        response = client.get(goal.get_absolute_url())
        assert response.status_code == 200
        context = response.context
        assert context["health"].health_index == pytest.approx(62.5)
        assert context["health"].return_value == pytest.approx(5000)
        assert [(link.stakeholder.name, link.role) for link in context["links"]] == [
            ("Alba", "Champion"),
            ("Bram", "Funder"),
        ]
        assert context["outcome_total"] == {"total": 5000, "n": 1}
        assert {(r.user.username, r.stakeholder.name) for r in context["plans"]} == {
            ("maria", "Alba"),
            ("maria", "Bram"),
            ("otto", "Bram"),
        }

    def test_a_manager_sees_the_goal_without_its_health_figures(
        self, known, other_manager, client_for
    ):
        response = client_for(other_manager).get(known["goal"].get_absolute_url())
        assert response.status_code == 200
        assert response.context["figures_visible"] is False
        assert "health" not in response.context
        # Otto may see Bram's scores (he knows him), not Alba's.
        assert response.context["score_ids"] == {known["bram"].pk}
        html = response.content.decode()
        assert "goal-figures" not in html

    def test_unknown_goal_is_404(self, known, manager, client_for):
        assert client_for(manager).get(reverse("goal-detail", args=[999999])).status_code == 404

    def test_plans_per_owner_and_per_goal(self, known, manager, other_manager, client_for):
        Relationship.objects.filter(stakeholder=known["bram"]).update(desired_strength=0.8)
        Relationship.objects.filter(stakeholder=known["eve"]).update(objective="Reconnect")
        client = client_for(manager)

        def plans(**params):
            page = client.get(reverse("plan-list"), params).context["page"]
            return [(r.user.username, r.stakeholder.name) for r in page.object_list]

        assert plans() == [("maria", "Bram"), ("maria", "Eve"), ("otto", "Bram")]
        assert plans(user=other_manager.pk) == [("otto", "Bram")]
        assert plans(goal=known["goal"].pk) == [("maria", "Bram"), ("otto", "Bram")]
        bad = client.get(reverse("plan-list"), {"user": "x"})
        assert bad.status_code == 200 and "user" in bad.context["form"].errors


class TestOrganizationRollupAndLedger:
    def test_rollup_for_a_director(self, known, director, client_for):
        response = client_for(director).get(known["acme"].get_absolute_url())
        html = response.content.decode()
        assert re.search(
            r'data-figure="mean_trust"><span class="score score-fair"[^>]*>'
            r'<span class="score-value">50<',
            html,
        )
        assert 'data-figure="at_risk">1<' in html
        assert 'data-figure="return">€5,000<' in html
        # Given 3×2 + 4×5 = 26, received 3×2 = 6: we gave 20 more, Acme owes us.
        assert "We have given 20 more than we received: Acme owes us." in html

    def test_rollup_covers_only_the_scores_a_manager_may_see(
        self, known, other_manager, client_for
    ):
        html = client_for(other_manager).get(known["acme"].get_absolute_url()).content.decode()
        assert "Over 1 stakeholder whose scores you may see." in html
        assert re.search(
            r'data-figure="mean_trust"><span class="score score-weak"[^>]*>'
            r'<span class="score-value">0<',
            html,
        )

    def test_rollup_trend_from_snapshots(self, known, director, client_for):
        today = timezone.now().date()
        StakeholderScore.objects.filter(stakeholder=known["alba"]).update(trust=0.9)
        from metrics.writeback import snapshots_write

        snapshots_write(today)
        html = client_for(director).get(known["acme"].get_absolute_url()).content.decode()
        # Mean of Alba 0.9 and Bram 0 on today's snapshot.
        assert f'<th scope="row" class="fw-normal">{today.isoformat()}</th>' in html
        assert '<td class="text-end">0.45</td>' in html

    def test_stakeholder_ledger_running_balance(self, known, manager, client_for):
        html = client_for(manager).get(known["alba"].get_absolute_url()).content.decode()
        assert "Given and received are in balance." in html
        html = client_for(manager).get(known["bram"].get_absolute_url()).content.decode()
        assert "We have given 20 more than we received: Bram owes us." in html

    def test_ledger_shows_empty_months_as_empty(self, manager):
        from dashboards import figures
        from tests.dashboards.conftest import meet

        lone = StakeholderFactory(name="Lone", owner=manager)
        meet(manager, lone, days_ago=1, given=3, received=1)
        meet(manager, lone, days_ago=95, given=1, received=1)
        rows = figures.ledger(figures.stakeholder_interactions(lone.pk))
        # Every month from the first to the last, the quiet ones with nothing in them.
        assert len(rows) >= 3
        assert [row["n"] for row in rows][0] == 1 and rows[-1]["n"] == 1
        assert all(row["n"] == 0 and row["given"] == 0 for row in rows[1:-1])
        assert rows[-1]["balance"] == 2
        months = [row["month"] for row in rows]
        assert all(later > earlier for earlier, later in zip(months, months[1:], strict=False))

    def test_ledger_hidden_from_who_may_not_see_the_scores(self, known, other_manager, client_for):
        html = client_for(other_manager).get(known["alba"].get_absolute_url()).content.decode()
        assert "Give and take" not in html.split('id="timeline-heading"')[0].split("col-lg-8")[1]

    def test_empty_organisation(self, director, client_for):
        empty = OrganizationFactory(name="Nobody Inc")
        html = client_for(director).get(empty.get_absolute_url()).content.decode()
        assert "No scores you may see yet." in html
        assert "Nothing given or received yet." in html


PAGES = ["home", "dashboard", "dashboard-figure", "portfolio", "goal-list", "plan-list"]


@pytest.mark.parametrize("page", PAGES)
def test_pages_need_sign_in_and_keep_the_strict_csp(known, director, client_for, client, page):
    client.logout()
    assert client.get(reverse(page)).status_code == 302
    response = client_for(director).get(reverse(page))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    html = response.content.decode()
    # Chart data blocks carry the nonce too; no style attribute or element anywhere.
    assert html.count("<script") == html.count(f'nonce="{nonce}"') > 0
    assert " style=" not in html and "<style" not in html


def test_goal_and_organisation_pages_keep_the_strict_csp(known, director, client_for):
    client = client_for(director)
    for url in (known["goal"].get_absolute_url(), known["acme"].get_absolute_url()):
        response = client.get(url)
        html = response.content.decode()
        nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
        assert html.count("<script") == html.count(f'nonce="{nonce}"') > 0
        assert " style=" not in html and "<style" not in html
