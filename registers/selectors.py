"""Reads about registers and marks, shared by views, the API, tasks and commands."""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Case, Count, IntegerField, Q, QuerySet, When
from django.http import Http404
from django.utils import timezone

from registers.codes import CodeDefinition, code_lookup, codes_in_force
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
from schools.calendar import SchoolCalendar, academic_year_start, week_start
from schools.models import Contact, FormGroup, Pupil, School
from schools.permissions import Capability, PupilScope, can, pupil_scope
from schools.selectors import (
    children_of_parent,
    form_roll_counts,
    forms_for_tutor,
    forms_for_year_groups,
    forms_on,
    pupils_in_form_on,
    school_calendar_get,
)
from schools.types import SchoolAccess


def register_times(*, school: School, session: str) -> RegisterTimes:
    if session == "AM":
        return RegisterTimes(
            school.am_register_opens, school.am_register_closes, school.am_session_ends
        )
    return RegisterTimes(
        school.pm_register_opens, school.pm_register_closes, school.pm_session_ends
    )


def register_clock(*, school: School, now: dt.datetime | None = None) -> dt.datetime:
    """The time every register question is asked at, on the school's own clock: ``now``
    (default: the current time) itself, unless the demo clock is on.

    The demo clock (``settings.DEMO_CLOCK``, on only in the local/demo settings) lets a
    newcomer take a register in the evening or at a weekend: outside the school day (before
    the morning register opens, after the afternoon session ends, or on a day without
    sessions) registers behave as at the morning register's opening time on the most recent
    school day. Within the school day the real time is used. Test and production settings
    keep it off, so nothing but the demo ever sees a shifted clock.
    """
    local = school.local_time(now or timezone.now())
    if not getattr(settings, "DEMO_CLOCK", False):
        return local
    calendar = school_calendar_get(school=school)
    today = local.date()
    in_day = school.am_register_opens <= local.time() < school.pm_session_ends
    if calendar.is_school_day(today) and in_day:
        return local
    day: dt.date | None = today
    if not calendar.is_school_day(today) or local.time() < school.am_register_opens:
        day = calendar.school_day_before(today)
    if day is None:  # before the calendar's first school day: nothing to pretend
        return local
    return dt.datetime.combine(day, school.am_register_opens, tzinfo=local.tzinfo)


def demo_clock_time(*, school: School, now: dt.datetime | None = None) -> dt.datetime | None:
    """The pretend time when the demo clock is moving registers away from the real time (for
    the banner on register pages), else ``None``."""
    real = school.local_time(now or timezone.now())
    shifted = register_clock(school=school, now=real)
    return shifted if shifted != real else None


def register_phase_now(
    *, school: School, date: dt.date, session: str, taken: bool, now: dt.datetime
) -> Phase:
    """The register's phase at ``now``, read on the school's own clock (through
    ``register_clock``, so the demo clock applies here and only here)."""
    return register_phase(
        now=register_clock(school=school, now=now),
        date=date,
        times=register_times(school=school, session=session),
        taken=taken,
    )


def session_calendar_get(*, school: School, date: dt.date, session: str) -> SchoolCalendar:
    """The school's calendar, loaded once for a request about one register session;
    ``Http404`` when that date and session is not a school session."""
    calendar = school_calendar_get(school=school)
    if not calendar.is_session(date, session):
        raise Http404("Not a school session")
    return calendar


def register_forms(*, school: School, access: SchoolAccess, on: dt.date) -> QuerySet[FormGroup]:
    """The forms whose registers this user takes on ``on``: a tutor's own, a pastoral lead's
    year groups', or every form for other register takers."""
    if not can(access, Capability.VIEW_ALL_PUPILS):
        assert access.membership is not None  # register takers are staff
        if pupil_scope(access) is PupilScope.YEAR_GROUPS:
            return forms_for_year_groups(school=school, membership=access.membership, on=on)
        return forms_for_tutor(school=school, membership=access.membership, on=on)
    return forms_on(school=school, on=on)


