"""Pages stay bounded whatever the planner statistics (issue #22).

Right after a bulk load PostgreSQL has no statistics until autovacuum (off in this
test database, as on this machine's server) or an ANALYZE runs. A plan then may
walk a large index and run a correlated subquery for every row it passes: with a
subquery that scans a whole table, a page took minutes at the `large` size. These
tests seed `medium` without ANALYZE and check, for a manager who knows the busiest
stakeholder and one who knows nobody there, that every query of the pages a manager
opens first (a) never runs a table scan once per row (a scan inside a correlated
SubPlan; a hashed SubPlan runs once) and (b) answers within a generous bound. The
real figures are in `make bench` (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext

import demo.seed
from demo.management.commands.bench_first_pages import statistics_forget
from relations.models import Relationship, Stakeholder
from relations.roles import DIRECTOR, MANAGER
from tests.clients import token_client

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="planner statistics are PostgreSQL's"
    ),
]

PAGE_SECONDS = 2.0
User = get_user_model()


def per_row_scans(plan: dict, hashed: set[str], inside_subplan: bool = False) -> Iterator[str]:
    """Table scans that run once per outer row: a Seq Scan under a correlated SubPlan
    (a hashed SubPlan or an InitPlan runs once per query)."""
    name = plan.get("Subplan Name", "")
    if plan.get("Parent Relationship") == "SubPlan" and name not in hashed:
        inside_subplan = True
    # A lookup table of a few rows (groups, goals) costs nothing to scan per row.
    if inside_subplan and plan["Node Type"] == "Seq Scan" and rows_in(plan["Relation Name"]) > 500:
        yield f"{plan['Relation Name']} scanned once per row ({name or 'nested'})"
    for child in plan.get("Plans", []):
        yield from per_row_scans(child, hashed, inside_subplan)


def rows_in(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
        return cursor.fetchone()[0]


def explain(sql: str) -> tuple[dict, set[str]]:
    """The plan of `sql`, and the names of its subplans that run once (hashed): the
    JSON format names a SubPlan the same either way, the filters that use it do not."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
        (raw,) = cursor.fetchone()
    text = raw if isinstance(raw, str) else json.dumps(raw)
    hashed = set(re.findall(r"hashed (SubPlan \d+)", text))
    return json.loads(text)[0]["Plan"], hashed


@pytest.fixture
def unanalysed_medium(monkeypatch):
    statistics_forget()
    monkeypatch.setattr(demo.seed, "statistics_refresh", lambda tables: [])
    demo.seed.demo_seed(size="medium", seed=1)
    busiest = (
        Stakeholder.objects.annotate(n=Count("interactions")).order_by("-n").values("pk", "n")[0]
    )
    knowing = set(
        Relationship.objects.filter(stakeholder_id=busiest["pk"]).values_list("user_id", flat=True)
    )
    managers = User.objects.filter(groups__name=MANAGER).exclude(groups__name=DIRECTOR)
    knower = managers.filter(pk__in=knowing).first()
    stranger = (
        managers.exclude(pk__in=knowing).exclude(owned_stakeholders__pk=busiest["pk"]).first()
    )
    assert knower and stranger and busiest["n"] > 100
    return busiest["pk"], {"knows the stakeholder": knower, "knows nobody there": stranger}


def test_first_pages_after_a_bulk_load_scan_no_table_per_row(unanalysed_medium):
    stakeholder, users = unanalysed_medium
    pages = [
        f"/stakeholders/{stakeholder}/",
        "/",
        "/stakeholders/",
        "/commitments/",
        "/portfolio/",
        f"/api/v1/interactions/?stakeholder={stakeholder}",
        "/api/v1/commitments/",
    ]
    problems = []
    for who, user in users.items():
        browser, api = Client(), token_client(user)
        browser.force_login(user)
        for url in pages:
            client = api if url.startswith("/api/") else browser
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                seconds = time.perf_counter() - started
            assert response.status_code == 200, (who, url, response.status_code)
            if seconds > PAGE_SECONDS:
                problems.append(f"{url} for a manager who {who}: {seconds:.1f} s")
            for query in queries.captured_queries:
                if query["sql"].lstrip().upper().startswith("SELECT"):
                    problems += [
                        f"{url} for a manager who {who}: {scan}\n  {query['sql'][:300]}"
                        for scan in per_row_scans(*explain(query["sql"]))
                    ]
    assert not problems, "\n".join(problems)
