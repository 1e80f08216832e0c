"""What a backup held, table by table, and the check that a restore holds the same.

For every table: its row count, its row count per school where it has a ``school_id`` column
(OPS-02's "row counts per tenant"), and a SHA-256 over a deterministic sample of rows ordered
by primary key: the first, the middle and the last ``SAMPLE_ROWS`` (every row when the table
is smaller than that). The last rows are the newest ones, so the latest marks and amendments
are always in the sample. The sample is a spot check, not a proof: an edit to a row outside
it changes no checksum, but an added or lost row always changes a count.

Rows are hashed as the database writes them as text (PostgreSQL's row-to-text cast, with the
session settings in ``ops.database`` pinned) or as Python's ``repr`` of the sqlite3 tuple, so
a manifest compares against a restore on the same engine, never across engines.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ops.database import Connection, Database, quote

SAMPLE_ROWS = 50

TableState = dict[
    str, Any
]  # {"rows": int, "per_school": {school_id: int}, "sample_rows": int, "sample_sha256": str}


def _columns(database: Database, connection: Connection, table: str) -> list[str]:
    if database.vendor == "sqlite":
        return [str(row[1]) for row in connection.execute(f"PRAGMA table_info({quote(table)})")]
    rows = connection.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped ORDER BY attnum",
        (quote(table),),
    ).fetchall()
    return [str(row[0]) for row in rows]


def _primary_key(database: Database, connection: Connection, table: str) -> list[str]:
    if database.vendor == "sqlite":
        info = connection.execute(f"PRAGMA table_info({quote(table)})").fetchall()
        return [str(row[1]) for row in sorted((r for r in info if r[5]), key=lambda r: r[5])]
    rows = connection.execute(
        "SELECT a.attname FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
        (quote(table),),
    ).fetchall()
    return [str(row[0]) for row in rows]


def table_state(
    database: Database, connection: Connection, table: str, *, sample: int = SAMPLE_ROWS
) -> TableState:
    columns = _columns(database, connection, table)
    key = _primary_key(database, connection, table) or columns
    name = quote(table)
    counted = connection.execute(f"SELECT count(*) FROM {name}").fetchone()  # noqa: S608 -- a quoted catalogue name
    rows = int(counted[0]) if counted else 0

    per_school: dict[str, int] = {}
    if "school_id" in columns:
        grouped = connection.execute(
            f"SELECT school_id, count(*) FROM {name} GROUP BY school_id ORDER BY school_id"  # noqa: S608 -- the name is quoted and comes from the catalogue
        ).fetchall()
        per_school = {str(school): int(count) for school, count in grouped}

    ascending = ", ".join(f"t.{quote(c)}" for c in key)
    descending = ", ".join(f"{quote(c)} DESC" for c in key)
    as_text = "t::text" if database.vendor == "postgresql" else "t.*"

    def window(order: str, limit: int, offset: int) -> list[str]:
        inner = f"SELECT * FROM {name} ORDER BY {order} LIMIT {limit} OFFSET {offset}"  # noqa: S608 -- quoted catalogue names, integer bounds
        fetched = connection.execute(
            f"SELECT {as_text} FROM ({inner}) AS t ORDER BY {ascending}"  # noqa: S608 -- as above
        ).fetchall()
        return [
            str(row[0]) if database.vendor == "postgresql" else repr(tuple(row)) for row in fetched
        ]

    plain = ", ".join(quote(c) for c in key)
    if rows <= 3 * sample:
        sampled = window(plain, max(rows, 1), 0)
    else:
        sampled = (
            window(plain, sample, 0)
            + window(plain, sample, (rows - sample) // 2)
            + window(descending, sample, 0)
        )
    digest = hashlib.sha256()
    for line in sampled:
        digest.update(line.encode())
        digest.update(b"\n")
    return {
        "rows": rows,
        "per_school": per_school,
        "sample_rows": len(sampled),
        "sample_sha256": digest.hexdigest(),
    }


def database_state(
    database: Database, connection: Connection, *, sample: int = SAMPLE_ROWS
) -> dict[str, TableState]:
    """Every table's state, read through ``connection``. For a state that matches a dump,
    call it inside the transaction whose snapshot the dump used."""
    return {
        table: table_state(database, connection, table, sample=sample)
        for table in database.table_names(connection)
    }


def compare(expected: dict[str, TableState], actual: dict[str, TableState]) -> list[str]:
    """Every difference between the backup's tables and the restored ones, as sentences;
    an empty list means they match."""
    problems: list[str] = []
    for table in sorted(set(expected) - set(actual)):
        problems.append(f"{table}: missing after the restore")
    for table in sorted(set(actual) - set(expected)):
        problems.append(f"{table}: not in the backup")
    for table in sorted(set(expected) & set(actual)):
        want, got = expected[table], actual[table]
        if want["rows"] != got["rows"]:
            problems.append(f"{table}: {got['rows']} rows, the backup had {want['rows']}")
        if want["per_school"] != got["per_school"]:
            schools = sorted(
                s
                for s in set(want["per_school"]) | set(got["per_school"])
                if want["per_school"].get(s) != got["per_school"].get(s)
            )
            problems.append(f"{table}: row counts differ for school_id {', '.join(schools)}")
        if want["sample_sha256"] != got["sample_sha256"]:
            problems.append(f"{table}: the checksum of the sampled rows differs")
    return problems
