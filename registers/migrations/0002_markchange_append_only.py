"""MarkChange is append-only in the database itself (security REG-01): UPDATE and DELETE fail,
whatever code path tries them. Triggers exist in PostgreSQL and SQLite alike."""

from __future__ import annotations

from django.db import migrations

from schools.db_triggers import trigger_sql

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


TRIGGERS = trigger_sql(
    postgres_forward=POSTGRES_FORWARD,
    postgres_backward=POSTGRES_BACKWARD,
    sqlite_forward=SQLITE_FORWARD,
    sqlite_backward=SQLITE_BACKWARD,
)


class Migration(migrations.Migration):
    dependencies = [("registers", "0001_initial")]
    operations = [TRIGGERS]
