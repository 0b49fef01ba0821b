"""Bulk writers leave planner statistics behind (issue #22): after a bulk load a page
must not wait for autovacuum, which may be minutes away or (as here) off."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from metrics.models import StakeholderScore
from relations.importing import services as importing
from relations.merging.services import organization_merge, stakeholder_merge
from relations.models import Interaction, Organization, Stakeholder
from tests.factories import InteractionFactory, OrganizationFactory, StakeholderFactory
from tests.imports.conftest import _tasks_in_process  # noqa: F401 (autouse: imports in process)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's"
    ),
]


def analysed_since(table: str, since: datetime) -> bool:
    with connection.cursor() as cursor:
        # Statistics views are read from a per-transaction snapshot: take a new one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = %s", [table])
        (last,) = cursor.fetchone()
    return last is not None and last >= since


def people_csv(rows: int) -> bytes:
    lines = ["Name,E-mail,Organisation"]
    lines += [f"Person {i},person{i}@example.org,Org {i % 7}" for i in range(rows)]
    return "\n".join(lines).encode()


@pytest.fixture
def threshold(settings):
    settings.RAPPORT_ANALYZE_AFTER_ROWS = 20
    return 20


def run_import(user, rows: int):
    job, _ = importing.import_job_create(
        owner=user, kind="stakeholders", file_name="people.csv", content=people_csv(rows)
    )
    importing.import_job_start(job, mapping=None, duplicates="merge")
    job.refresh_from_db()
    assert job.created_count >= rows, job.error or job.report
    return job


def test_an_import_of_many_rows_analyses_the_tables_it_filled(manager, threshold):
    started = timezone.now()
    run_import(manager, threshold)
    assert analysed_since(Stakeholder._meta.db_table, started)
    assert analysed_since(Organization._meta.db_table, started)


def test_a_small_import_leaves_statistics_to_autovacuum(manager, threshold):
    started = timezone.now()
    run_import(manager, threshold // 2)  # 10 people and 7 organisations: 17 rows
    assert not analysed_since(Stakeholder._meta.db_table, started)


def test_merging_a_stakeholder_with_many_interactions_analyses_the_moved_rows(director, threshold):
    keep, absorb = StakeholderFactory(), StakeholderFactory()
    for _ in range(threshold):
        InteractionFactory(with_stakeholders=[absorb])
    started = timezone.now()
    stakeholder_merge(keep=keep, absorb=absorb, by=director)
    assert analysed_since(Interaction.stakeholders.through._meta.db_table, started)


def test_merging_an_organisation_with_many_people_analyses_stakeholders(director, threshold):
    keep, absorb = OrganizationFactory(), OrganizationFactory()
    StakeholderFactory.create_batch(threshold, organization=absorb)
    started = timezone.now()
    organization_merge(keep=keep, absorb=absorb, by=director)
    assert analysed_since(Stakeholder._meta.db_table, started)


def test_a_full_recomputation_analyses_the_score_tables():
    StakeholderFactory.create_batch(3)
    started = timezone.now()
    call_command("recompute_scores", verbosity=0)
    assert analysed_since(StakeholderScore._meta.db_table, started)


def test_seeding_the_demo_analyses_what_it_wrote():
    started = timezone.now()
    call_command("seed_demo", size="tiny", verbosity=0)
    for model in (Stakeholder, Interaction, Interaction.stakeholders.through, Organization):
        assert analysed_since(model._meta.db_table, started), model._meta.db_table


def test_an_interaction_import_analyses_its_tables_and_finishes(manager, threshold):
    """An interaction import records more than tables (relationships it opened): the
    refresh takes the tables and the import still ends done."""
    person = StakeholderFactory(email="olga@example.org")
    lines = ["date,kind,subject,stakeholders,participants"]
    lines += [
        f"2026-03-{1 + i % 28:02d} 10:00,call,Call {i},{person.email},maria" for i in range(30)
    ]
    job, _ = importing.import_job_create(
        owner=manager, kind="interactions", file_name="calls.csv", content="\n".join(lines).encode()
    )
    started = timezone.now()
    importing.import_job_start(job, mapping=None, duplicates="merge")
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("done", 30), job.error or job.report
    assert analysed_since(Interaction._meta.db_table, started)
