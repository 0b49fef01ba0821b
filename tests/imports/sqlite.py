"""The test database beside a background thread.

On SQLite the test database is one in-memory database shared between the test's
connection and a thread's own (shared-cache mode). There a reader that meets the
writer's table lock fails at once ("database table is locked": SQLITE_LOCKED, which
no busy timeout waits for), while a database file, as `make run` uses, makes the
reader wait for the batch's commit instead (seen: a 20,000-row import on the file
database, polled by the status, job and list pages, answered 200 every time). So
that tests meet the file's behaviour rather than the in-memory quirk, the test's
connection reads without taking table locks while a background thread writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def reads_beside_a_writer() -> Iterator[None]:
    shared_memory = connection.vendor == "sqlite" and connection.is_in_memory_db()
    if shared_memory:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 1")
    try:
        yield
    finally:
        if shared_memory:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA read_uncommitted = 0")
