"""Pages and the API apply the same rules (DESIGN §7): for every API resource, every
record of a small world and each role, the page and the API both show the record or
both refuse it, and likewise for the computed figures (scores, network health,
scorecards, pulses).

Data-driven: every resource of the API router and every other API route must be in
`RECORDS`, `FIGURES` or `NOT_RECORDS` (with the reason), so a new resource without a
parity rule fails `test_every_api_resource_has_a_parity_rule`.

The world: Maria (`manager`) in a team, Otto (`other_manager`), Dana (`director`);
each owns a stakeholder with a relationship, scores, a pulse, an open commitment and
an outcome on a goal; Otto's interaction is private; one goal is Maria's, one Dana's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from rest_framework.test import APIClient

from metrics.models import RelationshipScore, StakeholderScore
from networks.models import NetworkHealth
from relations.importing.models import ImportJob
from relations.models import (
    AuthenticityPulse,
    Commitment,
    GoalStakeholder,
    Interaction,
    Outcome,
    Relationship,
    StakeholderLink,
    Webhook,
)
from reviews.models import Review
from tests.factories import GoalFactory, OrganizationFactory, StakeholderFactory, TeamFactory

pytestmark = pytest.mark.django_db

ROLES = ("manager", "other_manager", "director")
SHOWN, REFUSED = "shown", "refused"


@pytest.fixture
def world(manager, other_manager, director) -> dict[str, Any]:
    now = timezone.now()
    team = TeamFactory(name="Energy team")
    team.members.add(manager)
    organization = OrganizationFactory(name="Acme")
    goals = {"maria": GoalFactory(owner=manager), "dana": GoalFactory(owner=director)}
    w: dict[str, Any] = {"team": team, "organization": organization, "goals": goals}
    w["stakeholders"], w["relationships"], w["interactions"] = [], [], []
    w["commitments"], w["outcomes"], w["pulses"] = [], [], []
    for user, goal in ((manager, goals["maria"]), (other_manager, goals["dana"])):
        name = user.username
        stakeholder = StakeholderFactory(name=f"Contact of {name}", owner=user)
        GoalStakeholder.objects.create(goal=goal, stakeholder=stakeholder)
        relationship = Relationship.objects.create(user=user, stakeholder=stakeholder)
        StakeholderScore.objects.create(stakeholder=stakeholder, trust=0.5, computed_at=now)
        RelationshipScore.objects.create(relationship=relationship, trust=0.5, computed_at=now)
        interaction = Interaction.objects.create(
            kind="call",
            subject=f"Call of {name}",
            occurred_at=now,
            private=user == other_manager,
            created_by=user,
        )
        interaction.stakeholders.add(stakeholder)
        interaction.internal_participants.add(user)
        w["commitments"].append(
            Commitment.objects.create(
                stakeholder=stakeholder,
                responsible=user,
                description=f"Promise of {name}",
                due_date=timezone.localdate(),
                created_by=user,
            )
        )
        w["outcomes"].append(
            Outcome.objects.create(
                stakeholder=stakeholder,
                kind="deal",
                description=f"Deal of {name}",
                value=100,
                goal=goal,
                credited_to=user,
                created_by=user,
            )
        )
        w["pulses"].append(
            AuthenticityPulse.objects.create(
                relationship=relationship,
                assessed_by=user,
                integrity=4,
                transparency=4,
                reliability=4,
                note=f"Pulse of {name}",
            )
        )
        w["stakeholders"].append(stakeholder)
        w["relationships"].append(relationship)
        w["interactions"].append(interaction)
    w["reviews"] = [
        Review.objects.create(relationship=r, due_on=timezone.localdate())
        for r in w["relationships"]
    ]
    w["links"] = [
        StakeholderLink.objects.create(
            from_stakeholder=w["stakeholders"][0], to_stakeholder=w["stakeholders"][1]
        )
    ]
    w["webhooks"] = [
        Webhook.objects.create(
            owner=director, url="https://example.org/hook", events=["interaction.created"]
        )
    ]
    w["imports"] = [
        ImportJob.objects.create(
            owner=manager, kind="stakeholders", file_name="people.csv", content=b"name\nA\n"
        )
    ]
    w["users"] = [manager, other_manager, director]
    for scope, scope_id in [("organisation", 0), ("team", team.pk)] + [
        ("goal", goal.pk) for goal in goals.values()
    ]:
        NetworkHealth.objects.create(
            scope=scope, scope_id=scope_id, date=timezone.localdate(), computed_at=now
        )
    return w


@dataclass(frozen=True)
class Rule:
    """How one record (or figure) is read in the API and on the page.

    `records(world)` lists the records; `api(record)` is the API address; `page(record)`
    the page that shows it (or lists it); `on_page(record, html)` whether the page
    shows this record (default: the page answered 200)."""

    records: Callable[[dict], list]
    api: Callable[[Any], str]
    page: Callable[[Any], str]
    on_page: Callable[[Any, str], bool] | None = None


def _detail(prefix: str) -> Callable[[Any], str]:
    return lambda record: f"/api/v1/{prefix}/{record.pk}/"


def _contains(text: Callable[[Any], str]) -> Callable[[Any, str], bool]:
    return lambda record, html: text(record) in html


SCORES_PANEL = 'id="scores-heading"'
HISTORY_PANEL = 'id="trust-history-heading"'

# Every resource of the API router: its records and the page that shows them.
RECORDS: dict[str, Rule] = {
    "teams": Rule(
        lambda w: [w["team"]],
        _detail("teams"),
        # The network map's team filter offers them: a team it does not know is refused.
        lambda team: f"/network/?team={team.pk}",
        lambda team, html: "Some filters were not valid" not in html,
    ),
    "users": Rule(
        lambda w: w["users"],
        _detail("users"),
        lambda user: f"/autocomplete/users/?q={user.username}",
        _contains(lambda user: f'"value": {user.pk},'),
    ),
    "organizations": Rule(
        lambda w: [w["organization"]],
        _detail("organizations"),
        lambda o: f"/organizations/{o.pk}/",
    ),
    "stakeholders": Rule(
        lambda w: w["stakeholders"], _detail("stakeholders"), lambda s: f"/stakeholders/{s.pk}/"
    ),
    "relationships": Rule(
        lambda w: w["relationships"],
        _detail("relationships"),
        lambda r: f"/relationships/{r.pk}/",
    ),
    "interactions": Rule(
        lambda w: w["interactions"], _detail("interactions"), lambda i: f"/interactions/{i.pk}/"
    ),
    "commitments": Rule(  # listed on their stakeholder's page
        lambda w: w["commitments"],
        _detail("commitments"),
        lambda c: f"/stakeholders/{c.stakeholder_id}/",
        _contains(lambda c: c.description),
    ),
    "outcomes": Rule(  # listed on their goal's page
        lambda w: w["outcomes"],
        _detail("outcomes"),
        lambda o: f"/goals/{o.goal_id}/",
        _contains(lambda o: o.description),
    ),
    "stakeholder-links": Rule(  # every colleague sees both ends
        lambda w: w["links"],
        _detail("stakeholder-links"),
        lambda link: f"/stakeholders/{link.from_stakeholder_id}/",
    ),
    "goals": Rule(
        lambda w: list(w["goals"].values()), _detail("goals"), lambda g: f"/goals/{g.pk}/"
    ),
    "imports": Rule(lambda w: w["imports"], _detail("imports"), lambda j: f"/imports/{j.pk}/"),
    "webhooks": Rule(  # listed on their director's webhook page, nobody else's
        lambda w: w["webhooks"],
        _detail("webhooks"),
        lambda hook: "/webhooks/",
        _contains(lambda hook: hook.url),
    ),
}


def _health_api(path: str) -> Callable[[tuple], str]:
    def address(scope: tuple) -> str:
        kind, scope_id = scope
        return path if kind == "organisation" else f"{path}?{kind}={scope_id}"

    return address


def _health_page(scope: tuple) -> str:
    kind, scope_id = scope
    if kind == "goal":
        return f"/goals/{scope_id}/"
    return "/dashboard/" if kind == "organisation" else f"/dashboard/?team={scope_id}"


def _health_on_page(scope: tuple, html: str) -> bool:
    # The goal page is every colleague's; its health section only for whom may see it.
    return scope[0] != "goal" or 'aria-labelledby="goal-health-heading"' in html


def _scopes(w: dict) -> list[tuple]:
    return [("organisation", 0), ("team", w["team"].pk)] + [
        ("goal", g.pk) for g in w["goals"].values()
    ]


# Computed figures and nested resources, by URL name: the API and the page agree.
RECORDS["api-review-detail"] = Rule(
    lambda w: w["reviews"],
    lambda review: f"/api/v1/reviews/{review.pk}/",
    lambda review: f"/reviews/{review.pk}/",
)

FIGURES: dict[str, Rule] = {
    "stakeholder-scores": Rule(
        lambda w: w["stakeholders"],
        lambda s: f"/api/v1/stakeholders/{s.pk}/scores/",
        lambda s: f"/stakeholders/{s.pk}/",
        lambda s, html: SCORES_PANEL in html,
    ),
    "stakeholder-history": Rule(
        lambda w: w["stakeholders"],
        lambda s: f"/api/v1/stakeholders/{s.pk}/history/",
        lambda s: f"/stakeholders/{s.pk}/",
        lambda s, html: HISTORY_PANEL in html,
    ),
    "relationship-history": Rule(
        lambda w: w["relationships"],
        lambda r: f"/api/v1/relationships/{r.pk}/history/",
        lambda r: f"/relationships/{r.pk}/",
        lambda r, html: HISTORY_PANEL in html,
    ),
    "relationship-scores": Rule(
        lambda w: w["relationships"],
        lambda r: f"/api/v1/relationships/{r.pk}/scores/",
        lambda r: f"/relationships/{r.pk}/",
        lambda r, html: SCORES_PANEL in html,
    ),
    "relationship-pulse-detail": Rule(
        lambda w: w["pulses"],
        lambda p: f"/api/v1/relationships/{p.relationship_id}/pulses/{p.pk}/",
        lambda p: f"/relationships/{p.relationship_id}/",
        _contains(lambda p: p.note),
    ),
    "network-health": Rule(
        _scopes, _health_api("/api/v1/network/health/"), _health_page, _health_on_page
    ),
    "network-health-history": Rule(
        _scopes, _health_api("/api/v1/network/health/history/"), _health_page, _health_on_page
    ),
    "user-scorecard": Rule(
        lambda w: w["users"],
        lambda u: f"/api/v1/users/{u.pk}/scorecard/",
        lambda u: f"/people/{u.pk}/scorecard/",
    ),
    "team-scorecard-api": Rule(
        lambda w: [w["team"]],
        lambda t: f"/api/v1/teams/{t.pk}/scorecard/",
        lambda t: f"/teams/{t.pk}/",
    ),
    "stakeholder-intro-paths": Rule(
        lambda w: w["stakeholders"],
        lambda s: f"/api/v1/stakeholders/{s.pk}/intro-paths/",
        lambda s: f"/stakeholders/{s.pk}/",
        _contains(lambda s: "warm-intros-heading"),
    ),
}

# API routes that are not records a page shows, and why.
NOT_RECORDS = {
    "relationship-pulse-list": "the list of the pulses checked one by one above",
    "capture-email": "an action (capture a message), not a record",
    "capture-calendar": "an action (capture a calendar file), not a record",
    "recompute": "an action for directors, not a record; its page /scores/recompute/ agrees "
    "(tests/dashboards/test_recompute_page.py)",
    "recompute-job": "the state of a director's action, not a record",
    "network-kpr": "per-person figures, checked by tests/networks (same rows, both roles)",
    "network-graph": "the map's data, checked by tests/networks (same nodes, both roles)",
    "api-review-list": "the list of the reviews checked one by one above",
    "api-review-answers": "an action (our answers), not a record",
    "api-review-invite": "an action (send the invitation), not a record",
    "api-review-actions": "an action (a joint action becomes a commitment), not a record",
    "api-review-question-list": "the questionnaire, the same for everyone",
    "api-review-question-detail": "an item of the questionnaire, the same for everyone",
    # Connected accounts and their review queue are their owner's alone (directors too see
    # only their own); tests/connections checks page and API refuse everyone else alike.
    "connection-list": "a user's own connected accounts (tests/connections)",
    "connection-detail": "a user's own connected account (tests/connections)",
    "connection-sync": "an action (sync now), not a record",
    "suggested-stakeholder-list": "a user's own review queue (tests/connections)",
    "suggested-stakeholder-detail": "a user's own review queue (tests/connections)",
    "suggested-stakeholder-accept": "an action on the review queue, not a record",
    "suggested-stakeholder-merge": "an action on the review queue, not a record",
    "suggested-stakeholder-ignore": "an action on the review queue, not a record",
}


def _api_route_names() -> set[str]:
    """Every API route: the router's prefixes and the names of the other patterns."""
    from config.urls import urlpatterns
    from relations.api.urls import router

    names = {prefix for prefix, _viewset, _basename in router.registry}
    router_names = {p.name for p in router.urls}

    def walk(patterns: list, inside_api: bool) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, inside_api or str(pattern.pattern) == "api/v1/")
            elif (
                isinstance(pattern, URLPattern)
                and inside_api
                and pattern.name
                and pattern.name not in router_names | {"api-root"}
            ):
                names.add(pattern.name)

    walk(urlpatterns, False)
    # Extra actions on router resources that carry computed figures.
    names |= {"stakeholder-scores", "relationship-scores"}
    return names


