"""The network pages (DESIGN §4, §5a): map, key-person risk, hand-over, warm introductions.

Who may see what: every staff member opens the map and their own key-person
risk; directors see everyone's; only a director or the stakeholder's owner may
hand a stakeholder over.
"""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from networks import services
from networks.models import NetworkRun, StakeholderThreads
from relations.models import AuditEvent, Commitment, Relationship, Stakeholder
from tests.factories import StakeholderFactory, UserFactory

BASE = 3  # session, user, the user's groups
DIRECTOR_BASE = BASE + 1  # + the director's second-factor device (django-otp)
MAP_URL = "/network/"
KPR_URL = "/network/key-person-risk/"


@pytest.fixture(autouse=True)
def _fresh_graph_cache():
    # The restored graph is cached per run id; SQLite reuses ids after a rollback.
    services._graph_cache.clear()
    yield
    services._graph_cache.clear()


def hand_over_url(stakeholder: Stakeholder) -> str:
    return reverse("stakeholder-hand-over", args=[stakeholder.pk])


def state(stakeholder: Stakeholder) -> tuple:
    """Everything a hand-over may change, to compare before and after."""
    stakeholder.refresh_from_db()
    return (
        stakeholder.owner_id,
        sorted(stakeholder.relationships.values_list("user_id", "role")),
        Commitment.objects.count(),
        # Domain changes only: signing in is itself audited (object type auth.user).
        AuditEvent.objects.exclude(object_type="auth.user").count(),
    )


# --- Who may open the pages -----------------------------------------------------------


@pytest.mark.parametrize("url", [MAP_URL, KPR_URL])
def test_anonymous_users_are_sent_to_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_hand_over_needs_sign_in(client, stakeholder):
    response = client.post(hand_over_url(stakeholder), {"successor": stakeholder.owner_id})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", [MAP_URL, KPR_URL])
def test_non_staff_accounts_are_refused(client, db, url):
    client.force_login(User.objects.create_user("visitor", password="pw"))
    assert client.get(url).status_code == 403


# --- The map -----------------------------------------------------------------------------


