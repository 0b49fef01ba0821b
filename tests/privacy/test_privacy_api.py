"""The data-protection parts of API v1: the fields, the export and the erasure."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from relations.models import AuditEvent, DataProtectionAction, Stakeholder
from relations.privacy.redaction import ERASED
from tests.factories import CommitmentFactory, InteractionFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


def test_the_data_protection_fields_are_written_and_read(manager_api):
    response = manager_api.post(
        "/api/v1/stakeholders/",
        {
            "name": "Ada Lovelace",
            "legal_basis": "consent",
            "consent_date": "2026-01-15",
            "data_source_kind": "event",
            "data_source": "Analytical Engine conference",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["legal_basis"] == "consent"
    assert body["consent_date"] == "2026-01-15"
    assert body["data_source_kind"] == "event"
    assert body["erased_at"] is None
    assert body["retention_flagged_at"] is None
    objected = manager_api.patch(
        f"/api/v1/stakeholders/{body['id']}/",
        {"objection_on": "2026-02-01", "objection_note": "No more newsletters"},
        format="json",
    )
    assert objected.status_code == 200, objected.content
    assert objected.json()["objection_on"] == "2026-02-01"
    # A new objection is entered in the register, once.
    manager_api.patch(
        f"/api/v1/stakeholders/{body['id']}/", {"objection_note": "No calls"}, format="json"
    )
    entries = DataProtectionAction.objects.filter(stakeholder_id=body["id"], kind="objection")
    assert [e.actor.username for e in entries] == ["maria"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"legal_basis": "consent"}, "consent_date"),
        ({"legal_basis": "consent", "consent_date": None}, "consent_date"),
        ({"consent_date": "2999-01-01"}, "consent_date"),
        ({"legal_basis": "vital_interests_maybe"}, "legal_basis"),
        ({"data_source_kind": "gossip"}, "data_source_kind"),
        ({"objection_note": "Stop"}, "objection_on"),
        ({"objection_on": "2999-01-01"}, "objection_on"),
    ],
)
def test_bad_data_protection_input_is_a_400_naming_the_field(manager_api, payload, field):
    response = manager_api.post(
        "/api/v1/stakeholders/", {"name": "Someone", **payload}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Stakeholder.objects.filter(name="Someone").exists()


def test_every_article_6_basis_is_offered(manager_api):
    for basis in (
        "consent",
        "contract",
        "legal_obligation",
        "vital_interests",
        "public_task",
        "legitimate_interest",
    ):
        extra = {"consent_date": "2026-01-01"} if basis == "consent" else {}
        response = manager_api.post(
            "/api/v1/stakeholders/",
            {"name": f"Basis {basis}", "legal_basis": basis, **extra},
            format="json",
        )
        assert response.status_code == 201, (basis, response.content)


def test_the_database_refuses_undated_consent(stakeholder):
    with pytest.raises(IntegrityError), transaction.atomic():
        Stakeholder.objects.filter(pk=stakeholder.pk).update(legal_basis="consent")


def test_a_director_exports_the_complete_record(director_api, manager, stakeholder):
    interaction = InteractionFactory(
        participants=[manager], with_stakeholders=[stakeholder], notes="Talked shop"
    )
    CommitmentFactory(stakeholder=stakeholder, responsible=manager, description="Send deck")
    other = StakeholderFactory(name="Not Part Of It")
    InteractionFactory(participants=[manager], with_stakeholders=[stakeholder, other])

    response = director_api.get(f"/api/v1/stakeholders/{stakeholder.pk}/export/")

    assert response.status_code == 200
    body = response.json()
    assert body["stakeholder"]["name"] == "Sam Stakeholder"
    assert body["stakeholder"]["owner"]["username"] == "maria"
    assert {i["id"] for i in body["interactions"]} >= {interaction.pk}
    assert any(i["notes"] == "Talked shop" for i in body["interactions"])
    assert body["commitments"][0]["description"] == "Send deck"
    # Other people's data is not part of this person's export.
    assert "Not Part Of It" not in response.content.decode()
    assert body["data_protection_actions"][-1]["kind"] == "export"
    assert DataProtectionAction.objects.filter(stakeholder=stakeholder, kind="export").exists()
    assert AuditEvent.objects.filter(
        action="export", object_type="relations.stakeholder", object_id=str(stakeholder.pk)
    ).exists()


def test_only_directors_export_and_erase(manager_api, stakeholder):
    assert manager_api.get(f"/api/v1/stakeholders/{stakeholder.pk}/export/").status_code == 403
    response = manager_api.post(
        f"/api/v1/stakeholders/{stakeholder.pk}/erase/", {"reason": "asked"}, format="json"
    )
    assert response.status_code == 403
    stakeholder.refresh_from_db()
    assert stakeholder.erased_at is None
    assert not DataProtectionAction.objects.exists()


def test_unknown_or_invisible_stakeholders_are_404(director_api, api_client, stakeholder):
    assert director_api.get("/api/v1/stakeholders/999999/export/").status_code == 404
    assert (
        director_api.post(
            "/api/v1/stakeholders/999999/erase/", {"reason": "x"}, format="json"
        ).status_code
        == 404
    )
    assert api_client.get(f"/api/v1/stakeholders/{stakeholder.pk}/export/").status_code == 401


def test_a_director_erases_through_the_api(director_api, director, stakeholder):
    url = f"/api/v1/stakeholders/{stakeholder.pk}/erase/"
    assert director_api.post(url, {}, format="json").json().keys() >= {"reason"}

    response = director_api.post(url, {"reason": "Request of 3 March"}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    entry = DataProtectionAction.objects.get(pk=body["register_entry"])
    assert (entry.kind, entry.actor, entry.reason) == ("erasure", director, "Request of 3 March")
    detail = director_api.get(f"/api/v1/stakeholders/{stakeholder.pk}/").json()
    assert detail["name"] == f"{ERASED} #{stakeholder.pk}"
    assert detail["email"] == ""
    assert detail["erased_at"] is not None
    # Erased stays erased: neither a second erasure nor an edit fills it in again.
    assert director_api.post(url, {"reason": "again"}, format="json").status_code == 403
    patched = director_api.patch(
        f"/api/v1/stakeholders/{stakeholder.pk}/", {"name": "Sam again"}, format="json"
    )
    assert patched.status_code == 403


def test_the_export_answers_in_a_bounded_number_of_queries(
    director_api, manager, stakeholder, django_assert_max_num_queries
):
    for day in range(15):
        interaction = InteractionFactory(
            participants=[manager],
            with_stakeholders=[stakeholder],
            occurred_at=timezone.now() - timedelta(days=day + 1),
        )
        CommitmentFactory(stakeholder=stakeholder, responsible=manager, interaction=interaction)
    # Auth and groups (3), register + audit (2), the record with tags (2), scores (3),
    # interactions with participants and stakeholders (3), one query per other list (7).
    with django_assert_max_num_queries(24):
        response = director_api.get(f"/api/v1/stakeholders/{stakeholder.pk}/export/")
    assert len(response.json()["interactions"]) == 15
