"""`/api/v1/relationships/{id}/pulses/`: CRUD, visibility (404), validation (400 naming
the field), who may change what (403), audit and idempotency like the other resources."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from relations.models import AuditEvent, AuthenticityPulse
from relations.services import pulse_record

pytestmark = pytest.mark.django_db

BODY = {"integrity": 4, "transparency": 3, "reliability": 5, "note": "Open about costs"}


def pulses_url(relationship_id):
    return reverse("api:relationship-pulse-list", args=[relationship_id])


def pulse_url(pulse):
    return reverse("api:relationship-pulse-detail", args=[pulse.relationship_id, pulse.pk])


def record(relationship, user, **fields):
    return pulse_record(
        relationship=relationship,
        by=user,
        **{"integrity": 3, "transparency": 3, "reliability": 3, **fields},
    )


def test_the_manager_creates_lists_and_reads_a_pulse(relationship, manager, api_for):
    api = api_for(manager)

    created = api.post(pulses_url(relationship.pk), BODY, format="json")

    assert created.status_code == 201, created.data
    body = created.json()
    assert body["relationship"] == relationship.pk
    assert body["assessed_by"] == manager.pk
    assert body["assessed_on"] == timezone.localdate().isoformat()
    assert body["score"] == 0.75
    assert created["Location"] == f"/api/v1/relationships/{relationship.pk}/pulses/{body['id']}/"
    assert (
        AuditEvent.objects.filter(
            object_type="relations.authenticitypulse", action="create", actor=manager
        ).count()
        == 1
    )
    listed = api.get(pulses_url(relationship.pk)).json()
    assert [p["id"] for p in listed["results"]] == [body["id"]]
    assert api.get(created["Location"]).json()["note"] == "Open about costs"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"integrity": 0}, "integrity"),
        ({"transparency": 6}, "transparency"),
        ({"reliability": "5"}, "reliability"),  # strict types: a string is not an integer
        ({"reliability": None}, "reliability"),
        ({"assessed_on": "2999-01-01"}, "assessed_on"),
        ({"assessed_on": "yesterday"}, "assessed_on"),
        ({"note": "x" * 2001}, "note"),
    ],
)
def test_bad_values_are_a_400_naming_the_field(relationship, manager, api_for, change, field):
    response = api_for(manager).post(pulses_url(relationship.pk), {**BODY, **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not AuthenticityPulse.objects.exists()


def test_a_missing_rating_is_a_400(relationship, manager, api_for):
    response = api_for(manager).post(pulses_url(relationship.pk), {"integrity": 3}, format="json")

    assert response.status_code == 400
    assert {"transparency", "reliability"} <= set(response.json())


def test_another_manager_gets_404_for_the_relationship_and_its_pulses(
    relationship, manager, other_manager, api_for
):
    pulse = record(relationship, manager)
    api = api_for(other_manager)

    assert api.get(pulses_url(relationship.pk)).status_code == 404
    assert api.post(pulses_url(relationship.pk), BODY, format="json").status_code == 404
    assert api.get(pulse_url(pulse)).status_code == 404
    assert api.patch(pulse_url(pulse), {"integrity": 1}, format="json").status_code == 404
    assert api.delete(pulse_url(pulse)).status_code == 404
    assert AuthenticityPulse.objects.get().integrity == 3


@pytest.mark.parametrize("relationship_id", ["999999", "abc", "1.5", "99999999999999999999"])
def test_an_unknown_relationship_is_a_json_404(manager, api_for, relationship_id):
    response = api_for(manager).get(f"/api/v1/relationships/{relationship_id}/pulses/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_the_director_sees_and_may_change_a_managers_pulse(
    relationship, manager, director, api_for
):
    pulse = record(relationship, manager)
    api = api_for(director)

    assert [p["id"] for p in api.get(pulses_url(relationship.pk)).json()["results"]] == [pulse.pk]
    assert api.patch(pulse_url(pulse), {"integrity": 5}, format="json").status_code == 200
    pulse.refresh_from_db()
    assert pulse.integrity == 5
    assert api.delete(pulse_url(pulse)).status_code == 204
    assert not AuthenticityPulse.objects.exists()


def test_a_member_neither_sees_nor_records_and_the_user_cannot_change_a_directors(
    relationship, manager, member, director, api_for
):
    marias = record(relationship, manager, note="Maria's")
    member_api = api_for(member)

    # A relationship's pulses are its user's and the directors' (DESIGN §7).
    assert member_api.post(pulses_url(relationship.pk), BODY, format="json").status_code == 403
    assert member_api.get(pulses_url(relationship.pk)).json()["results"] == []
    assert member_api.get(pulse_url(marias)).status_code == 404

    # Maria sees Dana's pulse on her own relationship, but it is Dana's to change.
    mias = api_for(director).post(pulses_url(relationship.pk), BODY, format="json").json()
    maria_api = api_for(manager)
    mias_pulse = AuthenticityPulse.objects.get(pk=mias["id"])
    assert {p["id"] for p in maria_api.get(pulses_url(relationship.pk)).json()["results"]} == {
        marias.pk,
        mias["id"],
    }
    assert (
        maria_api.patch(pulse_url(mias_pulse), {"integrity": 1}, format="json").status_code == 403
    )
    assert maria_api.delete(pulse_url(mias_pulse)).status_code == 403
    mias_pulse.refresh_from_db()
    assert mias_pulse.integrity == 4


def test_the_author_updates_with_put_and_the_change_is_audited(relationship, manager, api_for):
    pulse = record(relationship, manager)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()

    response = api_for(manager).put(
        pulse_url(pulse), {**BODY, "assessed_on": yesterday}, format="json"
    )

    assert response.status_code == 200
    pulse.refresh_from_db()
    assert (pulse.assessed_on.isoformat(), pulse.integrity) == (yesterday, 4)
    event = AuditEvent.objects.get(object_type="relations.authenticitypulse", action="update")
    assert event.changes["integrity"] == [3, 4]


def test_a_retried_create_with_the_same_idempotency_key_saves_one_pulse(
    relationship, manager, api_for
):
    api = api_for(manager)
    first = api.post(pulses_url(relationship.pk), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = api.post(pulses_url(relationship.pk), BODY, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert AuthenticityPulse.objects.count() == 1


def test_the_list_is_bounded_whatever_its_length(
    relationship, manager, api_for, django_assert_max_num_queries
):
    for days in range(20):
        record(relationship, manager, assessed_on=timezone.localdate() - timedelta(days=days))
    api = api_for(manager)

    # token (+user), knox's sweep of the user's expired tokens, the user's groups, the
    # relationship, the count, the page
    with django_assert_max_num_queries(6):
        response = api.get(pulses_url(relationship.pk))
    assert response.json()["count"] == 20


def test_the_schema_documents_the_pulse_endpoints(manager, api_for):
    schema = api_for(manager).get("/api/schema/", HTTP_ACCEPT="application/json").json()

    assert {"get", "post"} <= set(
        schema["paths"]["/api/v1/relationships/{relationship_id}/pulses/"]
    )
    detail = schema["paths"]["/api/v1/relationships/{relationship_id}/pulses/{id}/"]
    assert {"get", "put", "patch", "delete"} <= set(detail)
    pulse = schema["components"]["schemas"]["Pulse"]["properties"]
    assert pulse["integrity"]["minimum"] == 1 and pulse["integrity"]["maximum"] == 5
