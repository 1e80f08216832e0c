"""The register survives what the row triggers of 0002 cannot see (security REG-01, REG-02).

- ``TRUNCATE`` of the amendment history or of the marks is refused by a statement-level
  trigger unless the current role owns the table. In production the app runs as a separate
  runtime role that owns nothing (``python manage.py db_runtime_role``), so neither a stray
  ``GRANT TRUNCATE`` nor an injected statement can empty the register; the owner (the
  migration role) could drop the trigger anyway, so refusing it gains nothing and would break
  the test runner's flush.
- A mark cannot be deleted while it is younger than the six years the register must be kept
  (reg 7): a mark with amendments is already held by their foreign key; this also covers a
  mark that was never amended, which would otherwise vanish without a trace.
"""

from __future__ import annotations

from django.db import migrations

from schools.db_triggers import trigger_sql

RETENTION = "6 years"  # regulations: every register entry kept at least 6 years (REG-02)

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION registers_refuse_truncate() RETURNS trigger AS $$
BEGIN
  IF pg_has_role(current_user,
                 (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION '% is part of the register: TRUNCATE refused', TG_TABLE_NAME;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registers_markchange_no_truncate
  BEFORE TRUNCATE ON registers_markchange
  FOR EACH STATEMENT EXECUTE FUNCTION registers_refuse_truncate();
CREATE TRIGGER registers_attendancemark_no_truncate
  BEFORE TRUNCATE ON registers_attendancemark
  FOR EACH STATEMENT EXECUTE FUNCTION registers_refuse_truncate();
CREATE OR REPLACE FUNCTION registers_attendancemark_refuse_delete() RETURNS trigger AS $$
BEGIN
  IF OLD.date > (CURRENT_DATE - INTERVAL '{RETENTION}') THEN
    RAISE EXCEPTION 'a register entry is kept for {RETENTION}: DELETE of the mark for % refused',
      OLD.date;
  END IF;
  RETURN OLD;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER registers_attendancemark_kept
  BEFORE DELETE ON registers_attendancemark
  FOR EACH ROW EXECUTE FUNCTION registers_attendancemark_refuse_delete();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS registers_attendancemark_kept ON registers_attendancemark;
DROP FUNCTION IF EXISTS registers_attendancemark_refuse_delete();
DROP TRIGGER IF EXISTS registers_attendancemark_no_truncate ON registers_attendancemark;
DROP TRIGGER IF EXISTS registers_markchange_no_truncate ON registers_markchange;
DROP FUNCTION IF EXISTS registers_refuse_truncate();
"""
SQLITE_FORWARD = [
    f"""CREATE TRIGGER registers_attendancemark_kept BEFORE DELETE ON registers_attendancemark
       WHEN OLD.date > date('now', '-{RETENTION}')
       BEGIN SELECT RAISE(ABORT, 'a register entry is kept for {RETENTION}: DELETE refused'); END;""",
]
SQLITE_BACKWARD = ["DROP TRIGGER IF EXISTS registers_attendancemark_kept;"]


TRIGGERS = trigger_sql(
    postgres_forward=POSTGRES_FORWARD,
    postgres_backward=POSTGRES_BACKWARD,
    sqlite_forward=SQLITE_FORWARD,
    sqlite_backward=SQLITE_BACKWARD,
)


class Migration(migrations.Migration):
    dependencies = [("registers", "0002_markchange_append_only")]
    operations = [TRIGGERS]
