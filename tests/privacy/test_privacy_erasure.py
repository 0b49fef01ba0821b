"""Erasure (GDPR Art. 17): the person is gone from every column of every table,
the figures they fed are not."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone

from metrics.models import RelationshipScore, StakeholderScore
from metrics.recompute import scores_recompute_all
from networks import services as network_services
from networks.models import NetworkHealth
from relations.models import (
    AuditEvent,
    AuthenticityPulse,
    Commitment,
    DataProtectionAction,
    IdempotencyRecord,
    Interaction,
    Outcome,
    Relationship,
    Stakeholder,
    WebhookDelivery,
)
from relations.privacy.redaction import ERASED
from relations.privacy.services import stakeholder_erase, stakeholder_export
from tests.dashboards.conftest import build_known
from tests.factories import StakeholderFactory
from tests.privacy.search import find_everywhere

pytestmark = pytest.mark.django_db

NAME = "Zoë Quintana-Verhoeven"
EMAIL = "zoe.quintana@example.org"
PHONE = "+31 6 5550 1234"
OLD_PHONE = "+31 6 5550 0000"
TITLE = "Chief Sustainability Officer"
NOTES = "Met her at the Rotterdam climate gala; prefers calls after four."
SOURCE = "Business card handed over at the climate gala"
PERSONAL = [NAME, EMAIL, PHONE, OLD_PHONE, TITLE, NOTES, SOURCE, "Zoë", "Quintana", "Verhoeven"]


@pytest.fixture
def zoe(manager, manager_api, director, webhook):
    """Zoë's data in every place the application keeps text, written as users write it."""
    created = manager_api.post(
        "/api/v1/stakeholders/",
        {
            "name": NAME,
            "email": EMAIL,
            "phone": OLD_PHONE,
            "title": TITLE,
            "notes": NOTES,
            "data_source": SOURCE,
            "data_source_kind": "event",
            "importance": 5,
            "owner": manager.pk,
            "tags": ["climate"],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="create-zoe",
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    manager_api.patch(f"/api/v1/stakeholders/{pk}/", {"phone": PHONE}, format="json")
    logged = manager_api.post(
        "/api/v1/interactions/",
        {
            "subject": "Lunch with Zoë",
            "notes": f"{NAME} asked us to mail {EMAIL} or call {PHONE}.",
            "kind": "meeting",
            "stakeholders": [pk],
            "value_given": 3,
            "value_received": 2,
            "duration_minutes": 90,
            "cost": "40.00",
            "sentiment": 1,
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="lunch-zoe",
    )
    assert logged.status_code == 201, logged.content
    interaction_id = logged.json()["id"]
    manager_api.post(
        "/api/v1/commitments/",
        {
            "stakeholder": pk,
            "responsible": manager.pk,
            "direction": "us",
            "description": "Send Zoë Quintana-Verhoeven the annual report",
            "due_date": str(timezone.localdate() - timedelta(days=3)),
            "interaction": interaction_id,
        },
        format="json",
    )
    manager_api.post(
        "/api/v1/outcomes/",
        {
            "stakeholder": pk,
            "credited_to": manager.pk,
            "kind": "deal",
            "value": "2500.00",
            "occurred_on": str(timezone.localdate() - timedelta(days=2)),
            "description": "Quintana signed the pilot",
        },
        format="json",
    )
    relationship = Relationship.objects.get(user=manager, stakeholder_id=pk)
    manager_api.patch(
        f"/api/v1/relationships/{relationship.pk}/",
        {"objective": "Make Zoë our champion on the board"},
        format="json",
    )
    manager_api.post(
        f"/api/v1/relationships/{relationship.pk}/pulses/",
        {"integrity": 4, "transparency": 4, "reliability": 5, "note": "Verhoeven keeps her word"},
        format="json",
    )
    StakeholderFactory(name="Rik Other", notes=f"Introduced by {NAME}; knows {EMAIL}.")
    LogEntry.objects.create(
        user=director,
        content_type=ContentType.objects.get_for_model(Stakeholder),
        object_id=str(pk),
        object_repr=NAME,
        action_flag=CHANGE,
        change_message="[]",
    )
    stakeholder_export(Stakeholder.objects.get(pk=pk), by=director)
    DataProtectionAction.objects.filter(stakeholder_id=pk).update(
        reason=f"Request e-mailed by {NAME}"
    )
    return Stakeholder.objects.get(pk=pk)


def test_the_fixture_really_spreads_the_person_everywhere(zoe):
    """Guards the test below: each place it must clean does hold the person first."""
    places = {table for table, _column, _term in find_everywhere(PERSONAL)}
    assert {
        "relations_stakeholder",
        "relations_interaction",
        "relations_commitment",
        "relations_outcome",
        "relations_relationship",
        "relations_authenticitypulse",
        "relations_auditevent",
        "relations_webhookdelivery",
        "relations_idempotencyrecord",
        "relations_dataprotectionaction",
        "django_admin_log",
    } <= places


def test_an_erased_person_appears_in_no_column_of_any_table(zoe, director):
    stakeholder_erase(zoe, by=director, reason="Erasure requested by e-mail")

    assert find_everywhere(PERSONAL) == []
    zoe.refresh_from_db()
    assert zoe.erased_at is not None
    assert zoe.name == f"{ERASED} #{zoe.pk}"
    assert (zoe.email, zoe.phone, zoe.title, zoe.notes, zoe.data_source) == ("", "", "", "", "")
    assert not zoe.tags.exists()
    # The other stakeholder who mentioned her keeps their own record.
    rik = Stakeholder.objects.get(name="Rik Other")
    assert rik.notes == f"Introduced by {ERASED}; knows {ERASED}."


def test_erasure_keeps_every_row_and_number(zoe, director):
    def numbers():
        return {
            "interactions": list(
                Interaction.objects.of_stakeholder(zoe.pk).values_list(
                    "pk", "value_given", "value_received", "sentiment", "duration_minutes", "cost"
                )
            ),
            "commitments": list(
                Commitment.objects.filter(stakeholder=zoe).values_list("pk", "status", "due_date")
            ),
            "outcomes": list(Outcome.objects.filter(stakeholder=zoe).values_list("pk", "value")),
            "pulses": list(
                AuthenticityPulse.objects.filter(relationship__stakeholder=zoe).values_list(
                    "pk", "integrity", "transparency", "reliability"
                )
            ),
            "relationships": list(Relationship.objects.filter(stakeholder=zoe).values_list("pk")),
            "deliveries": WebhookDelivery.objects.count(),
            "idempotency": IdempotencyRecord.objects.count(),
        }

    before = numbers()
    version = Interaction.objects.of_stakeholder(zoe.pk).get().version
    stakeholder_erase(zoe, by=director, reason="Request")
    assert numbers() == before
    interaction = Interaction.objects.of_stakeholder(zoe.pk).get()
    # An edit begun before the erasure conflicts rather than writing the name back.
    assert interaction.version == version + 1
    assert interaction.subject == f"Lunch with {ERASED}"
    assert interaction.notes == f"{ERASED} asked us to mail {ERASED} or call {ERASED}."


def test_the_audit_trail_is_masked_but_kept(zoe, director):
    events_before = AuditEvent.objects.count()
    own = AuditEvent.objects.filter(object_type="relations.stakeholder", object_id=str(zoe.pk))
    assert own.filter(action="create").get().changes["email"] == EMAIL

    stakeholder_erase(zoe, by=director, reason="Request")

    # Nothing removed; one event added: the erasure itself.
    assert AuditEvent.objects.count() == events_before + 1
    created = own.get(action="create")
    assert created.object_repr == ERASED
    assert created.changes["email"] == ERASED
    assert created.changes["name"] == ERASED
    assert created.changes["importance"] == 5  # not personal: kept
    patched = own.get(action="update")
    assert patched.changes == {"phone": [ERASED, ERASED]}
    erasure = own.get(action="erase")
    assert erasure.actor == director
    assert erasure.changes["anonymised_fields"][:3] == ["name", "title", "email"]
    # Append-only still holds for everything but the masking path.
    with pytest.raises(ValueError):
        created.save()


def test_erasure_is_registered_with_a_redacted_reason(zoe, director):
    stakeholder_erase(zoe, by=director, reason=f"{NAME} asked by phone")
    entry = DataProtectionAction.objects.get(stakeholder_id=zoe.pk, kind="erasure")
    assert entry.actor == director
    assert entry.reason == f"{ERASED} asked by phone"


def test_erasure_needs_a_reason_and_happens_once(zoe, director):
    with pytest.raises(ValidationError):
        stakeholder_erase(zoe, by=director, reason="  ")
    zoe.refresh_from_db()
    assert zoe.name == NAME
    stakeholder_erase(zoe, by=director, reason="Request")
    with pytest.raises(ValidationError):
        stakeholder_erase(zoe, by=director, reason="Again")
    assert DataProtectionAction.objects.filter(stakeholder_id=zoe.pk, kind="erasure").count() == 1


def test_a_name_inside_another_word_is_left_alone(director):
    ann = StakeholderFactory(name="Ann", email="", phone="")
    other = StakeholderFactory(name="Piet", notes="Annual report sent; Ann agreed.")
    stakeholder_erase(ann, by=director, reason="Request")
    other.refresh_from_db()
    assert other.notes == f"Annual report sent; {ERASED} agreed."


HEALTH_FIELDS = (
    "coverage",
    "single_threaded_share",
    "unthreaded_share",
    "mean_trust",
    "mean_reciprocity",
    "return_value",
    "investment",
    "ror",
    "at_risk_count",
    "key_stakeholders",
    "health_index",
)
SCORE_FIELDS = (
    "given",
    "received",
    "reciprocity",
    "strength",
    "sentiment",
    "reliability",
    "trust",
    "investment",
    "return_value",
    "ror",
    "at_risk",
)


def _figures() -> dict:
    return {
        "health": sorted(NetworkHealth.objects.values_list("scope", "scope_id", *HEALTH_FIELDS)),
        "stakeholders": sorted(
            StakeholderScore.objects.values_list("stakeholder_id", *SCORE_FIELDS)
        ),
        "relationships": sorted(
            RelationshipScore.objects.values_list("relationship_id", *SCORE_FIELDS)
        ),
    }


def test_network_health_and_scores_are_unchanged_by_an_erasure(
    manager, other_manager, director, client
):
    known = build_known(manager, other_manager, director)
    at = timezone.now()

    def recompute():
        scores_recompute_all(at)
        network_services._graph_cache.clear()
        network_services.network_recompute(at)

    recompute()
    before = _figures()
    client.force_login(director)
    health_before = client.get("/api/v1/network/health/").json()
    assert before["health"] and before["stakeholders"]

    stakeholder_erase(known["alba"], by=director, reason="Request")
    # The stored figures, and the figures recomputed from the anonymised data.
    assert _figures() == before
    recompute()
    assert _figures() == before
    health_after = client.get("/api/v1/network/health/").json()
    for name in ("coverage", "single_threaded_share", "mean_trust", "health_index", "ror"):
        assert health_after[name] == health_before[name]
    assert health_after["health_index"] == pytest.approx(50)


def test_text_shared_with_others_is_not_erased_from_them(director):
    shared = {"title": "Head of Public Affairs", "data_source": "Imported from the old CRM"}
    erased = StakeholderFactory(name="Erin Erased", notes="Her own long note here.", **shared)
    kept = StakeholderFactory(name="Kees Kept", notes="Mentions nobody at all.", **shared)
    stakeholder_erase(erased, by=director, reason="Request")
    kept.refresh_from_db()
    assert (kept.title, kept.data_source) == (shared["title"], shared["data_source"])
    assert kept.notes == "Mentions nobody at all."
