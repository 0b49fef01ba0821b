"""vCards written by real address books (../shared/realdata/vcard) import as their users
expect: names with their accents and scripts, e-mail, organisation, title, phone; and
importing a file twice creates nothing new."""

from __future__ import annotations

import pytest

from relations.importing import services
from relations.importing.parsing import read_vcards
from relations.models import Organization, Stakeholder
from tests.realdata import read_realdata, realdata_files

pytestmark = pytest.mark.django_db

# file → the cards expected: (name, e-mail, organisation, title, phone)
EXPECTED = {
    "apple_ios5_iphone.vcf": [
        (
            "Mr. John Richter James Doe Sr.",
            "john.doe@ibm.com",
            "IBM",
            "Money Counter",
            "905-555-1234",
        )
    ],
    "apple_macos_addressbook.vcf": [
        (
            "Mr. John Richter,James Doe Sr.",
            "john.doe@ibm.com",
            "IBM",
            "Money Counter",
            "905-777-1234",
        )
    ],
    "evolution_v3.vcf": [
        (
            "Mr. John Richter, James Doe Sr.",
            "john.doe@ibm.com",
            "IBM",
            "Money Counter",
            "905-666-1234",
        )
    ],
    "google_contacts_3cards.vcf": [
        ("Arnold Smith", "asmithk@gmail.com", "", "", ""),
        ("Chris Beatle", "chrisy55d@yahoo.com", "", "", ""),
        ("Doug White", "dwhite@gmail.com", "", "", ""),
    ],
    "google_contacts_many_fields.vcf": [
        ("VCard Test", "email@example.com", "TheCompany", "TheJobTitle", "5555551111")
    ],
    "outlook2007_v21.vcf": [
        (
            "Mr. Michael Angstadt Jr.",
            "mike.angstadt@gmail.com",
            "TheCompany",
            "TheJobTitle",
            "(111) 555-1111",
        )
    ],
    "outlook2003_v21.vcf": [
        ("John Doe III", "jdoe@hotmail.com", "Company, The", "The Job Title", "BusinessPhone")
    ],
    "android_v21_qp.vcf": [
        ("john.doe@company.com", "john.doe@company.com", "", "", ""),
        ("jane.doe@company.com", "jane.doe@company.com", "", "", ""),
        ("Ñ Ñ Ñ Ñ Ñ", "", "", "", "123456789"),
        (" ".join(["Ñ"] * 11), "", "", "", "123456"),
        ("Ñ Ñ Ñ Ñ", "bob@company.com", "Ñ" * 12, "", "123456"),
        ("ÑÑÑÑ", "henry@company.com", "Ñ" * 44, "", "55556666"),
    ],
    "rfc6350_v4.vcf": [
        (
            "Simon Perreault",
            "simon.perreault@viagenie.ca",
            "Viagenie",
            "",
            "+1-418-656-9254 ext. 102",
        )
    ],
    "ios613_crcrlf.vcf": [
        ("Bob Smith", "bob@smithauto.com", "Smith Auto Repair", "", "(650) 555-1212")
    ],
    "android_v40_japanese.vcf": [("安藤 ロイド", "", "グーグル", "", "")],
}


def test_every_realdata_vcard_file_has_expectations():
    assert set(realdata_files("vcard", ".vcf")) == set(EXPECTED)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Import a vCard file through the real task path (run when the request commits)."""

    def run(user, content: bytes, name: str):
        job, _ = services.import_job_create(
            owner=user, kind="vcard", file_name=name, content=content
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.import_job_start(job, mapping=None, duplicates="skip")
        job.refresh_from_db()
        return job

    return run


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_realdata_vcard_is_read_as_its_program_wrote_it(name):
    cards = read_vcards(read_realdata("vcard", name))
    got = [
        (
            c.values.get("name"),
            c.values.get("email"),
            c.values.get("organization"),
            c.values.get("title"),
            c.values.get("phone"),
        )
        for c in cards
    ]
    assert got == EXPECTED[name]
    assert not [c.values["_error"] for c in cards if "_error" in c.values]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_realdata_vcard_imports_once(manager, run, name):
    content = read_realdata("vcard", name)
    job = run(manager, content, name)
    assert job.error_count == 0, job.report
    expected = EXPECTED[name]
    assert job.created_count == len(expected)
    for full_name, email, organization, title, phone in expected:
        person = Stakeholder.objects.get(name=full_name)
        assert (person.email, person.title, person.phone) == (email, title, phone)
        assert (person.organization.name if person.organization else "") == organization
    organizations = Organization.objects.count()
    # The same file again: every card is a duplicate, nothing new.
    again = run(manager, content, name)
    assert (again.created_count, again.error_count) == (0, 0), again.report
    assert again.skipped_count == len(expected)
    assert Stakeholder.objects.count() == len(expected)
    assert Organization.objects.count() == organizations


def test_outlook_org_with_a_comma_is_one_organisation_not_a_list(manager, run):
    run(manager, read_realdata("vcard", "outlook2003_v21.vcf"), "outlook.vcf")
    assert list(Organization.objects.values_list("name", flat=True)) == ["Company, The"]


def test_outlook_quoted_printable_note_keeps_its_lines(manager):
    [card] = read_vcards(read_realdata("vcard", "outlook2003_v21.vcf"))
    assert card.values["notes"] == ("This is the note field!!\nSecond line\n\nThird line is empty")


APPLE_COMPANY_CARD = (
    b"BEGIN:VCARD\r\r\nVERSION:3.0\r\r\nN:;;;;\r\r\nFN:\r\r\n"
    b"ORG:\\xd8rsted A/S\\, Energy;\r\r\nX-ABShowAs:COMPANY\r\r\n"
    b"item1.EMAIL;type=INTERNET;type=pref:info@orsted.dk\r\r\n"
    b"item1.X-ABLabel:_$!<Work>!$_\r\r\n"
    b"PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/\r\r\n"
    b"  2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U\r\r\n"
    b"KEY;ENCODING=b:MIICajCCAdOgAwIBAgICBEUwDQYJ\r\r\n"
    b"END:VCARD\r\r\n"
)


def test_apple_company_card_is_named_after_its_company():
    raw = APPLE_COMPANY_CARD.replace(b"\\xd8", "Ø".encode())
    [card] = read_vcards(raw)
    assert card.values["name"] == "Ørsted A/S, Energy"
    assert card.values["organization"] == "Ørsted A/S, Energy"
    assert card.values["email"] == "info@orsted.dk"


def test_a_line_that_is_no_property_makes_only_its_card_malformed():
    raw = (
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Good\nEND:VCARD\n"
        b"BEGIN:VCARD\nVERSION:3.0\nFN:Bad\nthis is not a property\nEND:VCARD\n"
    )
    good, bad = read_vcards(raw)
    assert good.values["name"] == "Good"
    assert "not a “NAME:value” line" in bad.values["_error"]
