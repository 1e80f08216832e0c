"""Reads about registers and marks, shared by views, the API, tasks and commands."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from registers.codes import code_lookup
from registers.models import (
    REASON_CODES,
    AbsenceReport,
    AttendanceMark,
    LeaveRequest,
    LeaveStatus,
    MarkChange,
    PartTimeTimetable,
    Register,
    ReportStatus,
)
from registers.rules import Phase, RegisterTimes, n_due_date, register_phase
from schools.calendar import SchoolCalendar
from schools.models import FormGroup, Pupil, School
from schools.selectors import form_roll_counts, pupils_in_form_on, school_calendar_get


def register_times(*, school: School, session: str) -> RegisterTimes:
    if session == "AM":
        return RegisterTimes(
            school.am_register_opens, school.am_register_closes, school.am_session_ends
        )
    return RegisterTimes(
        school.pm_register_opens, school.pm_register_closes, school.pm_session_ends
    )


def register_get(*, school: School, register_id: int) -> Register:
    """One of this school's registers; ``Http404`` if missing or another school's."""
    register = (
        Register.objects.filter(school=school, pk=register_id)
        .select_related("form__year_group", "taken_by__user")
        .first()
    )
    if register is None:
        raise Http404("Register not found")
    return register


def register_phase_now(
    *, school: School, date: dt.date, session: str, taken: bool, now: dt.datetime
) -> Phase:
    """The register's phase at ``now``, read on the school's own clock."""
    local = timezone.localtime(now, timezone=zoneinfo.ZoneInfo(school.timezone))
    return register_phase(
        now=local, date=date, times=register_times(school=school, session=session), taken=taken
    )


def register_find(
    *, school: School, form: FormGroup, date: dt.date, session: str
) -> Register | None:
    return Register.objects.filter(school=school, form=form, date=date, session=session).first()


def register_summaries(
    *, school: School, forms: Sequence[FormGroup], date: dt.date, session: str
) -> list[RegisterSummary]:
    """Each form's register for one session: pupils on roll, pupils marked, and the Register
    row if anyone has saved it. Three queries, whatever the number of forms."""
    form_ids = [f.pk for f in forms]
    on_roll = form_roll_counts(school=school, on=date)
    placed_that_day = Q(
        pupil__placements__form_id__in=form_ids,
        pupil__placements__start_date__lte=date,
    ) & (Q(pupil__placements__end_date__isnull=True) | Q(pupil__placements__end_date__gte=date))
    marked = dict(
        AttendanceMark.objects.filter(placed_that_day, school=school, date=date, session=session)
        .values("pupil__placements__form_id")
        .annotate(n=Count("pk", distinct=True))
        .values_list("pupil__placements__form_id", "n")
    )
    registers = {
        r.form_id: r
        for r in Register.objects.filter(
            school=school, form_id__in=form_ids, date=date, session=session
        )
    }
    return [
        RegisterSummary(
            form=form,
            register=registers.get(form.pk),
            on_roll=on_roll.get(form.pk, 0),
            marked=marked.get(form.pk, 0),
        )
        for form in forms
    ]


@dataclass
class RegisterRow:
    """One line of a register: the pupil, the current mark, and what is already known."""

    pupil: Pupil
    mark: AttendanceMark | None
    suggested_code: str = ""
    notes: list[str] = field(default_factory=list)
    previous: list[str] = field(
        default_factory=list
    )  # codes of the previous sessions, oldest first
    error: str = ""
    conflict: str = ""
    entered_code: str | None = None  # what was typed, when a save failed and saved nothing
    entered_minutes: str | None = None

    @property
    def code(self) -> str:
        return self.mark.code if self.mark else self.suggested_code

    @property
    def input_code(self) -> str:
        return self.entered_code if self.entered_code is not None else self.code

    @property
    def input_minutes(self) -> str:
        if self.entered_minutes is not None:
            return self.entered_minutes
        minutes = self.mark.minutes_late if self.mark else None
        return "" if minutes is None else str(minutes)

    @property
    def version(self) -> int:
        return self.mark.version if self.mark else 0


PREVIOUS_SESSIONS_SHOWN = 6


def register_rows(
    *,
    school: School,
    form: FormGroup,
    date: dt.date,
    session: str,
    calendar: SchoolCalendar | None = None,
) -> list[RegisterRow]:
    """Every pupil on roll in the register's form that day, with their mark and what is known:
    a parent's report waiting for the office, refused leave, a part-time timetable, and the
    previous sessions' marks. A fixed number of queries, whatever the class size."""
    calendar = calendar or school_calendar_get(school=school)
    pupils = list(pupils_in_form_on(school=school, form=form, on=date))
    pupil_ids = [p.pk for p in pupils]
    day = date

    marks = {
        m.pupil_id: m
        for m in AttendanceMark.objects.filter(
            school=school, pupil_id__in=pupil_ids, date=day, session=session
        )
    }
    earlier = [
        (d, s)
        for d, s in calendar.sessions_between(day - dt.timedelta(days=21), day)
        if (d, s) < (day, session)
    ][-PREVIOUS_SESSIONS_SHOWN:]
    previous: dict[int, dict[tuple[dt.date, str], str]] = {}
    if earlier:
        for pupil_id, d, s, code in AttendanceMark.objects.filter(
            school=school, pupil_id__in=pupil_ids, date__gte=earlier[0][0], date__lte=day
        ).values_list("pupil_id", "date", "session", "code"):
            previous.setdefault(pupil_id, {})[(d, s)] = code

    rows = {
        p.pk: RegisterRow(
            pupil=p,
            mark=marks.get(p.pk),
            previous=[previous.get(p.pk, {}).get(key, "·") for key in earlier],
        )
        for p in pupils
    }
    covering = Q(first_date__lte=day, last_date__gte=day)
    for report in AbsenceReport.objects.filter(
        covering,
        school=school,
        pupil_id__in=pupil_ids,
        status__in=[ReportStatus.PENDING, ReportStatus.UNVERIFIED, ReportStatus.EVIDENCE_REQUESTED],
    ):
        row = rows[report.pupil_id]  # type: ignore[index]
        row.notes.append(
            f"Parent reported: {report.get_reason_display().lower()} (office to confirm)"
        )
        row.suggested_code = row.suggested_code or REASON_CODES.get(report.reason, "N")
    for leave in LeaveRequest.objects.filter(
        covering, school=school, pupil_id__in=pupil_ids, status=LeaveStatus.REFUSED
    ):
        rows[leave.pupil_id].notes.append("Leave refused for this date: G if absent")
    weekday_session = f"{day:%a} {session}"
    for timetable in PartTimeTimetable.objects.filter(
        school=school, pupil_id__in=pupil_ids, start_date__lte=day, end_date__gte=day
    ):
        if weekday_session in timetable.sessions_off:
            row = rows[timetable.pupil_id]
            row.notes.append("Part-time timetable: not expected this session")
            row.suggested_code = row.suggested_code or "C2"
    return list(rows.values())


