"""The audit trail page and the History panel of record pages: directors only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from relations import services
from relations.audit.views import AUDIT_PAGE_SIZE
from relations.models import AuditEvent, Relationship
from relations.templatetags.audit_tags import HISTORY_ROWS
from tests.factories import GoalFactory, InteractionFactory, StakeholderFactory, UserFactory

AUDIT_URL = reverse("audit-log")
BASE = 4  # session, user, the user's groups, the director's second-factor device


def record(actor, obj, action="update", changes=None, at=None):
    # Written as the services write it, dated as the test needs (entries are append-only).
    return AuditEvent.objects.create(
        at=at or timezone.now(),
        actor=actor,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj),
        changes=changes or {},
    )


def rows(response) -> list[str]:
    return [e.object_repr for e in response.context["page"].object_list]


def test_managers_may_not_read_the_trail(client, manager):
    client.force_login(manager)
    assert client.get(AUDIT_URL).status_code == 403
    assert "Audit trail" not in client.get("/").content.decode()


def test_directors_find_it_in_the_navigation(client, director):
    client.force_login(director)
    assert f'href="{AUDIT_URL}"' in client.get("/").content.decode()
    assert client.get(AUDIT_URL).status_code == 200


def test_filters_by_type_actor_action_dates_and_text(client, director, manager, other_manager):
    sam = StakeholderFactory(name="Sam Searchable")
    kim = StakeholderFactory(name="Kim")
    goal = GoalFactory(title="Grow in Energy")
    now = timezone.now()
    record(manager, sam, "create", {"email": "sam@example.org"}, at=now - timedelta(days=10))
    record(other_manager, kim, "update", {"title": ["CTO", "CEO"]}, at=now - timedelta(days=2))
    record(manager, goal, "delete", {"title": "Grow in Energy"}, at=now)
    client.force_login(director)

    def names(**params) -> list[str]:
        response = client.get(AUDIT_URL, params)
        assert response.status_code == 200
        return rows(response)

    assert names(object_type="relations.stakeholder") == ["Kim", "Sam Searchable"]
    assert names(actor="otto") == ["Kim"]
    assert names(action="delete") == ["Grow in Energy"]
    today = timezone.localdate()
    assert names(since=today - timedelta(days=3), object_type="relations.stakeholder") == ["Kim"]
    assert names(until=today - timedelta(days=5)) == ["Sam Searchable"]
    # Free text: the record's name, the values recorded, the actor.
    assert names(q="searchable") == ["Sam Searchable"]
    assert names(q="CEO") == ["Kim"]
    assert "Sam Searchable" in names(q="maria")
    # A record's own history, as the History panel links to it.
    assert names(object_type="relations.stakeholder", object_id=str(kim.pk)) == ["Kim"]
    assert names(actor="nobody-by-that-name") == []


def test_bad_filters_are_a_form_error(client, director):
    client.force_login(director)
    response = client.get(AUDIT_URL, {"since": "2026-02-30"})
    assert response.status_code == 400
    response = client.get(AUDIT_URL, {"since": "2026-05-01", "until": "2026-04-01"})
    assert response.status_code == 400
    assert "before the start date" in response.content.decode()
    assert client.get(AUDIT_URL, {"action": "explode"}).status_code == 400


def test_the_trail_is_paginated_with_bounded_queries(
    client, director, manager, django_assert_max_num_queries
):
    sam = StakeholderFactory(name="Sam")
    for n in range(AUDIT_PAGE_SIZE + 5):
        record(manager, sam, changes={"note": [str(n), str(n + 1)]})
    client.force_login(director)
    # count; the page of events with their actors
    with django_assert_max_num_queries(BASE + 2):
        first = client.get(AUDIT_URL, {"object_type": "relations.stakeholder"})
    assert len(first.context["page"].object_list) == AUDIT_PAGE_SIZE
    with django_assert_max_num_queries(BASE + 2):
        second = client.get(AUDIT_URL, {"object_type": "relations.stakeholder", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_changes_show_before_and_after(client, director, manager):
    sam = StakeholderFactory(name="Sam")
    record(manager, sam, changes={"title": ["CTO", "<b>CEO</b>"]})
    client.force_login(director)
    body = client.get(AUDIT_URL).content.decode()
    assert "<td>CTO</td><td>&lt;b&gt;CEO&lt;/b&gt;</td>" in body
    # The entry opens the record's page.
    assert f'href="{sam.get_absolute_url()}"' in body


# --- History panel --------------------------------------------------------------------------


@pytest.fixture
def records(manager):
    sam = StakeholderFactory(name="Sam", owner=manager)
    interaction = services.interaction_log(
        by=manager,
        participants=[manager],
        stakeholders=[sam],
        occurred_at=InteractionFactory.build().occurred_at,
        kind="meeting",
        subject="Kick-off",
        value_given=2,
        value_received=2,
    )
    relationship = Relationship.objects.get(user=manager, stakeholder=sam)
    goal = GoalFactory(title="Grow", owner=manager)
    for obj in (sam, sam.organization, goal):
        record(manager, obj, changes={"status": ["old", "new"]})
    return {
        "stakeholder": sam,
        "organization": sam.organization,
        "interaction": interaction,
        "relationship": relationship,
        "goal": goal,
    }


@pytest.mark.parametrize(
    "kind", ["stakeholder", "organization", "interaction", "relationship", "goal"]
)
def test_directors_see_each_records_history(client, director, manager, records, kind):
    obj = records[kind]
    client.force_login(director)
    body = client.get(obj.get_absolute_url()).content.decode()
    assert 'id="history-heading"' in body
    assert "maria" in body.split('id="history-heading"')[1]
    link = f"object_type={obj._meta.label_lower}&amp;object_id={obj.pk}"
    assert link in body

    client.force_login(manager)
    body = client.get(obj.get_absolute_url()).content.decode()
    assert 'id="history-heading"' not in body


def test_the_panel_shows_the_latest_entries_and_links_to_the_rest(client, director, manager):
    sam = StakeholderFactory(name="Sam")
    for n in range(HISTORY_ROWS + 3):
        record(manager, sam, changes={"importance": [n, n + 1]})
    client.force_login(director)
    response = client.get(sam.get_absolute_url())
    body = response.content.decode()
    panel = body.split('id="history-heading"')[1]
    assert panel.count("list-group-item") == HISTORY_ROWS
    assert "Older changes" in panel
    assert f"<td>{HISTORY_ROWS + 2}</td><td>{HISTORY_ROWS + 3}</td>" in panel


def test_security_events_reach_the_trail_page(client, director):
    UserFactory(username="mallory", role="manager")
    client.post(reverse("login"), {"username": "mallory", "password": "nope"})
    client.force_login(director)
    response = client.get(AUDIT_URL, {"action": "sign_in_failed"})
    assert rows(response) == ["mallory"]
