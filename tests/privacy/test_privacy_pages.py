"""The data-protection pages: the stakeholder's record, export, erasure, register,
record of processing."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from relations.models import AuditEvent, DataProtectionAction, Stakeholder
from relations.privacy.redaction import ERASED
from relations.privacy.services import processing_record
from tests.factories import InteractionFactory

pytestmark = pytest.mark.django_db


def privacy_url(stakeholder) -> str:
    return f"/stakeholders/{stakeholder.pk}/privacy/"


def test_a_colleague_records_source_basis_and_consent(client, other_manager, stakeholder):
    client.force_login(other_manager)
    page = client.get(privacy_url(stakeholder))
    assert page.status_code == 200
    # Managers keep the record up to date but do not export or erase.
    assert "Erase personal data" not in page.content.decode()
    assert "Download JSON" not in page.content.decode()

    response = client.post(
        privacy_url(stakeholder),
        {
            "legal_basis": "consent",
            "consent_date": "2026-03-01",
            "data_source_kind": "introduction",
            "data_source": "Introduced by our chair",
            "objection_on": "",
            "objection_note": "",
        },
    )

    assert response.status_code == 302
    stakeholder.refresh_from_db()
    assert stakeholder.legal_basis == "consent"
    assert str(stakeholder.consent_date) == "2026-03-01"
    assert stakeholder.data_source_kind == "introduction"
    event = AuditEvent.objects.filter(object_id=str(stakeholder.pk), action="update").get()
    assert event.changes["legal_basis"] == ["legitimate_interest", "consent"]
    assert event.actor == other_manager


def test_consent_without_a_date_is_a_form_error(client, manager, stakeholder):
    client.force_login(manager)
    response = client.post(privacy_url(stakeholder), {"legal_basis": "consent"})
    assert response.status_code == 400
    assert "Give the date of consent when consent is the basis." in response.content.decode()
    stakeholder.refresh_from_db()
    assert stakeholder.legal_basis == "legitimate_interest"


def test_an_objection_is_entered_in_the_register(client, manager, stakeholder):
    client.force_login(manager)
    today = timezone.localdate().isoformat()
    client.post(
        privacy_url(stakeholder),
        {"legal_basis": "legitimate_interest", "objection_on": today, "objection_note": "No"},
    )
    entry = DataProtectionAction.objects.get(stakeholder=stakeholder)
    assert (entry.kind, entry.actor) == ("objection", manager)
    # Saving again does not record the same objection twice.
    client.post(
        privacy_url(stakeholder),
        {"legal_basis": "legitimate_interest", "objection_on": today, "objection_note": "No!"},
    )
    assert DataProtectionAction.objects.filter(kind="objection").count() == 1


def test_the_director_downloads_the_export(client, director, manager, stakeholder):
    InteractionFactory(participants=[manager], with_stakeholders=[stakeholder], subject="Kickoff")
    client.force_login(director)
    response = client.get(f"/stakeholders/{stakeholder.pk}/export.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="stakeholder-{stakeholder.pk}-'
    )
    body = json.loads(response.content)
    assert body["stakeholder"]["email"] == stakeholder.email
    assert [i["subject"] for i in body["interactions"]] == ["Kickoff"]
    assert DataProtectionAction.objects.filter(kind="export", actor=director).count() == 1


def test_the_readable_export_lists_every_section(client, director, manager, stakeholder):
    InteractionFactory(participants=[manager], with_stakeholders=[stakeholder], subject="Kickoff")
    client.force_login(director)
    response = client.get(f"/stakeholders/{stakeholder.pk}/export/")
    assert response.status_code == 200
    html = response.content.decode()
    for section in ("stakeholder", "interactions", "commitments", "audit_events"):
        assert f'id="section-{section}"' in html
    assert "Kickoff" in html
    assert stakeholder.email in html
    # Labelled and valued as people read them, not as field names and codes.
    assert '<dt class="col-sm-3">Legal basis</dt>' in html
    assert "Legitimate interest" in html
    assert "legitimate_interest" not in html


@pytest.mark.parametrize(
    "path",
    ["/stakeholders/{pk}/export/", "/stakeholders/{pk}/export.json"],
)
def test_managers_may_not_export(client, manager, stakeholder, path):
    client.force_login(manager)
    assert client.get(path.format(pk=stakeholder.pk)).status_code == 403
    assert not DataProtectionAction.objects.exists()


def test_unknown_stakeholders_are_404_and_outsiders_403(client, director, stakeholder):
    client.force_login(director)
    assert client.get("/stakeholders/999999/privacy/").status_code == 404
    assert client.get("/stakeholders/999999/export/").status_code == 404
    outsider = User.objects.create_user("olaf", password="pw")  # no role: not staff
    client.force_login(outsider)
    assert client.get(privacy_url(stakeholder)).status_code == 403


def test_the_director_erases_from_the_page(client, director, stakeholder):
    client.force_login(director)
    url = f"/stakeholders/{stakeholder.pk}/erase/"
    unconfirmed = client.post(url, {"reason": "Request"})
    assert unconfirmed.status_code == 400
    stakeholder.refresh_from_db()
    assert stakeholder.erased_at is None

    response = client.post(url, {"reason": "Request by letter", "confirm": "on"})

    assert response.status_code == 302
    stakeholder.refresh_from_db()
    assert stakeholder.name == f"{ERASED} #{stakeholder.pk}"
    page = client.get(privacy_url(stakeholder)).content.decode()
    assert 'id="erased-notice"' in page
    assert 'id="erase-form"' not in page
    assert 'id="privacy-form"' not in page
    # The erased record cannot be filled in again through the form.
    assert client.post(privacy_url(stakeholder), {"legal_basis": "contract"}).status_code == 403


def test_managers_may_not_erase(client, manager, stakeholder):
    client.force_login(manager)
    response = client.post(
        f"/stakeholders/{stakeholder.pk}/erase/", {"reason": "x", "confirm": "on"}
    )
    assert response.status_code == 403
    stakeholder.refresh_from_db()
    assert stakeholder.erased_at is None


def test_the_register_lists_and_filters_actions(client, director, manager, stakeholder):
    DataProtectionAction.objects.create(kind="export", stakeholder=stakeholder, actor=director)
    DataProtectionAction.objects.create(
        kind="objection", stakeholder=stakeholder, actor=manager, reason="Phoned in"
    )
    client.force_login(director)
    everything = client.get("/data-protection/").content.decode()
    assert "Data-subject export" in everything and "Phoned in" in everything
    objections = client.get("/data-protection/?kind=objection").content.decode()
    assert "Phoned in" in objections
    assert "<td>Data-subject export</td>" not in objections
    assert client.get("/data-protection/?stakeholder=999").content.decode().count("<tr>") == 2


def test_managers_do_not_see_the_register(client, manager):
    client.force_login(manager)
    assert client.get("/data-protection/").status_code == 403


def test_the_register_page_runs_a_bounded_number_of_queries(
    client, director, stakeholder, django_assert_max_num_queries
):
    for _ in range(40):
        DataProtectionAction.objects.create(kind="export", stakeholder=stakeholder, actor=director)
    client.force_login(director)
    # Session, user, groups; the page count and the page with its actors.
    with django_assert_max_num_queries(8):
        assert client.get("/data-protection/").status_code == 200


def test_the_record_of_processing_as_page_json_and_csv(client, manager, settings):
    settings.RAPPORT_RETENTION_DAYS = 730
    client.force_login(manager)
    page = client.get("/data-protection/processing/").content.decode()
    record = processing_record()
    for activity in record["activities"]:
        assert str(activity["name"]) in page
    assert "730 days" in page

    as_json = json.loads(client.get("/data-protection/processing/?format=json").content)
    assert [a["name"] for a in as_json["activities"]] == [
        str(a["name"]) for a in record["activities"]
    ]
    first = as_json["activities"][0]
    assert {"purposes", "data_categories", "data_subjects", "recipients", "retention"} <= set(first)
    assert "Consent" in first["legal_bases"]

    response = client.get("/data-protection/processing/?format=csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == len(record["activities"])
    assert rows[0]["name"] == str(record["activities"][0]["name"])
    assert "730 days" in rows[0]["retention"]


def test_the_record_of_processing_in_dutch(client, manager):
    client.force_login(manager)
    response = client.get("/data-protection/processing/?format=json", HTTP_ACCEPT_LANGUAGE="nl")
    names = [a["name"] for a in json.loads(response.content)["activities"]]
    assert names[0] == "Relatiebeheer"


def test_the_stakeholder_page_links_to_its_data_protection(client, manager, stakeholder):
    client.force_login(manager)
    html = client.get(f"/stakeholders/{stakeholder.pk}/").content.decode()
    assert privacy_url(stakeholder) in html


def test_erased_stakeholders_still_count_in_lists(client, director, stakeholder):
    from relations.privacy.services import stakeholder_erase

    stakeholder_erase(stakeholder, by=director, reason="Request")
    client.force_login(director)
    html = client.get("/stakeholders/").content.decode()
    assert f"{ERASED} #{stakeholder.pk}" in html
    assert Stakeholder.objects.count() == 1
