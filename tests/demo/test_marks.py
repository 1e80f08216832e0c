from __future__ import annotations

import contextlib
import datetime as dt
import random
import zoneinfo
from collections import Counter, defaultdict
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django_scopes import scopes_disabled

from demo import blueprints, trust
from demo import marks as demo_marks
from interventions.engine import EnrolmentCounts, session_counts
from registers.codes import WALES_2010, code_lookup, is_compulsory_school_age
from registers.models import AttendanceMark, MarkChange, MarkSource, PartTimeTimetable, Register
from registers.rules import n_due_date
from registers.selectors import register_times, unresolved_n_marks
from registers.services import marks as services
from registers.services.marks import MarkWrite, mark_validate
from schools.models import (
    Enrolment,
    FormPlacement,
    FormTutor,
    ParentLink,
    Pupil,
    Role,
    School,
    StaffMembership,
)
from schools.scoping import school_scope
from schools.selectors import school_calendar_get

pytestmark = pytest.mark.django_db

SCALE = 0.05
TODAY = dt.date(2026, 11, 23)  # a Monday in the autumn term: 2026/27 and 2025/26 are seeded
EARLIER = dt.date(2026, 11, 16)  # a week before, in the same academic year
PREVIOUS_YEAR = (dt.date(2025, 8, 1), dt.date(2026, 7, 31))
SAMPLE = 2_000
LONDON = zoneinfo.ZoneInfo("Europe/London")


# --- Attendance figures from marks (spec/regulations.md §4.1) -------------------------------


@dataclass(frozen=True)
class Distribution:
    """Pupils by attendance over a period, from the engine's counts."""

    pupils: int
    at_least_95: int  # attendance of 95% or more
    persistent: int  # missed 10% or more of possible sessions (includes the severe)
    severe: int  # missed 50% or more

    def share(self, count: int) -> float:
        return 100 * count / self.pupils if self.pupils else 0.0


def attendance_by_pupil(
    *, school: School, start: dt.date, end: dt.date
) -> dict[int, EnrolmentCounts]:
    """Each pupil's session counts from ``start`` to ``end``, from the attendance engine (the
    one implementation of §4.1). Demo pupils have one enrolment each, so per enrolment is
    per pupil."""
    with school_scope(school):
        counts = session_counts(school=school, period_start=start, period_end=end, as_of=end)
        pupils = dict(
            Enrolment.objects.filter(school=school, pk__in=counts).values_list("pk", "pupil_id")
        )
    return {pupils[enrolment]: figures for enrolment, figures in counts.items()}


def attendance_distribution(*, school: School, start: dt.date, end: dt.date) -> Distribution:
    """Share of pupils at 95%+, persistently and severely absent; integer comparisons only."""
    rows = [
        c
        for c in attendance_by_pupil(school=school, start=start, end=end).values()
        if c.possible_sessions
    ]
    return Distribution(
        pupils=len(rows),
        at_least_95=sum(
            1
            for c in rows
            if 100 * (c.present_sessions + c.aea_sessions) >= 95 * c.possible_sessions
        ),
        persistent=sum(1 for c in rows if c.persistent_absence),
        severe=sum(1 for c in rows if c.severe_absence),
    )


# --- One seeded trust for the module --------------------------------------------------------


class _RollbackError(Exception):
    pass


@dataclass
class Seeded:
    fresh: demo_marks.MarksSummary  # marks seeded once, on TODAY (then rolled back)
    fresh_rows: Any
    earlier: demo_marks.MarksSummary  # marks seeded on EARLIER ...
    earlier_rows: Any
    later: demo_marks.MarksSummary  # ... and then on TODAY: the state the tests read
    later_rows: Any
    again: demo_marks.MarksSummary  # and once more on TODAY


