"""The last writes of the API that had no browser page (issue #17): editing an
authenticity pulse, and the organisation's set-up (teams, webhooks) created, edited and
deleted by directors. Each page calls the API's service, so both apply the same rule,
validation and audit; bad input comes back inline with everything typed kept.

Maria (`manager`), Otto (`other_manager`), Dana (`director`)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from relations.models import (
    AuditEvent,
    AuthenticityPulse,
    Relationship,
    Team,
    Webhook,
    WebhookDelivery,
)
from tests.factories import StakeholderFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _audit(obj, action: str) -> AuditEvent:
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action
    ).get()


# --- Pulses ---------------------------------------------------------------------------


@pytest.fixture
def pulse(manager):
    relationship = Relationship.objects.create(
        user=manager, stakeholder=StakeholderFactory(name="Anna Andersen", owner=manager)
    )
    return AuthenticityPulse.objects.create(
        relationship=relationship,
        assessed_by=manager,
        integrity=4,
        transparency=3,
        reliability=2,
        note="First impression",
    )


def _pulse_post(pulse, **changes) -> dict:
    data = {
        "pulse-assessed_on": pulse.assessed_on.isoformat(),
        "pulse-integrity": "4",
        "pulse-transparency": "3",
        "pulse-reliability": "2",
        "pulse-note": "First impression",
    }
    data.update({f"pulse-{name}": value for name, value in changes.items()})
    return data


def test_the_author_changes_her_pulse_from_its_relationship_page(manager_client, pulse):
    relationship_page = manager_client.get(f"/relationships/{pulse.relationship_id}/")
    assert f'href="/pulses/{pulse.pk}/edit/"' in relationship_page.content.decode()

    form = manager_client.get(f"/pulses/{pulse.pk}/edit/")
    assert form.status_code == 200
    html = form.content.decode()
    assert "First impression" in html and f'href="/pulses/{pulse.pk}/delete/"' in html

    response = manager_client.post(
        f"/pulses/{pulse.pk}/edit/", _pulse_post(pulse, reliability="5", note="Kept every promise")
    )
    assert response.status_code == 302
    assert response["Location"] == f"/relationships/{pulse.relationship_id}/#pulses"
    pulse.refresh_from_db()
    assert (pulse.reliability, pulse.note) == (5, "Kept every promise")
    changes = _audit(pulse, "update").changes
    assert changes["reliability"] == [2, 5] and "integrity" not in changes


def test_bad_input_on_the_pulse_form_is_shown_inline_and_keeps_what_was_typed(
    manager_client, pulse
):
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    response = manager_client.post(
        f"/pulses/{pulse.pk}/edit/",
        _pulse_post(pulse, assessed_on=tomorrow.isoformat(), integrity="", note="Typed note"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "This field is required." in html  # integrity
    assert "Typed note" in html and 'value="5"' in html  # the typed note and choices stay
    # The future date is refused by the service once the ratings are there.
    response = manager_client.post(
        f"/pulses/{pulse.pk}/edit/",
        _pulse_post(pulse, assessed_on=tomorrow.isoformat(), note="Typed note"),
    )
    html = response.content.decode()
    assert "cannot be dated in the future" in html and "Typed note" in html
    assert tomorrow.isoformat() in html
    pulse.refresh_from_db()
    assert pulse.note == "First impression"


def test_only_the_author_or_a_director_changes_a_pulse(
    other_client, director_client, pulse, other_manager
):
    # Otto does not see Maria's pulse (as in the API: 404); Dana changes it.
    assert other_client.get(f"/pulses/{pulse.pk}/edit/").status_code == 404
    api = APIClient()
    api.force_login(other_manager)
    path = f"/api/v1/relationships/{pulse.relationship_id}/pulses/{pulse.pk}/"
    assert api.patch(path, {}, format="json").status_code == 404
    response = director_client.post(f"/pulses/{pulse.pk}/edit/", _pulse_post(pulse, integrity="1"))
    assert response.status_code == 302
    pulse.refresh_from_db()
    assert pulse.integrity == 1


# --- Teams ----------------------------------------------------------------------------


def test_a_director_creates_edits_and_deletes_a_team(director_client, director, manager):
    assert director_client.get("/teams/new/").status_code == 200
    response = director_client.post(
        "/teams/new/",
        {"name": "Energy", "description": "Grid operators", "members": [manager.pk]},
    )
    assert response.status_code == 302 and response["Location"] == "/teams/"
    team = Team.objects.get(name="Energy")
    assert list(team.members.all()) == [manager]
    assert _audit(team, "create").changes["members"] == [manager.pk]

    listing = director_client.get("/teams/").content.decode()
    assert "Energy" in listing and "Maria Manager" in listing
    assert f'href="/teams/{team.pk}/edit/"' in listing
    assert f'href="/teams/{team.pk}/delete/"' in listing

    response = director_client.post(
        f"/teams/{team.pk}/edit/", {"name": "Energy & utilities", "description": "", "members": []}
    )
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.name == "Energy & utilities" and not team.members.exists()
    assert _audit(team, "update").changes["members"] == [[manager.pk], []]

    confirm = director_client.get(f"/teams/{team.pk}/delete/")
    assert confirm.status_code == 200
    assert "Its members keep their accounts" in confirm.content.decode()
    assert director_client.post(f"/teams/{team.pk}/delete/").status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()
    assert _audit(team, "delete").changes["name"] == "Energy & utilities"
    assert manager.__class__.objects.filter(pk=manager.pk).exists()


def test_bad_team_input_is_shown_inline_and_keeps_what_was_typed(director_client, manager):
    TeamFactory(name="Energy")
    response = director_client.post(
        "/teams/new/",
        {"name": "Energy", "description": "A second try", "members": [manager.pk]},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Team with this Name already exists." in html or "already exists" in html
    assert "A second try" in html
    assert f'<option value="{manager.pk}" selected>' in html
    response = director_client.post("/teams/new/", {"name": "", "description": "Kept"})
    assert "This field is required." in response.content.decode()
    assert "Kept" in response.content.decode()
    assert Team.objects.count() == 1


def test_managers_are_refused_the_team_pages_as_in_the_api(manager_client, manager):
    team = TeamFactory(name="Energy")
    for path in ("/teams/new/", f"/teams/{team.pk}/edit/", f"/teams/{team.pk}/delete/"):
        assert manager_client.get(path).status_code == 403, path
    assert manager_client.post(f"/teams/{team.pk}/delete/").status_code == 403
    assert Team.objects.filter(pk=team.pk).exists()
    # Every colleague reads the teams, without the set-up links.
    listing = manager_client.get("/teams/").content.decode()
    assert "Energy" in listing and "/edit/" not in listing
    api = APIClient()
    api.force_login(manager)
    assert api.post("/api/v1/teams/", {"name": "X"}, format="json").status_code == 403


def test_the_api_writes_teams_through_the_same_service(director):
    """The API's team create is audited with the members, as the page's."""
    api = APIClient()
    api.force_login(director)
    member = UserFactory(username="mia", role="manager")
    response = api.post("/api/v1/teams/", {"name": "Water", "members": [member.pk]}, format="json")
    assert response.status_code == 201, response.json()
    team = Team.objects.get(name="Water")
    assert _audit(team, "create").changes["members"] == [member.pk]
    assert api.post("/api/v1/teams/", {"name": "Water"}, format="json").status_code == 400


# --- Webhooks -------------------------------------------------------------------------


@pytest.fixture
def loopback_allowed(settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True


@pytest.fixture
def hook(director):
    return Webhook.objects.create(
        owner=director,
        url="http://127.0.0.1:9/hook",
        events=["scores.updated"],
        description="CRM sync",
        secret="s" * 64,
    )


def test_a_director_registers_a_webhook_and_sees_its_secret_once(
    director_client, director, loopback_allowed
):
    assert director_client.get("/webhooks/new/").status_code == 200
    response = director_client.post(
        "/webhooks/new/",
        {
            "url": "http://127.0.0.1:9/hook",
            "events": ["interaction.created", "scores.updated"],
            "active": "on",
            "description": "CRM sync",
        },
    )
    assert response.status_code == 200
    hook = Webhook.objects.get()
    assert hook.owner == director
    assert hook.events == ["interaction.created", "scores.updated"]
    assert hook.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert hook.secret not in str(_audit(hook, "create").changes)
    # Never again: not on the list, not on the edit page.
    for path in ("/webhooks/", f"/webhooks/{hook.pk}/edit/"):
        page = director_client.get(path)
        assert page.status_code == 200
        assert hook.secret not in page.content.decode(), path


def test_a_changed_url_passes_the_outbound_guard_as_on_create(director_client, hook, settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = False
    # Unchanged, the stored address is not checked again: the description is saved.
    data = {"url": hook.url, "events": ["scores.updated"], "active": "on", "description": "New"}
    assert director_client.post(f"/webhooks/{hook.pk}/edit/", data).status_code == 302
    hook.refresh_from_db()
    assert hook.description == "New"
    data.update(url="http://10.1.2.3/hook", description="Typed again")
    response = director_client.post(f"/webhooks/{hook.pk}/edit/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing was saved" in html and "private" in html.lower()
    assert "http://10.1.2.3/hook" in html and "Typed again" in html
    hook.refresh_from_db()
    assert (hook.url, hook.description) == ("http://127.0.0.1:9/hook", "New")
    # The API refuses it the same way.
    api = APIClient()
    api.force_login(hook.owner)
    answer = api.patch(f"/api/v1/webhooks/{hook.pk}/", {"url": "http://10.1.2.3/"}, format="json")
    assert answer.status_code == 400 and "url" in answer.json()


def test_bad_webhook_input_is_shown_inline_and_keeps_what_was_typed(
    director_client, hook, loopback_allowed
):
    response = director_client.post(
        f"/webhooks/{hook.pk}/edit/",
        {"url": "not a url", "events": [], "description": "Typed description"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid URL." in html and "This field is required." in html
    assert 'value="not a url"' in html and "Typed description" in html
    hook.refresh_from_db()
    assert hook.url == "http://127.0.0.1:9/hook"


def test_editing_a_webhook_is_audited_and_keeps_its_secret(director_client, hook, loopback_allowed):
    response = director_client.post(
        f"/webhooks/{hook.pk}/edit/",
        {"url": "http://127.0.0.1:9/other", "events": ["stakeholder.at_risk"], "description": ""},
    )
    assert response.status_code == 302
    hook.refresh_from_db()
    assert (hook.url, hook.events, hook.active) == (
        "http://127.0.0.1:9/other",
        ["stakeholder.at_risk"],
        False,
    )
    assert hook.secret == "s" * 64
    changes = _audit(hook, "update").changes
    assert changes["url"] == ["http://127.0.0.1:9/hook", "http://127.0.0.1:9/other"]
    assert "secret" not in changes


def test_a_webhook_is_deleted_with_its_deliveries_after_a_confirmation(director_client, hook):
    WebhookDelivery.objects.create(webhook=hook, event="scores.updated", payload={})
    confirm = director_client.get(f"/webhooks/{hook.pk}/delete/")
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "receives no more events" in html and "Webhook delivery</dt>" in html
    assert hook.secret not in html
    assert director_client.post(f"/webhooks/{hook.pk}/delete/").status_code == 302
    assert not Webhook.objects.exists() and not WebhookDelivery.objects.exists()
    assert "s" * 64 not in str(_audit(hook, "delete").changes)


def test_only_its_director_sees_a_webhook(manager_client, hook):
    other_director = UserFactory(username="dirk", role="director")
    from tests.clients import signed_in

    dirk = signed_in(other_director)
    for path in (f"/webhooks/{hook.pk}/edit/", f"/webhooks/{hook.pk}/delete/"):
        assert dirk.get(path).status_code == 404, path
        assert manager_client.get(path).status_code == 404, path
    assert hook.url not in dirk.get("/webhooks/").content.decode()
    assert manager_client.get("/webhooks/").status_code == 403
    assert manager_client.get("/webhooks/new/").status_code == 403