def register_form_get(
    *, school: School, access: SchoolAccess, form_id: int, on: dt.date
) -> FormGroup:
    """A form whose register this user may take on ``on`` (one query): tutors only their own
    forms; ``Http404`` for a missing form, another school's, another tutor's, or another year's.
    """
    form = register_forms(school=school, access=access, on=on).filter(pk=form_id).first()
    if form is None:
        raise Http404("Form not found")
    return form


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
        status__in=REPORT_ACTION_ORDER,
    ):
        # "AM" < "PM", so (date, session) pairs order as sessions do.
        if (
            not (report.first_date, report.first_session)
            <= (day, session)
            <= (
                report.last_date,
                report.last_session,
            )
        ):
            continue  # a morning-only report does not pre-fill the afternoon
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
    year_start = academic_year_start(until)
    marks = {
        (m.date, m.session): m
        for m in AttendanceMark.objects.filter(
            school=school, pupil=pupil, date__gte=year_start, date__lte=until
        )
    }
    weeks: dict[dt.date, list[MarkDay]] = {}
    for day in calendar.school_days_between(year_start, until):
        weeks.setdefault(week_start(day), []).append(
            MarkDay(
                day=day,
                am=marks.get((day, "AM")),
                pm=marks.get((day, "PM")),
                sessions=tuple(calendar.sessions_on(day)),
            )
        )
    return [weeks[monday] for monday in sorted(weeks, reverse=True)]


# --- Parents' absence reports and leave requests ------------------------------------------

# Reports the office still has to act on, in the order the inbox shows them: unverified
# public-form reports first (nobody has checked who sent them), then account reports, then
# those waiting for the parent's evidence.
REPORT_ACTION_ORDER = (
    ReportStatus.UNVERIFIED,
    ReportStatus.PENDING,
    ReportStatus.EVIDENCE_REQUESTED,
)


def absence_inbox(*, school: School) -> list[AbsenceReport]:
    """The reports needing the office's action, unverified first, then pending, then those
    waiting for evidence; earliest absence first within each. One query."""
    order = Case(
        *(When(status=status, then=rank) for rank, status in enumerate(REPORT_ACTION_ORDER)),
        output_field=IntegerField(),
    )
    return list(
        AbsenceReport.objects.filter(school=school, status__in=REPORT_ACTION_ORDER)
        .select_related("pupil")
        .order_by(order, "first_date", "first_session", "submitted_at")
    )


def absence_inbox_count(*, school: School) -> int:
    """How many reports need the office's action (one indexed count, for the header)."""
    return AbsenceReport.objects.filter(school=school, status__in=REPORT_ACTION_ORDER).count()


def absence_reports_decided(*, school: School, limit: int = 20) -> list[AbsenceReport]:
    """The most recently decided reports, newest decision first."""
    return list(
        AbsenceReport.objects.filter(
            school=school, status__in=[ReportStatus.ACCEPTED, ReportStatus.REJECTED]
        )
        .select_related("pupil", "decided_by__user")
        .order_by("-decided_at", "-pk")[:limit]
    )


def absence_report_get(*, school: School, report_id: int) -> AbsenceReport:
    """One of this school's absence reports; ``Http404`` if missing or another school's."""
    report = (
        AbsenceReport.objects.filter(school=school, pk=report_id)
        .select_related("pupil", "decided_by__user")
        .first()
    )
    if report is None:
        raise Http404("Report not found")
    return report


def leave_requests_pending(*, school: School) -> list[LeaveRequest]:
    """Leave requests waiting for the headteacher, earliest leave first."""
    return list(
        LeaveRequest.objects.filter(school=school, status=LeaveStatus.PENDING)
        .select_related("pupil", "requested_by")
        .order_by("first_date", "requested_at")
    )


def leave_pending_count(*, school: School) -> int:
    return LeaveRequest.objects.filter(school=school, status=LeaveStatus.PENDING).count()


