from __future__ import annotations

import sqlite3

import pytest

from ops.database import Database
from ops.manifest import compare, database_state


def state(database: Database, *, sample: int = 10):
    connection = database.connect()
    try:
        return database_state(database, connection, sample=sample)
    finally:
        connection.close()


def execute(database: Database, sql: str) -> None:
    connection = sqlite3.connect(database.name)
    connection.execute(sql)
    connection.commit()
    connection.close()


def test_counts_every_table_and_the_rows_of_each_school(sqlite_database):
    tables = state(sqlite_database)

    assert sorted(tables) == [
        "django_session",
        "no_key",
        "registers_attendancemark",
        "schools_school",
    ]
    assert tables["registers_attendancemark"]["rows"] == 400
    assert tables["registers_attendancemark"]["per_school"] == {"1": 267, "2": 133}
    assert tables["schools_school"]["per_school"] == {}
    # first, middle and last windows of 10 on the big table; every row of the small ones
    assert tables["registers_attendancemark"]["sample_rows"] == 30
    assert tables["django_session"]["sample_rows"] == 20
    assert tables["no_key"]["sample_rows"] == 3


def test_the_same_rows_give_the_same_state(sqlite_database):
    assert compare(state(sqlite_database), state(sqlite_database)) == []


@pytest.mark.parametrize("pk", [1, 196, 400], ids=["first", "middle", "last"])
def test_a_changed_row_in_the_sample_is_a_mismatch(sqlite_database, pk):
    before = state(sqlite_database)

    execute(sqlite_database, f"UPDATE registers_attendancemark SET code = 'N' WHERE id = {pk:d}")  # noqa: S608 -- a test's own integer

    assert compare(before, state(sqlite_database)) == [
        "registers_attendancemark: the checksum of the sampled rows differs"
    ]


def test_a_changed_text_keyed_row_is_a_mismatch(sqlite_database):
    before = state(sqlite_database)

    execute(
        sqlite_database, "UPDATE django_session SET session_data = 'x' WHERE session_key = 'key007'"
    )

    assert compare(before, state(sqlite_database)) == [
        "django_session: the checksum of the sampled rows differs"
    ]


def test_a_changed_row_outside_the_sample_goes_unnoticed(sqlite_database):
    # The limit of a sample, written down: counts catch lost or added rows, the checksum
    # catches changes only in the rows it reads.
    before = state(sqlite_database)

    execute(sqlite_database, "UPDATE registers_attendancemark SET code = 'N' WHERE id = 100")

    assert compare(before, state(sqlite_database)) == []


def test_a_lost_row_changes_the_counts_of_the_table_and_of_its_school(sqlite_database):
    before = state(sqlite_database)

    execute(sqlite_database, "DELETE FROM registers_attendancemark WHERE id = 100")

    assert compare(before, state(sqlite_database)) == [
        "registers_attendancemark: 399 rows, the backup had 400",
        "registers_attendancemark: row counts differ for school_id 1",
    ]


def test_a_row_moved_to_another_school_changes_the_per_school_counts(sqlite_database):
    before = state(sqlite_database)

    execute(sqlite_database, "UPDATE registers_attendancemark SET school_id = 2 WHERE id = 100")

    assert compare(before, state(sqlite_database)) == [
        "registers_attendancemark: row counts differ for school_id 1, 2"
    ]


def test_missing_and_unexpected_tables_are_named(sqlite_database):
    before = state(sqlite_database)

    execute(sqlite_database, "DROP TABLE no_key")
    execute(sqlite_database, "CREATE TABLE stray (id INTEGER PRIMARY KEY)")

    assert compare(before, state(sqlite_database)) == [
        "no_key: missing after the restore",
        "stray: not in the backup",
    ]
