"""`manage.py bench_first_pages [--forget-statistics]`: the pages a manager opens first,
right after a bulk load (issue #22).

On the data already in the database (PostgreSQL). With `--forget-statistics` the
planner statistics of every table are removed first, as a server has them after a
restore or a bulk load before autovacuum (or an ANALYZE) has run. Then, for a
manager who knows the busiest stakeholder and one who knows nobody there, each page
is fetched twice in process (Django's test client): the first fetch is cold, the
second warm. Prints a table; the figures go to `docs/benchmarks.md` by hand.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import Count
from django.test import Client

from relations.models import Interaction, Relationship
from relations.roles import DIRECTOR, MANAGER

FIRST_PAGES = (
    "/stakeholders/{stakeholder}/",
    "/",
    "/stakeholders/",
    "/commitments/",
    "/portfolio/",
)


def statistics_forget() -> None:
    """No statistics and no row counts, as a fresh database has after a bulk load."""
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM pg_statistic WHERE starelid IN (SELECT oid FROM pg_class"
            " WHERE relnamespace = 'public'::regnamespace)"
        )
        cursor.execute(
            "UPDATE pg_class SET reltuples = -1, relpages = 0"
            " WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'i')"
        )


class Command(BaseCommand):
    help = "Time the pages a manager opens first, optionally without planner statistics."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--forget-statistics", action="store_true")

    def handle(self, *args, forget_statistics: bool = False, **options) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("Planner statistics are PostgreSQL's: set DATABASE_URL.")
        if forget_statistics:
            statistics_forget()
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        through = Interaction.stakeholders.through.objects
        busiest = (
            through.values("stakeholder_id")
            .annotate(n=Count("interaction_id"))
            .order_by("-n")
            .values_list("stakeholder_id", "n")
            .first()
        )
        if busiest is None:
            raise CommandError("No interactions: seed the demo first.")
        stakeholder, count = busiest
        knowing = set(
            Relationship.objects.filter(stakeholder_id=stakeholder).values_list(
                "user_id", flat=True
            )
        )
        managers = (
            get_user_model()
            .objects.filter(groups__name=MANAGER)
            .exclude(groups__name=DIRECTOR)
            .order_by("pk")
        )
        users = {
            "knows the stakeholder": managers.filter(pk__in=knowing).first(),
            "knows nobody there": managers.exclude(pk__in=knowing)
            .exclude(owned_stakeholders__pk=stakeholder)
            .first(),
        }
        self.stdout.write(
            f"Stakeholder {stakeholder} ({count} interactions); statistics "
            f"{'forgotten' if forget_statistics else 'as they are'}.\n"
        )
        self.stdout.write("| page | manager | cold | warm |\n|---|---|---|---|")
        for who, user in users.items():
            client = Client()
            client.force_login(user)
            for page in FIRST_PAGES:
                url = page.format(stakeholder=stakeholder)
                timings = []
                for _ in range(2):
                    started = time.perf_counter()
                    response = client.get(url)
                    timings.append(time.perf_counter() - started)
                    if response.status_code != 200:
                        raise CommandError(f"{url}: {response.status_code}")
                cold, warm = (f"{seconds * 1000:,.0f} ms" for seconds in timings)
                self.stdout.write(f"| {url} | {who} | {cold} | {warm} |")