def leave_requests_decided(*, school: School, limit: int = 20) -> list[LeaveRequest]:
    """The most recently decided leave requests, newest decision first."""
    return list(
        LeaveRequest.objects.filter(
            school=school, status__in=[LeaveStatus.APPROVED, LeaveStatus.REFUSED]
        )
        .select_related("pupil", "decided_by__user")
        .order_by("-decided_at", "-pk")[:limit]
    )


def leave_request_get(*, school: School, leave_id: int) -> LeaveRequest:
    """One of this school's leave requests; ``Http404`` if missing or another school's."""
    leave = (
        LeaveRequest.objects.filter(school=school, pk=leave_id)
        .select_related("pupil", "requested_by", "decided_by__user")
        .first()
    )
    if leave is None:
        raise Http404("Leave request not found")
    return leave


@dataclass(frozen=True)
class ParentRequests:
    reports: list[AbsenceReport]
    leave: list[LeaveRequest]


def requests_of_parent(*, school: School, user: User) -> ParentRequests:
    """The absence reports and leave requests this parent sent from their account about
    their own children at ``school``, newest first. Two queries.

    Only their own submissions: another parent's requests (separated parents each with an
    account) and public-form reports (whoever sent them) stay between that sender and the
    school.
    """
    children = children_of_parent(school=school, user=user).values("pk")
    return ParentRequests(
        reports=list(
            reports_of_parent(school=school, user=user)
            .select_related("pupil")
            .order_by("-submitted_at", "-pk")
        ),
        leave=list(
            LeaveRequest.objects.filter(
                school=school, pupil_id__in=children, requested_by_id=user.pk
            )
            .select_related("pupil")
            .order_by("-requested_at", "-pk")
        ),
    )


def reports_of_parent(*, school: School, user: User) -> QuerySet[AbsenceReport]:
    """The absence reports this parent sent from their account about their own children (see
    ``requests_of_parent``)."""
    children = children_of_parent(school=school, user=user).values("pk")
    return AbsenceReport.objects.filter(
        school=school, pupil_id__in=children, submitted_by_id=user.pk
    )


def report_sessions(
    *,
    calendar: SchoolCalendar,
    first_date: dt.date,
    first_session: str,
    last_date: dt.date,
    last_session: str,
) -> list[tuple[dt.date, str]]:
    """The school sessions from (``first_date``, ``first_session``) to (``last_date``,
    ``last_session``) inclusive, in register order; days without sessions are skipped."""
    first, last = (first_date, first_session), (last_date, last_session)
    return [
        (day, str(session))
        for day, session in calendar.sessions_between(first_date, last_date)
        if first <= (day, str(session)) <= last  # "AM" < "PM", so tuples sort in day order
    ]


def phone_digits(value: str) -> str:
    """A UK phone number reduced to its digits, with +44 written as the leading 0."""
    digits = "".join(ch for ch in value if ch.isdigit())
    if digits.startswith("44") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


MIN_PHONE_DIGITS = 6  # shorter "numbers" would match too easily


def pupil_match_public(
    *,
    school: School,
    forename: str,
    surname: str,
    date_of_birth: dt.date,
    phone: str,
    email: str,
) -> Pupil | None:
    """The one pupil of ``school`` that a public-form report describes, or ``None``.

    A match needs the forename and surname (legal or preferred, case-insensitive), the date of
    birth, and a contact of that pupil whose phone (digits compared) or email
    (case-insensitive) is the one given. Two or more candidates give ``None``: the office
    matches by hand. Always one query, matched or not, so the time taken says nothing about
    the roll (security PUB-01).
    """
    forename, surname = " ".join(forename.split()), " ".join(surname.split())
    phone, email = phone_digits(phone), email.strip().lower()
    contacts = Contact.objects.filter(school=school, pupil__date_of_birth=date_of_birth).filter(
        Q(pupil__legal_forename__iexact=forename) | Q(pupil__preferred_forename__iexact=forename),
        Q(pupil__legal_surname__iexact=surname) | Q(pupil__preferred_surname__iexact=surname),
    )
    matched: dict[int, Pupil] = {}
    for contact in contacts.select_related("pupil"):
        numbers = {
            phone_digits(n) for n in (contact.mobile_phone, contact.home_phone, contact.work_phone)
        }
        same_phone = len(phone) >= MIN_PHONE_DIGITS and phone in numbers
        same_email = bool(email) and email == contact.email.strip().lower()
        if same_phone or same_email:
            matched[contact.pupil_id] = contact.pupil
    if len(matched) != 1:
        return None
    return next(iter(matched.values()))