def _rows() -> Any:
    """Everything the seed writes, by natural keys (ids differ between runs)."""
    with scopes_disabled():
        marks = sorted(
            AttendanceMark.objects.values_list(
                "school__slug", "pupil__upn", "date", "session", "code", "scheme",
                "minutes_late", "source", "recorded_at", "recorded_by__user__username", "version",
            )
        )  # fmt: skip
        registers = sorted(
            Register.objects.values_list(
                "school__slug", "form__academic_year__start_date", "form__name", "date",
                "session", "taken_at", "taken_by__user__username",
            )
        )  # fmt: skip
        changes = sorted(
            MarkChange.objects.values_list(
                "school__slug", "pupil__upn", "date", "session", "original_code",
                "original_recorded_at", "new_code", "reason", "changed_at",
                "changed_by__user__username", "changed_by_name", "changed_by_position",
            )
        )  # fmt: skip
        part_time = sorted(
            PartTimeTimetable.objects.values_list(
                "school__slug", "pupil__upn", "start_date", "end_date", "agreed_with"
            )
        )
    return marks, registers, changes, part_time


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Any:
    # Seeding takes a few seconds, so it happens once; the module's tests each run in a
    # savepoint inside this transaction, which is rolled back at the end.
    with django_db_blocker.unblock(), transaction.atomic():
        with scopes_disabled():
            trust.seed_demo_trust(today=TODAY, scale=SCALE)
            with contextlib.suppress(_RollbackError), transaction.atomic():
                fresh = demo_marks.seed_demo_marks(today=TODAY, scale=SCALE)
                fresh_rows = _rows()
                raise _RollbackError
            earlier = demo_marks.seed_demo_marks(today=EARLIER, scale=SCALE)
            earlier_rows = _rows()
            later = demo_marks.seed_demo_marks(today=TODAY, scale=SCALE)
            later_rows = _rows()
            again = demo_marks.seed_demo_marks(today=TODAY, scale=SCALE)
        yield Seeded(fresh, fresh_rows, earlier, earlier_rows, later, later_rows, again)
        transaction.set_rollback(True)


def _schools() -> list[School]:
    return list(School.objects.filter(trust__slug=blueprints.TRUST_SLUG).order_by("slug"))


def _school_marks(summary: demo_marks.MarksSummary, slug: str) -> demo_marks.SchoolMarks:
    return next(s for s in summary.schools if s.slug == slug)


def _placements(school: School) -> dict[int, list[tuple[dt.date, dt.date | None, int]]]:
    found: dict[int, list[tuple[dt.date, dt.date | None, int]]] = defaultdict(list)
    for pupil, form, start, end in FormPlacement.objects.filter(school=school).values_list(
        "pupil_id", "form_id", "start_date", "end_date"
    ):
        found[pupil].append((start, end, form))
    return found


def _form_on(placements: list[tuple[dt.date, dt.date | None, int]], day: dt.date) -> int:
    return next(f for s, e, f in placements if s <= day and (e is None or day <= e))


# --- Idempotence and determinism ------------------------------------------------------------


def test_first_run_fills_a_year_and_a_bit_and_a_second_run_creates_nothing(seeded):
    assert seeded.fresh.marks_created > 50_000
    assert seeded.fresh.registers_written > 20_000
    assert seeded.fresh.amendments_created > 0
    assert seeded.fresh.last_session == (dt.date(2026, 11, 20), "PM")  # Friday: up to yesterday

    assert seeded.again.rows_created == 0
    assert _rows() == seeded.later_rows


def test_the_same_day_always_gives_the_same_marks_however_it_was_reached(seeded):
    # Seeding on EARLIER and then on TODAY leaves exactly what seeding once on TODAY does:
    # the week in between was added, and the N marks that fell due meanwhile were resolved.
    assert seeded.later.marks_created > 0
    assert seeded.later.amendments_created > 0  # N marks that fell due in between
    assert sum(s.registers_taken for s in seeded.later.schools) > 0  # partly taken, now done
    assert seeded.later_rows == seeded.fresh_rows


def test_older_marks_do_not_depend_on_the_day_of_seeding(seeded):
    # Only the last days before "today" differ (open N marks, registers not yet taken).
    with scopes_disabled():
        calendar = school_calendar_get(school=School.objects.get(slug=blueprints.KINGSMEAD.slug))
    settled = calendar.school_days_between(EARLIER - dt.timedelta(days=30), EARLIER)[-12]
    earlier_marks, _, earlier_changes, _ = seeded.earlier_rows
    later_marks, _, later_changes, _ = seeded.later_rows

    def before(rows):
        return [row for row in rows if row[2] < settled]

    assert before(earlier_marks) == before(later_marks)
    assert before(earlier_changes) == before(later_changes)
    assert len(later_marks) > len(earlier_marks)


