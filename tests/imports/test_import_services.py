"""Importing CSV and vCard files through the real task code path (in process):
validation with line numbers, duplicates merged or skipped, undo, scores marked."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from metrics.models import PendingRecompute, RelationshipScore, StakeholderScore
from relations.importing import services
from relations.importing.models import ImportJob
from relations.importing.parsing import ImportFileError
from relations.models import AuditEvent, Interaction, Organization, Relationship, Stakeholder, Tag
from tests.factories import OrganizationFactory, StakeholderFactory

pytestmark = pytest.mark.django_db(transaction=True)


def run_import(user, kind, content: bytes, duplicates="merge", mapping=None, name="f.csv"):
    job, _ = services.import_job_create(owner=user, kind=kind, file_name=name, content=content)
    services.import_job_start(job, mapping=mapping, duplicates=duplicates)
    job.refresh_from_db()
    return job


def test_stakeholders_good_rows_imported_bad_rows_reported_by_line(manager, other_manager):
    csv = (
        b"Name,E-mail,Organisation,Importance,Owner,Tags\n"
        b"Anna Jansen,anna@acme.nl,Acme,5,otto,board;energy\n"
        b"Bob,not-an-email,Acme,3,,\n"
        b"Carla,carla@beta.nl,Beta,9,,\n"
        b",nobody@x.nl,,,,\n"
        b"Dirk,dirk@acme.nl,Acme,,nobody-here,\n"
        b"Eva,eva@acme.nl,acme,2,,\n"
    )
    job = run_import(manager, "stakeholders", csv)

    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.error_count, job.total_rows) == (2, 4, 6)
    assert [(e["line"], e["reason"]) for e in job.report["errors"]] == [
        (3, "“not-an-email” is not an e-mail address."),
        (4, "Importance must be between 1 and 5."),
        (5, "A name is required."),
        (6, "No colleague has the username or e-mail “nobody-here”."),
    ]
    anna = Stakeholder.objects.get(email="anna@acme.nl")
    assert anna.owner == other_manager
    assert anna.importance == 5 and anna.cadence_days == 30
    assert sorted(anna.tags.values_list("name", flat=True)) == ["board", "energy"]
    eva = Stakeholder.objects.get(name="Eva")
    assert eva.owner == manager  # the importer by default
    assert eva.organization == anna.organization  # "acme" matched "Acme" created by row 2
    assert Organization.objects.filter(name__iexact="acme").count() == 1
    assert not Stakeholder.objects.filter(name__in=["Bob", "Carla", "Dirk"]).exists()


def test_duplicates_merge_then_undo_restores_the_existing_record(manager):
    acme = OrganizationFactory(name="Acme")
    existing = StakeholderFactory(
        name="Anna Jansen", email="Anna@Acme.nl", organization=acme, title="Buyer", phone=""
    )
    by_name = StakeholderFactory(name="Bas", email="", organization=acme, title="CTO")
    csv = (
        b"name;email;organization;title;phone\n"
        b"Anna J.;anna@acme.nl;Acme;Director;+31 6 1\n"  # same e-mail, other case
        b"bas;;acme;;+31 6 2\n"  # same name at the same organisation
        b"Cees;cees@acme.nl;Acme;;\n"
        b"Cees;cees@acme.nl;Acme;Analyst;\n"  # a duplicate row in the file itself
    )
    job = run_import(manager, "stakeholders", csv, duplicates="merge")

    assert (job.created_count, job.merged_count, job.skipped_count) == (1, 3, 0)
    existing.refresh_from_db()
    by_name.refresh_from_db()
    assert (existing.name, existing.title, existing.phone) == ("Anna J.", "Director", "+31 6 1")
    assert (by_name.title, by_name.phone) == ("CTO", "+31 6 2")
    assert Stakeholder.objects.get(email="cees@acme.nl").title == "Analyst"
    matched = {(m["line"], m["id"], m["action"]) for m in job.report["matched"]}
    assert (2, existing.pk, "merged") in matched and (3, by_name.pk, "merged") in matched
    assert AuditEvent.objects.filter(
        object_type="relations.stakeholder", object_id=str(existing.pk), action="update"
    ).exists()

    # Someone edits the phone after the import: undo keeps that edit.
    Stakeholder.objects.filter(pk=by_name.pk).update(phone="+31 20 000")
    services.import_undo_start(job, by=manager)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.UNDONE
    existing.refresh_from_db()
    by_name.refresh_from_db()
    assert (existing.name, existing.title, existing.phone) == ("Anna Jansen", "Buyer", "")
    assert by_name.phone == "+31 20 000"
    assert not Stakeholder.objects.filter(email="cees@acme.nl").exists()
    assert Organization.objects.filter(pk=acme.pk).exists()  # not created by the import
    assert AuditEvent.objects.filter(object_type="relations.importjob", action="other").exists()


def test_duplicates_skipped_change_nothing(manager):
    existing = StakeholderFactory(name="Anna", email="anna@acme.nl", title="Buyer")
    job = run_import(
        manager, "stakeholders", b"name,email,title\nAnna,ANNA@acme.nl,Boss\n", duplicates="skip"
    )
    assert (job.created_count, job.skipped_count) == (0, 1)
    existing.refresh_from_db()
    assert existing.title == "Buyer"
    assert job.report["matched"][0]["action"] == "skipped"


def test_organizations_import_with_tiers_and_websites(manager):
    csv = (
        b"Naam,Sector,Website,Tier\n"
        b"Acme,Energy,acme.nl,strategic\n"
        b"Beta,,https://beta.example,2\n"
        b"Gamma,,not a url,1\n"
        b"Delta,,,7\n"
    )
    job = run_import(manager, "organizations", csv)
    assert (job.created_count, job.error_count) == (2, 2)
    acme = Organization.objects.get(name="Acme")
    assert (acme.website, acme.tier, acme.sector) == ("https://acme.nl", 1, "Energy")
    assert [e["line"] for e in job.report["errors"]] == [4, 5]


def test_interactions_import_creates_relationships_and_marks_scores(manager, stakeholder):
    other = StakeholderFactory(name="Olga Other", email="olga@x.nl")
    csv = (
        "date,kind,subject,stakeholder,value given,value received,sentiment,cost,private\n"
        f'2026-03-01 10:00,meeting,Kick-off,{stakeholder.email},3,2,+1,"12,50",nee\n'
        "2026-03-02,call,Follow-up,Olga Other,1,1,,,\n"
        "2026-03-03,call,Unknown,ghost@nowhere.nl,1,1,,,\n"
        "someday,call,Bad date,olga@x.nl,,,,,\n"
    ).encode()
    PendingRecompute.objects.all().delete()
    job = run_import(manager, "interactions", csv)

    assert (job.created_count, job.error_count) == (2, 2), job.report
    kickoff = Interaction.objects.get(subject="Kick-off")
    assert kickoff.cost == Decimal("12.50") and kickoff.sentiment == 1
    assert list(kickoff.internal_participants.all()) == [manager]
    assert kickoff.occurred_at.astimezone(UTC) == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    follow_up = Interaction.objects.get(subject="Follow-up")
    assert follow_up.occurred_at == datetime(2026, 3, 2, tzinfo=UTC)
    assert Relationship.objects.filter(user=manager, stakeholder=other).exists()
    reasons = {e["line"]: e["reason"] for e in job.report["errors"]}
    assert reasons[4] == "No stakeholder has the e-mail or name “ghost@nowhere.nl”."
    assert reasons[5].startswith("When must be a date and time")
    # Bulk inserts send no model signals: the importer marks the scores itself, and
    # (in process, without a broker) they are recomputed when the batch commits.
    assert not PendingRecompute.objects.exists()
    assert StakeholderScore.objects.get(stakeholder=other).strength > 0
    assert RelationshipScore.objects.get(
        relationship__user=manager, relationship__stakeholder=other
    )

    # Importing the same file again: every good row is a duplicate.
    again = run_import(manager, "interactions", csv, duplicates="skip")
    assert (again.created_count, again.skipped_count) == (0, 2)

    services.import_undo_start(job, by=manager)
    assert not Interaction.objects.filter(subject__in=["Kick-off", "Follow-up"]).exists()
    # The relationship the import created goes; the one that existed stays.
    assert not Relationship.objects.filter(user=manager, stakeholder=other).exists()


def test_vcard_import_of_version_3_and_4_cards(manager):
    vcf = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Jansen;Anna;;;\r\nFN:Anna Jansen\r\n"
        b"ORG:Acme BV;Sales\r\nTITLE:Director\r\nEMAIL;TYPE=INTERNET:anna@acme.nl\r\n"
        b"TEL;TYPE=CELL:+31 6 1234 5678\r\nNOTE:Met at the fair\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Bob Smith\r\nEMAIL:bob@example.com\r\n"
        b"TEL;VALUE=uri;TYPE=work:tel:+1-555-555-5555\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken\r\nEMAIL;garbage\r\nEND:VCARD\r\n"
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:No mail\r\nEMAIL:not-mail\r\nEND:VCARD\r\n"
    )
    job = run_import(manager, "vcard", vcf, name="contacts.vcf")
    assert (job.created_count, job.error_count) == (2, 2), job.report
    anna = Stakeholder.objects.get(email="anna@acme.nl")
    assert (anna.title, anna.organization.name, anna.phone) == (
        "Director",
        "Acme BV",
        "+31 6 1234 5678",
    )
    assert Stakeholder.objects.get(email="bob@example.com").phone == "+1-555-555-5555"
    assert [e["line"] for e in job.report["errors"]] == [17, 22]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "The file is empty."),
        (b"name,email\n", "The file holds no rows to import."),
        (b'name,email\n"Anna,anna@x.nl\n', "The CSV file is broken at line 2"),
        (b"\x00\x01\x02PK\x03\x04binary", "This is not a text file"),
        ("naam\n".encode("utf-16-le"), "This is not a text file"),
    ],
)
def test_unreadable_files_are_refused_before_anything_is_stored(manager, content, message):
    with pytest.raises(ImportFileError, match=message):
        services.import_job_create(
            owner=manager, kind="stakeholders", file_name="x.csv", content=content
        )
    assert not ImportJob.objects.exists()


def test_files_over_the_size_limit_are_refused(manager, settings):
    settings.RAPPORT_IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportFileError, match="larger than the limit"):
        services.import_job_create(
            owner=manager, kind="stakeholders", file_name="x.csv", content=b"name\n" + b"a\n" * 60
        )


def test_a_failure_half_way_rolls_back_every_batch(manager, monkeypatch):
    monkeypatch.setattr(services, "BATCH_SIZE", 2)
    original = services.StakeholderImporter.write
    calls = {"n": 0}

    def failing_write(self, rows):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("database went away")
        return original(self, rows)

    monkeypatch.setattr(services.StakeholderImporter, "write", failing_write)
    csv = "name,organization,tags\n" + "".join(f"P{i},Org{i},t{i}\n" for i in range(6))
    job = run_import(manager, "stakeholders", csv.encode())
    assert job.status == ImportJob.Status.FAILED
    assert "Nothing was imported" in job.error
    assert not Stakeholder.objects.exists()
    assert not Organization.objects.exists()
    assert not Tag.objects.exists()


def test_consent_needs_a_date_and_imported_people_say_where_they_came_from(manager):
    csv = (
        b"name,legal basis,consent date\n"
        b"Anna,consent,2026-01-05\n"
        b"Bob,toestemming,\n"
        b"Carla,consent,2150-01-01\n"
    )
    job = run_import(manager, "stakeholders", csv)
    assert [(e["line"], e["reason"]) for e in job.report["errors"]] == [
        (3, "Give the date of consent when consent is the basis."),
        (4, "Consent cannot be dated in the future."),
    ]
    anna = Stakeholder.objects.get()
    assert (anna.legal_basis, str(anna.consent_date)) == ("consent", "2026-01-05")
    assert anna.data_source_kind == Stakeholder.DataSource.IMPORT
    assert anna.data_source == "Import: f.csv"