def test_every_api_resource_has_a_parity_rule():
    covered = set(RECORDS) | set(FIGURES) | set(NOT_RECORDS)
    missing = _api_route_names() - covered
    assert not missing, f"API resources without a page/API parity rule: {sorted(missing)}"


def _clients(user) -> tuple[Client, APIClient]:
    page, api = Client(), APIClient()
    page.force_login(user)
    api.force_login(user)
    return page, api


def _verdicts(rule: Rule, world: dict, user) -> list[tuple[str, str, str]]:
    page, api = _clients(user)
    disagreements = []
    for record in rule.records(world):
        api_status = api.get(rule.api(record)).status_code
        assert api_status in (200, 403, 404), (rule.api(record), api_status)
        response = page.get(rule.page(record), follow=True)
        assert response.status_code in (200, 403, 404), (rule.page(record), response.status_code)
        html = response.content.decode() if response.status_code == 200 else ""
        on_page = response.status_code == 200 and (
            rule.on_page is None or rule.on_page(record, html)
        )
        api_verdict = SHOWN if api_status == 200 else REFUSED
        page_verdict = SHOWN if on_page else REFUSED
        if api_verdict != page_verdict:
            disagreements.append((rule.api(record), api_verdict, f"page {page_verdict}"))
    return disagreements


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("resource", sorted(RECORDS))
def test_page_and_api_agree_on_every_record(resource, role, world, request):
    user = request.getfixturevalue(role)
    assert _verdicts(RECORDS[resource], world, user) == []


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("figure", sorted(FIGURES))
def test_page_and_api_agree_on_every_figure(figure, role, world, request):
    user = request.getfixturevalue(role)
    assert _verdicts(FIGURES[figure], world, user) == []