# --- Every mark is one a register could hold --------------------------------------------------


def test_one_mark_per_pupil_on_roll_per_session_except_registers_left_not_taken(seeded):
    for school in _schools():
        summary = _school_marks(seeded.later, school.slug)
        last = summary.last_session
        assert last is not None
        with school_scope(school):
            calendar = school_calendar_get(school=school)
            sessions = [
                (d, s.value)
                for d, s in calendar.sessions_between(PREVIOUS_YEAR[0], last[0])
                if (d, s.value) <= last
            ]
            enrolments = list(
                Enrolment.objects.filter(school=school).values_list(
                    "pupil_id", "start_date", "leaving_date"
                )
            )
            marks = set(
                AttendanceMark.objects.filter(school=school).values_list(
                    "pupil_id", "date", "session"
                )
            )
            placements = _placements(school)
            form_names = dict(
                Register.objects.filter(school=school).values_list("form_id", "form__name")
            )
        expected = {
            (pupil, day, session)
            for pupil, start, leaving in enrolments
            for day, session in sessions
            if start <= day and (leaving is None or day <= leaving)
        }
        not_taken = {(r.form, r.date, r.session) for r in summary.not_taken}
        missing = expected - marks

        assert marks <= expected, "a mark off roll, or on a day without that session"
        assert len(marks) > 10_000
        assert all(
            (form_names.get(_form_on(placements[p], d)), d, s) in not_taken for p, d, s in missing
        )
        assert not_taken, "a few recent registers are left for the 'not taken' alert"
        assert len(not_taken) <= demo_marks.RECENT_INCOMPLETE_SESSIONS


def test_no_marks_on_weekends_holidays_or_closed_afternoons(seeded):
    for school in _schools():
        with school_scope(school):
            calendar = school_calendar_get(school=school)
            keys = set(AttendanceMark.objects.filter(school=school).values_list("date", "session"))
        assert keys
        assert all(calendar.is_session(day, session) for day, session in keys)
        assert all(day.weekday() < 5 for day, _ in keys)


def test_a_sample_of_marks_passes_the_register_validation(seeded):
    rng = random.Random(8)
    for school in _schools():
        with school_scope(school):
            calendar = school_calendar_get(school=school)
            pupils = Pupil.objects.filter(school=school).in_bulk()
            enrolments: dict[int, list[Enrolment]] = defaultdict(list)
            for enrolment in Enrolment.objects.filter(school=school):
                enrolments[enrolment.pupil_id].append(enrolment)
            marks = list(
                AttendanceMark.objects.filter(school=school).values_list(
                    "pupil_id", "date", "session", "code", "minutes_late", "scheme"
                )
            )
        # Every mark: its scheme, and minutes late only with L and U (also a DB constraint).
        for _, day, _, code, minutes, scheme in marks:
            definition = code_lookup(jurisdiction=school.jurisdiction, code=code, on=day)
            assert definition is not None, (code, day)
            assert definition.scheme == scheme, (code, day)
            assert (minutes is not None) == (code in ("L", "U")), code
        # A sample through the same validation as a register save.
        for pupil_id, day, session, code, minutes, _ in rng.sample(marks, min(SAMPLE, len(marks))):
            write = MarkWrite(pupils[pupil_id], day, session, code, minutes)
            valid = mark_validate(
                school=school, write=write, calendar=calendar, enrolments=enrolments[pupil_id]
            )
            assert (valid.code, valid.minutes_late) == (code, minutes)


