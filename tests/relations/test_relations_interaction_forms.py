"""Quick interaction logging, editing and deleting through the browser forms."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from relations.models import AuditEvent, Commitment, Interaction, Relationship
from tests.factories import StakeholderFactory, UserFactory

NEW = reverse("interaction-create")


def form_data(chosen, colleagues, **overrides) -> dict:
    data = {
        "stakeholders": [s.pk for s in chosen],
        "internal_participants": [u.pk for u in colleagues],
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "kind": "meeting",
        "subject": "Coffee about the pilot",
        "notes": "",
        "value_given": "2",
        "value_received": "3",
        "sentiment": "1",
        "duration_minutes": "30",
        "cost": "12.50",
        "commitments-TOTAL_FORMS": "1",
        "commitments-INITIAL_FORMS": "0",
        "commitments-MIN_NUM_FORMS": "0",
        "commitments-MAX_NUM_FORMS": "20",
        "commitments-0-description": "",
        "commitments-0-direction": "us",
        "commitments-0-due_date": "",
        "commitments-0-responsible": str(colleagues[0].pk),
        "commitments-0-stakeholder": "",
    }
    data.update(overrides)
    return data


def test_new_form_has_the_defaults_that_fit(manager_client, manager, stakeholder):
    response = manager_client.get(NEW, {"stakeholder": stakeholder.pk})
    form = response.context["form"]
    assert form["internal_participants"].value() == [manager.pk]
    assert form["kind"].value() == "meeting"
    assert form["duration_minutes"].value() == 30
    assert form["stakeholders"].value() == [stakeholder.pk]
    # Shown in local time, as a datetime-local input expects.
    when = form["occurred_at"].value()
    now = timezone.localtime().replace(tzinfo=None)
    assert abs((now - when).total_seconds()) < 120
    html = response.content.decode()
    assert 'type="datetime-local"' in html
    assert f'<option value="{stakeholder.pk}" selected>' in html


def test_log_interaction_with_a_commitment(manager_client, manager, other_manager, stakeholder):
    second = StakeholderFactory(name="Second Person")
    assert not Relationship.objects.exists()
    data = form_data(
        [stakeholder, second],
        [manager, other_manager],
        **{
            "commitments-0-description": "Send the pilot plan",
            "commitments-0-due_date": (date.today() + timedelta(days=5)).isoformat(),
        },
    )
    response = manager_client.post(NEW, data)
    assert response.status_code == 302
    assert response["Location"] == stakeholder.get_absolute_url()

    interaction = Interaction.objects.get()
    assert interaction.subject == "Coffee about the pilot"
    assert interaction.created_by == manager
    assert str(interaction.cost) == "12.50"
    assert interaction.sentiment == 1
    assert set(interaction.internal_participants.all()) == {manager, other_manager}
    commitment = Commitment.objects.get()
    # Without a choice, the commitment goes to the first stakeholder picked.
    assert commitment.stakeholder == stakeholder
    assert commitment.responsible == manager
    assert commitment.interaction == interaction
    assert commitment.created_by == manager
    # Relationships are created for every (colleague, stakeholder) pair.
    assert Relationship.objects.count() == 4
    assert Relationship.objects.get(user=manager, stakeholder=stakeholder).role == "owner"
    assert AuditEvent.objects.filter(action="create", object_type="relations.interaction").exists()

    page = manager_client.get(stakeholder.get_absolute_url()).content.decode()
    assert "Coffee about the pilot" in page and "Send the pilot plan" in page


def test_commitment_for_another_chosen_stakeholder(manager_client, manager, stakeholder):
    second = StakeholderFactory(name="Second Person")
    data = form_data(
        [stakeholder, second],
        [manager],
        **{
            "commitments-TOTAL_FORMS": "2",
            "commitments-0-description": "They send figures",
            "commitments-0-direction": "them",
            "commitments-0-due_date": "2030-01-01",
            "commitments-0-stakeholder": str(second.pk),
            "commitments-1-description": "We call back",
            "commitments-1-direction": "us",
            "commitments-1-due_date": "2030-01-02",
            "commitments-1-responsible": str(manager.pk),
            "commitments-1-stakeholder": "",
        },
    )
    assert manager_client.post(NEW, data).status_code == 302
    by_description = {c.description: c for c in Commitment.objects.all()}
    assert by_description["They send figures"].stakeholder == second
    assert by_description["They send figures"].direction == "them"
    assert by_description["We call back"].stakeholder == stakeholder


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"stakeholders": []}, "stakeholders"),
        ({"internal_participants": []}, "internal_participants"),
        ({"value_given": "6"}, "value_given"),
        ({"value_received": "-1"}, "value_received"),
        ({"sentiment": "3"}, "sentiment"),
        ({"duration_minutes": "5000"}, "duration_minutes"),
        ({"cost": "-5"}, "cost"),
        ({"cost": "abc"}, "cost"),
        ({"occurred_at": "yesterday-ish"}, "occurred_at"),
        ({"kind": "telepathy"}, "kind"),
        ({"stakeholders": ["999999"]}, "stakeholders"),
    ],
)
def test_bad_input_gives_a_field_error_and_saves_nothing(
    manager_client, manager, stakeholder, overrides, field
):
    response = manager_client.post(NEW, form_data([stakeholder], [manager], **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert "Nothing was saved" in response.content.decode()
    assert not Interaction.objects.exists()
    assert not Relationship.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"commitments-0-description": "Call back"}, "due_date"),
        ({"commitments-0-due_date": "2030-01-01"}, "description"),
        (
            {"commitments-0-description": "Call back", "commitments-0-due_date": "31/02/2030"},
            "due_date",
        ),
        (
            {
                "commitments-0-description": "Call back",
                "commitments-0-due_date": "2030-01-01",
                "commitments-0-responsible": "999999",
            },
            "responsible",
        ),
        (
            {
                "commitments-0-description": "Call back",
                "commitments-0-due_date": "2030-01-01",
                "commitments-0-direction": "nobody",
            },
            "direction",
        ),
    ],
)
def test_bad_commitment_gives_a_field_error_and_saves_nothing(
    manager_client, manager, stakeholder, overrides, field
):
    response = manager_client.post(NEW, form_data([stakeholder], [manager], **overrides))
    assert response.status_code == 200
    assert field in response.context["formset"].forms[0].errors
    assert not Interaction.objects.exists()
    assert not Commitment.objects.exists()


def test_commitment_stakeholder_must_belong_to_the_interaction(
    manager_client, manager, stakeholder
):
    outsider = StakeholderFactory(name="Not In The Meeting")
    data = form_data(
        [stakeholder],
        [manager],
        **{
            "commitments-0-description": "Call back",
            "commitments-0-due_date": "2030-01-01",
            "commitments-0-stakeholder": str(outsider.pk),
        },
    )
    response = manager_client.post(NEW, data)
    assert response.status_code == 200
    assert "stakeholder" in response.context["formset"].forms[0].errors
    assert not Interaction.objects.exists()
    assert not Commitment.objects.exists()


def edit_data(interaction, **overrides) -> dict:
    data = {
        "stakeholders": [s.pk for s in interaction.stakeholders.all()],
        "internal_participants": [u.pk for u in interaction.internal_participants.all()],
        "occurred_at": timezone.localtime(interaction.occurred_at).strftime("%Y-%m-%dT%H:%M"),
        "kind": interaction.kind,
        "subject": interaction.subject,
        "notes": interaction.notes,
        "value_given": interaction.value_given,
        "value_received": interaction.value_received,
        "sentiment": "",
        "duration_minutes": interaction.duration_minutes,
        "cost": "0",
        "version": interaction.version,
    }
    data.update(overrides)
    return data


def test_edit_saves_and_bumps_the_version(manager_client, interaction):
    url = reverse("interaction-edit", args=[interaction.pk])
    response = manager_client.post(url, edit_data(interaction, subject="Renamed"))
    assert response.status_code == 302
    interaction.refresh_from_db()
    assert interaction.subject == "Renamed"
    assert interaction.version == 2
    assert AuditEvent.objects.filter(action="update", object_id=str(interaction.pk)).exists()


def test_edit_conflict_saves_nothing(manager_client, director_client, interaction):
    url = reverse("interaction-edit", args=[interaction.pk])
    stale = edit_data(interaction, subject="Maria's version")
    assert (
        director_client.post(url, edit_data(interaction, subject="Dana's version")).status_code
        == 302
    )
    response = manager_client.post(url, stale)
    assert response.status_code == 200
    assert "Someone else changed this interaction" in response.content.decode()
    interaction.refresh_from_db()
    assert interaction.subject == "Dana's version"
    assert interaction.version == 2


def test_edit_with_bad_input_saves_nothing(manager_client, interaction):
    url = reverse("interaction-edit", args=[interaction.pk])
    response = manager_client.post(url, edit_data(interaction, subject="", value_given="9"))
    assert response.status_code == 200
    assert {"subject", "value_given"} <= set(response.context["form"].errors)
    before = interaction.subject
    interaction.refresh_from_db()
    assert interaction.subject == before
    assert interaction.version == 1


def test_delete_removes_the_interaction_and_keeps_its_commitments(
    manager_client, manager, stakeholder, interaction
):
    commitment = Commitment.objects.create(
        stakeholder=stakeholder,
        responsible=manager,
        description="Follow up",
        due_date=date(2030, 1, 1),
        interaction=interaction,
    )
    response = manager_client.post(reverse("interaction-delete", args=[interaction.pk]))
    assert response.status_code == 302
    assert response["Location"] == stakeholder.get_absolute_url()
    assert not Interaction.objects.filter(pk=interaction.pk).exists()
    commitment.refresh_from_db()
    assert commitment.interaction is None
    assert AuditEvent.objects.filter(action="delete", object_type="relations.interaction").exists()


def test_preselect_ignores_unknown_stakeholder(manager_client):
    response = manager_client.get(NEW, {"stakeholder": "424242"})
    assert response.status_code == 200
    assert response.context["form"]["stakeholders"].value() in (None, [])
    assert manager_client.get(NEW, {"stakeholder": "x'"}).status_code == 200


def test_edit_without_the_version_saves_nothing(manager_client, interaction):
    url = reverse("interaction-edit", args=[interaction.pk])
    data = edit_data(interaction, subject="Renamed")
    del data["version"]
    response = manager_client.post(url, data)
    assert response.status_code == 200
    assert "version" in response.context["form"].errors
    interaction.refresh_from_db()
    assert interaction.subject != "Renamed"


def test_post_without_the_commitment_management_form_is_a_form_error(
    manager_client, manager, stakeholder
):
    data = {k: v for k, v in form_data([stakeholder], [manager]).items() if "commitments" not in k}
    response = manager_client.post(NEW, data)
    assert response.status_code == 200
    assert response.context["formset"].non_form_errors()
    assert not Interaction.objects.exists()


def test_colleagues_must_be_staff(manager_client, manager, stakeholder):
    outsider = UserFactory(username="outsider")
    outsider.groups.clear()
    response = manager_client.post(NEW, form_data([stakeholder], [manager, outsider]))
    assert "internal_participants" in response.context["form"].errors
    assert not Interaction.objects.exists()