def pupils_for_matching(
    *, school: School, query: str, date_of_birth: dt.date | None, on: dt.date, limit: int = 20
) -> list[Pupil]:
    """Pupils on roll on ``on`` for the office to match an unmatched report to: every word of
    ``query`` in a legal or preferred name; with no query, the pupils born on the stated
    date of birth."""
    pupils = Pupil.objects.filter(school=school).on_roll(on)
    words = query.split()
    if not words:
        if date_of_birth is None:
            return []
        pupils = pupils.filter(date_of_birth=date_of_birth)
    for word in words[:4]:
        pupils = pupils.filter(
            Q(legal_forename__icontains=word)
            | Q(legal_surname__icontains=word)
            | Q(preferred_forename__icontains=word)
            | Q(preferred_surname__icontains=word)
        )
    return list(pupils.order_by("legal_surname", "legal_forename")[:limit])


def holiday_days_taken(
    *,
    school: School,
    pupil: Pupil,
    calendar: SchoolCalendar,
    year_start: dt.date,
    year_end: dt.date,
    exclude_leave_id: int | None = None,
) -> set[dt.date]:
    """The school days between ``year_start`` and ``year_end`` already given to holiday leave
    (Wales, code ``H``): days of approved ``H`` leave requests and days with an ``H`` mark,
    counted once each (spec/regulations.md §2: at most 10 school days a school year)."""
    days: set[dt.date] = set(
        AttendanceMark.objects.filter(
            school=school, pupil=pupil, code="H", date__gte=year_start, date__lte=year_end
        ).values_list("date", flat=True)
    )
    approved = LeaveRequest.objects.filter(
        school=school,
        pupil=pupil,
        status=LeaveStatus.APPROVED,
        applied_code="H",
        first_date__lte=year_end,
        last_date__gte=year_start,
    )
    if exclude_leave_id is not None:
        approved = approved.exclude(pk=exclude_leave_id)
    for first, last in approved.values_list("first_date", "last_date"):
        days.update(calendar.school_days_between(max(first, year_start), min(last, year_end)))
    return days


# --- Home pages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterNow:
    """One form's register for the session running now, and how far it has been taken."""

    form: FormGroup
    date: dt.date
    session: str
    on_roll: int
    marked: int
    is_open: bool
    past_close: bool

    @property
    def complete(self) -> bool:
        return self.on_roll > 0 and self.marked >= self.on_roll


def registers_now(*, school: School, access: SchoolAccess, now: dt.datetime) -> list[RegisterNow]:
    """The registers this user takes for the session running now on the school's clock (none
    on a day without that session). Phases come from ``registers.rules.register_phase``."""
    local = register_clock(school=school, now=now)
    today = local.date()
    session = "PM" if local.time() >= school.pm_register_opens else "AM"
    if not school_calendar_get(school=school).is_session(today, session):
        return []
    forms = list(register_forms(school=school, access=access, on=today))
    summaries = register_summaries(school=school, forms=forms, date=today, session=session)
    # Past its close time whatever its state: a complete register would be locked by now.
    past_close = (
        register_phase_now(school=school, date=today, session=session, taken=True, now=now)
        is Phase.LOCKED
    )
    return [
        RegisterNow(
            form=summary.form,
            date=today,
            session=session,
            on_roll=summary.on_roll,
            marked=summary.marked,
            is_open=register_phase_now(
                school=school, date=today, session=session, taken=summary.complete, now=now
            )
            is Phase.OPEN,
            past_close=past_close,
        )
        for summary in summaries
    ]


