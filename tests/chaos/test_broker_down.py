"""Security Q-06: with Redis unreachable a register save still succeeds (marking is the
statutory action); the recompute it would have sent is logged as not sent, and the evening's
full run catches the pupil up once the broker is back. The broker is a closed local port."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from attendance_app.celery import app
from interventions import tasks
from interventions.models import EnrolmentAttendance
from interventions.recompute import school_recompute
from registers.models import AttendanceMark, MarkSource
from registers.services.marks import Actor, MarkWrite, marks_write
from schools.scoping import school_scope
from tests.interventions.test_recompute import D, put_marks, school_days
from tests.registers.conftest import build_register_world

CLOSED_PORT = "redis://127.0.0.1:1/9"


@pytest.fixture
def broker_down(monkeypatch):
    """The app publishes for real (not eagerly) to a port where nothing listens."""
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setitem(app.conf, "broker_url", CLOSED_PORT)
    # No connection or producer made before the switch (to the memory broker) is reused.
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)


def test_a_register_save_succeeds_with_the_broker_down_and_the_night_catches_up(
    db, broker_down, monkeypatch, django_capture_on_commit_callbacks
):
    logged: list[str] = []
    monkeypatch.setattr(tasks.logger, "exception", lambda msg, *args: logged.append(msg % args))
    world = build_register_world(size=2)
    pupil = world.pupils[0]
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2024, 10, 7, 9, tzinfo=dt.UTC))
    with school_scope(world.school):
        put_marks(world, pupil, school_days(D(2024, 9, 2), D(2024, 10, 4)))
        # Stored results as of Friday, computed while the broker was still there.
        school_recompute(school=world.school, as_of=D(2024, 10, 4))
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            marks_write(
                school=world.school,
                writes=[MarkWrite(pupil, D(2024, 10, 7), "AM", "O")],
                actor=Actor.staff(world.tutor),
                source=MarkSource.REGISTER,
                reason="",
            )
        assert len(callbacks) == 1  # the send was attempted, and failed without raising
        assert logged == [
            f"Recompute not sent, the broker is unavailable (school {world.school.pk})"
        ]
        # The mark is saved; the stored result is behind it.
        assert AttendanceMark.objects.get(pupil=pupil, date=D(2024, 10, 7), session="AM").code == (
            "O"
        )
        row = EnrolmentAttendance.objects.get(pupil=pupil)
        assert row.as_of == D(2024, 10, 4)
        assert row.code_counts.get("O", 0) == 0

    # The broker is back: the evening's fan-out sends the school and its full run catches up.
    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2024, 10, 7, 17, 30, tzinfo=dt.UTC))
    assert world.school.pk in tasks.attendance_nightly_fanout_task.apply().get()
    with school_scope(world.school):
        row = EnrolmentAttendance.objects.get(pupil=pupil)
        assert row.as_of == D(2024, 10, 7)
        assert row.code_counts["O"] == 1
