"""The audit trail records every create, change and delete with what changed, through
every path (browser, API, admin, services), and cannot be rewritten."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import tokens
from relations import services
from relations.audit.services import MASKED
from relations.models import (
    AuditEvent,
    GoalStakeholder,
    Organization,
    Relationship,
    StrategicGoal,
    Webhook,
)
from tests.factories import (
    GoalFactory,
    InteractionFactory,
    OrganizationFactory,
    StakeholderFactory,
    UserFactory,
)


def events_of(obj) -> list[tuple[str, dict]]:
    return [(e.action, e.changes) for e in AuditEvent.objects.for_object(obj).order_by("pk")]


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


# --- Admin ------------------------------------------------------------------------------


def test_admin_create_change_delete_are_audited(admin_client, superuser):
    fields = {"name": "Acme", "sector": "Energy", "country": "NL", "tier": 2, "website": ""}
    response = admin_client.post(reverse("admin:relations_organization_add"), fields)
    assert response.status_code == 302
    acme = Organization.objects.get(name="Acme")
    change_url = reverse("admin:relations_organization_change", args=[acme.pk])
    admin_client.post(change_url, {**fields, "sector": "Water"})
    admin_client.post(
        reverse("admin:relations_organization_delete", args=[acme.pk]), {"post": "yes"}
    )
    assert not Organization.objects.filter(pk=acme.pk).exists()
    events = AuditEvent.objects.filter(object_type="relations.organization", object_id=acme.pk)
    assert list(events.order_by("pk").values_list("action", "actor")) == [
        ("create", superuser.pk),
        ("update", superuser.pk),
        ("delete", superuser.pk),
    ]
    created, changed, deleted = events.order_by("pk")
    assert created.changes["name"] == "Acme"
    assert changed.changes == {"sector": ["Energy", "Water"]}
    assert deleted.changes["sector"] == "Water"


def test_admin_inline_rows_are_audited(admin_client, manager):
    goal = GoalFactory(title="Grow", owner=manager)
    sam = StakeholderFactory(name="Sam")
    prefix = "links"
    data = {
        "title": "Grow",
        "description": "",
        "owner": manager.pk,
        "status": "active",
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
        f"{prefix}-0-stakeholder": sam.pk,
        f"{prefix}-0-role": "champion",
        f"{prefix}-0-goal": goal.pk,
    }
    response = admin_client.post(
        reverse("admin:relations_strategicgoal_change", args=[goal.pk]), data
    )
    assert response.status_code == 302, response.content[:2000]
    link = GoalStakeholder.objects.get(goal=goal)
    created = AuditEvent.objects.get(object_type="relations.goalstakeholder", action="create")
    assert created.object_id == str(link.pk)
    assert created.changes["role"] == "champion"
    # The goal's own entry shows the link it gained, with its role.
    goal_change = AuditEvent.objects.get(object_type="relations.strategicgoal", action="update")
    assert goal_change.changes["stakeholders"] == [[], [[sam.pk, "champion"]]]


def test_admin_bulk_delete_audits_each_row(admin_client):
    first, second = OrganizationFactory(), OrganizationFactory()
    admin_client.post(
        reverse("admin:relations_organization_changelist"),
        {"action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"},
    )
    assert not Organization.objects.filter(pk__in=[first.pk, second.pk]).exists()
    assert set(
        AuditEvent.objects.filter(
            action="delete", object_type="relations.organization"
        ).values_list("object_id", flat=True)
    ) == {str(first.pk), str(second.pk)}


def test_admin_tokens_are_audited_without_their_digest(admin_client, manager):
    admin_client.post(reverse("admin:knox_authtoken_add"), {"user": manager.pk})
    token = AuthToken.objects.get(user=manager)
    event = AuditEvent.objects.get(object_type="knox.authtoken", action="create")
    assert event.object_id == token.token_key
    assert token.digest not in str(event.changes) + event.object_repr


# --- API and services ---------------------------------------------------------------------


def test_api_changes_record_before_and_after(director):
    api = APIClient()
    api.force_login(director)
    sam = StakeholderFactory(name="Sam", owner=director)
    url = f"/api/v1/stakeholders/{sam.pk}/"
    api.patch(url, {"title": "CEO", "tags": ["b", "a"]}, format="json")
    change = AuditEvent.objects.get(action="update", object_id=str(sam.pk))
    assert change.actor == director
    assert change.changes["title"] == ["Director", "CEO"]
    # Many-to-many as sorted ids: the same tags in another order are no change.
    assert len(change.changes["tags"][1]) == 2
    api.patch(url, {"tags": ["a", "b"]}, format="json")
    again = AuditEvent.objects.filter(action="update", object_id=str(sam.pk)).order_by("pk")
    assert "tags" not in again.last().changes


def test_goal_links_changed_through_the_api_are_in_the_goals_entry(director):
    api = APIClient()
    api.force_login(director)
    sam, kim = StakeholderFactory(name="Sam"), StakeholderFactory(name="Kim")
    response = api.post(
        "/api/v1/goals/",
        {"title": "Grow", "stakeholders": [{"stakeholder": sam.pk, "role": "champion"}]},
        format="json",
    )
    goal = StrategicGoal.objects.get(pk=response.json()["id"])
    api.patch(
        f"/api/v1/goals/{goal.pk}/",
        {"stakeholders": [{"stakeholder": kim.pk, "role": "sponsor"}]},
        format="json",
    )
    (created, _c), (updated, changes) = events_of(goal)
    assert (created, updated) == ("create", "update")
    assert _c["stakeholders"] == [[sam.pk, "champion"]]
    assert changes["stakeholders"] == [[[sam.pk, "champion"]], [[kim.pk, "sponsor"]]]


def test_webhook_secrets_never_reach_the_trail(director, settings):
    settings.RAPPORT_ALLOW_PRIVATE_DESTINATIONS = True
    api = APIClient()
    api.force_login(director)
    response = api.post(
        "/api/v1/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "events": ["interaction.created"]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    secret = Webhook.objects.get().secret
    event = AuditEvent.objects.get(object_type="relations.webhook")
    assert secret not in str(event.changes)


def test_logging_an_interaction_audits_the_relationships_it_creates(manager, other_manager):
    sam = StakeholderFactory(owner=manager)
    interaction = services.interaction_log(
        by=manager,
        participants=[manager, other_manager],
        stakeholders=[sam],
        occurred_at=InteractionFactory.build().occurred_at,
        kind="meeting",
        subject="Kick-off",
        value_given=2,
        value_received=2,
    )
    created = AuditEvent.objects.filter(object_type="relations.relationship", action="create")
    assert sorted(created.values_list("object_id", flat=True)) == sorted(
        str(pk) for pk in Relationship.objects.filter(stakeholder=sam).values_list("pk", flat=True)
    )
    assert created.count() == 2
    assert all(e.actor == manager for e in created)
    assert AuditEvent.objects.for_object(interaction).get().changes["subject"] == "Kick-off"


def test_tokens_page_audits_creation_and_revocation(client, manager):
    client.force_login(manager)
    client.post(reverse("api-tokens"), {"days": "30"})
    token = AuthToken.objects.get(user=manager)
    client.post(reverse("api-token-revoke", args=[token.token_key]))
    events = AuditEvent.objects.filter(object_type="knox.authtoken", object_id=token.token_key)
    assert list(events.order_by("pk").values_list("action", "actor")) == [
        ("create", manager.pk),
        ("delete", manager.pk),
    ]


def test_the_management_command_token_is_audited(manager):
    from django.core.management import call_command

    call_command("create_api_token", "maria", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert AuditEvent.objects.filter(object_type="knox.authtoken", actor=manager).exists()
    assert tokens.AuthToken.objects.filter(user=manager).count() == 1


# --- Append-only ---------------------------------------------------------------------------


@pytest.fixture
def recorded(manager):
    sam = StakeholderFactory(name="Sam Private", email="sam@example.org", owner=manager)
    return services.audit_record(
        actor=manager,
        action=AuditEvent.Action.UPDATE,
        obj=sam,
        changes={"email": ["old@example.org", "sam@example.org"], "importance": [3, 4]},
    )


def test_the_orm_refuses_to_change_or_delete_entries(recorded):
    recorded.object_repr = "rewritten"
    with pytest.raises(ValueError):
        recorded.save()
    with pytest.raises(ValueError):
        AuditEvent.objects.filter(pk=recorded.pk).update(object_repr="rewritten")
    with pytest.raises(ValueError):
        AuditEvent.objects.filter(pk=recorded.pk).delete()
    assert AuditEvent.objects.get(pk=recorded.pk).object_repr == "Sam Private"


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the trigger is PostgreSQL's (DATABASE_URL)"
)


@postgres_only
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE relations_auditevent SET object_repr = 'rewritten' WHERE id = %s",
        "UPDATE relations_auditevent SET changes = '{}' WHERE id = %s",
        "DELETE FROM relations_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_raw_sql_too(recorded, sql):
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [recorded.pk])
    assert AuditEvent.objects.get(pk=recorded.pk).object_repr == "Sam Private"


@postgres_only
def test_deleting_a_user_keeps_their_entries(recorded, manager):
    manager.delete()
    recorded = AuditEvent.objects.get(pk=recorded.pk)
    assert recorded.actor is None
    assert recorded.changes["importance"] == [3, 4]


def _erase_email(recorded) -> int:
    """The erasure's masking of the audit trail, for the person's own record."""
    return AuditEvent.objects.mask_for_erasure(
        object_type="relations.stakeholder",
        object_id=recorded.object_id,
        own_fields=["email"],
        pattern=None,
        needles=[],
    )


def test_personal_data_is_masked_through_the_sanctioned_function(recorded):
    assert _erase_email(recorded) == 1
    entry = AuditEvent.objects.get(pk=recorded.pk)
    assert entry.changes == {"email": [MASKED, MASKED], "importance": [3, 4]}
    assert entry.object_repr == MASKED
    assert entry.action == "update" and entry.actor_id == recorded.actor_id
    # Masking again changes nothing more.
    assert _erase_email(recorded) == 0


@postgres_only
def test_masking_does_not_leave_the_door_open(recorded):
    with transaction.atomic():
        _erase_email(recorded)
        # In the same transaction, right after: ordinary updates are refused again.
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(
                "UPDATE relations_auditevent SET object_repr = 'x' WHERE id = %s", [recorded.pk]
            )


def test_every_domain_model_in_the_admin_is_audited():
    from django.contrib import admin

    from accounts.admin import AuditedAuthTokenAdmin
    from relations.admin import AuditedAdmin

    logs = {"auditevent", "webhookdelivery"}  # records about records, not the domain
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label == "relations" and model._meta.model_name not in logs:
            assert isinstance(model_admin, AuditedAdmin), model
    assert isinstance(admin.site._registry[AuthToken], AuditedAuthTokenAdmin)
