"""Security review, items 2, 7, 8 and 9: after an erasure, a dump of the whole
database — every column of every table, binary, JSON and unique ones included —
holds none of the person's name, e-mail, phone or the notes that named them;
an erased record cannot be merged into another (re-identified); stored import
files are dropped once their undo window has passed.

Everything goes through the API and the pages, as users and integrations do.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from config.celery import app
from tests.clients import token_client
from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db

NAME = "Zoë Quintana-Verhoeven"
SURNAME = "Quintana"
EMAIL = "zoe.quintana@example.org"
PHONE = "+31 6 5550 1234"
NOTES = "Met Zoë Quintana-Verhoeven at the Rotterdam climate gala; prefers calls after four."
IMPORT_NOTES = "Zoë mentioned her sister works at the ministry of water."
OWN_TAG = "quintana-circle"
PERSONAL = [NAME, SURNAME, "Verhoeven", EMAIL, PHONE, NOTES, IMPORT_NOTES, OWN_TAG]


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace") + "\n" + value.decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False) + "\n" + json.dumps(value)
    return ""


def whole_database_hits(terms: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, term) for every value anywhere in the database holding a term:
    every table the database lists, every column of every row, in any case, as typed
    or as JSON escapes it; binary columns decoded."""
    needles = {}
    for term in terms:
        needles[term.lower()] = term
        needles[json.dumps(term)[1:-1].lower()] = term
    hits = set()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        assert len(tables) > 30
        for table in tables:
            cursor.execute(f"SELECT * FROM {quote(table)}")
            columns = [c[0] for c in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = _as_text(value).lower()
                    for needle, term in needles.items():
                        if needle and needle in text:
                            hits.add((table, column, term))
    return sorted(hits)


@pytest.fixture
def manager_api(manager):
    return token_client(manager)


@pytest.fixture
def director_api(director):
    return token_client(director)


def _upload(api, name: str, content: bytes, kind: str, content_type: str, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(
        "/api/v1/imports/",
        {"file": SimpleUploadedFile(name, content, content_type=content_type), "kind": kind}
        | extra,
        format="multipart",
    )
    assert response.status_code == 202, response.content
    return response.json()


@pytest.fixture
def zoe(manager_api, manager, django_capture_on_commit_callbacks):
    """Zoë, created by hand with her own tag and a shared one, merged again from a CSV
    file, listed in a vCard file, and met by e-mail captured through the API."""
    StakeholderFactory(name="Colleague of nobody", owner=manager).tags.create(name="climate")
    with django_capture_on_commit_callbacks(execute=True):
        created = manager_api.post(
            "/api/v1/stakeholders/",
            {
                "name": NAME,
                "email": EMAIL,
                "phone": PHONE,
                "notes": NOTES,
                "owner": manager.pk,
                "tags": [OWN_TAG, "climate"],
            },
            format="json",
        )
        assert created.status_code == 201, created.content
        pk = created.json()["id"]
        csv = (
            "name,email,phone,notes\n"
            f'"{NAME}",{EMAIL},{PHONE},"{IMPORT_NOTES}"\n'
            "Someone Else,someone@example.org,,\n"
        ).encode()
        csv_job = _upload(
            manager_api,
            "crm.csv",
            csv,
            "stakeholders",
            "text/csv",
            duplicates="merge",
        )
        vcard = (
            "BEGIN:VCARD\r\nVERSION:3.0\r\n"
            f"FN:{NAME}\r\nEMAIL:{EMAIL}\r\nTEL:{PHONE}\r\nNOTE:{IMPORT_NOTES}\r\n"
            "END:VCARD\r\n"
        ).encode()
        vcard_job = _upload(
            manager_api, "phone.vcf", vcard, "vcard", "text/vcard", duplicates="skip"
        )
        message = (
            f"From: {NAME} <{EMAIL}>\r\nTo: maria@rapport.test\r\n"
            f"Subject: Call re {SURNAME}\r\nMessage-ID: <call-1@example.org>\r\n"
            "Date: Mon, 02 Mar 2026 10:00:00 +0100\r\n\r\n"
            f"Dear Maria, please call me on {PHONE}.\r\n"
        ).encode()
        captured = manager_api.generic(
            "POST", "/api/v1/capture/email/", message, content_type="message/rfc822"
        )
        assert captured.status_code == 201, captured.content
    assert manager_api.get(csv_job["url"]).json()["status"] == "done"
    assert manager_api.get(vcard_job["url"]).json()["status"] == "done"
    return pk


def test_erasure_leaves_the_person_in_no_column_of_the_database(zoe, director_api, client):
    found_before = {term for _table, _column, term in whole_database_hits(PERSONAL)}
    assert found_before == set(PERSONAL), "the scenario puts every term in the database"
    before = {(t, c) for t, c, _term in whole_database_hits(PERSONAL)}
    assert ("relations_importjob", "content") in before
    assert ("relations_tag", "name") in before
    assert ("relations_capturebatch", "name") in before

    response = director_api.post(
        f"/api/v1/stakeholders/{zoe}/erase/", {"reason": "Her request by letter"}, format="json"
    )
    assert response.status_code == 200, response.content

    hits = whole_database_hits(PERSONAL)
    assert hits == []
    # The shared tag stays with the colleague who uses it.
    tagged = director_api.get("/api/v1/stakeholders/?tag=climate").json()["results"]
    assert [s["name"] for s in tagged] == ["Colleague of nobody"]
    assert director_api.get(f"/api/v1/stakeholders/?tag={OWN_TAG}").json()["count"] == 0


def test_an_erased_record_cannot_be_merged(zoe, director_api, manager_api, manager, client):
    assert (
        director_api.post(
            f"/api/v1/stakeholders/{zoe}/erase/", {"reason": "Her request"}, format="json"
        ).status_code
        == 200
    )
    again = manager_api.post(
        "/api/v1/stakeholders/", {"name": NAME, "owner": manager.pk}, format="json"
    ).json()["id"]
    for api in (manager_api, director_api):
        response = api.post(f"/api/v1/stakeholders/{again}/merge/", {"other": zoe}, format="json")
        assert response.status_code == 400, response.content
        assert "erased" in json.dumps(response.json())
        # Into the erased record: it may not be changed at all (403 before the body).
        into = api.post(f"/api/v1/stakeholders/{zoe}/merge/", {"other": again}, format="json")
        assert into.status_code in (400, 403), into.content
    # The page refuses it with a form error, at the preview and at the confirmation.
    client.force_login(manager)
    preview = client.get(f"/stakeholders/{again}/merge/", {"other": zoe})
    assert preview.status_code == 200 and "erased" in preview.content.decode()
    done = client.post(f"/stakeholders/{again}/merge/", {"other": zoe, "confirm": "1"})
    assert done.status_code == 200 and "erased" in done.content.decode()
    assert manager_api.get(f"/api/v1/stakeholders/{zoe}/").json()["name"] != NAME
    assert manager_api.get(f"/api/v1/stakeholders/{again}/").status_code == 200


def _run_beat_entries() -> None:
    """Every periodic task of the import app, as beat queues them."""
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        if "import" in entry["task"]:
            app.tasks[entry["task"]].apply().get()


def test_stored_import_files_are_dropped_after_their_undo_window(
    manager, manager_api, client, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from relations.importing.models import ImportJob

    assert settings.RAPPORT_IMPORT_FILE_RETENTION_DAYS == 30
    with django_capture_on_commit_callbacks(execute=True):
        old = _upload(manager_api, "old.csv", b"name\nAda\n", "stakeholders", "text/csv")
        recent = _upload(manager_api, "new.csv", b"name\nBea\n", "stakeholders", "text/csv")
    # Uploaded in the browser and never mapped nor started.
    client.force_login(manager)
    page = client.post(
        "/imports/new/",
        {
            "kind": "stakeholders",
            "file": SimpleUploadedFile("left.csv", b"name\nCyd\n", content_type="text/csv"),
        },
    )
    assert page.status_code == 302
    abandoned = ImportJob.objects.get(file_name="left.csv")
    long_ago = timezone.now() - timedelta(days=31)
    ImportJob.objects.filter(pk__in=[old["id"], abandoned.pk]).update(
        finished_at=long_ago, created_at=long_ago
    )
    ImportJob.objects.filter(pk=abandoned.pk).update(finished_at=None)
    ImportJob.objects.filter(pk=recent["id"]).update(
        finished_at=timezone.now() - timedelta(days=29)
    )
    _run_beat_entries()
    assert bytes(ImportJob.objects.get(pk=old["id"]).content) == b""
    assert bytes(ImportJob.objects.get(pk=recent["id"]).content) == b"name\nBea\n"
    # The abandoned upload cannot be started any more: it says why.
    abandoned.refresh_from_db()
    assert bytes(abandoned.content) == b"" and abandoned.status == "failed"
    assert "30 days" in abandoned.error
    # Undo still works without the file: it needs only what the import recorded.
    with django_capture_on_commit_callbacks(execute=True):
        undone = manager_api.post(f"{old['url']}undo/")
    assert undone.status_code == 202
    assert manager_api.get(old["url"]).json()["status"] == "undone"