def test_lateness_agrees_with_the_school_register_times(seeded):
    lates: Counter[str] = Counter()
    for school in _schools():
        with school_scope(school):
            late = AttendanceMark.objects.filter(school=school, code__in=["L", "U"])
            rows = list(late.values_list("session", "code", "minutes_late", "recorded_at"))
        for session, code, minutes, _ in rows:
            assert minutes is not None
            times = register_times(school=school, session=session)
            window = (
                dt.datetime.combine(TODAY, times.closes) - dt.datetime.combine(TODAY, times.opens)
            ).seconds // 60
            assert (code == "L") == (minutes < window)
            assert 1 <= minutes < 120
            lates[code] += 1
    assert lates["L"] > lates["U"] > 0


# --- Codes by jurisdiction, age and circumstance ----------------------------------------------


def test_the_welsh_school_uses_only_welsh_codes_and_at_most_ten_days_of_holiday_leave(seeded):
    welsh = {d.code for d in WALES_2010}
    for school in _schools():
        with school_scope(school):
            marks = AttendanceMark.objects.filter(school=school)
            codes = Counter(marks.values_list("code", flat=True))
            schemes = set(marks.values_list("scheme", flat=True))
            holiday = Counter(
                marks.filter(code="H").values_list("pupil_id", "date__year", "date__month")
            )
        if school.jurisdiction == "wales":
            assert set(codes) <= welsh
            assert schemes == {"WAL_2010"}
            assert not set(codes) & {"C1", "C2", "J1", "K", "Q", *(f"Y{n}" for n in range(1, 8))}
            assert codes["H"] > 0
            per_year: Counter[tuple[int, int]] = Counter()
            for (pupil, year, month), n in holiday.items():
                per_year[(pupil, year if month >= 8 else year - 1)] += n
            assert max(per_year.values()) <= 20  # 10 school days, two sessions each
        else:
            assert schemes == {"ENG_2024"}
            assert codes["H"] == 0
            assert codes["G"] > 0


def test_x_only_for_pupils_below_compulsory_school_age_and_c2_only_above(seeded):
    found: Counter[tuple[str, str]] = Counter()
    for school in _schools():
        with school_scope(school):
            marks = AttendanceMark.objects.filter(school=school, code__in=["X", "C2"])
            rows = list(marks.values_list("code", "date", "pupil__date_of_birth", "pupil_id"))
            timetables = {p.pupil_id: p for p in PartTimeTimetable.objects.filter(school=school)}
        for code, day, born, pupil in rows:
            found[(school.jurisdiction, code)] += 1
            assert is_compulsory_school_age(born, day) == (code == "C2")
            if code == "C2":
                timetable = timetables[pupil]
                assert timetable.start_date <= day <= timetable.end_date
    assert found[("wales", "X")] > 0
    assert found[("england", "C2")] > 0
    assert found[("wales", "C2")] == 0


def test_two_part_time_timetables_in_england_with_their_rows(seeded):
    with scopes_disabled():
        timetables = list(PartTimeTimetable.objects.select_related("school"))
    assert sorted(t.school.slug for t in timetables) == ["kingsmead", "oakfield"]
    assert all(t.sessions_off and t.agreed_with for t in timetables)


def test_visits_suspensions_and_dual_registration_appear(seeded):
    with scopes_disabled():
        codes = Counter(AttendanceMark.objects.values_list("school__slug", "code"))
    assert codes[("kingsmead", "E")] > 0
    assert codes[("oakfield", "E")] == 0  # suspensions only at the secondary
    assert all(codes[(slug, "V")] > 0 for slug in ("kingsmead", "oakfield", "bro-derwen"))
    assert all(codes[(slug, "D")] > 0 for slug in ("kingsmead", "oakfield", "bro-derwen"))


# --- N and its amendments -----------------------------------------------------------------


def test_open_n_marks_are_the_latest_few_days_some_due_within_five_school_days(seeded):
    due = []
    for school in _schools():
        with school_scope(school):
            calendar = school_calendar_get(school=school)
            items = unresolved_n_marks(school=school)
        recent = calendar.school_days_between(TODAY - dt.timedelta(days=28), TODAY)
        assert all(item.mark.date >= recent[-11] for item in items)  # 9 school days at most
        assert all(
            item.due == n_due_date(calendar=calendar, session_date=item.mark.date) for item in items
        )
        due += [item for item in items if not item.is_overdue(TODAY)]
    # At scale 0.05 a school may have none open; the trust always has some.
    assert due


