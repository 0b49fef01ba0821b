"""Names and addresses compared without case or accents in every script, on SQLite as on
PostgreSQL: imports find duplicates, interactions find their stakeholders, search finds
people, and the stored keys stay right whoever writes the rows."""

from __future__ import annotations

import pytest

from relations.importing import services
from relations.matching import email_key, match_key
from relations.models import Interaction, Organization, Stakeholder
from tests.factories import OrganizationFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def run(user, kind: str, content: bytes, duplicates: str = "skip"):
        job, _ = services.import_job_create(
            owner=user, kind=kind, file_name="f.csv", content=content
        )
        with django_capture_on_commit_callbacks(execute=True):
            services.import_job_start(job, mapping=None, duplicates=duplicates)
        job.refresh_from_db()
        return job

    return run


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Ørsted", "ØRSTED"),
        ("Ørsted", "orsted"),
        ("Lars Østergaard", "lars  ostergaard"),
        ("Zoë Müller", "ZOE MULLER"),
        ("Straße", "STRASSE"),
        ("ΣΟΦΊΑ Παπαδοπούλου", "σοφια παπαδοπουλου"),
        ("Дмитрий Ёлкин", "ДМИТРИЙ ЕЛКИН"),
        ("Łukasz Żółć", "lukasz zolc"),
    ],
)
def test_keys_ignore_case_and_accents_in_every_script(one, other):
    assert match_key(one) == match_key(other)


def test_different_names_keep_different_keys():
    assert match_key("安藤 ロイド") != match_key("安藤 ロイ")
    assert match_key("Jan de Vries") != match_key("Jan Devries")


def test_email_keys_fold_case_but_keep_accents():
    assert email_key("Ørsted@Example.DK") == email_key("ørsted@example.dk")
    assert email_key("josé@example.org") != email_key("jose@example.org")


def test_the_same_organisation_in_two_cases_is_imported_once(manager, run):
    csv = "Name,E-mail,Organisation\nAnne Holm,anne@x.dk,Ørsted\nBo Berg,bo@x.dk,ØRSTED\n"
    job = run(manager, "stakeholders", csv.encode())
    assert job.created_count == 2, job.report
    assert list(Organization.objects.values_list("name", flat=True)) == ["Ørsted"]
    # Imported again with yet another spelling: still the one organisation.
    run(manager, "organizations", "Name\nørsted\n".encode())
    assert Organization.objects.count() == 1


def test_duplicate_stakeholders_found_by_name_and_address_in_other_cases(manager, run):
    StakeholderFactory(name="Lars Østergaard", email="Lars@Ørsted.dk", organization=None)
    csv = "Name,E-mail\nLARS ØSTERGAARD,\nSomeone Else,lars@ørsted.DK\n"
    job = run(manager, "stakeholders", csv.encode())
    assert (job.created_count, job.skipped_count) == (0, 2), job.report
    assert Stakeholder.objects.count() == 1


def test_an_interaction_finds_its_stakeholder_by_name_in_another_case(manager, run):
    lars = StakeholderFactory(name="Lars Østergaard", owner=manager)
    csv = "When,Subject,Stakeholders\n2026-03-01 10:00,Kick-off,LARS ØSTERGAARD\n"
    job = run(manager, "interactions", csv.encode())
    assert job.created_count == 1, job.report
    assert list(Interaction.objects.get(subject="Kick-off").stakeholders.all()) == [lars]


def test_keys_are_kept_by_save_bulk_create_bulk_update_and_update():
    org = OrganizationFactory(name="Ørsted")
    assert org.name_key == "orsted"
    org.name = "Équinor"
    org.save(update_fields=["name"])
    org.refresh_from_db()
    assert org.name_key == "equinor"
    [bulk] = Organization.objects.bulk_create([Organization(name="ÅSA")])
    assert Organization.objects.get(pk=bulk.pk).name_key == "asa"
    bulk.name = "Ærø"
    Organization.objects.bulk_update([bulk], ["name"])
    assert Organization.objects.get(pk=bulk.pk).name_key == "aero"
    person = StakeholderFactory(name="Zoë", email="ZOE@X.NL")
    Stakeholder.objects.filter(pk=person.pk).update(name="Ölaf", email="OLAF@X.NL")
    person.refresh_from_db()
    assert (person.name_key, person.email_key) == ("olaf", "olaf@x.nl")


def test_search_finds_a_name_typed_without_accents_or_capitals(manager_client):
    StakeholderFactory(name="Lars Østergaard")
    StakeholderFactory(name="Someone Else")
    response = manager_client.get("/stakeholders/", {"q": "ostergaard"})
    assert response.status_code == 200
    assert "Lars Østergaard" in response.content.decode()
    assert "Someone Else" not in response.content.decode()


def test_large_imports_fill_the_keys_too(manager, run):
    # Over the COPY threshold on PostgreSQL (bulk_insert writes the rows itself).
    rows = "".join(f"Ærlig Øster {i},ae{i}@Example.ORG,Ørsted {i % 3}\n" for i in range(130))
    job = run(manager, "stakeholders", f"Name,E-mail,Organisation\n{rows}".encode())
    assert (job.created_count, job.error_count) == (130, 0), job.report
    assert not Stakeholder.objects.filter(name_key="").exists()
    assert Stakeholder.objects.filter(name_key="aerlig oster 7", email_key="ae7@example.org")
    assert sorted(Organization.objects.values_list("name_key", flat=True)) == [
        "orsted 0",
        "orsted 1",
        "orsted 2",
    ]
    again = run(manager, "stakeholders", f"Name,E-mail,Organisation\n{rows.upper()}".encode())
    assert (again.created_count, again.skipped_count) == (0, 130), again.report
