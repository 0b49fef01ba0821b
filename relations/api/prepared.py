"""Hot API reads run as statements compiled once per process (issue #22).

A stakeholder's GET spent as long compiling its queryset (three subqueries: tags,
the key flag) as PostgreSQL spent running it, and its list page as long in the
FilterSet, which given no parameters filters nothing. For the reads a client repeats
all day (the first page of a list, one record, its scores) the SQL is the same every
time but for the record's id, so it is compiled once and run again with the new id.

`Statement` holds the compiled SQL of one queryset, where `ID` stands for the id
of the record. Its rows become model instances through the model's own `from_db`,
with each column's database converters applied and annotations set as attributes,
as the queryset would have made them. A queryset with `select_related` or
`prefetch_related` is refused: those need Django's populators.

On PostgreSQL each statement is also prepared on the server (`PREPARE`, once per
connection; `EXECUTE` per read): parsing and planning the SQL took PostgreSQL longer
than running it (a stakeholder 0.44 ms sent as SQL, 0.15 ms executed prepared; the
token lookup 0.34 against 0.14 ms). Behind a proxy that pools transactions without
keeping prepared statements, `RAPPORT_PREPARED_STATEMENTS=0` sends the SQL instead.

`PreparedReads` keeps the statements of a view, one per user and role: a
queryset built for one user must not serve another, and a user's role changes what
it holds. The view promises that, given no query parameters, its queryset depends
on the user, the user's role and the id alone: no ids read from the data, no clock
(the statement would keep them).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any

import psycopg
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DatabaseError, connections, models
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

# The statements prepared on each PostgreSQL session (psycopg connection): a new
# connection, after a restart or CONN_MAX_AGE, prepares them again.
_prepared_on: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_lock = threading.Lock()

# Stands for the record's id while the statement is compiled: no row has it (ids are
# positive), and it is a value the ORM passes to the database unchanged.
ID = -7_000_000_007

# A bigint column's range: beyond it the database refuses the value, so those ids go
# through the ordinary path, which answers 404 as before.
_MAX_ID = 2**63 - 1


def record_id(value: Any) -> int | None:
    """The URL's id as the statement's parameter, or None when it is not a plain id."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and int(value) <= _MAX_ID:
        return int(value)
    return None


