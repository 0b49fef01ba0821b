"""The CSV exports people bring: Google Contacts, Outlook contacts, LinkedIn
Connections, HubSpot contacts and companies, Salesforce contact reports and Dutch Excel
sheets are mapped from their own headers; a value that does not fit its field is left
out with a note instead of refusing the row; labels split on `;`, `,` and ` ::: `."""

from __future__ import annotations

import pytest

from relations.importing import services
from relations.importing.columns import guess_mapping, split_list
from relations.importing.parsing import read_csv
from relations.matching import surname_sort_key
from relations.models import Organization, Stakeholder

pytestmark = pytest.mark.django_db

GOOGLE = (
    "First Name,Middle Name,Last Name,Name Prefix,Nickname,Organization Name,"
    "Organization Title,Organization Department,Notes,Labels,E-mail 1 - Label,"
    "E-mail 1 - Value,Phone 1 - Label,Phone 1 - Value\n"
    "Søren,,Kierkegaard,Dr.,,Ørsted A/S,Head of Energy,,Met in Aarhus,"
    "* myContacts ::: Energy ::: Board,* Work,soren@orsted.dk ::: soren@home.dk,"
    "Mobile,+45 12 34 56 78\n"
)
OUTLOOK = (
    '"Title","First Name","Middle Name","Last Name","Suffix","Company","Department",'
    '"Job Title","Business Phone","Mobile Phone","E-mail Address","E-mail Display Name",'
    '"Notes","Priority","Sensitivity","Categories"\n'
    '"Dhr.","Jan","","Jansen","","Acme BV","Sales","Account manager","+31 20 123 4567",'
    '"","jan@acme.nl","Jan Jansen (jan@acme.nl)","","Normal","Normal","Klant;VIP"\n'
)
LINKEDIN = (
    "Notes:\n"
    '"When exporting your connection data, you may notice that some of the email '
    "addresses are missing. You will only see email addresses for connections who have "
    'allowed their connections to see or download their email address."\n'
    "\n"
    "First Name,Last Name,URL,Email Address,Company,Position,Connected On\n"
    "Ingrid,Østergaard,https://www.linkedin.com/in/io,,Vestas,CFO,01 Mar 2024\n"
    "Bo,Berg,https://www.linkedin.com/in/bb,bo@berg.se,,,02 Mar 2024\n"
)
HUBSPOT_CONTACTS = (
    "Record ID,First Name,Last Name,Email,Phone Number,Associated Company,Job Title,"
    "Contact owner,Lifecycle Stage\n"
    "101,Ana,Silva,ana@silva.pt,+351 21 000 0000,Silva Lda,CEO,Jane Colleague,customer\n"
)
HUBSPOT_COMPANIES = (
    "Record ID,Company name,Company Domain Name,Industry,Country/Region,Phone Number\n"
    "201,Silva Lda,silva.pt,Retail,Portugal,+351 21 000 0000\n"
)
SALESFORCE = (
    '"Salutation","First Name","Last Name","Title","Account Name","Phone","Mobile",'
    '"Email","Contact Owner"\n'
    '"Ms.","Grace","Hopper","CTO","Navy Labs","+1 555 0100","","grace@navy.example",'
    '"Admin User"\n'
)
DUTCH = (
    "Voornaam;Tussenvoegsel;Achternaam;E-mailadres;Organisatie;Functie;Telefoonnummer\r\n"
    "Jan;van den;Berg;jan@berg.nl;Gemeente Utrecht;Wethouder;030 123 4567\r\n"
    "Anneke;de;Vries;anneke@vries.nl;Café Noord;Eigenaar;\r\n"
).encode("cp1252")


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run(user, kind: str, content: bytes):
        job, _ = services.import_job_create(
            owner=user, kind=kind, file_name="export.csv", content=content
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.import_job_start(job, mapping=None, duplicates="skip")
        job.refresh_from_db()
        return job

    return run


def _mapping(kind: str, content: bytes) -> dict[str, str]:
    table = read_csv(content)
    return {
        h: m for h, m in zip(table.headers, guess_mapping(kind, table.headers), strict=True) if m
    }


def test_google_contacts_headers_are_mapped():
    assert _mapping("stakeholders", GOOGLE.encode()) == {
        "First Name": "first_name",
        "Middle Name": "middle_name",
        "Last Name": "last_name",
        "Organization Name": "organization",
        "Organization Title": "title",
        "Notes": "notes",
        "Labels": "tags",
        "E-mail 1 - Value": "email",
        "Phone 1 - Value": "phone",
    }


def test_google_contacts_import(manager, run):
    job = run(manager, "stakeholders", GOOGLE.encode())
    assert (job.created_count, job.error_count) == (1, 0), job.report
    person = Stakeholder.objects.get()
    assert person.name == "Søren Kierkegaard"
    assert (person.email, person.phone, person.title) == (
        "soren@orsted.dk",
        "+45 12 34 56 78",
        "Head of Energy",
    )
    assert person.organization.name == "Ørsted A/S"
    assert sorted(person.tags.values_list("name", flat=True)) == ["board", "energy"]


def test_outlook_contacts_title_is_a_salutation_and_priority_is_left_out(manager, run):
    assert _mapping("stakeholders", OUTLOOK.encode())["Job Title"] == "title"
    assert "Title" not in _mapping("stakeholders", OUTLOOK.encode())
    job = run(manager, "stakeholders", OUTLOOK.encode())
    assert (job.created_count, job.error_count) == (1, 0), job.report
    person = Stakeholder.objects.get()
    assert (person.name, person.title, person.email, person.phone) == (
        "Jan Jansen",
        "Account manager",
        "jan@acme.nl",
        "+31 20 123 4567",
    )
    assert person.importance == 3  # the default, not "Normal"
    assert job.report["notes"] == [
        {"line": 2, "note": "Importance “Normal” is not a number; it was left out."}
    ]
    assert sorted(person.tags.values_list("name", flat=True)) == ["klant", "vip"]


def test_a_number_out_of_range_is_still_a_bad_row(manager, run):
    job = run(manager, "stakeholders", b"Name,Importance\nAnna,9\n")
    assert job.error_count == 1
    assert job.report["errors"][0]["reason"] == "Importance must be between 1 and 5."


def test_linkedin_connections_skip_the_notes_preamble(manager, run):
    table = read_csv(LINKEDIN.encode())
    assert table.headers[:2] == ["First Name", "Last Name"]
    assert [r.line for r in table.rows] == [5, 6]
    job = run(manager, "stakeholders", LINKEDIN.encode())
    assert (job.created_count, job.error_count) == (2, 0), job.report
    ingrid = Stakeholder.objects.get(name="Ingrid Østergaard")
    assert (ingrid.title, ingrid.organization.name, ingrid.email) == ("CFO", "Vestas", "")
    assert Stakeholder.objects.get(name="Bo Berg").email == "bo@berg.se"


def test_hubspot_companies_and_contacts(manager, run):
    companies = run(manager, "organizations", HUBSPOT_COMPANIES.encode())
    assert (companies.created_count, companies.error_count) == (1, 0), companies.report
    silva = Organization.objects.get()
    assert (silva.name, silva.website, silva.sector, silva.country) == (
        "Silva Lda",
        "https://silva.pt",
        "Retail",
        "Portugal",
    )
    job = run(manager, "stakeholders", HUBSPOT_CONTACTS.encode())
    assert (job.created_count, job.error_count) == (1, 0), job.report
    ana = Stakeholder.objects.get()
    assert (ana.name, ana.email, ana.title, ana.organization) == (
        "Ana Silva",
        "ana@silva.pt",
        "CEO",
        silva,
    )
    assert ana.owner == manager  # "Contact owner" is a HubSpot user, not mapped


def test_salesforce_title_is_the_job_title(manager, run):
    assert _mapping("stakeholders", SALESFORCE.encode())["Title"] == "title"
    job = run(manager, "stakeholders", SALESFORCE.encode())
    assert job.error_count == 0, job.report
    grace = Stakeholder.objects.get()
    assert (grace.name, grace.title, grace.organization.name, grace.phone) == (
        "Grace Hopper",
        "CTO",
        "Navy Labs",
        "+1 555 0100",
    )


def test_dutch_excel_keeps_the_tussenvoegsel(manager, run):
    assert _mapping("stakeholders", DUTCH)["Tussenvoegsel"] == "surname_prefix"
    job = run(manager, "stakeholders", DUTCH)
    assert (job.created_count, job.error_count) == (2, 0), job.report
    jan = Stakeholder.objects.get(email="jan@berg.nl")
    assert (jan.name, jan.title, jan.organization.name) == (
        "Jan van den Berg",
        "Wethouder",
        "Gemeente Utrecht",
    )
    assert Stakeholder.objects.get(email="anneke@vries.nl").organization.name == "Café Noord"
    # The same file again: nothing new.
    again = run(manager, "stakeholders", DUTCH)
    assert (again.created_count, again.skipped_count) == (0, 2)


@pytest.mark.parametrize(
    ("cell", "items"),
    [
        ("a;b", ["a", "b"]),
        ("a, b", ["a", "b"]),
        ("* myContacts ::: Friends ::: Work", ["Friends", "Work"]),
        ("one", ["one"]),
    ],
)
def test_multi_value_cells_split(cell, items):
    assert split_list(cell) == items


OUTLOOK_CALENDAR = (
    '"Subject","Start Date","Start Time","End Date","End Time","All day event",'
    '"Meeting Organizer","Required Attendees","Optional Attendees","Description",'
    '"Location","Private"\r\n'
    '"Kwartaaloverleg","03/02/2026","14:30:00","03/02/2026","15:45:00","False","Maria",'
    '"LARS ØSTERGAARD;Ghost Guest","","Agenda","Utrecht","False"\r\n'
    '"Koningsdag","27/04/2026","","27/04/2026","","True","","Lars Østergaard","","","",""\r\n'
    '"Nobody known","04/02/2026","09:00:00","04/02/2026","10:00:00","False","",'
    '"Ghost Guest","","","",""\r\n'
)


def test_outlook_calendar_export_becomes_interactions(manager, run):
    from datetime import UTC, datetime

    from relations.models import Interaction
    from tests.factories import StakeholderFactory

    lars = StakeholderFactory(name="Lars Østergaard", owner=manager)
    job = run(manager, "interactions", OUTLOOK_CALENDAR.encode("cp1252"))
    assert (job.created_count, job.error_count) == (2, 1), job.report
    meeting = Interaction.objects.get(subject="Kwartaaloverleg")
    # dd/mm/yyyy and the time in the installation's zone (Amsterdam, winter: UTC+1).
    assert meeting.occurred_at == datetime(2026, 2, 3, 13, 30, tzinfo=UTC)
    assert meeting.duration_minutes == 75
    assert list(meeting.stakeholders.all()) == [lars]
    assert job.report["notes"] == [
        {"line": 2, "note": "Attendees who are no stakeholder were left out: Ghost Guest."}
    ]
    holiday = Interaction.objects.get(subject="Koningsdag")
    assert (holiday.occurred_at, holiday.kind) == (datetime(2026, 4, 27, tzinfo=UTC), "event")
    assert job.report["errors"] == [
        {"line": 4, "reason": "No stakeholder has the e-mail or name “Ghost Guest”."}
    ]
    again = run(manager, "interactions", OUTLOOK_CALENDAR.encode("cp1252"))
    assert (again.created_count, again.skipped_count) == (0, 2), again.report


def test_dutch_excel_rows_sort_by_the_surname_without_the_tussenvoegsel(manager, run):
    job = run(manager, "stakeholders", DUTCH)
    assert (job.created_count, job.error_count) == (2, 0), job.report
    keys = dict(Stakeholder.objects.values_list("name", "surname_key"))
    assert keys == {"Jan van den Berg": "berg jan van den", "Anneke de Vries": "vries anneke de"}


def test_a_large_dutch_sheet_fills_the_surname_key_too(manager, run):
    # 100 rows and more are written by COPY on PostgreSQL (relations.importing.bulk).
    rows = "".join(f"Jan{n};van den;Berg{n:03d};;;;\r\n" for n in range(120))
    sheet = DUTCH.decode("cp1252").splitlines(keepends=True)[0] + rows
    job = run(manager, "stakeholders", sheet.encode("cp1252"))
    assert (job.created_count, job.error_count) == (120, 0), job.report
    keys = dict(Stakeholder.objects.values_list("name", "surname_key"))
    assert len(keys) == 120
    assert keys["Jan7 van den Berg007"] == "berg007 jan7 van den"
    assert all(key == surname_sort_key(name) for name, key in keys.items())
