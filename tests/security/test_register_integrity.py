"""The register survives what the application code never does (security REG-01, REG-02,
SUP-03): TRUNCATE, deleting a mark younger than six years, and a runtime role that tries to
change the tables themselves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from registers.models import AttendanceMark, MarkChange
from registers.services import marks as services
from schools.scoping import school_scope
from tests.registers.conftest import MONDAY, build_register_world

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="roles and TRUNCATE are PostgreSQL's"
)


def mark_on(rw, day: dt.date, recorded_at: dt.datetime | None = None) -> AttendanceMark:
    return AttendanceMark.objects.create(
        school=rw.school,
        pupil=rw.pupils[0],
        date=day,
        session="AM",
        code="/",
        scheme="england",
        source="register",
        recorded_at=recorded_at or timezone.now(),
    )


def test_a_mark_younger_than_six_years_cannot_be_deleted_even_unamended():
    rw = build_register_world(size=1)
    today = timezone.localdate()
    with scopes_disabled():
        recent = mark_on(rw, today - dt.timedelta(days=6 * 365))
        entered = dt.datetime(today.year - 7, 1, 1, tzinfo=dt.UTC)
        old = mark_on(rw, entered.date(), recorded_at=entered)
        with pytest.raises(DatabaseError), transaction.atomic():
            AttendanceMark.objects.filter(pk=recent.pk).delete()
        AttendanceMark.objects.filter(pk=old.pk).delete()
        assert list(AttendanceMark.objects.values_list("pk", flat=True)) == [recent.pk]


@pytest.fixture
def amended():
    rw = build_register_world(size=1)
    with school_scope(rw.school):
        for code, reason in (("O", "No contact"), ("I", "Doctor's note")):
            services.mark_amend(
                school=rw.school,
                pupil=rw.pupils[0],
                date=MONDAY,
                session="AM",
                code=code,
                minutes_late=None,
                reason=reason,
                membership=rw.officer,
            )
    return rw


@pytest.fixture
def as_runtime_role(amended) -> str:
    """The role ``db_runtime_role`` sets up, assumed for the rest of the test's transaction
    (roles are transactional in PostgreSQL: the test's rollback removes it)."""
    role = "attendance_runtime_test"
    call_command("db_runtime_role", role=role)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")
    return role


def refused(statement: str) -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    except DatabaseError:
        return True
    return False


@postgresql_only
def test_the_runtime_role_reads_and_writes_rows_but_cannot_touch_the_tables(as_runtime_role):
    with scopes_disabled():
        assert MarkChange.objects.count() == 1
        AttendanceMark.objects.update(code="M")  # rows: yes (the app's own path)
    assert refused("TRUNCATE registers_markchange")
    assert refused("TRUNCATE registers_attendancemark CASCADE")
    assert refused("UPDATE registers_markchange SET reason = 'tampered'")
    assert refused("DELETE FROM registers_markchange")
    assert refused("DROP TRIGGER registers_markchange_append_only ON registers_markchange")
    assert refused("ALTER TABLE registers_markchange DISABLE TRIGGER ALL")
    assert refused("ALTER TABLE registers_attendancemark ADD COLUMN x int")
    assert refused("CREATE TABLE scratch (x int)")
    with scopes_disabled():
        assert MarkChange.objects.get().reason == "Doctor's note"


@postgresql_only
def test_truncate_is_refused_by_the_trigger_even_when_granted(amended):
    role = "attendance_runtime_test"
    call_command("db_runtime_role", role=role)
    with connection.cursor() as cursor:
        cursor.execute(
            f"GRANT TRUNCATE ON registers_markchange, registers_attendancemark TO {role}"
        )
        cursor.execute(f"SET LOCAL ROLE {role}")
    assert refused("TRUNCATE registers_markchange")
    assert refused("TRUNCATE registers_attendancemark CASCADE")
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
    with scopes_disabled():
        assert MarkChange.objects.count() == 1


def test_the_command_refuses_sqlite_and_the_owner_role():
    from django.core.management.base import CommandError

    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("db_runtime_role", role="anyone")
    else:
        with pytest.raises(CommandError, match="must not be the role that owns"):
            call_command("db_runtime_role", role=connection.settings_dict["USER"])
