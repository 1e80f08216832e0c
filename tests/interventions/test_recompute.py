"""The engine's write path: stored results, the event ledger, runs, tasks and the command.

The school is build_register_world's CAL-A (autumn term from Mon 2 Sep 2024, half-term
28 Oct - 1 Nov; academic year from 1 Aug 2024).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.utils import timezone
from django_scopes import scopes_disabled

from interventions import recompute, tasks
from interventions.engine import EnrolmentState
from interventions.models import (
    AttendanceEvent,
    EnrolmentAttendance,
    RecomputeRun,
    RunKind,
)
from interventions.recompute import STATE_FIELDS, pupils_recompute, school_recompute
from interventions.rules import EventKind
from interventions.selectors import enrolment_results
from registers.codes import CodeScheme
from registers.models import AttendanceMark, MarkSource
from registers.services.marks import Actor, MarkWrite, mark_amend, marks_write
from schools import models
from schools.scoping import school_scope
from tests.registers.conftest import RegisterWorld, build_register_world

pytestmark = pytest.mark.django_db

D = dt.date
MONDAY = D(2024, 9, 9)
RECORDED_AT = dt.datetime(2024, 9, 1, 12, tzinfo=dt.UTC)
PERIOD = (D(2024, 8, 1), D(2025, 7, 31))  # the world's academic year


def school_days(first: dt.date, last: dt.date) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5 and not D(2024, 10, 28) <= day <= D(2024, 11, 1):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def put_marks(
    rw: RegisterWorld, pupil: models.Pupil, days: Iterable[dt.date], code: str = "/"
) -> None:
    AttendanceMark.objects.bulk_create(
        AttendanceMark(
            school=rw.school,
            pupil=pupil,
            date=day,
            session=session,
            code=code if session == "AM" or code != "/" else "\\",
            scheme=CodeScheme.ENG_2024,
            source=MarkSource.IMPORT,
            recorded_at=RECORDED_AT,
        )
        for day in days
        for session in ("AM", "PM")
    )


def stored(rw: RegisterWorld) -> dict[int, EnrolmentState]:
    return {
        row["enrolment_id"]: EnrolmentState(**row)
        for row in EnrolmentAttendance.objects.filter(school=rw.school).values(*STATE_FIELDS)
    }


def events(rw: RegisterWorld) -> set[tuple[int, str, str, dt.date]]:
    return set(
        AttendanceEvent.objects.filter(school=rw.school).values_list(
            "pupil_id", "kind", "key", "occurred_on"
        )
    )


@pytest.fixture
def rw() -> RegisterWorld:
    """Three pupils: present throughout; 10 school days of U from 16 Sep (a 10-day return
    and the penalty-notice threshold); an N never resolved (overdue)."""
    world = build_register_world(size=3)
    with school_scope(world.school):
        steady, truant, unexplained = world.pupils
        put_marks(world, steady, school_days(D(2024, 9, 2), D(2024, 10, 4)))
        put_marks(world, truant, school_days(D(2024, 9, 2), D(2024, 9, 13)))
        put_marks(world, truant, school_days(D(2024, 9, 16), D(2024, 9, 27)), code="U")
        put_marks(world, truant, school_days(D(2024, 9, 30), D(2024, 10, 4)))
        put_marks(world, unexplained, school_days(D(2024, 9, 2), D(2024, 9, 10)))
        put_marks(world, unexplained, [D(2024, 9, 11)], code="N")
        put_marks(world, unexplained, school_days(D(2024, 9, 12), D(2024, 10, 4)))
    return world


def test_a_full_run_stores_what_the_engine_computes_and_writes_each_crossing(rw):
    with school_scope(rw.school):
        run = school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        results = stored(rw)
        expected = enrolment_results(
            school=rw.school, period_start=PERIOD[0], period_end=PERIOD[1], as_of=D(2024, 10, 4)
        )
        assert results == {r.state.enrolment_id: r.state for r in expected}
        _steady, truant, unexplained = rw.pupils
        assert run.kind == RunKind.FULL
        assert run.finished_at
        assert run.error == ""
        assert run.enrolments == 3
        assert run.events == len(events(rw))
        assert {(p, k) for p, k, _, _ in events(rw)} == {
            (truant.pk, EventKind.TEN_DAY_REACHED),
            (truant.pk, EventKind.PN_THRESHOLD_MET),
            (truant.pk, EventKind.PA_STARTED),  # 20 of 50 sessions missed
            (unexplained.pk, EventKind.N_OVERDUE),
        }
        ten_day = AttendanceEvent.objects.get(kind=EventKind.TEN_DAY_REACHED)
        assert (ten_day.key, ten_day.occurred_on) == ("2024-09-16", D(2024, 9, 27))
        met = AttendanceEvent.objects.get(kind=EventKind.PN_THRESHOLD_MET)
        # The 10th U session is Fri 20 Sep PM (two a day from Mon 16 Sep).
        assert (met.occurred_on, met.session, met.provisional) == (D(2024, 9, 20), "PM", False)
        row = EnrolmentAttendance.objects.get(pupil=truant)
        assert row.run_id == run.pk
        assert row.computed_at == run.started_at
        assert row.marks_counted == 50
        assert row.marks_versions == 50  # every mark at its first version


def test_recomputing_twice_changes_nothing(rw):
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        rows = list(EnrolmentAttendance.objects.order_by("pk").values())
        before = events(rw)
        again = school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        assert list(EnrolmentAttendance.objects.order_by("pk").values()) == rows
        assert events(rw) == before
        assert again.events == 0
        assert RecomputeRun.objects.count() == 2


def test_an_event_stands_when_the_window_rolls_past_it_and_flags_end(rw):
    _, truant, _ = rw.pupils
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        # Weeks of full attendance later: the window holds no U, and 20 missed of 210
        # sessions is under 10%, so PA has ended.
        put_marks(rw, truant, school_days(D(2024, 10, 7), D(2024, 12, 20)))
        put_marks(rw, truant, school_days(D(2025, 1, 6), D(2025, 2, 14)))
        school_recompute(school=rw.school, as_of=D(2025, 2, 14))
        row = EnrolmentAttendance.objects.get(pupil=truant)
        assert row.pn_window_count == 0
        assert row.pn_threshold_met_on == D(2024, 9, 20)
        assert not row.persistent_absence
        kinds = [k for p, k, _, _ in events(rw) if p == truant.pk]
        assert kinds.count(EventKind.PN_THRESHOLD_MET) == 1
        assert EventKind.PA_ENDED in kinds


def test_a_band_change_is_an_event(rw):
    _, truant, _ = rw.pupils
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 9, 13))
        school_recompute(school=rw.school, as_of=D(2024, 9, 27))
        change = AttendanceEvent.objects.get(kind=EventKind.BAND_CHANGED, pupil=truant)
        assert change.detail == {
            "from": "Not persistently absent (above 90%)",
            # 20 of 40 sessions missed: exactly 50% is severe absence (§4.1).
            "to": "Severe absence (50% or below)",
        }
        assert change.occurred_on == D(2024, 9, 27)


def test_a_run_killed_half_way_leaves_the_previous_results_and_says_so(rw, monkeypatch):
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 9, 13))
        rows = list(EnrolmentAttendance.objects.order_by("pk").values())
        before = events(rw)

        def killed(*args, **kwargs):
            raise OperationalError("server closed the connection unexpectedly")

        monkeypatch.setattr(recompute, "_events_write", killed)
        with pytest.raises(OperationalError):
            school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        assert list(EnrolmentAttendance.objects.order_by("pk").values()) == rows
        assert events(rw) == before
        failed = RecomputeRun.objects.order_by("-pk").first()
        assert failed is not None
        assert failed.finished_at is not None
        assert "server closed the connection" in failed.error

        monkeypatch.undo()
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        expected = enrolment_results(
            school=rw.school, period_start=PERIOD[0], period_end=PERIOD[1], as_of=D(2024, 10, 4)
        )
        assert stored(rw) == {r.state.enrolment_id: r.state for r in expected}


def test_new_days_are_carried_forward_and_past_changes_recomputed(rw):
    steady, truant, _ = rw.pupils
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        put_marks(rw, steady, [D(2024, 10, 7)], code="G")
        put_marks(rw, truant, [D(2024, 10, 7)], code="U")
        run = pupils_recompute(
            school=rw.school,
            pupil_ids=[steady.pk, truant.pk],
            as_of=D(2024, 10, 7),
            changed_from=D(2024, 10, 7),
        )
        assert run.kind == RunKind.INCREMENTAL
        assert run.enrolments == 2
        carried = stored(rw)
        # A past mark changed: that pupil is computed again from the marks.
        AttendanceMark.objects.filter(pupil=steady, date=D(2024, 9, 2)).update(code="O")
        pupils_recompute(
            school=rw.school,
            pupil_ids=[steady.pk],
            as_of=D(2024, 10, 7),
            changed_from=D(2024, 9, 2),
        )
        full = enrolment_results(
            school=rw.school, period_start=PERIOD[0], period_end=PERIOD[1], as_of=D(2024, 10, 7)
        )
        by_pupil = {r.state.pupil_id: r.state for r in full}
        results = stored(rw)
        assert results[by_pupil[steady.pk].enrolment_id] == by_pupil[steady.pk]
        assert results[by_pupil[truant.pk].enrolment_id] == by_pupil[truant.pk]
        assert carried[by_pupil[truant.pk].enrolment_id] == by_pupil[truant.pk]
        assert by_pupil[steady.pk].code_counts["O"] == 2


def test_a_change_after_the_stored_date_leaves_results_as_they_are(rw):
    steady = rw.pupils[0]
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        rows = list(EnrolmentAttendance.objects.order_by("pk").values())
        put_marks(rw, steady, [D(2024, 10, 7)], code="C")  # leave written in advance
        pupils_recompute(
            school=rw.school,
            pupil_ids=[steady.pk],
            as_of=D(2024, 10, 4),
            changed_from=D(2024, 10, 7),
        )
        assert list(EnrolmentAttendance.objects.order_by("pk").values()) == rows


def test_a_pupil_without_a_stored_result_is_computed(rw):
    steady = rw.pupils[0]
    with school_scope(rw.school):
        pupils_recompute(
            school=rw.school, pupil_ids=[steady.pk], as_of=D(2024, 10, 4), changed_from=None
        )
        assert list(EnrolmentAttendance.objects.values_list("pupil_id", flat=True)) == [steady.pk]


def test_a_mark_write_recomputes_its_pupils_after_commit(
    rw, monkeypatch, django_capture_on_commit_callbacks
):
    steady, truant, _ = rw.pupils
    monkeypatch.setattr(timezone, "now", lambda: dt.datetime(2024, 10, 7, 17, tzinfo=dt.UTC))
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            marks_write(
                school=rw.school,
                writes=[MarkWrite(truant, D(2024, 10, 7), "AM", "O")],
                actor=Actor.staff(rw.tutor),
                source=MarkSource.REGISTER,
                reason="",
            )
        assert len(callbacks) == 1
        row = EnrolmentAttendance.objects.get(pupil=truant)
        assert row.as_of == D(2024, 10, 7)
        assert row.code_counts["O"] == 1
        # Only the pupil whose mark changed was recomputed.
        assert EnrolmentAttendance.objects.get(pupil=steady).as_of == D(2024, 10, 4)

        # An amendment of a past mark goes the same way.
        mark = AttendanceMark.objects.get(pupil=truant, date=D(2024, 9, 16), session="AM")
        with django_capture_on_commit_callbacks(execute=True):
            mark_amend(
                school=rw.school,
                pupil=truant,
                date=mark.date,
                session=mark.session,
                code="I",
                minutes_late=None,
                reason="Parent rang: ill",
                membership=rw.officer,
            )
        row = EnrolmentAttendance.objects.get(pupil=truant)
        assert row.code_counts["I"] == 1
        assert row.code_counts["U"] == 19


def test_the_tasks_are_reliable_by_configuration():
    for task in (tasks.attendance_recompute_school_task, tasks.attendance_recompute_pupils_task):
        assert task.acks_late
        assert task.reject_on_worker_lost
        assert OperationalError in task.autoretry_for
    beat = settings.CELERY_BEAT_SCHEDULE["interventions-nightly-fanout"]
    assert beat["task"] == tasks.attendance_nightly_fanout_task.name
    # A run cannot outlive the patience the fan-out gives it, nor the broker's visibility
    # timeout (else a live run would be sent twice).
    limit = tasks.attendance_recompute_school_task.time_limit
    assert limit < tasks.RUN_PATIENCE.total_seconds()
    assert limit < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    schedule = beat["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.minute == set(range(0, 60, 5))  # type: ignore[attr-defined]


def test_a_database_error_is_retried(rw, monkeypatch):
    calls = []
    real = recompute.school_recompute

    def flaky(**kwargs):
        calls.append(kwargs["as_of"])
        if len(calls) == 1:
            raise OperationalError("could not connect to server")
        return real(**kwargs)

    monkeypatch.setattr(tasks, "school_recompute", flaky)
    with scopes_disabled():
        result = tasks.attendance_recompute_school_task.apply(
            args=(rw.school.pk, "2024-10-04"), throw=False
        )
    assert result.successful()
    assert calls == [D(2024, 10, 4), D(2024, 10, 4)]
    with school_scope(rw.school):
        assert EnrolmentAttendance.objects.count() == 3


def uk(hour: int, minute: int = 0) -> dt.datetime:
    """A UK wall-clock time on Mon 7 Oct 2024 (BST), as an aware datetime."""
    return dt.datetime.combine(
        D(2024, 10, 7), dt.time(hour, minute), tzinfo=dt.timezone(dt.timedelta(hours=1))
    )


def test_the_fanout_sends_each_school_after_its_own_school_day(rw, monkeypatch):
    # The world's school ends its afternoon at 15:20 (UK); another ends later and is in
    # New York, five hours behind.
    with scopes_disabled():
        late = build_register_world(size=1, timezone="America/New_York").school
        models.School.objects.exclude(pk__in=[rw.school.pk, late.pk]).update(is_active=False)
    monkeypatch.setattr(timezone, "now", lambda: uk(17, 19))
    assert tasks.attendance_nightly_fanout_task.apply().get() == []
    monkeypatch.setattr(timezone, "now", lambda: uk(17, 20))
    assert tasks.attendance_nightly_fanout_task.apply().get() == [rw.school.pk]
    # Done for today (eagerly): not sent again; New York's day ends 5 hours later.
    assert tasks.attendance_nightly_fanout_task.apply().get() == []
    monkeypatch.setattr(timezone, "now", lambda: uk(22, 20))
    assert tasks.attendance_nightly_fanout_task.apply().get() == [late.pk]
    with school_scope(rw.school):
        assert RecomputeRun.objects.get(kind=RunKind.FULL).as_of == D(2024, 10, 7)


def test_a_failed_run_is_sent_again_at_the_next_fanout(rw, monkeypatch):
    with scopes_disabled():
        models.School.objects.exclude(pk=rw.school.pk).update(is_active=False)
        RecomputeRun.objects.create(
            school=rw.school,
            kind=RunKind.FULL,
            as_of=D(2024, 10, 7),
            started_at=uk(17, 30),
            finished_at=uk(17, 31),
            error="OperationalError: gone",
        )
    monkeypatch.setattr(timezone, "now", lambda: uk(18))
    assert tasks.attendance_nightly_fanout_task.apply().get() == [rw.school.pk]


def test_the_command_recomputes_one_school_or_all(rw, capsys):
    other = build_register_world(size=2)
    call_command("recompute_attendance", "--school", rw.school.slug, "--as-of", "2024-10-04")
    assert f"{rw.school.slug}: 3 enrolments as of 2024-10-04" in capsys.readouterr().out
    with scopes_disabled():
        assert set(EnrolmentAttendance.objects.values_list("school_id", flat=True)) == {
            rw.school.pk
        }
    call_command("recompute_attendance", "--as-of", "2024-10-04")
    out = capsys.readouterr().out
    assert f"{other.school.slug}: 2 enrolments" in out
    with pytest.raises(CommandError, match="No school"):
        call_command("recompute_attendance", "--school", "nowhere")
    with pytest.raises(CommandError, match="ISO date"):
        call_command("recompute_attendance", "--as-of", "4/10/2024")


def test_a_recompute_touches_only_its_own_school(rw):
    other = build_register_world(size=2)
    with school_scope(other.school):
        put_marks(other, other.pupils[0], school_days(D(2024, 9, 2), D(2024, 9, 6)), code="U")
        school_recompute(school=other.school, as_of=D(2024, 9, 6))
    with scopes_disabled():
        theirs = list(EnrolmentAttendance.objects.filter(school=other.school).values())
        their_events = AttendanceEvent.objects.filter(school=other.school).count()
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        pupils_recompute(
            school=rw.school,
            pupil_ids=[p.pk for p in other.pupils],  # not this school's: nothing happens
            as_of=D(2024, 10, 4),
            changed_from=None,
        )
    with scopes_disabled():
        assert list(EnrolmentAttendance.objects.filter(school=other.school).values()) == theirs
        assert AttendanceEvent.objects.filter(school=other.school).count() == their_events


QUERIES = 28  # on PostgreSQL: two settings for the run, and the results through a staging table;
# issue 12: the weekly summaries (delete, enrolments, grouped count, insert), the school's
# weekly rollup from them (delete, insert) and its year rollup from the results (delete, insert)


def test_the_full_run_has_a_fixed_number_of_queries(django_assert_max_num_queries):
    counts = []
    for size in (5, 40):
        world = build_register_world(size=size)
        with school_scope(world.school):
            for pupil in world.pupils:
                put_marks(world, pupil, school_days(D(2024, 9, 2), D(2024, 9, 13)))
                put_marks(world, pupil, [D(2024, 9, 16)], code="U")
            with django_assert_max_num_queries(QUERIES) as captured:
                school_recompute(school=world.school, as_of=D(2024, 9, 20))
            counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_state_fields_are_the_stored_fields():
    stored_fields = {f.attname for f in EnrolmentAttendance._meta.concrete_fields}
    assert set(STATE_FIELDS) <= stored_fields
    assert {f.name for f in dataclasses.fields(EnrolmentState)} == set(STATE_FIELDS)


def test_a_run_whose_worker_died_is_sent_again_within_minutes(rw, monkeypatch):
    with scopes_disabled():
        models.School.objects.exclude(pk=rw.school.pk).update(is_active=False)
        lost = RecomputeRun.objects.create(
            school=rw.school, kind=RunKind.FULL, as_of=D(2024, 10, 7), started_at=uk(17, 30)
        )
    monkeypatch.setattr(timezone, "now", lambda: uk(17, 39))  # 9 minutes: may still be running
    assert tasks.attendance_nightly_fanout_task.apply().get() == []
    monkeypatch.setattr(timezone, "now", lambda: uk(17, 41))  # 11 minutes: past its time limit
    assert tasks.attendance_nightly_fanout_task.apply().get() == [rw.school.pk]
    with scopes_disabled():
        lost.refresh_from_db()
        assert lost.error == tasks.ABANDONED
        assert lost.finished_at is None
        assert RecomputeRun.objects.filter(finished_at__isnull=False, error="").count() == 1
