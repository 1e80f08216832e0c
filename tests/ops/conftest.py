from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ops.database import Database

SCHEMA = """
CREATE TABLE schools_school (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE registers_attendancemark (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES schools_school (id),
    code TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    minutes_late INTEGER
);
CREATE TABLE django_session (session_key TEXT PRIMARY KEY, session_data TEXT NOT NULL);
CREATE TABLE no_key (a TEXT, b INTEGER);
"""


def sqlite_fill(path: Path, *, marks: int = 400) -> Database:
    """A small database shaped like ours: a tenant table, a big per-school table, a table
    keyed by text and one without a primary key."""
    connection = sqlite3.connect(path)
    connection.executescript(SCHEMA)
    connection.executemany(
        "INSERT INTO schools_school VALUES (?, ?)", [(1, "Kingsmead"), (2, "Oakfield")]
    )
    connection.executemany(
        "INSERT INTO registers_attendancemark VALUES (?, ?, ?, ?, ?)",
        [
            (
                pk,
                1 if pk % 3 else 2,
                "/" if pk % 7 else "L",
                f"2026-09-{pk % 28 + 1:02d}T08:4{pk % 10}:00Z",
                None if pk % 7 else 12,
            )
            for pk in range(1, marks + 1)
        ],
    )
    connection.executemany(
        "INSERT INTO django_session VALUES (?, ?)",
        [(f"key{n:03d}", f"data {n}") for n in range(20)],
    )
    connection.executemany("INSERT INTO no_key VALUES (?, ?)", [("x", 1), ("y", 2), ("x", 1)])
    connection.commit()
    connection.close()
    return Database("sqlite", str(path))


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Database:
    return sqlite_fill(tmp_path / "live.sqlite3")


@pytest.fixture
def media_root(tmp_path: Path) -> Path:
    root = tmp_path / "media"
    (root / "letters" / "2026").mkdir(parents=True)
    (root / "letters" / "2026" / "letter-1.pdf").write_bytes(b"%PDF-1.7 one" * 100)
    (root / "letters" / "2026" / "letter-2.pdf").write_bytes(b"%PDF-1.7 two" * 50)
    (root / "imports.csv").write_text("upn,surname\n")
    return root
