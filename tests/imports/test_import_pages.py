"""The import pages: upload, preview with column mapping, job page, undo, visibility."""

import codecs
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from relations.importing.models import ImportJob
from relations.models import Stakeholder

pytestmark = pytest.mark.django_db(transaction=True)


def upload(client, content: bytes, name="people.csv", kind="stakeholders", content_type="text/csv"):
    return client.post(
        reverse("import-new"),
        {"kind": kind, "file": SimpleUploadedFile(name, content, content_type=content_type)},
    )


NASTY = codecs.BOM_UTF8 + (
    b"Naam;E-mailadres;Organisatie;;Notities\r\n"
    b'"Jansen, Anna";anna@acme.nl;Acme;;"line one\r\nline two"\r\n'
    b"Piet;piet@acme.nl;Acme;;\r\n"
    b"Piet;piet@acme.nl;Acme;;\r\n"  # a duplicate row
    b"Kees;kees@;Acme;;\r\n"
    b";;;;\r\n"  # an empty row is ignored
)


def test_upload_preview_mapping_import_and_undo(client, manager):
    client.force_login(manager)
    response = upload(client, NASTY)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse("import-preview", args=[job.pk])
    assert (job.encoding, job.delimiter, job.total_rows) == ("utf-8", ";", 4)
    assert job.mapping == ["name", "email", "organization", "", "notes"]

    page = client.get(response.url)
    assert page.status_code == 200
    body = page.content.decode()
    assert "Jansen, Anna" in body and "Separated by semicolons." in body
    assert 'name="column_0"' in body

    # Mapping one field to two columns is refused with a message; nothing runs.
    bad = client.post(
        response.url,
        {"column_0": "name", "column_1": "name", "duplicates": "merge"},
    )
    assert bad.status_code == 200
    assert "is chosen for more than one column" in bad.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UPLOADED

    done = client.post(
        response.url,
        {
            "column_0": "name",
            "column_1": "email",
            "column_2": "organization",
            "column_3": "",
            "column_4": "notes",
            "duplicates": "merge",
        },
        follow=True,
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.merged_count, job.error_count) == (2, 1, 1)
    body = done.content.decode()
    assert "“kees@” is not an e-mail address." in body
    anna = Stakeholder.objects.get(email="anna@acme.nl")
    assert anna.name == "Jansen, Anna" and anna.notes == "line one\nline two"

    status = client.get(reverse("import-status", args=[job.pk])).json()
    assert status == {
        "status": "done",
        "status_display": "Done",
        "progress": 1.0,
        "processed_rows": 4,
        "total_rows": 4,
        "active": False,
    }

    client.post(reverse("import-undo", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE
    assert not Stakeholder.objects.exists()


def test_latin1_file_is_read_as_windows_1252(client, manager):
    client.force_login(manager)
    upload(client, "Naam,Organisatie\nJosé Müller,Café Ñ\n".encode("cp1252"))
    job = ImportJob.objects.get()
    assert job.encoding == "windows-1252"
    client.post(
        reverse("import-preview", args=[job.pk]),
        {"column_0": "name", "column_1": "organization", "duplicates": "merge"},
    )
    assert Stakeholder.objects.get().name == "José Müller"
    assert Stakeholder.objects.get().organization.name == "Café Ñ"


@pytest.mark.parametrize(
    "content, name, content_type, message",
    [
        (b"name\nAnna\n", "people.xlsx", "text/csv", "Choose a CSV file"),
        (b"\x89PNG\r\n", "people.csv", "image/png", "A file of type image/png cannot be imported"),
        (b"\x00\x00binary", "people.csv", "text/csv", "This is not a text file"),
        (b'name\n"Anna\n', "people.csv", "text/csv", "The CSV file is broken at line 2"),
        (b"name,email\r\n\r\n,\r\n", "people.csv", "text/csv", "holds no rows"),
    ],
)
def test_bad_files_get_a_form_error_and_store_nothing(
    client, manager, content, name, content_type, message
):
    client.force_login(manager)
    response = upload(client, content, name=name, content_type=content_type)
    assert response.status_code == 200
    assert re.search(message, response.content.decode())
    assert not ImportJob.objects.exists()


def test_oversized_upload_is_refused(client, manager, settings):
    settings.RAPPORT_IMPORT_MAX_BYTES = 50
    client.force_login(manager)
    response = upload(client, b"name\n" + b"Anna\n" * 20)
    assert "larger than the limit" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_malformed_vcard_is_refused(client, manager):
    client.force_login(manager)
    response = upload(client, b"hello world", name="c.vcf", kind="vcard", content_type="text/vcard")
    assert "This is not a vCard file" in response.content.decode()


def test_imports_are_visible_to_their_owner_and_directors_only(
    client, manager, other_manager, director
):
    job = ImportJob.objects.create(
        owner=manager, kind="stakeholders", file_name="mine.csv", content=b"x", status="done"
    )
    client.force_login(other_manager)
    assert client.get(reverse("import-detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("import-status", args=[job.pk])).status_code == 404
    assert client.post(reverse("import-undo", args=[job.pk])).status_code == 404
    assert "mine.csv" not in client.get(reverse("import-list")).content.decode()
    client.force_login(director)
    assert client.get(reverse("import-detail", args=[job.pk])).status_code == 200
    assert "mine.csv" in client.get(reverse("import-list")).content.decode()


def test_import_list_runs_a_bounded_number_of_queries(
    client, manager, django_assert_max_num_queries
):
    for i in range(30):
        ImportJob.objects.create(owner=manager, kind="stakeholders", file_name=f"{i}.csv")
    client.force_login(manager)
    # session, user, groups (role), count, page of jobs with owners
    with django_assert_max_num_queries(8):
        assert client.get(reverse("import-list")).status_code == 200


def test_the_old_address_leads_to_the_upload(client, manager):
    client.force_login(manager)
    response = client.get("/import/")
    assert response.status_code == 302 and response.url == reverse("import-new")
