"""PostgreSQL's binary COPY format, read into and written from numpy arrays.

A full recomputation moves every score row through here: reading the rows it
scores (`copy_columns`) and writing the results back (`copy_binary_in`). Fixed-
width values are laid out or read in place by numpy, so no Python code runs per
value. PostgreSQL only: the callers choose another path elsewhere.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db import connection

# Binary COPY: an 11-byte signature, 4 bytes of flags and 4 of header extension,
# then per row a 2-byte field count and, per field, a 4-byte length and the value
# (an array: dimensions, null flag, element type, size and lower bound per
# dimension, then a 4-byte length before each element).
HEADER = 19
# Written: the same signature, flags and extension, the rows, and a trailer.
SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
TRAILER = b"\xff\xff"
# Timestamps travel as microseconds since 2000-01-01 UTC.
PG_EPOCH_MICROS = 946_684_800 * 1_000_000
# Rows per write: bounds the bytes joined at once.
COPY_CHUNK = 10_000


def copy_columns(
    sql: str, params: list[Any], fields: list[tuple[str, str]]
) -> dict[str, np.ndarray]:
    """The columns of a query as numpy arrays, through one binary COPY row.

    The query's rows are folded into one row of arrays (`array_agg`), so the
    stream is a few large messages rather than one per row (psycopg handles
    each message in Python), and numpy reads each array in place: every value
    must be fixed-width and never NULL (COALESCE in the query). `fields` are
    (name, big-endian numpy type) in column order.
    """
    folded = ", ".join(f"array_agg(c{j})" for j in range(len(fields)))
    aliased = ", ".join(f"c{j}" for j in range(len(fields)))
    statement = f"COPY (SELECT {folded} FROM ({sql}) AS rows ({aliased})) TO STDOUT (FORMAT binary)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        data = b"".join(copy)
    view = memoryview(data)
    if view[HEADER - 4 : HEADER] != bytes(4):
        raise RuntimeError("unexpected COPY header extension")
    position = HEADER + 2  # the row's field count
    columns = {}
    for name, kind in fields:
        size = int.from_bytes(view[position : position + 4], "big", signed=True)
        position += 4
        if size < 0:  # array_agg of no rows is NULL
            columns[name] = np.empty(0, dtype=np.dtype(kind).newbyteorder("="))
            continue
        array = view[position : position + size]
        position += size
        ndim = int.from_bytes(array[0:4], "big")
        if int.from_bytes(array[4:8], "big"):
            raise RuntimeError(f"COPY column {name} holds NULLs")
        offset = 12 + 8 * ndim
        count = int.from_bytes(array[12:16], "big") if ndim else 0
        element = np.dtype([("size", ">i4"), ("value", kind)])
        values = np.frombuffer(array, dtype=element, count=count, offset=offset)
        if count and (values["size"] != np.dtype(kind).itemsize).any():
            raise RuntimeError(f"COPY column {name} is not {kind}")
        columns[name] = values["value"].astype(np.dtype(kind).newbyteorder("="))
    return columns


def codes_sql(sql_column: str, names: list[str]) -> str:
    """SQL of a text column as its 1-based position in `names` (0: not among them)."""
    listed = ", ".join("'" + name.replace("'", "''") + "'" for name in names)
    return f"COALESCE(array_position(ARRAY[{listed}]::text[], {sql_column}::text), 0)::int2"


def posix_to_micros(seconds: np.ndarray) -> np.ndarray:
    """Whole microseconds of POSIX times, rounded as `datetime.fromtimestamp` rounds them
    (fraction half to even, carried into the seconds)."""
    fraction, whole = np.modf(seconds)
    micros = np.round(fraction * 1e6)
    carry = (micros >= 1e6).astype(np.int64) - (micros < 0).astype(np.int64)
    micros = micros - carry * 1e6
    return (whole.astype(np.int64) + carry) * 1_000_000 + micros.astype(np.int64)


def copy_binary_in(
    cursor: Any, statement: str, fixed: list[tuple[str, Any]], last: list[bytes]
) -> None:
    """Stream rows through `statement` (a `COPY … FROM STDIN (FORMAT binary)`).

    `fixed`: the fixed-width fields in column order, each as (big-endian numpy
    type, one value per row), laid out by numpy; `last`: each row's final field,
    of variable length, already encoded.
    """
    n = len(last)
    dtype = [("fields", ">i2")]
    for j, (kind, _) in enumerate(fixed):
        dtype += [(f"size{j}", ">i4"), (f"value{j}", kind)]
    dtype.append(("last_size", ">i4"))
    records = np.zeros(n, dtype=np.dtype(dtype))
    records["fields"] = len(fixed) + 1
    for j, (kind, values) in enumerate(fixed):
        records[f"size{j}"] = np.dtype(kind).itemsize
        records[f"value{j}"] = values
    records["last_size"] = [len(value) for value in last]
    width = records.dtype.itemsize
    data = records.tobytes()
    with cursor.cursor.copy(statement) as copy:
        copy.write(SIGNATURE)
        for start in range(0, n, COPY_CHUNK):
            stop = min(start + COPY_CHUNK, n)
            copy.write(
                b"".join(
                    part
                    for g in range(start, stop)
                    for part in (data[g * width : (g + 1) * width], last[g])
                )
            )
        copy.write(TRAILER)
