"""E-mail capture: .eml and .mbox uploads and the raw RFC 822 API endpoint."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from relations.capture.models import CaptureBatch
from relations.models import Interaction
from tests.capture.files import calendar, eml, mbox, vevent

pytestmark = pytest.mark.django_db

SENT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


@pytest.fixture
def api_maria(manager):
    _row, token = AuthToken.objects.create(user=manager)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def post_raw(client: APIClient, raw: bytes):
    return client.generic("POST", "/api/v1/capture/email/", raw, content_type="message/rfc822")


def test_eml_upload_becomes_an_email_interaction(manager_client, manager, stakeholder):
    raw = eml(
        sender=f"Sam <{stakeholder.email}>",
        to=["Maria <maria@rapport.test>"],
        cc=["Ulla <ulla@unknown.example>"],
        subject="Proposal",
        body="Here is the revised proposal.",
        sent=SENT,
        message_id="<abc@example.org>",
    )
    response = manager_client.post("/capture/", {"file": SimpleUploadedFile("m.eml", raw)})
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert interaction.kind == "email"
    assert interaction.subject == "Proposal"
    assert interaction.occurred_at == SENT
    assert interaction.external_id == "abc@example.org"
    assert "revised proposal" in interaction.notes
    assert interaction.private  # e-mail bodies: participants and directors only
    assert list(interaction.stakeholders.all()) == [stakeholder]
    assert list(interaction.internal_participants.all()) == [manager]
    batch = CaptureBatch.objects.get()
    assert [a["email"] for a in batch.addresses] == ["ulla@unknown.example"]


def test_multipart_encoded_headers_and_non_utf8_charset(manager_client, stakeholder):
    raw = eml(
        sender=f"=?iso-8859-1?q?Jos=E9_M=FCller?= <{stakeholder.email}>",
        to=["maria@rapport.test"],
        subject="Caf\u00e9 na de vergadering",
        body="Bedankt voor het gesprek \u2013 tot snel. \u00e9\u00e8",
        sent=SENT,
        html="<p>Bedankt <b>voor</b> het gesprek</p>",
    )
    # A Windows-1252 body that claims its charset properly.
    latin = (
        f"From: {stakeholder.email}\r\nTo: maria@rapport.test\r\n"
        "Subject: =?windows-1252?q?Gr=FC=DFe?=\r\n"
        "Date: Mon, 05 Jan 2026 10:00:00 +0100\r\nMessage-ID: <latin@x>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=windows-1252\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\nSch\xf6ne Gr\xfc\xdfe \x80 50\r\n"
    ).encode("latin-1")
    manager_client.post("/capture/", {"file": SimpleUploadedFile("a.eml", raw)})
    manager_client.post("/capture/", {"file": SimpleUploadedFile("b.eml", latin)})
    first = Interaction.objects.get(subject="Caf\u00e9 na de vergadering")
    assert "Bedankt voor het gesprek" in first.notes
    second = Interaction.objects.get(external_id="latin@x")
    assert second.subject == "Grüße"
    assert "Schöne Grüße € 50" in second.notes
    assert second.occurred_at == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_mbox_with_several_messages_and_a_duplicate(manager_client, stakeholder):
    messages = [
        eml(
            sender=stakeholder.email,
            to=["maria@rapport.test"],
            subject=f"Message {n}",
            body="From the start: a body line that needs quoting.",
            sent=SENT + timedelta(hours=n),
            message_id=f"<m{n}@x>",
        )
        for n in range(3)
    ]
    raw = mbox(*messages, messages[0])
    response = manager_client.post("/capture/", {"file": SimpleUploadedFile("box.mbox", raw)})
    assert response.status_code == 302
    assert sorted(Interaction.objects.values_list("subject", flat=True)) == [
        "Message 0",
        "Message 1",
        "Message 2",
    ]
    batch = CaptureBatch.objects.get()
    assert (batch.count("created"), batch.count("duplicate")) == (3, 1)


@pytest.mark.parametrize(
    ("raw", "name", "message"),
    [
        (b"\x89PNG\r\n\x1a\nbinary", "photo.eml", "not an e-mail message"),
        (b"no headers at all, just text", "note.eml", "not an e-mail message"),
        (b"Subject: lonely\r\n\r\nbody", "nobody.eml", "no From, To or Cc"),
        (b"not an mbox", "box.mbox", "not an mbox file"),
        (b"From x Mon Jan  5 10:00:00 2026\n\n", "empty.mbox", "no messages"),
        (calendar(vevent(uid="u", start=SENT)), "cal.eml", "not an e-mail message"),
    ],
)
def test_malformed_mail_gets_a_clear_message_and_imports_nothing(
    manager_client, stakeholder, raw, name, message
):
    response = manager_client.post("/capture/", {"file": SimpleUploadedFile(name, raw)})
    assert response.status_code == 200  # the form again, with its error
    assert message in response.content.decode()
    assert not Interaction.objects.exists()
    assert not CaptureBatch.objects.exists()


def test_api_raw_message_created_then_duplicate(api_maria, stakeholder):
    raw = eml(
        sender=stakeholder.email,
        to=["maria@rapport.test"],
        subject="Via the plug-in",
        sent=SENT,
        message_id="<plugin@x>",
    )
    first = post_raw(api_maria, raw)
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["interaction"]["subject"] == "Via the plug-in"
    assert body["interaction"]["stakeholders"] == [stakeholder.pk]
    assert body["items"][0]["outcome"] == "created"
    again = post_raw(api_maria, raw)
    assert again.status_code == 200
    assert again.json()["interaction"]["id"] == body["interaction"]["id"]
    assert Interaction.objects.count() == 1


def test_api_message_without_known_stakeholder_is_accepted_and_waits(api_maria):
    raw = eml(sender="new@newco.example", to=["maria@rapport.test"], sent=SENT)
    response = post_raw(api_maria, raw)
    assert response.status_code == 202
    body = response.json()
    assert body["interaction"] is None
    assert body["unmatched"] == [{"email": "new@newco.example", "name": "", "status": "open"}]
    assert body["url"] == f"/capture/{body['id']}/"
    assert not Interaction.objects.exists()


def test_api_bad_messages_answer_400_naming_the_field(api_maria, settings):
    assert post_raw(api_maria, b"").json() == {"message": ["The message is empty."]}
    assert post_raw(api_maria, b"\xff\xfe\x00garbage").status_code == 400
    settings.RAPPORT_CAPTURE_MAX_BYTES = 100
    big = eml(sender="a@b.example", to=["c@d.example"], body="x" * 500, sent=SENT)
    assert post_raw(api_maria, big).status_code == 400
    wrong_type = api_maria.post("/api/v1/capture/email/", {"a": 1}, format="json")
    assert wrong_type.status_code == 415
    assert not Interaction.objects.exists()


def test_api_calendar_upload(api_maria, stakeholder):
    start = (timezone.now() - timedelta(days=2)).replace(microsecond=0)
    raw = calendar(vevent(uid="api@x", start=start, attendees=[("S", stakeholder.email)]))
    response = api_maria.post(
        "/api/v1/capture/calendar/",
        {"file": SimpleUploadedFile("c.ics", raw)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert [i["outcome"] for i in body["items"]] == ["created"]
    assert Interaction.objects.get().external_id == "api@x"
    missing = api_maria.post("/api/v1/capture/calendar/", {}, format="multipart")
    assert missing.status_code == 400 and "file" in missing.json()
    garbage = api_maria.post(
        "/api/v1/capture/calendar/",
        {"file": SimpleUploadedFile("c.ics", b"\x00\xff")},
        format="multipart",
    )
    assert garbage.status_code == 400 and "not UTF-8" in garbage.json()["file"][0]


def test_api_requires_a_staff_token(stakeholder):
    raw = eml(sender=stakeholder.email, to=["x@y.example"], sent=SENT)
    response = post_raw(APIClient(), raw)
    assert response.status_code == 401