def test_amendments_resolve_n_to_i_or_o_and_match_their_marks(seeded):
    for school in _schools():
        with school_scope(school):
            officer = StaffMembership.objects.select_related("user").get(
                school=school, user__username=f"officer@{school.slug}.example.org"
            )
            changes = list(MarkChange.objects.filter(school=school).select_related("mark"))
            amended = AttendanceMark.objects.filter(school=school, version=2).count()
            not_v1 = AttendanceMark.objects.filter(school=school).exclude(version__in=[1, 2])
            assert not not_v1.exists()
        assert changes
        assert len(changes) == amended == len({c.mark_id for c in changes})
        for change in changes:
            mark = change.mark
            assert (change.original_code, change.new_code in ("I", "O")) == ("N", True)
            assert (mark.code, mark.version, mark.source) == (change.new_code, 2, "amendment")
            assert (change.pupil_id, change.date, change.session) == (
                mark.pupil_id,
                mark.date,
                mark.session,
            )
            assert mark.recorded_at == change.changed_at
            assert mark.recorded_by_id == change.changed_by_id == officer.pk
            assert change.changed_by_name == officer.user.get_full_name()
            assert change.changed_by_position == officer.job_title
            assert change.reason
            assert change.original_recorded_at < change.changed_at
            assert change.date < change.changed_at.date() < TODAY


def test_registers_and_marks_are_taken_by_the_form_tutor_at_register_time(seeded):
    for school in _schools():
        with school_scope(school):
            tutors = defaultdict(set)
            for form, membership in FormTutor.objects.filter(school=school).values_list(
                "form_id", "membership_id"
            ):
                tutors[form].add(membership)
            registers = list(
                Register.objects.filter(school=school).values_list(
                    "form_id", "form__name", "date", "session", "taken_at", "taken_by_id"
                )
            )
            placements = _placements(school)
            marks = list(
                AttendanceMark.objects.filter(school=school, version=1).values_list(
                    "pupil_id", "date", "session", "recorded_at", "recorded_by_id", "source"
                )
            )
        partly = {
            (r.form, r.date, r.session)
            for r in _school_marks(seeded.later, school.slug).not_taken
            if r.partly_marked
        }
        untaken = {(name, d, s) for _, name, d, s, at, _ in registers if at is None}
        assert untaken == partly
        for form, _, day, session, taken_at, taken_by in registers:
            if taken_at is None:
                continue
            assert taken_by in tutors[form]
            local = taken_at.astimezone(LONDON)
            assert local.date() == day
            assert register_times(school=school, session=session).opens < local.time()
        for pupil, day, _, recorded_at, recorded_by, source in marks:
            assert source == MarkSource.REGISTER
            assert recorded_by in tutors[_form_on(placements[pupil], day)]
            assert recorded_at.astimezone(LONDON).date() == day


# --- Realism --------------------------------------------------------------------------------


def test_most_pupils_attend_well_with_a_persistent_and_a_severe_tail(seeded):
    schools = _schools()
    figures = [attendance_distribution(school=s, start=PREVIOUS_YEAR[0], end=PREVIOUS_YEAR[1])
               for s in schools]  # fmt: skip
    trust = Distribution(
        pupils=sum(f.pupils for f in figures),
        at_least_95=sum(f.at_least_95 for f in figures),
        persistent=sum(f.persistent for f in figures),
        severe=sum(f.severe for f in figures),
    )

    assert trust.share(trust.at_least_95) > 60
    assert 3 <= trust.share(trust.persistent) <= 20
    assert trust.severe <= trust.persistent  # ~1.5% at scale 1; 0-3 pupils at this scale
    assert all(f.persistent for f in figures)