def test_the_world_tells_the_roles_apart(world, manager, other_manager):
    """The parity above is not vacuous: Maria is refused Otto's private interaction, his
    relationship's scores and Dana's goal's health, in the API and on the page."""
    page, api = _clients(manager)
    ottos = world["interactions"][1]
    assert api.get(f"/api/v1/interactions/{ottos.pk}/").status_code == 404
    assert page.get(f"/interactions/{ottos.pk}/").status_code == 404
    goal = world["goals"]["dana"]
    assert api.get(f"/api/v1/network/health/?goal={goal.pk}").status_code == 403
    assert api.get(f"/api/v1/network/health/?goal={world['goals']['maria'].pk}").status_code == 200


# --- Writes: every API-writable resource has its browser page (DESIGN §5a) -----------


@dataclass(frozen=True)
class WriteRule:
    """The browser's pages for an API resource's writes: `create` the new-record page
    (None when records are made on another record's page, tested on their own below),
    `edit(record)` its edit (or delete) page, None for a resource the API only creates;
    `api(record)` the record's API address when it is not `/api/v1/<resource>/<id>/`."""

    records: Callable[[dict], list]
    create: str | None
    edit: Callable[[Any], str] | None
    api: Callable[[Any], str] | None = None


def _pulse_api(pulse: Any) -> str:
    return f"/api/v1/relationships/{pulse.relationship_id}/pulses/{pulse.pk}/"


