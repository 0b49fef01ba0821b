"""CSV exports: the lists as filtered, visibility honoured, formulas neutralised."""

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from relations.exports.services import csv_cell
from relations.services import interaction_log
from tests.factories import (
    CommitmentFactory,
    OrganizationFactory,
    StakeholderFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict]:
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+31 6 1234", "'+31 6 1234"),
        ("-rm", "'-rm"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("-2", "-2"),
        ("plain", "plain"),
        (-2, -2),
        (None, ""),
        (["a", "=b"], "a;'=b"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(value, cell):
    assert csv_cell(value) == cell


def test_stakeholder_export_keeps_the_filters_and_neutralises_formulas(manager, client_for):
    org = OrganizationFactory(name="Acme")
    StakeholderFactory(name="=cmd|' /C calc'!A0", organization=org, importance=5)
    StakeholderFactory(name="Important", organization=org, importance=5)
    StakeholderFactory(name="Minor", organization=org, importance=1)
    client = client_for(manager)
    page = client.get("/stakeholders/", {"importance": 5}).content.decode()
    assert "/stakeholders/export.csv?importance=5" in page
    rows = read_csv(client.get("/stakeholders/export.csv", {"importance": 5}))
    assert sorted(r["name"] for r in rows) == ["'=cmd|' /C calc'!A0", "Important"]
    assert {r["organization"] for r in rows} == {"Acme"}


def test_export_query_count_is_bounded(manager, django_assert_max_num_queries, client_for):
    for n in range(30):
        stakeholder = StakeholderFactory(name=f"S{n}")
        stakeholder.tags.create(name=f"tag{n}")
    client = client_for(manager)
    # session, user, groups, then per chunk of 500: stakeholders, their tags.
    with django_assert_max_num_queries(8):
        rows = read_csv(client.get("/stakeholders/export.csv"))
    assert len(rows) == 30


def test_organization_and_commitment_exports(manager, other_manager, stakeholder, client_for):
    OrganizationFactory(name="Zeta Energy", sector="Energy")
    OrganizationFactory(name="Other", sector="Water")
    client = client_for(manager)
    rows = read_csv(client.get("/organizations/export.csv", {"q": "zeta"}))
    assert [r["name"] for r in rows] == ["Zeta Energy"]
    CommitmentFactory(stakeholder=stakeholder, responsible=manager, description="Mine")
    CommitmentFactory(stakeholder=stakeholder, responsible=other_manager, description="Otto's")
    CommitmentFactory(
        stakeholder=stakeholder,
        responsible=manager,
        description="Late",
        due_date=timezone.localdate() - timedelta(days=3),
    )
    rows = read_csv(client.get("/commitments/export.csv", {"show": "overdue"}))
    assert [r["description"] for r in rows] == ["Late"]
    rows = read_csv(client.get("/commitments/export.csv"))
    assert sorted(r["description"] for r in rows) == ["Late", "Mine"]


def test_api_export_honours_filters_and_visibility(manager, other_manager, stakeholder, api_for):
    mine = interaction_log(
        by=manager,
        participants=[manager],
        stakeholders=[stakeholder],
        subject="=Seen by Maria",
        occurred_at=timezone.now() - timedelta(days=1),
    )
    stranger = StakeholderFactory(owner=other_manager)
    interaction_log(
        by=other_manager,
        participants=[other_manager],
        stakeholders=[stranger],
        subject="Otto's secret meeting",
        occurred_at=timezone.now() - timedelta(days=1),
    )
    response = api_for(manager).get("/api/v1/interactions/csv/")
    assert response.status_code == 200
    rows = read_csv(response)
    assert [r["subject"] for r in rows] == ["'=Seen by Maria"]
    assert rows[0]["id"] == str(mine.pk)
    assert rows[0]["stakeholders"] == str(stakeholder.pk)
    # The same filters as the list.
    StakeholderFactory(name="Filtered out", importance=1)
    rows = read_csv(api_for(manager).get("/api/v1/stakeholders/csv/", {"importance_min": 4}))
    assert [r["name"] for r in rows] == [stakeholder.name]
    # Errors stay JSON; no credentials is a 401.
    bad = api_for(manager).get("/api/v1/stakeholders/csv/", {"importance": "x"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    assert APIClient().get("/api/v1/stakeholders/csv/").status_code == 401


def test_dashboard_figures_as_csv_for_directors_only(manager, director, stakeholder, client_for):
    from networks.services import health_current  # noqa: F401  (the same source as the page)

    TeamFactory(name="Energy team")
    client = client_for(director)
    page = client.get("/dashboard/").content.decode()
    assert "/dashboard/export.csv" in page
    rows = read_csv(client.get("/dashboard/export.csv"))
    sections = {r["section"] for r in rows}
    assert {"network", "team", "trust_distribution", "power_interest"} <= sections
    assert any(r["section"] == "team" and r["name"] == "Energy team" for r in rows)
    assert client_for(manager).get("/dashboard/export.csv").status_code == 403


def test_api_export_query_count_does_not_grow_with_rows(
    manager, stakeholder, django_assert_max_num_queries, api_for
):
    for n in range(40):
        interaction_log(
            by=manager,
            participants=[manager],
            stakeholders=[stakeholder],
            subject=f"Meeting {n}",
            occurred_at=timezone.now() - timedelta(days=n + 1),
        )
    client = api_for(manager)
    # token, user, groups, then per chunk: interactions and their two prefetches.
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/interactions/csv/")
        rows = read_csv(response)
    assert len(rows) == 40


def test_a_filter_the_database_refuses_is_a_400_before_the_download_starts(
    manager, stakeholder, api_for
):
    """Schemathesis found it: a time-zone offset PostgreSQL cannot store broke the
    stream after its 200 was sent. The first rows are read in the view."""
    interaction_log(
        by=manager,
        participants=[manager],
        stakeholders=[stakeholder],
        occurred_at=timezone.now() - timedelta(days=1),
        kind="call",
        subject="Call",
    )
    response = api_for(manager).get(
        "/api/v1/interactions/csv/", {"occurred_after": "0138-03-13T23:01:21-16:54"}
    )
    if response.status_code == 200:  # SQLite compares the text and finds the row
        assert "Call" in b"".join(response.streaming_content).decode()
    else:
        assert response.status_code == 400
        assert response["Content-Type"].startswith("application/json")