@dataclass(frozen=True)
class RegisterSummary:
    form: FormGroup
    register: Register | None
    on_roll: int
    marked: int

    @property
    def complete(self) -> bool:
        return self.on_roll > 0 and self.marked >= self.on_roll


def mark_history(*, school: School, pupil: Pupil) -> QuerySet[MarkChange]:
    """Every amendment of the pupil's marks, newest first (who, when, why)."""
    return MarkChange.objects.filter(school=school, pupil=pupil).order_by("-changed_at", "-pk")


def mark_get(*, school: School, pupil: Pupil, date: dt.date, session: str) -> AttendanceMark | None:
    return AttendanceMark.objects.filter(
        school=school, pupil=pupil, date=date, session=session
    ).first()


@dataclass(frozen=True)
class OpenN:
    mark: AttendanceMark
    due: dt.date | None

    def is_overdue(self, today: dt.date) -> bool:
        return self.due is not None and today > self.due


def unresolved_n_marks(*, school: School) -> list[OpenN]:
    """Every ``N`` still open, with its due date (5th school day after), earliest due first."""
    calendar = school_calendar_get(school=school)
    marks = AttendanceMark.objects.filter(school=school, code="N").select_related("pupil")
    items = [OpenN(mark=m, due=n_due_date(calendar=calendar, session_date=m.date)) for m in marks]
    return sorted(items, key=lambda item: (item.due or dt.date.max, item.mark.pupil.legal_surname))


def code_label(*, school: School, code: str, on: dt.date) -> str:
    definition = code_lookup(jurisdiction=school.jurisdiction, code=code, on=on)
    return definition.meaning if definition else code


@dataclass(frozen=True)
class MarkDay:
    day: dt.date
    am: AttendanceMark | None
    pm: AttendanceMark | None
    sessions: tuple[str, ...]


def pupil_recent_marks(*, school: School, pupil: Pupil, until: dt.date) -> list[list[MarkDay]]:
    """The pupil's marks this academic year up to ``until``, as school weeks (newest first),
    each a list of school days with the AM and PM mark. Two queries plus the calendar."""
    calendar = school_calendar_get(school=school)
    year_start = dt.date(until.year if until.month >= 8 else until.year - 1, 8, 1)
    marks = {
        (m.date, m.session): m
        for m in AttendanceMark.objects.filter(
            school=school, pupil=pupil, date__gte=year_start, date__lte=until
        )
    }
    weeks: dict[dt.date, list[MarkDay]] = {}
    for day in calendar.school_days_between(year_start, until):
        weeks.setdefault(day - dt.timedelta(days=day.weekday()), []).append(
            MarkDay(
                day=day,
                am=marks.get((day, "AM")),
                pm=marks.get((day, "PM")),
                sessions=tuple(calendar.sessions_on(day)),
            )
        )
    return [weeks[monday] for monday in sorted(weeks, reverse=True)]