class Statement:
    """One queryset's SQL, compiled now, run later with new values for its
    placeholders (`ID` unless others are named): values the ORM passes to the database
    unchanged, which no real parameter of the query equals."""

    def __init__(self, queryset: models.QuerySet, placeholders: tuple = (ID,)) -> None:
        query = queryset.query
        if query.select_related or queryset._prefetch_related_lookups:
            raise ValueError("A prepared statement reads one model: no related rows.")
        self.alias = queryset.db
        self.model = queryset.model
        compiler = query.get_compiler(using=self.alias)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # `.none()`: no row, whatever the values
            sql, params = None, ()
        self.sql: str | None = sql
        self.params = tuple(params)
        self.value_when_empty: Any = None
        self.slots = [
            [i for i, value in enumerate(self.params) if value == placeholder]
            for placeholder in placeholders
        ]
        klass_info = compiler.klass_info
        if klass_info is None:  # .values(), .values_list(), a count
            self.init_list: list[str] | None = None
            self.fields_end = 0
        else:
            select_fields = klass_info["select_fields"]
            start, self.fields_end = select_fields[0], select_fields[-1] + 1
            if start != 0:
                raise ValueError("A prepared statement reads its model's columns first.")
            self.init_list = [
                col.target.attname for col, _, _ in compiler.select[: self.fields_end]
            ]
        self.annotations = list((compiler.annotation_col_map or {}).items())
        self.converters = [
            (position, converters, expression)
            for position, (converters, expression) in compiler.get_converters(
                [col for col, _, _ in compiler.select]
            ).items()
        ]
        self._prepare_sql: str | None = None
        self._name: str | None = None
        self._unpreparable = False

    @classmethod
    def count_of(cls, queryset: models.QuerySet) -> Statement:
        """The statement counting the queryset's rows, as `Paginator.count` would."""
        statement = cls(queryset.order_by().values("pk"))
        if statement.sql is not None:
            statement.sql = f"SELECT COUNT(*) FROM ({statement.sql}) counted"  # noqa: S608 (ours)
        statement.converters = []
        statement.value_when_empty = 0
        return statement

    def rows(self, *values: Any) -> list[list]:
        """The rows for these values of the placeholders, each column as the ORM reads it."""
        if len(values) > len(self.slots) or any(self.slots[len(values) :]):
            raise TypeError("Give a value for each placeholder the statement holds.")
        if self.sql is None:
            return []
        given = list(zip(self.slots, values, strict=False))
        connection = connections[self.alias]
        with connection.cursor() as cursor:
            try:
                self._send(cursor, connection, given)
            except DatabaseError as error:
                # The session lost its statements (DISCARD ALL by a pool or a proxy):
                # outside a transaction, prepare them again and retry once.
                lost = isinstance(error.__cause__, psycopg.errors.InvalidSqlStatementName)
                if not lost or not connection.get_autocommit():
                    raise
                with _lock:
                    _prepared_on.pop(connection.connection, None)
                self._send(cursor, connection, given)
            rows = [list(row) for row in cursor.fetchall()]
        for row in rows:
            for position, converters, expression in self.converters:
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
        return rows

    def _send(self, cursor: Any, connection: BaseDatabaseWrapper, given: list) -> None:
        name = self._server_statement(connection)
        if name is None:
            params = list(self.params)
            for slots, value in given:
                for slot in slots:
                    params[slot] = value
            cursor.execute(self.sql, params)
            return
        arguments = [value for slots, value in given if slots]
        listed = f"({', '.join(['%s'] * len(arguments))})" if arguments else ""
        cursor.execute(f"EXECUTE {name}{listed}", arguments)

    def _server_statement(self, connection: BaseDatabaseWrapper) -> str | None:
        """The name of this statement prepared on the connection's PostgreSQL session
        (prepared now if it is not yet), or None to send the SQL itself."""
        if self._unpreparable or connection.vendor != "postgresql":
            return None
        if not settings.RAPPORT_PREPARED_STATEMENTS:
            return None
        if self._prepare_sql is None:
            self._prepare_sql = self._server_sql(connection)
            digest = hashlib.sha1(self._prepare_sql.encode(), usedforsecurity=False).hexdigest()
            self._name = f"rapport_{digest[:20]}"
        session = connection.connection
        with _lock:
            prepared = _prepared_on.setdefault(session, set())
        if self._name in prepared:
            return self._name
        # Not through Django's cursor: setting up the session, as Django's own time zone
        # query is, not a query of the request (which the EXECUTE is, counted as ever).
        # In a transaction, a savepoint keeps a refusal from aborting it.
        savepoint = not connection.get_autocommit()
        try:
            if savepoint:
                session.execute("SAVEPOINT rapport_prepare")
            try:
                session.execute(f"PREPARE {self._name} AS {self._prepare_sql}")
                refused = None
            except psycopg.Error as error:
                if savepoint:
                    session.execute("ROLLBACK TO SAVEPOINT rapport_prepare")
                # The same text under the same name is there already: use it.
                duplicate = isinstance(error, psycopg.errors.DuplicatePreparedStatement)
                refused = None if duplicate else error
            if savepoint:
                session.execute("RELEASE SAVEPOINT rapport_prepare")
        except psycopg.Error as error:
            refused = error
        if refused is not None:
            logger.warning("Statement not prepared, sent as SQL: %s", refused)
            # Refused for what it says (a type it cannot infer): never again. Refused
            # for the moment (a failed transaction, a lost connection): next time.
            self._unpreparable = isinstance(refused, psycopg.ProgrammingError)
            return None
        prepared.add(self._name)
        return self._name

    def _server_sql(self, connection: BaseDatabaseWrapper) -> str:
        """The SQL with `$n` for the placeholders and every other parameter written in as
        the client-side binding would send it."""
        numbers: dict[int, int] = {}
        for slots in self.slots:
            if slots:
                number = len(set(numbers.values())) + 1
                numbers.update(dict.fromkeys(slots, number))
        positions = iter(range(len(self.params)))

        def parameter(match: re.Match) -> str:
            if match.group(0) == "%%":
                return "%"
            position = next(positions)
            if position in numbers:
                return f"${numbers[position]}"
            return connection.ops.compose_sql("%s", [self.params[position]])

        return re.sub("%%|%s", parameter, self.sql)

    def objects(self, *values: Any) -> list[models.Model]:
        """The rows as model instances, annotations set, as the queryset gives them."""
        instances = []
        for row in self.rows(*values):
            instance = self.model.from_db(self.alias, self.init_list, row[: self.fields_end])
            for name, position in self.annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances

    def value(self, *values: Any) -> Any:
        """The single value of a one-row, one-column statement (a count)."""
        rows = self.rows(*values)
        return rows[0][0] if rows else self.value_when_empty


class PreparedReads:
    """The statements of one view, per user, role and kind of read, built on first use.

    Bounded: past `size` entries the whole table starts again (a process serving more
    users than that compiles again, as without it)."""

    every: weakref.WeakSet[PreparedReads] = weakref.WeakSet()

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._statements: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        PreparedReads.every.add(self)

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        statement = self._statements.get(key)
        if statement is None:
            statement = build()
            with self._lock:
                if len(self._statements) >= self.size:
                    self._statements.clear()
                self._statements[key] = statement
        return statement

    def clear(self) -> None:
        with self._lock:
            self._statements.clear()

    @classmethod
    def clear_all(cls) -> None:
        """Forget every view's statements (tests: each starts as a new process would)."""
        for reads in list(cls.every):
            reads.clear()


def role_key(user: Any, *roles: Callable[[Any], bool]) -> tuple:
    """The key of a user's statements: the user and the answers of the role checks."""
    return (user.pk, *(check(user) for check in roles))
