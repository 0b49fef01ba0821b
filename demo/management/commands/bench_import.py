"""Time a CSV import of N stakeholders through the real task code path.

    python manage.py bench_import --rows 100000 [--json PATH] [--keep]

Generates a CSV (UTF-8, semicolons, a quoted field with a newline in every
hundredth row, 1 % bad rows, 1 % duplicates of earlier rows), uploads it as a
job and runs the import task in this process on the configured database; then
undoes it (timed too) unless --keep. The target: 100,000 rows < 60 s on
PostgreSQL.
"""

from __future__ import annotations

import csv
import io
import json
import time

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import connection

from relations.importing import services, tasks
from relations.importing.models import ImportJob


def bench_csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(
        ["Naam", "E-mail", "Organisatie", "Functie", "Telefoon", "Tags", "Belang", "Notities"]
    )
    for i in range(rows):
        if i % 100 == 99:
            writer.writerow([f"Bad {i}", "not-an-address", "", "", "", "", "9", ""])
            continue
        n = i - 1 if i % 100 == 50 else i  # a duplicate of the row before
        writer.writerow(
            [
                f"Person {n}",
                f"person{n}@bench.example",
                f"Organisation {n % max(1, rows // 20)}",
                "Director" if n % 7 == 0 else "Advisor",
                f"+31 6 {n:08d}",
                "bench;energy" if n % 3 == 0 else "bench",
                str(1 + n % 5),
                "line one\nline two" if n % 100 == 0 else "",
            ]
        )
    return out.getvalue().encode()


class Command(BaseCommand):
    help = "Benchmark: import N stakeholder rows from CSV (and undo it)."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--json", dest="json_path", default="")
        parser.add_argument("--keep", action="store_true", help="Do not undo the import.")
        parser.add_argument(
            "--report", action="store_true", help="Add the figures to docs/benchmarks.md/.json."
        )

    def handle(self, *args, rows: int, json_path: str, keep: bool, report: bool, **options):
        user, _ = User.objects.get_or_create(username="bench_import")
        user.groups.add(Group.objects.get_or_create(name="manager")[0])
        content = bench_csv(rows)
        job, _ = services.import_job_create(
            owner=user, kind="stakeholders", file_name=f"bench-{rows}.csv", content=content
        )
        job.status = ImportJob.Status.PENDING
        job.save(update_fields=["status"])
        started, cpu_started = time.perf_counter(), time.process_time()
        tasks.import_run.apply(args=[job.pk], throw=True)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        job.refresh_from_db()
        result = {
            "database": connection.vendor,
            "rows": rows,
            "bytes": len(content),
            "status": job.status,
            "created": job.created_count,
            "merged": job.merged_count,
            "errors": job.error_count,
            "import_seconds": round(elapsed, 2),
            # This process alone (the database server's work is not in it): on a
            # shared machine the wall-clock figure also measures the neighbours.
            "import_cpu_seconds": round(cpu, 2),
            "rows_per_second": round(rows / elapsed) if elapsed else None,
        }
        if not keep:
            job.status = ImportJob.Status.UNDOING
            job.save(update_fields=["status"])
            started = time.perf_counter()
            tasks.import_undo.apply(args=[job.pk, user.pk], throw=True)
            result["undo_seconds"] = round(time.perf_counter() - started, 2)
        self.stdout.write(json.dumps(result, indent=2))
        if json_path:
            with open(json_path, "w") as handle:
                json.dump(result, handle, indent=2)
        if report:
            from demo.management.commands.bench_scores import write_report

            table = [
                (
                    f"CSV import of {rows:,} stakeholder rows through the import task",
                    f"{result['import_seconds']} s ({result['rows_per_second']:,} rows/s; "
                    f"{result['created']:,} created, {result['merged']:,} merged, "
                    f"{result['errors']:,} bad rows reported)",
                    "< 60 s",
                )
            ]
            if "undo_seconds" in result:
                table.append(("undo of that import", f"{result['undo_seconds']} s", "—"))
            path = write_report(
                "Import", {"dataset": f"{rows:,} rows ({connection.vendor})", **result}, table
            )
            self.stdout.write(f"Wrote {path}")
