"""Q-04 and issue 13 item 8: a real Celery worker process is SIGKILLed (the whole worker, its
pool child too) in the middle of a school's full recompute; a new worker is started and the
recovery path (the fan-out's abandoned-run rule) sends the school again. Nothing is lost
(every enrolment has its stored result) and nothing is doubled (one ledger event per
crossing, one finished run; a second run writes nothing new).

Runs only on PostgreSQL with REDIS_URL set (CI sets both): the worker is a separate process, so
it sees only committed rows (``transactional_db``) in the test database, and its broker is
Redis db 9 on a queue of its own (``tests/chaos/workers.py``)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_scopes import scopes_disabled

from interventions import tasks
from interventions.models import AttendanceEvent, EnrolmentAttendance, RecomputeRun, RunKind
from registers.codes import CodeScheme
from registers.models import AttendanceMark, MarkSource
from schools import models
from schools.calendar import academic_year_start
from tests import factories as f
from tests.chaos import workers
from tests.chaos.workers import Worker, wait_for
from tests.registers.conftest import RegisterWorld, build_register_world

pytestmark = workers.needs_postgresql_and_redis


def send(queue: str, school_id: int, as_of: dt.date) -> None:
    workers.send(queue, tasks.attendance_recompute_school_task.name, (school_id, as_of.isoformat()))


def evening_zone(now: dt.datetime) -> str:
    """A fixed-offset zone where it is now 20:00-21:59, after any school day."""
    hours = (20 - now.hour + 12) % 24 - 12  # the UTC offset, -12..+11
    return f"Etc/GMT{-hours:+d}" if hours else "UTC"


@pytest.fixture
def world(transactional_db) -> RegisterWorld:
    now = timezone.now()
    zone = evening_zone(now)
    today = now.astimezone(ZoneInfo(zone)).date()
    rw = build_register_world(size=6, timezone=zone)
    with scopes_disabled():
        models.School.objects.exclude(pk=rw.school.pk).update(is_active=False)
        year = f.AcademicYearFactory(school=rw.school, start_date=academic_year_start(today))
        f.TermFactory(
            academic_year=year,
            start_date=today - dt.timedelta(days=35),
            end_date=today + dt.timedelta(days=30),
        )
        days = [
            today - dt.timedelta(days=n)
            for n in range(1, 29)
            if (today - dt.timedelta(days=n)).weekday() < 5
        ]
        AttendanceMark.objects.bulk_create(
            AttendanceMark(
                school=rw.school,
                pupil=pupil,
                date=day,
                session=session,
                # Two pupils absent without reason throughout: crossings, so ledger events.
                code="O" if index < 2 else ("/" if session == "AM" else "\\"),
                scheme=CodeScheme.ENG_2024,
                source=MarkSource.IMPORT,
                recorded_at=now,
            )
            for index, pupil in enumerate(rw.pupils)
            for day in days
            for session in ("AM", "PM")
        )
    return rw


def snapshot(school: models.School) -> tuple[int, int, list[Any]]:
    with scopes_disabled():
        results = EnrolmentAttendance.objects.filter(school=school).count()
        events = list(
            AttendanceEvent.objects.filter(school=school)
            .order_by("pupil_id", "kind", "key", "occurred_on")
            .values_list("pupil_id", "kind", "key", "occurred_on")
        )
        return results, len(events), events


def test_a_worker_killed_mid_run_loses_and_doubles_nothing(world, tmp_path):
    school = world.school
    queue = f"chaos-{uuid.uuid4().hex}"
    pause = tmp_path / "mid-run"
    today = school.local_time().date()
    assert tasks.school_day_over(school, school.local_time())

    first = Worker(queue, {"CHAOS_PAUSE": str(pause)})
    try:
        send(queue, school.pk, today)
        wait_for(pause.exists, 60)  # results written inside the run's transaction
    finally:
        first.kill()
    with scopes_disabled():
        dead = RecomputeRun.objects.get(school=school, kind=RunKind.FULL)
        assert dead.finished_at is None
    # The killed transaction left nothing behind.
    assert snapshot(school)[:2] == (0, 0)

    # Minutes later, the fan-out finds the run abandoned and sends the school again.
    later = timezone.now() + tasks.RUN_PATIENCE + dt.timedelta(minutes=1)
    with scopes_disabled():
        assert [s.pk for s, _ in tasks.schools_due_tonight(later)] == [school.pk]
        dead.refresh_from_db()
        assert dead.error == tasks.ABANDONED
    second = Worker(queue)
    try:
        send(queue, school.pk, today)

        def finished() -> bool:
            with scopes_disabled():
                return RecomputeRun.objects.filter(
                    school=school, kind=RunKind.FULL, finished_at__isnull=False
                ).exists()

        wait_for(finished, 60)
        with scopes_disabled():
            done = RecomputeRun.objects.get(school=school, finished_at__isnull=False)
            assert done.error == ""
            enrolments = models.Enrolment.objects.filter(school=school).count()
        results, events, rows = snapshot(school)
        assert results == enrolments == len(world.pupils)
        assert events > 0
        assert len(set(rows)) == events  # no crossing twice in the ledger

        # A redelivery of the same run (acks_late) writes nothing new.
        send(queue, school.pk, today)

        def finished_twice() -> bool:
            with scopes_disabled():
                return RecomputeRun.objects.filter(finished_at__isnull=False).count() == 2

        wait_for(finished_twice, 60)
        assert snapshot(school) == (results, events, rows)
    finally:
        second.kill()