def test_illness_peaks_in_winter_and_absence_on_friday_afternoons(seeded):
    with scopes_disabled():
        marks = list(
            AttendanceMark.objects.filter(date__range=PREVIOUS_YEAR).values_list(
                "date", "session", "code"
            )
        )
    illness = Counter(d.month for d, _, code in marks if code == "I")
    sessions = Counter(d.month for d, _, _ in marks)
    absent = {"I", "M", "O", "G", "C", "H", "E", "N", "U", "C2"}
    friday_pm = [code in absent for d, s, code in marks if d.weekday() == 4 and s == "PM"]
    other = [code in absent for d, s, code in marks if not (d.weekday() == 4 and s == "PM")]

    def rate(month: int) -> float:
        return illness[month] / sessions[month]

    assert rate(1) > 1.5 * rate(9)
    assert rate(12) > rate(10)
    assert sum(friday_pm) / len(friday_pm) > 1.2 * sum(other) / len(other)


def test_the_demo_parents_children_attend_well_with_an_illness_or_two(seeded):
    for school in _schools():
        with school_scope(school):
            children = list(
                ParentLink.objects.filter(
                    school=school, user__username=blueprints.PARENT[2]
                ).values_list("pupil_id", flat=True)
            )
            illness = Counter(
                AttendanceMark.objects.filter(
                    school=school, pupil_id__in=children, code="I", date__range=PREVIOUS_YEAR
                ).values_list("pupil_id", flat=True)
            )
        figures = attendance_by_pupil(school=school, start=PREVIOUS_YEAR[0], end=PREVIOUS_YEAR[1])
        for child in children:
            child_counts = figures[child]
            attended = child_counts.present_sessions + child_counts.aea_sessions
            assert 100 * attended >= 95 * child_counts.possible_sessions
            assert 1 <= illness[child] <= 8


# --- Writing and the command ----------------------------------------------------------------


def test_the_fast_insert_path_and_the_portable_one_write_the_same_rows(seeded):
    # PostgreSQL writes with COPY; every other database, and copy=False, with executemany.
    with scopes_disabled():
        school = School.objects.get(slug=blueprints.OAKFIELD.slug)
        form = Register.objects.filter(school=school).values_list("form_id", flat=True)[0]
        tutor = FormTutor.objects.filter(form_id=form).values_list("membership_id", flat=True)[0]
        at = dt.datetime(2026, 11, 28, 8, 55, tzinfo=LONDON)
        for day, copy in ((dt.date(2026, 11, 28), True), (dt.date(2026, 11, 29), False)):
            row = (school.pk, form, connection.ops.adapt_datefield_value(day), "AM",
                   connection.ops.adapt_datetimefield_value(at), tutor)  # fmt: skip
            assert (
                services._rows_insert(Register, services._REGISTER_COLUMNS, [row], copy=copy) == 1
            )
        written = list(
            Register.objects.filter(school=school, date__gte=dt.date(2026, 11, 28))
            .order_by("date")
            .values_list("form_id", "session", "taken_at", "taken_by_id")
        )
    assert written[0] == written[1] == (form, "AM", at, tutor)


def test_seed_demo_command_fills_this_morning_once_the_registers_have_closed(seeded, monkeypatch):
    # The command reads the clock once: at 10:00 every school's morning register has closed.
    ten = dt.datetime.combine(TODAY, dt.time(10), tzinfo=LONDON)
    monkeypatch.setattr("django.utils.timezone.localtime", lambda *args: ten)
    out = StringIO()

    call_command("seed_demo", scale=SCALE, stdout=out)
    call_command("seed_demo", scale=SCALE, stdout=out)

    first, second = [line for line in out.getvalue().splitlines() if "Registers and marks" in line]
    assert "marks, " in first
    assert "through Mon 23 Nov 2026 AM" in first
    assert "already up to date through Mon 23 Nov 2026 AM" in second
    with scopes_disabled():
        assert AttendanceMark.objects.filter(date=TODAY, session="AM").exists()
        assert not AttendanceMark.objects.filter(date=TODAY, session="PM").exists()


def test_the_demo_officer_is_an_attendance_officer(seeded):
    with scopes_disabled():
        roles = set(
            StaffMembership.objects.filter(user__username__startswith="officer@").values_list(
                "role", flat=True
            )
        )
    assert roles == {Role.ATTENDANCE_OFFICER}
