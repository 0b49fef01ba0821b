"""Dashboards read from a PostgreSQL replica when one is configured.

`DATABASE_REPLICA_URL` adds the `replica` database alias (config.settings). The
router sends reads there only inside `replica_reads()` — the dashboard views
wrap their body in it (`reads_from_replica`) — so sign-in, sessions, forms and
everything that must read its own writes stay on the primary. Writes always go
to the primary, even for a row that was read from the replica. Without the
alias every read goes to `default`, as before.

A replica lags the primary by its replication delay; the dashboards show stored
scores and health figures recomputed in the background, which lag anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"

_reading_from_replica: ContextVar[bool] = ContextVar("rapport_replica_reads", default=False)


def replica_configured() -> bool:
    return REPLICA in connections.settings


@contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside this block go to the replica, when one is configured."""
    token = _reading_from_replica.set(True)
    try:
        yield
    finally:
        _reading_from_replica.reset(token)


def reads_from_replica(view: Callable[..., Any]) -> Callable[..., Any]:
    """A view whose reads (its rendering included) may come from the replica."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            return view(*args, **kwargs)

    return wrapper


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str | None:
        if _reading_from_replica.get() and replica_configured():
            return REPLICA
        return None  # Django's default choice

    def db_for_write(self, model: type, **hints: Any) -> str:
        # Explicitly the primary: Django would otherwise write an instance back to
        # the database it was read from.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        # The replica gets its schema and rows by replication.
        return db != REPLICA