# --- A pupil's marks as a calendar (the parents' days-missed page; staff's pupil page) -------


@dataclass(frozen=True)
class CalendarCell:
    """One session of one day. ``kind``: "mark" (a code was recorded), "unmarked" (a school
    session with no mark yet), "to_come" (a school session after ``today``) or "closed" (no
    session: a weekend, a holiday or a closure)."""

    day: dt.date
    session: str
    kind: str
    code: str = ""
    category: str = ""  # registers.codes.StatCategory of the code, "" without one


@dataclass(frozen=True)
class CalendarDay:
    day: dt.date | None  # None: a padding cell before the 1st or after the last of the month
    am: CalendarCell | None = None
    pm: CalendarCell | None = None
    is_today: bool = False
    is_weekend: bool = False
    is_school_day: bool = False


@dataclass(frozen=True)
class CalendarMonth:
    first: dt.date
    weeks: list[list[CalendarDay]]  # Monday to Sunday


@dataclass(frozen=True)
class MarkCalendar:
    months: list[CalendarMonth]
    legend: list[CodeDefinition]  # every code shown, in the statutory table's order


def pupil_mark_calendar(
    *, school: School, pupil: Pupil, today: dt.date, start: dt.date | None = None
) -> MarkCalendar:
    """``pupil``'s marks from ``start`` (default: the start of the academic year containing
    ``today``) to the end of ``today``'s month, as months → weeks (Monday first) → days →
    (AM, PM) cells, with the legend of every code that appears. Plain data from the marks and
    the school's calendar (closures, holidays and weekends are cells of kind "closed"); one
    query for the marks plus the calendar's. The caller has checked the user may see the
    pupil."""
    calendar = school_calendar_get(school=school)
    start = start or academic_year_start(today)
    last_month = today.replace(day=1)
    marks = {
        (m.date, m.session): m.code
        for m in AttendanceMark.objects.filter(
            school=school, pupil=pupil, date__gte=start, date__lte=today
        ).only("date", "session", "code")
    }
    definitions: dict[str, CodeDefinition] = {}

    def cell(day: dt.date, session: str) -> CalendarCell:
        if not calendar.is_session(day, session):
            return CalendarCell(day=day, session=session, kind="closed")
        code = marks.get((day, session), "")
        if code:
            definition = code_lookup(jurisdiction=school.jurisdiction, code=code, on=day)
            if definition is not None:
                definitions.setdefault(code, definition)
            category = str(definition.category) if definition else ""
            return CalendarCell(day=day, session=session, kind="mark", code=code, category=category)
        kind = "to_come" if day > today else "unmarked"
        return CalendarCell(day=day, session=session, kind=kind)

    months = []
    month = start.replace(day=1)
    while month <= last_month:
        weeks = []
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
            days = []
            for day in week:
                if day.month != month.month or day < start:
                    days.append(CalendarDay(day=None))
                    continue
                days.append(
                    CalendarDay(
                        day=day,
                        am=cell(day, "AM"),
                        pm=cell(day, "PM"),
                        is_today=day == today,
                        is_weekend=day.weekday() >= 5,
                        is_school_day=calendar.is_school_day(day),
                    )
                )
            weeks.append(days)
        months.append(CalendarMonth(first=month, weeks=weeks))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    order = {
        d.code: i for i, d in enumerate(codes_in_force(jurisdiction=school.jurisdiction, on=today))
    }
    legend = sorted(definitions.values(), key=lambda d: (order.get(d.code, len(order)), d.code))
    return MarkCalendar(months=months, legend=legend)
