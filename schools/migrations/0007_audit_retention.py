"""The audit trail's retention (security GDPR-04, LOG-02): the trail stays append-only, but a
row at least a year old may now be deleted, so the retention job (``schools.retention``,
``RETENTION_AUDIT_DAYS``, two years by default) can remove old events. ``UPDATE`` and
``TRUNCATE`` stay refused, and no role can delete an event younger than a year, so a bug or a
stolen connection cannot shorten the trail below that.

The runtime role has no ``DELETE`` on the table (``db_runtime_role``): on PostgreSQL the job
calls ``schools_auditevent_remove(before)``, a SECURITY DEFINER function run as the owner,
which the same trigger limits (mirroring ``registers/0004_retention``). The SQLite trigger is
replaced by one with the same age test; the test flush replays this migration
(tests/conftest.py).
"""

from __future__ import annotations

from django.db import migrations, models

from schools.db_triggers import trigger_sql

FLOOR = "1 year"  # schools.retention.AUDIT_RETENTION_FLOOR_DAYS

POSTGRES_FORWARD = f"""
CREATE OR REPLACE FUNCTION schools_auditevent_refuse() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' AND OLD.at <= now() - INTERVAL '{FLOOR}' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'schools_auditevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE OR REPLACE FUNCTION schools_auditevent_remove(before timestamptz) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
  removed integer;
BEGIN
  DELETE FROM schools_auditevent WHERE at < before;
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed;
END;
$$;
"""
POSTGRES_BACKWARD = """
DROP FUNCTION IF EXISTS schools_auditevent_remove(timestamptz);
CREATE OR REPLACE FUNCTION schools_auditevent_refuse() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'schools_auditevent is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql;
"""
SQLITE_FORWARD = [
    "DROP TRIGGER IF EXISTS schools_auditevent_no_delete;",
    f"""CREATE TRIGGER schools_auditevent_no_delete BEFORE DELETE ON schools_auditevent
       WHEN julianday(OLD.at, '+{FLOOR}') > julianday('now')
       BEGIN SELECT RAISE(ABORT, 'schools_auditevent is append-only: DELETE refused'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS schools_auditevent_no_delete;",
    """CREATE TRIGGER schools_auditevent_no_delete BEFORE DELETE ON schools_auditevent
       BEGIN SELECT RAISE(ABORT, 'schools_auditevent is append-only: DELETE refused'); END;""",
]


TRIGGERS = trigger_sql(
    postgres_forward=POSTGRES_FORWARD,
    postgres_backward=POSTGRES_BACKWARD,
    sqlite_forward=SQLITE_FORWARD,
    sqlite_backward=SQLITE_BACKWARD,
)


class Migration(migrations.Migration):
    dependencies = [
        ("schools", "0006_session_generation"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("view", "Viewed"),
                    ("export", "Downloaded or exported"),
                    ("denied", "Refused (not found or not allowed)"),
                    ("login", "Signed in"),
                    ("login_failed", "Sign-in failed"),
                    ("logout", "Signed out"),
                    ("lockout", "Locked out"),
                    ("retention", "Removed by the retention rules"),
                ],
                max_length=16,
            ),
        ),
        TRIGGERS,
    ]