WRITES: dict[str, WriteRule] = {
    "organizations": WriteRule(
        lambda w: [w["organization"]],
        "/organizations/new/",
        lambda o: f"/organizations/{o.pk}/edit/",
    ),
    "stakeholders": WriteRule(
        lambda w: w["stakeholders"], "/stakeholders/new/", lambda s: f"/stakeholders/{s.pk}/edit/"
    ),
    "relationships": WriteRule(  # made by logging an interaction; edited here
        lambda w: w["relationships"], None, lambda r: f"/relationships/{r.pk}/edit/"
    ),
    "interactions": WriteRule(
        lambda w: w["interactions"], "/interactions/new/", lambda i: f"/interactions/{i.pk}/edit/"
    ),
    "outcomes": WriteRule(
        lambda w: w["outcomes"], "/outcomes/new/", lambda o: f"/outcomes/{o.pk}/edit/"
    ),
    "stakeholder-links": WriteRule(
        lambda w: w["links"],
        None,  # from the stakeholder page: /stakeholders/<id>/links/new/
        lambda link: f"/stakeholder-links/{link.pk}/edit/",
    ),
    "goals": WriteRule(
        lambda w: list(w["goals"].values()), "/goals/new/", lambda g: f"/goals/{g.pk}/edit/"
    ),
    "commitments": WriteRule(  # made on the interaction form; edited here
        lambda w: w["commitments"], None, lambda c: f"/commitments/{c.pk}/edit/"
    ),
    "teams": WriteRule(lambda w: [w["team"]], "/teams/new/", lambda t: f"/teams/{t.pk}/edit/"),
    "webhooks": WriteRule(
        lambda w: w["webhooks"], "/webhooks/new/", lambda hook: f"/webhooks/{hook.pk}/edit/"
    ),
    "imports": WriteRule(lambda w: [], "/imports/new/", None),  # undone, never edited
    # Nested under their relationship in the API; recorded on the relationship page
    # (test_page_and_api_agree_on_who_may_record_a_pulse), edited on their own page.
    "pulses": WriteRule(
        lambda w: w["pulses"], None, lambda p: f"/pulses/{p.pk}/edit/", api=_pulse_api
    ),
}

