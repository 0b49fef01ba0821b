"""Object-level permissions of every address that names an object (browser and API).

The list of addresses comes from the URL resolver: a new address with an object id
fails `test_every_object_address_is_classified` until it is added to one of the
tables below, and then it is probed like the others.

Maria (a manager) probes the records of Otto (another manager) with every method:
each private record answers 404 (405 where the method does not exist), exactly as
an id that does not exist would, and nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import tokens
from connections.models import ConnectedAccount, SuggestedStakeholder
from metrics.models import RecomputeJob
from relations import services
from relations.capture.models import CaptureBatch
from relations.importing.models import ImportJob
from relations.models import (
    AuditEvent,
    AuthenticityPulse,
    Interaction,
    Relationship,
    StakeholderLink,
    Webhook,
)
from reviews.models import Review
from tests.factories import (
    CommitmentFactory,
    GoalFactory,
    InteractionFactory,
    OutcomeFactory,
    StakeholderFactory,
    TeamFactory,
)

# Records only their people (and directors) may see: another manager gets 404.
PRIVATE: dict[str, Callable[[dict], dict]] = {
    "relationship-detail": lambda o: {"pk": o["relationship"].pk},
    "relationship-pulse-create": lambda o: {"pk": o["relationship"].pk},
    "interaction-detail": lambda o: {"pk": o["interaction"].pk},
    "interaction-edit": lambda o: {"pk": o["interaction"].pk},
    "interaction-delete": lambda o: {"pk": o["interaction"].pk},
    "commitment-status": lambda o: {"pk": o["commitment"].pk},
    "api-token-revoke": lambda o: {"token_key": o["token"].token_key},
    "api:stakeholder-scores": lambda o: {"pk": o["stakeholder"].pk},
    "stakeholder-history": lambda o: {"pk": o["stakeholder"].pk},
    "relationship-history": lambda o: {"pk": o["relationship"].pk},
    "api:relationship-detail": lambda o: {"pk": o["relationship"].pk},
    "api:relationship-scores": lambda o: {"pk": o["relationship"].pk},
    "api:relationship-pulse-list": lambda o: {"relationship_id": o["relationship"].pk},
    "api:relationship-pulse-detail": lambda o: {
        "relationship_id": o["relationship"].pk,
        "pk": o["pulse"].pk,
    },
    "api:interaction-detail": lambda o: {"pk": o["interaction"].pk},
    "api:commitment-detail": lambda o: {"pk": o["commitment"].pk},
    "api:outcome-detail": lambda o: {"pk": o["outcome"].pk},
    "api:webhook-detail": lambda o: {"pk": o["webhook"].pk},
    "api:webhook-deliveries": lambda o: {"pk": o["webhook"].pk},
    "import-detail": lambda o: {"pk": o["import"].pk},
    "import-preview": lambda o: {"pk": o["import"].pk},
    "import-status": lambda o: {"pk": o["import"].pk},
    "import-undo": lambda o: {"pk": o["import"].pk},
    "api:import-detail": lambda o: {"pk": o["import"].pk},
    "api:import-undo": lambda o: {"pk": o["import"].pk},
    "capture-result": lambda o: {"pk": o["capture"].pk},
    "capture-address-create": lambda o: {"pk": o["capture"].pk},
    "capture-address-ignore": lambda o: {"pk": o["capture"].pk},
    # A person's scorecard is theirs and directors'; a team's is directors'.
    "person-scorecard": lambda o: {"pk": o["otto"].pk},
    "user-scorecard": lambda o: {"pk": o["otto"].pk},
    "team-detail-scorecard": lambda o: {"pk": o["team"].pk},
    "team-scorecard-api": lambda o: {"pk": o["team"].pk},
    # The edit pages of records only their people see (DESIGN §5a).
    "relationship-edit": lambda o: {"pk": o["relationship"].pk},
    "outcome-edit": lambda o: {"pk": o["outcome"].pk},
    "outcome-archive": lambda o: {"pk": o["outcome"].pk},
    "outcome-delete": lambda o: {"pk": o["outcome"].pk},
    "api:outcome-archive": lambda o: {"pk": o["outcome"].pk},
    "api:outcome-unarchive": lambda o: {"pk": o["outcome"].pk},
    "relationship-delete": lambda o: {"pk": o["relationship"].pk},
    "commitment-edit": lambda o: {"pk": o["commitment"].pk},
    "commitment-delete": lambda o: {"pk": o["commitment"].pk},
    "pulse-delete": lambda o: {"pk": o["pulse"].pk},
    "pulse-edit": lambda o: {"pk": o["pulse"].pk},
    # A webhook carries a secret: only its director sees its pages (404 for Maria).
    "webhook-edit": lambda o: {"pk": o["webhook"].pk},
    "webhook-delete": lambda o: {"pk": o["webhook"].pk},
    # Two-sided reviews: the stakeholder's answers are for its relationship's members.
    "review-start": lambda o: {"relationship_pk": o["relationship"].pk},
    "review-detail": lambda o: {"pk": o["review"].pk},
    "review-answer-ours": lambda o: {"pk": o["review"].pk},
    "review-invite": lambda o: {"pk": o["review"].pk},
    "review-action-add": lambda o: {"pk": o["review"].pk},
    "api-review-detail": lambda o: {"pk": o["review"].pk},
    "api-review-answers": lambda o: {"pk": o["review"].pk},
    "api-review-invite": lambda o: {"pk": o["review"].pk},
    "api-review-actions": lambda o: {"pk": o["review"].pk},
    # Connected accounts and the review queue: their owner's alone (directors' too).
    "connection-edit": lambda o: {"pk": o["connection"].pk},
    "connection-remove": lambda o: {"pk": o["connection"].pk},
    "connection-sync": lambda o: {"pk": o["connection"].pk},
    "connection-review-decide": lambda o: {"pk": o["suggestion"].pk, "decision": "ignore"},
    "api:connection-detail": lambda o: {"pk": o["connection"].pk},
    "api:connection-sync": lambda o: {"pk": o["connection"].pk},
    "api:suggested-stakeholder-detail": lambda o: {"pk": o["suggestion"].pk},
    "api:suggested-stakeholder-accept": lambda o: {"pk": o["suggestion"].pk},
    "api:suggested-stakeholder-merge": lambda o: {"pk": o["suggestion"].pk},
    "api:suggested-stakeholder-ignore": lambda o: {"pk": o["suggestion"].pk},
}
# Records DESIGN §7 shows to every staff member (stakeholders, organisations, teams,
# colleagues, goals, the links between stakeholders): readable by Maria, on purpose.
SHARED: dict[str, Callable[[dict], dict]] = {
    "stakeholder-detail": lambda o: {"pk": o["stakeholder"].pk},
    "api:stakeholder-detail": lambda o: {"pk": o["stakeholder"].pk},
    "stakeholder-intro-paths": lambda o: {"pk": o["stakeholder"].pk},
    "stakeholder-privacy": lambda o: {"pk": o["stakeholder"].pk},
    "organization-detail": lambda o: {"pk": o["stakeholder"].organization_id},
    "goal-detail": lambda o: {"pk": o["goal"].pk},
    "api:team-detail": lambda o: {"pk": o["team"].pk},
    "api:user-detail": lambda o: {"pk": o["otto"].pk},
    "api:organization-detail": lambda o: {"pk": o["stakeholder"].organization_id},
    "api:goal-detail": lambda o: {"pk": o["goal"].pk},
    "api:stakeholder-link-detail": lambda o: {"pk": o["link"].pk},
    # Every colleague keeps stakeholders, organisations and the links between them.
    "stakeholder-edit": lambda o: {"pk": o["stakeholder"].pk},
    "stakeholder-archive": lambda o: {"pk": o["stakeholder"].pk},
    "stakeholder-link-create": lambda o: {"pk": o["stakeholder"].pk},
    "stakeholder-link-edit": lambda o: {"pk": o["link"].pk},
    "organization-edit": lambda o: {"pk": o["stakeholder"].organization_id},
    "organization-archive": lambda o: {"pk": o["stakeholder"].organization_id},
}
# Seen by all staff but changed only by the owner (or a director): 403.
OWNERS_ONLY: dict[str, Callable[[dict], dict]] = {
    "stakeholder-hand-over": lambda o: {"pk": o["stakeholder"].pk},
    "stakeholder-merge": lambda o: {"pk": o["stakeholder"].pk},
    "api:stakeholder-merge": lambda o: {"pk": o["stakeholder"].pk},
    # A goal is changed by its owner and directors.
    "goal-edit": lambda o: {"pk": o["goal"].pk},
    "goal-archive": lambda o: {"pk": o["goal"].pk},
    "goal-delete": lambda o: {"pk": o["goal"].pk},
    "api:goal-archive": lambda o: {"pk": o["goal"].pk},
    "api:goal-unarchive": lambda o: {"pk": o["goal"].pk},
}
# Actions (POST only) that every staff member may take on the shared records above.
SHARED_ACTIONS: dict[str, Callable[[dict], dict]] = {
    "api:stakeholder-archive": lambda o: {"pk": o["stakeholder"].pk},
    "api:stakeholder-unarchive": lambda o: {"pk": o["stakeholder"].pk},
    "api:organization-archive": lambda o: {"pk": o["stakeholder"].organization_id},
    "api:organization-unarchive": lambda o: {"pk": o["stakeholder"].organization_id},
}
# Directors' own records: a manager is refused (403) whatever the id.
DIRECTORS_ONLY: dict[str, Callable[[dict], dict]] = {
    "recompute-job": lambda o: {"pk": o["job"].pk},
    "stakeholder-export": lambda o: {"pk": o["stakeholder"].pk},
    "stakeholder-export-json": lambda o: {"pk": o["stakeholder"].pk},
    "stakeholder-erase": lambda o: {"pk": o["stakeholder"].pk},
    "api:stakeholder-export": lambda o: {"pk": o["stakeholder"].pk},
    "api:stakeholder-erase": lambda o: {"pk": o["stakeholder"].pk},
    "organization-merge": lambda o: {"pk": o["stakeholder"].organization_id},
    "api:organization-merge": lambda o: {"pk": o["stakeholder"].organization_id},
    # Deleting for good is for directors; managers archive (the API's DELETE too).
    "stakeholder-delete": lambda o: {"pk": o["stakeholder"].pk},
    "organization-delete": lambda o: {"pk": o["stakeholder"].organization_id},
    # Teams are read by every colleague and set up by directors (the API's rule).
    "team-edit": lambda o: {"pk": o["team"].pk},
    "team-delete": lambda o: {"pk": o["team"].pk},
}
# Addresses with parameters that name no record of the domain.
NOT_OBJECTS = {
    "password_reset_confirm": "a signed reset link, not a record id",
    "review-answer": "a signed single-use link (tests/reviews: wrong, used, expired refused)",
    "api-review-question-detail": "an item of the questionnaire, the same for everyone",
    "connection-add": "the kind of account to add (imap, caldav, carddav), not a record id",
}

METHODS = ["get", "post", "put", "patch", "delete"]


def object_url_names() -> set[str]:
    """Every named address (admin aside) with a parameter other than a format suffix."""
    names: set[str] = set()

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(
                    pattern.url_patterns,
                    prefix + str(pattern.pattern),
                    pattern.namespace or namespace,
                )
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                params = set(re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route))
                params = {a or b for a, b in params} - {"format"}
                if route.startswith("admin/") or not params or not pattern.name:
                    continue
                names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)

    walk(get_resolver().url_patterns, "", None)
    return names


def test_every_object_address_is_classified():
    classified = (
        set(PRIVATE)
        | set(SHARED)
        | set(SHARED_ACTIONS)
        | set(OWNERS_ONLY)
        | set(DIRECTORS_ONLY)
        | set(NOT_OBJECTS)
    )
    found = object_url_names()
    assert found - classified == set(), "new addresses: add them to a table in this file"
    assert classified - found == set(), "addresses listed here no longer exist"


@pytest.fixture
def others_records(db, other_manager, director) -> dict:
    """Otto's stakeholder with everything hanging off it, none of it Maria's."""
    stakeholder = StakeholderFactory(name="Otto's contact", owner=other_manager)
    second = StakeholderFactory(name="Otto's other contact", owner=other_manager)
    interaction = services.interaction_log(
        by=other_manager,
        participants=[other_manager],
        stakeholders=[stakeholder],
        occurred_at=InteractionFactory.build().occurred_at,
        kind="meeting",
        subject="Otto's private meeting",
        value_given=2,
        value_received=2,
    )
    relationship = Relationship.objects.get(user=other_manager, stakeholder=stakeholder)
    token, _secret = tokens.api_token_create(other_manager, days=30)
    return {
        "otto": other_manager,
        "stakeholder": stakeholder,
        "relationship": relationship,
        "interaction": interaction,
        "commitment": CommitmentFactory(stakeholder=stakeholder, responsible=other_manager),
        "outcome": OutcomeFactory(stakeholder=stakeholder, created_by=other_manager),
        "pulse": services.pulse_record(
            relationship=relationship,
            by=other_manager,
            integrity=4,
            transparency=4,
            reliability=4,
        ),
        "webhook": Webhook.objects.create(owner=director, url="https://hooks.example.org/x"),
        "token": token,
        "team": TeamFactory(),
        "goal": GoalFactory(owner=other_manager),
        "link": StakeholderLink.objects.create(
            from_stakeholder=stakeholder, to_stakeholder=second, kind="colleague"
        ),
        "job": RecomputeJob.objects.create(),
        "import": ImportJob.objects.create(
            owner=other_manager,
            kind=ImportJob.Kind.STAKEHOLDERS,
            status=ImportJob.Status.DONE,
            file_name="otto.csv",
            content=b"name\nOtto's contact\n",
        ),
        "review": Review.objects.create(relationship=relationship, due_on=date(2026, 12, 1)),
        "capture": CaptureBatch.objects.create(
            created_by=other_manager, source=CaptureBatch.Source.EMAIL, name="otto.eml"
        ),
        "connection": ConnectedAccount.objects.create(
            owner=other_manager,
            kind="imap",
            label="Otto's mail",
            host="imap.example.org",
            username="otto",
            secret="otto-app-password",
            status=ConnectedAccount.Status.PAUSED,
        ),
        "suggestion": SuggestedStakeholder.objects.create(
            owner=other_manager, email="met@otto.example", name="Met by Otto"
        ),
    }


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def _url(name: str, kwargs: dict) -> str:
    from django.urls import reverse

    return reverse(name, kwargs=kwargs)


def _missing(value) -> str | int:
    return 999_999_999 if isinstance(value, int) else "nosuchkey"


def _state(records: dict) -> tuple:
    return (
        Interaction.objects.filter(pk=records["interaction"].pk).values_list("subject", "version")[
            0
        ],
        AuthenticityPulse.objects.filter(pk=records["pulse"].pk).count(),
        AuthToken.objects.filter(user=records["otto"]).count(),
        records["stakeholder"]
        .__class__.objects.filter(pk=records["stakeholder"].pk)
        .values_list("owner_id", "name")[0],
        AuditEvent.objects.exclude(object_type="auth.user").count(),
    )


@pytest.mark.parametrize("name", sorted(PRIVATE))
def test_another_managers_record_is_404_with_every_method(name, others_records, manager):
    StakeholderFactory(owner=manager)  # Maria has records of her own
    client = _client(manager)
    url = _url(name, PRIVATE[name](others_records))
    before = _state(others_records)
    missing_url = _url(name, {k: _missing(v) for k, v in PRIVATE[name](others_records).items()})
    answers = {method: getattr(client, method)(url, {}).status_code for method in METHODS}
    # Exactly what an id that does not exist gets: nothing tells that the record exists.
    assert answers == {
        method: getattr(client, method)(missing_url, {}).status_code for method in METHODS
    }
    assert set(answers.values()) <= {403, 404, 405}, answers
    assert 404 in answers.values(), answers
    assert _state(others_records) == before
    # The refusals are in the security log, with the address they probed.
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.ACCESS_DENIED, actor=manager, changes__status=404
    ).exists()


@pytest.mark.parametrize("name", sorted(PRIVATE))
def test_the_owner_reaches_the_same_address(name, others_records, director):
    """The 404s above are about Maria, not broken addresses: Otto (or, for the
    director's webhook, Dana) opens each one."""
    directors = name.startswith(("api:webhook", "webhook-", "team-"))
    owner = director if directors else others_records["otto"]
    if name == "api-token-revoke":
        response = _client(owner).post(_url(name, PRIVATE[name](others_records)))
        assert response.status_code == 302
        return
    if name in {
        "interaction-delete",
        "relationship-pulse-create",
        "stakeholder-hand-over",
        "import-undo",
        "import-preview",
        "api:import-undo",
        "capture-address-create",
        "capture-address-ignore",
        "api:outcome-archive",
        "api:outcome-unarchive",
        "review-start",
        "review-invite",
        "review-action-add",
        "api-review-answers",
        "api-review-invite",
        "api-review-actions",
        "connection-sync",
        "connection-review-decide",
        "api:connection-sync",
        "api:suggested-stakeholder-accept",
        "api:suggested-stakeholder-merge",
        "api:suggested-stakeholder-ignore",
    }:
        # Pages behind a button: GET shows the confirmation or form (or 405).
        response = _client(owner).get(_url(name, PRIVATE[name](others_records)))
        assert response.status_code in {200, 302, 405}
        return
    if name == "commitment-status":
        response = _client(owner).post(
            _url(name, PRIVATE[name](others_records)), {"status": "kept"}
        )
        assert response.status_code in {200, 302}
        return
    response = _client(owner).get(_url(name, PRIVATE[name](others_records)))
    # Scores not computed yet answer 404 with their own message, not "Not found".
    if name.endswith("-scores"):
        assert response.status_code in {200, 404}
        assert response.status_code == 200 or "computed" in response.json()["detail"]
    else:
        assert response.status_code == 200, response.content[:300]


@pytest.mark.parametrize("name", sorted(SHARED))
def test_records_shared_with_all_staff_are_readable(name, others_records, manager):
    response = _client(manager).get(_url(name, SHARED[name](others_records)))
    assert response.status_code == 200


@pytest.mark.parametrize("name", sorted(SHARED_ACTIONS))
def test_actions_on_shared_records_are_every_colleagues(name, others_records, manager):
    url = _url(name, SHARED_ACTIONS[name](others_records))
    client = _client(manager)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 200


@pytest.mark.parametrize("name", sorted(OWNERS_ONLY))
def test_records_changed_by_their_owner_only_are_403(name, others_records, manager):
    url = _url(name, OWNERS_ONLY[name](others_records))
    before = _state(others_records)
    client = _client(manager)
    # An API action answers only POST; the page shows its form to GET.
    assert client.get(url).status_code in ({403, 405} if name.startswith("api:") else {403})
    own = StakeholderFactory(owner=manager)
    assert client.post(url, {"successor": manager.pk, "other": own.pk}).status_code == 403
    assert _state(others_records) == before


@pytest.mark.parametrize("name", sorted(DIRECTORS_ONLY))
def test_directors_records_are_refused_to_managers(name, others_records, manager):
    url = _url(name, DIRECTORS_ONLY[name](others_records))
    client = _client(manager)
    before = _state(others_records)
    answers = {method: getattr(client, method)(url, {}).status_code for method in METHODS}
    assert set(answers.values()) <= {403, 405}, answers
    assert 403 in answers.values(), answers
    assert _state(others_records) == before


def test_a_token_reaches_no_more_than_a_session(others_records, manager):
    """The same probes with Maria's API token instead of her session."""
    _row, secret = tokens.api_token_create(manager, days=7)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    for name in sorted(
        n for n in PRIVATE if n.startswith("api:") or "/api/" in _url(n, PRIVATE[n](others_records))
    ):
        url = _url(name, PRIVATE[name](others_records))
        answers = {client.get(url).status_code, client.post(url, {}).status_code}
        # 403 only where the role is refused whatever the id (webhooks are directors').
        assert answers <= {403, 404, 405} and 404 in answers, (name, answers)
