"""Retention (security REG-02, GDPR-04): the record of what the retention job removed, and the
amendment history made deletable once it is six years old, by the same rule as the marks.

``registers_markchange`` stays append-only (0002): UPDATE is always refused, and DELETE only
for a row whose session date and whose amendment (``changed_at``, when it was entered) are both
at least six years old; a younger row is refused whoever asks. The runtime role has no DELETE
on the table (``db_runtime_role``), so on PostgreSQL the retention job goes through
``registers_markchange_remove(mark_ids)``, a SECURITY DEFINER function run as the owner: it
can remove nothing the trigger refuses, so the trigger, not a grant, is the guard.

The marks' own DELETE rule (0003) now also waits for six years from ``recorded_at`` (the date
the entry was made, regulations §3.5), and on SQLite the six years are counted forward from the
entry (``date(d, '+6 years') > date('now')``): counting back from today on 29 February gives
1 March six years earlier in SQLite, which let an entry of that day go one day early.
"""

from __future__ import annotations

import django.db.models.deletion
from django.db import migrations, models

from schools.db_triggers import trigger_sql

RETENTION = "6 years"  # regulations: every register entry kept at least 6 years (REG-02)

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION registers_markchange_refuse() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.date <= CURRENT_DATE - INTERVAL '{RETENTION}'
     AND OLD.changed_at <= now() - INTERVAL '{RETENTION}' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'registers_markchange is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION registers_markchange_remove(mark_ids bigint[]) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  removed integer;
BEGIN
  DELETE FROM registers_markchange WHERE mark_id = ANY(mark_ids);
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed;
END;
$$;
CREATE OR REPLACE FUNCTION registers_attendancemark_refuse_delete() RETURNS trigger AS $$
BEGIN
  IF OLD.date > (CURRENT_DATE - INTERVAL '{RETENTION}')
     OR OLD.recorded_at > now() - INTERVAL '{RETENTION}' THEN
    RAISE EXCEPTION 'a register entry is kept for {RETENTION}: DELETE of the mark for % refused',
      OLD.date;
  END IF;
  RETURN OLD;
END;
$$ LANGUAGE plpgsql;
"""
POSTGRES_BACKWARD = f"""
DROP FUNCTION IF EXISTS registers_markchange_remove(bigint[]);
CREATE OR REPLACE FUNCTION registers_markchange_refuse() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'registers_markchange is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION registers_attendancemark_refuse_delete() RETURNS trigger AS $$
BEGIN
  IF OLD.date > (CURRENT_DATE - INTERVAL '{RETENTION}') THEN
    RAISE EXCEPTION 'a register entry is kept for {RETENTION}: DELETE of the mark for % refused',
      OLD.date;
  END IF;
  RETURN OLD;
END;
$$ LANGUAGE plpgsql;
"""
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS registers_markchange_no_delete;",
    f"""CREATE TRIGGER registers_markchange_no_delete BEFORE DELETE ON registers_markchange
       WHEN date(OLD.date, '+{RETENTION}') > date('now')
         OR julianday(OLD.changed_at, '+{RETENTION}') > julianday('now')
       BEGIN SELECT RAISE(ABORT, 'registers_markchange is append-only: DELETE refused'); END;""",
    "DROP TRIGGER IF EXISTS registers_attendancemark_kept;",
    f"""CREATE TRIGGER registers_attendancemark_kept BEFORE DELETE ON registers_attendancemark
       WHEN date(OLD.date, '+{RETENTION}') > date('now')
         OR julianday(OLD.recorded_at, '+{RETENTION}') > julianday('now')
       BEGIN SELECT RAISE(ABORT, 'a register entry is kept for {RETENTION}: DELETE refused'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS registers_markchange_no_delete;",
    """CREATE TRIGGER registers_markchange_no_delete BEFORE DELETE ON registers_markchange
       BEGIN SELECT RAISE(ABORT, 'registers_markchange is append-only: DELETE refused'); END;""",
    "DROP TRIGGER IF EXISTS registers_attendancemark_kept;",
    f"""CREATE TRIGGER registers_attendancemark_kept BEFORE DELETE ON registers_attendancemark
       WHEN OLD.date > date('now', '-{RETENTION}')
       BEGIN SELECT RAISE(ABORT, 'a register entry is kept for {RETENTION}: DELETE refused'); END;""",
]


TRIGGERS = trigger_sql(
    postgres_forward=POSTGRES_FORWARD,
    postgres_backward=POSTGRES_BACKWARD,
    sqlite_forward=SQLITE_FORWARD,
    sqlite_backward=SQLITE_BACKWARD,
)


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0003_register_integrity"),
        ("schools", "0005_staff_year_groups"),
    ]

    operations = [
        migrations.CreateModel(
            name="RetentionRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("table", models.CharField(max_length=63)),
                ("count", models.PositiveIntegerField()),
                ("first_date", models.DateField()),
                ("last_date", models.DateField()),
                ("rule", models.CharField(max_length=200)),
                ("applied_at", models.DateTimeField()),
                (
                    "school",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="schools.school",
                    ),
                ),
            ],
            options={
                "ordering": ["applied_at", "pk"],
            },
        ),
        TRIGGERS,
    ]
