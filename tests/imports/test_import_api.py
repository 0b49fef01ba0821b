"""`/api/v1/imports/`: the same imports through the API, 400s naming the field."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from relations.importing.models import ImportJob
from relations.models import Stakeholder

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/imports/"


def csv_file(content: bytes, name="people.csv", content_type="text/csv"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_import_through_the_api_poll_and_undo(manager_api, other_api):
    response = manager_api.post(
        URL,
        {
            "file": csv_file(b"Full name;Mail;Company\nAnna;anna@acme.nl;Acme\nBob;bob@;Acme\n"),
            "kind": "stakeholders",
            "mapping": json.dumps(
                {"Full name": "name", "Mail": "email", "Company": "organization"}
            ),
            "duplicates": "skip",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert response["Location"] == body["url"]
    assert body["mapping"] == ["name", "email", "organization"]

    job = manager_api.get(body["url"]).json()
    assert job["status"] == "done" and job["progress"] == 1.0
    assert (job["created_count"], job["error_count"]) == (1, 1)
    assert job["errors"] == [{"line": 3, "reason": "“bob@” is not an e-mail address."}]
    assert Stakeholder.objects.get().email == "anna@acme.nl"

    # Another manager does not see it at all.
    assert other_api.get(body["url"]).status_code == 404
    assert other_api.post(f"{body['url']}undo/").status_code == 404
    assert body["id"] not in [j["id"] for j in other_api.get(URL).json()["results"]]

    undone = manager_api.post(f"{body['url']}undo/")
    assert undone.status_code == 202 and undone.json()["status"] == "undone"
    assert not Stakeholder.objects.exists()
    again = manager_api.post(f"{body['url']}undo/")
    assert again.status_code == 409


def test_vcard_through_the_api(manager_api):
    vcf = b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Anna\r\nEMAIL:anna@acme.nl\r\nEND:VCARD\r\n"
    response = manager_api.post(
        URL,
        {"file": csv_file(vcf, "a.vcf", "text/vcard"), "kind": "vcard"},
        format="multipart",
    )
    assert response.status_code == 202
    assert Stakeholder.objects.get().name == "Anna"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"kind": "stakeholders"}, "file"),
        ({"file": b"name\nA\n", "kind": "people"}, "kind"),
        ({"file": b"\x00\x01", "kind": "stakeholders"}, "file"),
        ({"file": b'name\n"A\n', "kind": "stakeholders"}, "file"),
        ({"file": b"name\nA\n", "kind": "stakeholders", "mapping": "{oops"}, "mapping"),
        ({"file": b"name\nA\n", "kind": "stakeholders", "mapping": '{"Nope": "name"}'}, "mapping"),
        ({"file": b"name\nA\n", "kind": "stakeholders", "mapping": '["email"]'}, "mapping"),
        ({"file": b"when,subject\nx,y\n", "kind": "interactions"}, "mapping"),
        ({"file": b"name\nA\n", "kind": "stakeholders", "duplicates": "both"}, "duplicates"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(manager_api, data, field):
    if "file" in data:
        data = {**data, "file": csv_file(data["file"])}
    response = manager_api.post(URL, data, format="multipart")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not ImportJob.objects.exists()


def test_unknown_ids_are_json_404s(manager_api):
    assert manager_api.get(f"{URL}999999/").status_code == 404
    assert manager_api.get(f"{URL}1.5/").status_code == 404
    assert manager_api.post(f"{URL}99999999999999999999999/undo/").status_code == 404


def test_anonymous_callers_are_refused(client):
    assert client.get(URL).status_code in {401, 403}