def test_map_page_loads_the_drawing_script_under_the_csp(client, designed, manager):
    client.force_login(manager)
    response = client.get(MAP_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-graph-url="/api/v1/network/graph/"' in html
    assert "vendor/cytoscape/cytoscape.min.js" in html
    assert "js/network-map.js" in html
    # cytoscape skips injecting its <style> when this element exists (strict CSP).
    assert 'id="__________cytoscape_stylesheet"' in html
    nonce = response.context["csp_nonce"]
    assert f'nonce="{nonce}"' in html
    assert "style=" not in html
    assert "Network computed" in html
    assert 'href="/network/" aria-current="page"' in html


def test_map_page_says_when_no_network_was_computed(client, manager):
    client.force_login(manager)
    html = client.get(MAP_URL).content.decode()
    assert "The network has not been computed yet" in html
    assert "network-map.js" not in html


def test_map_filters_offer_teams_and_goals(client, designed, manager):
    from tests.factories import GoalFactory, TeamFactory

    team, goal = TeamFactory(name="Energy desk"), GoalFactory(title="Win the grid tender")
    client.force_login(manager)
    html = client.get(MAP_URL, {"team": team.pk, "goal": goal.pk, "colour": "type"}).content
    html = html.decode()
    assert f'<option value="{team.pk}" selected>Energy desk</option>' in html
    assert f'<option value="{goal.pk}" selected>Win the grid tender</option>' in html
    assert '<option value="type" selected>' in html


def test_bad_map_filters_are_ignored_with_a_message(client, designed, manager):
    client.force_login(manager)
    response = client.get(MAP_URL, {"team": "nope", "min_strength": "7"})
    assert response.status_code == 200
    assert "Some filters were not valid" in response.content.decode()


def test_map_page_query_count(client, designed, director, django_assert_max_num_queries):
    client.force_login(director)
    # the latest run, the teams, the goals
    with django_assert_max_num_queries(DIRECTOR_BASE + 3):
        assert client.get(MAP_URL).status_code == 200


# --- Key-person risk ----------------------------------------------------------------------


def test_manager_sees_only_their_own_single_threaded_stakeholders(client, designed, manager):
    client.force_login(manager)
    response = client.get(KPR_URL)
    html = response.content.decode()
    assert "If this person leaves, these relationships go with them." in html
    assert [row["person"] for row in response.context["rows"]] == [manager]
    listed = [item["stakeholder"].name for item in response.context["rows"][0]["stakeholders"]]
    # Bram has two threads, Cleo none, Daan is not key: only Alba goes with Maria.
    assert listed == ["Alba"]
    # Maria's strength with Alba: three recent meetings, 1 − e^−1 ≈ 63%.
    assert response.context["rows"][0]["stakeholders"][0]["strength"] == pytest.approx(
        0.63, abs=0.01
    )
    assert '<span class="score-value">63</span>' in html
    assert 'data-autocomplete-url="/autocomplete/users/"' in html


def test_manager_without_risk_sees_a_clear_all_clear(client, designed, other_manager):
    client.force_login(other_manager)
    response = client.get(KPR_URL)
    assert response.context["rows"] == []
    assert "No key stakeholder depends on you alone." in response.content.decode()


def test_director_sees_everyone(client, designed, director, manager, other_manager):
    extra = StakeholderFactory(name="Elif", importance=5, owner=other_manager)
    StakeholderThreads.objects.create(
        stakeholder=extra,
        is_key=True,
        thread_count=1,
        thread_user_ids=[other_manager.pk],
        sole_thread_user=other_manager,
        computed_at=timezone.now(),
    )
    client.force_login(director)
    response = client.get(KPR_URL)
    rows = {row["person"].username: row for row in response.context["rows"]}
    assert set(rows) == {"maria", "otto"}
    assert [i["stakeholder"].name for i in rows["maria"]["stakeholders"]] == ["Alba"]
    assert [i["stakeholder"].name for i in rows["otto"]["stakeholders"]] == ["Elif"]
    # Directors may hand over anyone's stakeholders.
    assert all(i["can_hand_over"] for row in rows.values() for i in row["stakeholders"])


def test_kpr_page_says_when_no_network_was_computed(client, manager):
    client.force_login(manager)
    assert "has not been computed yet" in client.get(KPR_URL).content.decode()


def make_at_risk(people: int) -> list[User]:
    """`people` colleagues, each the only thread of `people` + 1 key stakeholders."""
    NetworkRun.objects.create(status=NetworkRun.Status.DONE, finished_at=timezone.now())
    owners = []
    for i in range(people):
        person = UserFactory(username=f"person{i}")
        owners.append(person)
        for _ in range(people + 1):
            stakeholder = StakeholderFactory(importance=5, owner=person)
            Relationship.objects.create(user=person, stakeholder=stakeholder, role="owner")
            StakeholderThreads.objects.create(
                stakeholder=stakeholder,
                is_key=True,
                thread_count=1,
                thread_user_ids=[person.pk],
                sole_thread_user=person,
                computed_at=timezone.now(),
            )
    return owners


@pytest.fixture(params=[1, 12], ids=["small", "larger"])
def many_at_risk(request, db, director):
    return make_at_risk(request.param)


def test_kpr_query_count_is_bounded(client, director, many_at_risk, django_assert_max_num_queries):
    client.force_login(director)
    # count of people at risk, the page of people, their stakeholders (+organisation,
    # owner), their strengths, the latest run, the successor choices
    with django_assert_max_num_queries(DIRECTOR_BASE + 6):
        response = client.get(KPR_URL)
    assert response.status_code == 200
    shown = sum(len(row["stakeholders"]) for row in response.context["rows"])
    people = min(len(many_at_risk), 10)
    assert shown == people * (len(many_at_risk) + 1)


def test_kpr_paginates_people(client, director):
    make_at_risk(12)
    client.force_login(director)
    first = client.get(KPR_URL)
    second = client.get(KPR_URL, {"page": 2})
    assert len(first.context["rows"]) == 10
    assert len(second.context["rows"]) == 2
    assert "Page 2 of 2" in second.content.decode()
    assert not {r["person"] for r in first.context["rows"]} & {
        r["person"] for r in second.context["rows"]
    }


# --- Hand-over ---------------------------------------------------------------------------


def test_owner_hands_over_a_single_threaded_stakeholder(client, designed, manager, other_manager):
    alba = designed["alba"]
    assert alba.owner == manager
    assert Relationship.objects.get(user=manager, stakeholder=alba).role == "owner"
    assert not Relationship.objects.filter(user=other_manager, stakeholder=alba).exists()
    client.force_login(manager)  # audited too (a sign-in): counted before the hand-over
    audits_before = AuditEvent.objects.count()

    response = client.post(
        hand_over_url(alba), {"successor": other_manager.pk, "next": KPR_URL}, follow=True
    )

    assert response.redirect_chain[-1] == (KPR_URL, 302)
    alba.refresh_from_db()
    assert alba.owner == other_manager
    assert Relationship.objects.get(user=other_manager, stakeholder=alba).role == "owner"
    assert Relationship.objects.get(user=manager, stakeholder=alba).role == "supporting"
    plan = Commitment.objects.get(stakeholder=alba)
    assert plan.description == "Introduce Otto Other to Alba"
    assert plan.direction == "us"
    assert plan.status == "open"
    # Maria is the only one who knows Alba: she makes the introduction.
    assert plan.responsible == manager
    assert plan.created_by == manager
    assert plan.due_date == timezone.localdate() + timedelta(days=14)
    audits = AuditEvent.objects.order_by("pk")[audits_before:]
    assert [(a.action, a.object_type) for a in audits] == [
        ("update", "relations.stakeholder"),
        ("create", "relations.commitment"),
    ]
    assert audits[0].changes["owner"] == [manager.pk, other_manager.pk]
    assert all(a.actor == manager for a in audits)
    html = response.content.decode()
    assert "Otto Other now owns Alba" in html
    # Until the introduction happens Maria is still Alba's only thread, now handed over.
    assert "handed over" in html


def test_director_may_hand_over_and_an_ended_relationship_revives(
    client, designed, director, manager, other_manager
):
    alba = designed["alba"]
    Relationship.objects.create(
        user=other_manager, stakeholder=alba, role="supporting", status="ended"
    )
    client.force_login(director)
    response = client.post(hand_over_url(alba), {"successor": other_manager.pk})
    assert response.status_code == 302
    relationship = Relationship.objects.get(user=other_manager, stakeholder=alba)
    assert (relationship.role, relationship.status) == ("owner", "active")
    assert Commitment.objects.get(stakeholder=alba).created_by == director


@pytest.mark.parametrize(
    "successor, message",
    [
        ("", "Choose the colleague who takes over."),
        ("999999", "Choose an active colleague."),
        ("not-a-number", "Choose an active colleague."),
        ("owner", "already owns this stakeholder"),
        ("outsider", "Choose an active colleague."),
        ("inactive", "Choose an active colleague."),
    ],
)
def test_bad_hand_over_input_changes_nothing(client, designed, manager, successor, message):
    alba = designed["alba"]
    if successor == "owner":
        successor = str(manager.pk)
    elif successor == "outsider":
        successor = str(User.objects.create_user("outsider").pk)
    elif successor == "inactive":
        successor = str(UserFactory(username="gone", is_active=False).pk)
    before = state(alba)
    client.force_login(manager)
    response = client.post(hand_over_url(alba), {"successor": successor})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert state(alba) == before


def test_a_manager_who_does_not_own_it_may_not_hand_over(client, designed, other_manager):
    alba = designed["alba"]
    before = state(alba)
    client.force_login(other_manager)
    assert client.post(hand_over_url(alba), {"successor": other_manager.pk}).status_code == 403
    assert client.get(hand_over_url(alba)).status_code == 403
    assert state(alba) == before
    # The refusals are in the security log.
    assert (
        AuditEvent.objects.filter(action="denied", actor=other_manager, changes__status=403).count()
        == 2
    )


def test_hand_over_of_an_unknown_stakeholder_is_404(client, manager):
    client.force_login(manager)
    assert client.post("/stakeholders/999999/hand-over/", {"successor": 1}).status_code == 404


def test_hand_over_page_offers_colleagues_but_not_the_owner(
    client, designed, manager, other_manager
):
    client.force_login(manager)
    response = client.get(hand_over_url(designed["alba"]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{other_manager.pk}">Otto Other</option>' in html
    assert f'<option value="{manager.pk}"' not in html


def test_hand_over_ignores_an_offsite_next(client, designed, manager, other_manager):
    client.force_login(manager)
    response = client.post(
        hand_over_url(designed["alba"]),
        {"successor": other_manager.pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == KPR_URL


# --- Warm introductions on the stakeholder page ------------------------------------------


def _warm_section(client, stakeholder) -> str:
    html = client.get(stakeholder.get_absolute_url()).content.decode()
    assert "Warm introductions" in html
    return html.split('id="warm-intros-heading"')[1].split("</section>")[0]


def test_stakeholder_page_shows_warm_introductions(client, designed, director):
    client.force_login(director)
    # Maria knows Alba directly (≈0.63); Otto through Daan: 0.095 × 0.9 ≈ 0.09.
    section = _warm_section(client, designed["alba"])
    assert "<strong>Maria Manager</strong>" in section
    assert "<strong>Otto Other</strong>" in section
    assert f'<a href="/stakeholders/{designed["daan"].pk}/">Daan</a>' in section
    assert section.index("Maria Manager") < section.index("Otto Other")
    # Path strengths read 0–100 with their band word, like every score (DESIGN §5b).
    assert '<span class="score-value">63</span> <span class="score-band">fair</span>' in section
    assert '<span class="score-value">9</span> <span class="score-band">weak</span>' in section
    assert "%" not in section


def test_the_map_strength_slider_reads_0_to_100_with_a_band_word(client, designed, manager):
    client.force_login(manager)
    html = client.get(MAP_URL).content.decode()
    slider = (
        html.split('id="id_strength"')[0].rsplit("<input", 1)[1]
        + html.split('id="id_strength"')[1].split(">")[0]
    )
    assert 'step="5"' in slider and 'min="5"' in slider and 'max="100"' in slider
    assert 'id="min-strength-value"' in html
    assert ">5\u00a0weak</output>" in html
    assert 'data-strong-from="70" data-fair-from="40"' in html
    html = client.get(MAP_URL, {"strength": "70"}).content.decode()
    assert ">70\u00a0strong</output>" in html
    assert "0.05" not in html and "0,05" not in html
    # A strength off the 5-point steps is refused like any bad filter.
    html = client.get(MAP_URL, {"strength": "33"}).content.decode()
    assert "Some filters were not valid" in html


def test_a_manager_sees_only_the_warm_introductions_from_herself(client, designed, other_manager):
    # Maria's path carries the strength of her relationship with Alba: hers and the
    # directors' to see (DESIGN §7), not Otto's.
    client.force_login(other_manager)
    section = _warm_section(client, designed["alba"])
    assert "<strong>Otto Other</strong>" in section
    assert '<span class="score-value">9</span>' in section
    assert "Maria Manager" not in section and '<span class="score-value">63</span>' not in section


def test_stakeholder_nobody_can_reach_has_an_empty_state(client, designed, manager):
    client.force_login(manager)
    html = client.get(designed["cleo"].get_absolute_url()).content.decode()
    assert "No colleague can reach this stakeholder" in html


def test_stakeholder_page_before_any_network_run(client, manager, stakeholder):
    client.force_login(manager)
    html = client.get(stakeholder.get_absolute_url()).content.decode()
    assert "Warm introductions" in html
    assert "The network has not been computed yet." in html


def test_warm_introductions_cost_bounded_queries(
    client, designed, director, django_assert_max_num_queries
):
    from types import SimpleNamespace

    from networks.templatetags.network_tags import warm_introductions

    page = {"request": SimpleNamespace(user=director)}
    warm_introductions(page, designed["bram"])  # the graph is restored once per process
    # the latest run, the users named in the paths, the stakeholders named in the paths
    with django_assert_max_num_queries(3):
        context = warm_introductions(page, designed["alba"])
    assert len(context["chains"]) == 2


def test_hand_over_of_an_unowned_stakeholder_plans_the_introduction_by_its_author(
    director, manager
):
    from django.core.exceptions import ValidationError

    from relations.services import stakeholder_hand_over

    orphan = StakeholderFactory(name="Fenna", owner=None)
    plan = stakeholder_hand_over(orphan, successor=manager, by=director)
    orphan.refresh_from_db()
    assert orphan.owner == manager
    assert plan.responsible == director
    assert Relationship.objects.get(user=manager, stakeholder=orphan).role == "owner"
    # The service itself refuses what the form refuses, for callers without a form.
    with pytest.raises(ValidationError) as refused:
        stakeholder_hand_over(orphan, successor=manager, by=director)
    assert "successor" in refused.value.message_dict
    assert Commitment.objects.filter(stakeholder=orphan).count() == 1
