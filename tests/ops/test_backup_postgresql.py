"""A pg_dump/pg_restore round trip on two scratch databases. Runs only when the suite runs on
PostgreSQL (DATABASE_URL), as a role that may CREATE DATABASE (postgres in CI)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Generator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from psycopg.conninfo import make_conninfo

from ops.backup import backup_create
from ops.database import Database, OpsError
from ops.restore import restore_apply, restore_verify

pytestmark = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs DATABASE_URL pointing at PostgreSQL",
)

SCHEMA = """
CREATE TABLE schools_school (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE registers_attendancemark (
    id bigserial PRIMARY KEY,
    school_id bigint NOT NULL REFERENCES schools_school (id),
    code varchar(3) NOT NULL,
    recorded_at timestamptz NOT NULL,
    minutes_late smallint,
    snapshot jsonb,
    ratio numeric(6, 3),
    pdf bytea
);
CREATE FUNCTION refuse() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'append-only'; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON schools_school
    FOR EACH ROW EXECUTE FUNCTION refuse();
INSERT INTO schools_school VALUES (1, 'Kingsmead'), (2, 'Ysgol Bro Derwen');
INSERT INTO registers_attendancemark (school_id, code, recorded_at, minutes_late, snapshot, ratio, pdf)
SELECT 1 + n % 2, CASE WHEN n % 7 = 0 THEN 'L' ELSE '/' END,
       timestamptz '2026-09-01 08:40+01' + n * interval '1 minute',
       CASE WHEN n % 7 = 0 THEN 12 END, jsonb_build_object('n', n, 'name', 'Ffion'),
       n / 7.0, decode(md5(n::text), 'hex')
FROM generate_series(1, 500) AS n;
"""


def admin(database: Database, sql: str) -> None:
    """Run ``sql`` on the server's maintenance database, outside a transaction."""
    params = {
        "host": database.host,
        "port": database.port,
        "user": database.user,
        "password": database.password,
    }
    connection = psycopg.connect(
        make_conninfo(dbname="postgres", **{k: v for k, v in params.items() if v}), autocommit=True
    )
    connection.execute(sql)
    connection.close()


@pytest.fixture
def scratch() -> Generator[tuple[Database, Database], None, None]:
    server = Database.from_django()
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
    source = server.with_name(f"attendance_ops_src_{suffix}")
    target = server.with_name(f"attendance_ops_dst_{suffix}")
    admin(server, f'CREATE DATABASE "{source.name}"')
    admin(server, f'CREATE DATABASE "{target.name}"')
    try:
        yield source, target
    finally:
        admin(server, f'DROP DATABASE IF EXISTS "{source.name}" WITH (FORCE)')
        admin(server, f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)')


def test_round_trip_into_a_fresh_database(tmp_path: Path, scratch, media_root):
    source, target = scratch
    connection = source.connect()
    connection.execute(SCHEMA)
    connection.commit()
    connection.close()

    manifest = backup_create(database=source, media_root=media_root, target=tmp_path / "b")
    assert manifest["engine"] == "postgresql"
    assert manifest["pg_dump_version"].startswith("pg_dump (PostgreSQL)")
    assert manifest["tables"]["registers_attendancemark"]["per_school"] == {"1": 250, "2": 250}

    result = restore_apply(backup=tmp_path / "b", database=target, media_root=tmp_path / "m")
    assert result["problems"] == []
    assert (result["tables"], result["rows"], result["media_files"]) == (2, 502, 3)

    # The trigger came back too.
    connection = target.connect()
    with pytest.raises(psycopg.errors.RaiseException):
        connection.execute("DELETE FROM schools_school WHERE id = 2")
    connection.rollback()
    connection.execute("UPDATE registers_attendancemark SET ratio = ratio + 0.001 WHERE id = 500")
    connection.commit()
    connection.close()

    problems = restore_verify(backup=tmp_path / "b", database=target, media_root=tmp_path / "m")[
        "problems"
    ]
    assert problems == ["registers_attendancemark: the checksum of the sampled rows differs"]

    with pytest.raises(OpsError, match="already has tables"):
        restore_apply(backup=tmp_path / "b", database=target, media_root=tmp_path / "m2")
    result = restore_apply(
        backup=tmp_path / "b", database=target, media_root=tmp_path / "m", force=True
    )
    assert result["problems"] == []


def test_a_missing_database_is_refused_clearly(tmp_path: Path, scratch, media_root):
    source, _ = scratch
    backup_create(database=source, media_root=media_root, target=tmp_path / "b")

    with pytest.raises(OpsError, match="create it first"):
        restore_apply(
            backup=tmp_path / "b",
            database=source.with_name("attendance_ops_does_not_exist"),
            media_root=tmp_path / "m",
        )