# The API's nested routes that write, by URL name, and the WRITES entry covering them.
NESTED_WRITES = {"relationship-pulse-list": "pulses", "relationship-pulse-detail": "pulses"}


def _api_write_resources(*methods: str) -> set[str]:
    """The router's resources with any of the viewset `methods`, and the nested
    viewset routes (by URL name) that answer any of them."""
    from relations.api.urls import router, urlpatterns

    names = {
        prefix
        for prefix, viewset, _basename in router.registry
        if any(hasattr(viewset, method) for method in methods)
    }
    router_names = {p.name for p in router.urls}
    for pattern in urlpatterns:
        actions = getattr(pattern.callback, "actions", None) or {}
        if pattern.name not in router_names and set(actions.values()) & set(methods):
            names.add(pattern.name)
    return names


def _resource(name: str) -> str:
    return NESTED_WRITES.get(name, name)


def test_every_writable_api_resource_has_a_page():
    writable = {
        _resource(name) for name in _api_write_resources("create", "update", "partial_update")
    }
    missing = writable - set(WRITES)
    assert not missing, f"API-writable resources without a browser page: {sorted(missing)}"
    assert "pulses" in writable and {"teams", "webhooks"} <= writable  # the walk finds them


def _api_path(resource: str, rule: WriteRule, record: Any) -> str:
    return rule.api(record) if rule.api else f"/api/v1/{resource}/{record.pk}/"


def _api_creates(api: APIClient, path: str) -> bool:
    """Whether the API lets the caller create here: an empty POST passes the permission
    checks and fails validation (400, or 415 for a file upload), or is refused (403)."""
    from django.db import transaction

    with transaction.atomic():
        status = api.post(path, {}, format="json").status_code
        transaction.set_rollback(True)
    assert status in (201, 400, 403, 404, 415), (path, status)
    return status in (201, 400, 415)


def _allowed(status: int) -> bool:
    assert status in (200, 403, 404), status
    return status == 200


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("resource", sorted(WRITES))
def test_page_and_api_agree_on_who_may_write(resource, role, world, request):
    """The create page opens exactly when the API would create; an empty PATCH changes
    nothing yet answers as a change would: the API allows it exactly when the edit page
    opens, for every record and role."""
    user = request.getfixturevalue(role)
    page, api = _clients(user)
    rule = WRITES[resource]
    if rule.create:
        api_allows = _api_creates(api, f"/api/v1/{resource}/")
        page_allows = _allowed(page.get(rule.create).status_code)
        assert api_allows == page_allows, (resource, "create", role, api_allows, page_allows)
    for record in rule.records(world):
        assert rule.edit is not None
        api_allows = _allowed(
            api.patch(_api_path(resource, rule, record), {}, format="json").status_code
        )
        page_allows = _allowed(page.get(rule.edit(record)).status_code)
        assert api_allows == page_allows, (resource, record.pk, role, api_allows, page_allows)


@pytest.mark.parametrize("role", ROLES)
def test_page_and_api_agree_on_who_may_record_a_pulse(role, world, request):
    """The relationship page offers the pulse form exactly when the API takes a pulse
    for that relationship."""
    user = request.getfixturevalue(role)
    page, api = _clients(user)
    for relationship in world["relationships"]:
        api_allows = _api_creates(api, f"/api/v1/relationships/{relationship.pk}/pulses/")
        response = page.get(f"/relationships/{relationship.pk}/")
        page_allows = response.status_code == 200 and 'id="pulse-form"' in response.content.decode()
        assert api_allows == page_allows, (relationship.pk, role, api_allows, page_allows)


