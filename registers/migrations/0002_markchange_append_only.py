"""MarkChange is append-only in the database itself (security REG-01): UPDATE and DELETE fail,
whatever code path tries them. Triggers exist in PostgreSQL and SQLite alike."""

from __future__ import annotations

from django.db import migrations

POSTGRES_FORWARD = """
CREATE OR REPLACE FUNCTION registers_markchange_refuse() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'registers_markchange is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registers_markchange_append_only
  BEFORE UPDATE OR DELETE ON registers_markchange
  FOR EACH ROW EXECUTE FUNCTION registers_markchange_refuse();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS registers_markchange_append_only ON registers_markchange;
DROP FUNCTION IF EXISTS registers_markchange_refuse();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER registers_markchange_no_update BEFORE UPDATE ON registers_markchange
       BEGIN SELECT RAISE(ABORT, 'registers_markchange is append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER registers_markchange_no_delete BEFORE DELETE ON registers_markchange
       BEGIN SELECT RAISE(ABORT, 'registers_markchange is append-only: DELETE refused'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS registers_markchange_no_update;",
    "DROP TRIGGER IF EXISTS registers_markchange_no_delete;",
]


def forward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD, params=None)  # keep the % of RAISE literal
    elif vendor == "sqlite":
        for statement in SQLITE_FORWARD:
            schema_editor.execute(statement)


def backward(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("registers", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