def test_the_write_rules_tell_the_roles_apart(world, manager, other_manager):
    """Not vacuous: Otto may not change Maria's goal, in the API or on the page."""
    page, api = _clients(other_manager)
    goal = world["goals"]["maria"]
    assert api.patch(f"/api/v1/goals/{goal.pk}/", {}, format="json").status_code == 403
    assert page.get(f"/goals/{goal.pk}/edit/").status_code == 403


# --- Deletes: whoever the API lets DELETE a record has its browser page (issue #17) ----

DELETES: dict[str, WriteRule] = {
    "organizations": WriteRule(
        lambda w: [w["organization"]], None, lambda o: f"/organizations/{o.pk}/delete/"
    ),
    "stakeholders": WriteRule(
        lambda w: w["stakeholders"], None, lambda s: f"/stakeholders/{s.pk}/delete/"
    ),
    "relationships": WriteRule(
        lambda w: w["relationships"], None, lambda r: f"/relationships/{r.pk}/delete/"
    ),
    "interactions": WriteRule(
        lambda w: w["interactions"], None, lambda i: f"/interactions/{i.pk}/delete/"
    ),
    "commitments": WriteRule(
        lambda w: w["commitments"], None, lambda c: f"/commitments/{c.pk}/delete/"
    ),
    "outcomes": WriteRule(lambda w: w["outcomes"], None, lambda o: f"/outcomes/{o.pk}/delete/"),
    "stakeholder-links": WriteRule(  # "Remove link" on the link's edit page
        lambda w: w["links"], None, lambda link: f"/stakeholder-links/{link.pk}/edit/"
    ),
    "goals": WriteRule(
        lambda w: list(w["goals"].values()), None, lambda g: f"/goals/{g.pk}/delete/"
    ),
    "teams": WriteRule(lambda w: [w["team"]], None, lambda t: f"/teams/{t.pk}/delete/"),
    "webhooks": WriteRule(
        lambda w: w["webhooks"], None, lambda hook: f"/webhooks/{hook.pk}/delete/"
    ),
    "pulses": WriteRule(
        lambda w: w["pulses"], None, lambda p: f"/pulses/{p.pk}/delete/", api=_pulse_api
    ),
}


def test_every_deletable_api_resource_has_a_delete_page():
    deletable = {_resource(name) for name in _api_write_resources("destroy")}
    missing = deletable - set(DELETES)
    assert not missing, f"API-deletable resources without a browser page: {sorted(missing)}"


def _api_deletes(api: APIClient, path: str) -> bool:
    """Whether the API deletes the record; the deletion is rolled back."""
    from django.db import transaction

    with transaction.atomic():
        status = api.delete(path).status_code
        transaction.set_rollback(True)
    assert status in (204, 403, 404), (path, status)
    return status == 204


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("resource", sorted(DELETES))
def test_page_and_api_agree_on_who_may_delete(resource, role, world, request):
    """The API's DELETE succeeds exactly when the delete page opens, for every record
    and role (managers are refused stakeholders and organisations: they archive)."""
    user = request.getfixturevalue(role)
    page, api = _clients(user)
    rule = DELETES[resource]
    for record in rule.records(world):
        api_allows = _api_deletes(api, _api_path(resource, rule, record))
        page_allows = _allowed(page.get(rule.edit(record)).status_code)
        assert api_allows == page_allows, (resource, record.pk, role, api_allows, page_allows)


def test_the_delete_rules_tell_the_roles_apart(world, manager, director):
    """Not vacuous: Maria may not delete her own stakeholder, Dana may, on both sides."""
    stakeholder = world["stakeholders"][0]
    page, api = _clients(manager)
    assert page.get(f"/stakeholders/{stakeholder.pk}/delete/").status_code == 403
    assert not _api_deletes(api, f"/api/v1/stakeholders/{stakeholder.pk}/")
    page, api = _clients(director)
    assert page.get(f"/stakeholders/{stakeholder.pk}/delete/").status_code == 200
    assert _api_deletes(api, f"/api/v1/stakeholders/{stakeholder.pk}/")
    assert type(stakeholder).objects.filter(pk=stakeholder.pk).exists()  # rolled back
