"""Leave of absence in term time: a parent's request and the headteacher's decision
(product.md "Parents"). Approved leave writes its code through ``registers.services.marks``."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registers.models import LeaveRequest, LeaveStatus, MarkSource, field_max_length
from registers.selectors import holiday_days_taken
from registers.services.marks import WriteResult, marks_apply
from registers.services.reports import note_check, parent_check
from schools.calendar import (
    SchoolCalendar,
    academic_year_end,
    academic_year_name,
    academic_year_start,
)
from schools.models import Jurisdiction, Pupil, School, StaffMembership
from schools.permissions import Capability, check_capability
from schools.selectors import academic_year_for, school_calendar_get

LEAVE_MAX_DAYS = 90
# Seed 001 asks parents for at least two weeks' notice of leave. Shorter notice is a warning,
# not a refusal: the regulations leave the decision to the head (§8), and a funeral cannot wait.
LEAVE_NOTICE_DAYS = 14
# Wales: holiday leave of at most 10 school days a school year, save in exceptional
# circumstances (spec/regulations.md §2, Wales reg 7).
WALES_HOLIDAY_SCHOOL_DAYS = 10
LEAVE_APPROVED_REASON = "Leave of absence approved"


def leave_short_notice(*, first_date: dt.date, today: dt.date) -> bool:
    """Less than the two weeks' notice seed 001 asks for (a warning, never a refusal)."""
    return (first_date - today).days < LEAVE_NOTICE_DAYS


@transaction.atomic
def leave_request_submit(
    *,
    school: School,
    pupil: Pupil,
    user: User,
    first_date: dt.date,
    last_date: dt.date,
    is_holiday: bool,
    reason: str,
    now: dt.datetime | None = None,
) -> LeaveRequest:
    """A parent's request for leave of absence in term time for one of their own children:
    ``PENDING`` until the headteacher decides. Short notice is accepted (see
    ``leave_short_notice``). Raises ``ValidationError`` (keyed by form field) for another
    child, a start before today, an inverted or over-long range, dates with no school
    sessions, or a missing or over-long reason."""
    now = now or timezone.now()
    parent_check(school=school, pupil=pupil, user=user)
    reason = reason.strip()
    errors: dict[str, str] = {}
    if len(reason) < 3:
        errors["reason"] = _("Tell the school why you are asking for leave.")
    elif len(reason) > LeaveRequest._meta.get_field("reason").max_length:  # type: ignore[operator]
        errors["reason"] = _("Keep the reason to 1,000 characters.")
    if first_date < timezone.localdate(now):
        errors["first_date"] = _("Leave is asked for in advance: choose today or a later day.")
    if last_date < first_date:
        errors["last_date"] = _("The last day must be the same as the first day or later.")
    elif (last_date - first_date).days >= LEAVE_MAX_DAYS:
        errors["last_date"] = _("Ask for at most %(days)s days at a time.") % {
            "days": LEAVE_MAX_DAYS
        }
    elif not school_calendar_get(school=school).school_days_between(first_date, last_date):
        errors["first_date"] = _("Those dates are all outside term time: no leave is needed.")
    if errors:
        raise ValidationError(errors)
    return LeaveRequest.objects.create(
        school=school,
        pupil=pupil,
        requested_by=user,
        first_date=first_date,
        last_date=last_date,
        is_holiday=is_holiday,
        reason=reason,
        status=LeaveStatus.PENDING,
        requested_at=now,
    )


def _open_leave(
    *, school: School, leave: LeaveRequest, membership: StaffMembership
) -> LeaveRequest:
    check_capability(
        membership,
        Capability.DECIDE_LEAVE,
        school=school,
        message=_("Only the headteacher decides leave of absence."),
    )
    locked = LeaveRequest.objects.select_for_update().filter(school=school, pk=leave.pk).first()
    if locked is None:
        raise ValidationError(_("This leave request is not one of this school's."))
    if locked.status != LeaveStatus.PENDING:
        raise ValidationError(_("This leave request has already been decided."))
    return locked


def leave_code(*, school: School, leave: LeaveRequest) -> str:
    """The code approved leave is recorded with: ``H`` for a family holiday in Wales, else
    ``C`` (leave in exceptional circumstances, both jurisdictions)."""
    return "H" if school.jurisdiction == Jurisdiction.WALES and leave.is_holiday else "C"


def _school_year(*, school: School, on: dt.date) -> tuple[dt.date, dt.date, str]:
    year = academic_year_for(school=school, on=on)
    if year is not None:
        return year.start_date, year.end_date, year.name
    start = academic_year_start(on)
    return start, academic_year_end(start), academic_year_name(start)


def leave_holiday_days(
    *, school: School, leave: LeaveRequest, calendar: SchoolCalendar | None = None
) -> tuple[int, str]:
    """School days of holiday leave this pupil would have in the leave's school year if
    ``leave`` were approved (earlier ``H`` leave and marks, plus this request, each day
    once), and the year's name."""
    calendar = calendar or school_calendar_get(school=school)
    start, end, name = _school_year(school=school, on=leave.first_date)
    taken = holiday_days_taken(
        school=school,
        pupil=leave.pupil,
        calendar=calendar,
        year_start=start,
        year_end=end,
        exclude_leave_id=leave.pk,
    )
    asked = calendar.school_days_between(max(leave.first_date, start), min(leave.last_date, end))
    return len(taken.union(asked)), name


@transaction.atomic
def leave_request_approve(
    *,
    school: School,
    leave: LeaveRequest,
    membership: StaffMembership,
    exceptional_circumstances: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> WriteResult:
    """The headteacher approves leave: ``leave_code`` goes on every school session of the
    range through ``marks_write`` (source "leave"), in advance for sessions not yet taken.

    Wales holiday leave beyond 10 school days in the school year (``leave_holiday_days``)
    needs the exceptional circumstances recorded, else ``ValidationError``. Also refused:
    circumstances or a note over 500 characters, anyone but the headteacher, a request already decided, or a session ``mark_validate``
    rejects (nothing is written then).
    """
    now = now or timezone.now()
    leave = _open_leave(school=school, leave=leave, membership=membership)
    exceptional, note = exceptional_circumstances.strip(), note.strip()
    for value, field_name, message in (
        (
            exceptional,
            "exceptional_circumstances",
            _("Keep the exceptional circumstances to %(limit)s characters."),
        ),
        (note, "decision_note", _("Keep the note to %(limit)s characters.")),
    ):
        limit = field_max_length(LeaveRequest, field_name)
        if len(value) > limit:  # refused, never cut short: the record must say what was written
            raise ValidationError(message % {"limit": limit})
    calendar = school_calendar_get(school=school)
    code = leave_code(school=school, leave=leave)
    if code == "H":
        days, year_name = leave_holiday_days(school=school, leave=leave, calendar=calendar)
        if days > WALES_HOLIDAY_SCHOOL_DAYS and not exceptional:
            raise ValidationError(
                _(
                    "Approving this would give %(pupil)s %(days)s school days of holiday leave "
                    "in %(year)s. Holiday leave is limited to %(limit)s school days a year save "
                    "in exceptional circumstances: record them to approve, or refuse the request."
                )
                % {
                    "pupil": leave.pupil,
                    "days": days,
                    "year": year_name,
                    "limit": WALES_HOLIDAY_SCHOOL_DAYS,
                }
            )
    sessions = [
        (d, str(s)) for d, s in calendar.sessions_between(leave.first_date, leave.last_date)
    ]
    result = marks_apply(
        school=school,
        pupil=leave.pupil,
        sessions=sessions,
        code=code,
        calendar=calendar,
        membership=membership,
        source=MarkSource.LEAVE,
        reason=LEAVE_APPROVED_REASON,
        now=now,
    )
    leave.status, leave.applied_code = LeaveStatus.APPROVED, code
    leave.exceptional_circumstances, leave.decision_note = exceptional, note
    leave.decided_by, leave.decided_at = membership, now
    leave.save(
        update_fields=[
            "status",
            "applied_code",
            "exceptional_circumstances",
            "decision_note",
            "decided_by",
            "decided_at",
        ]
    )
    return result


@transaction.atomic
def leave_request_refuse(
    *,
    school: School,
    leave: LeaveRequest,
    membership: StaffMembership,
    note: str,
    now: dt.datetime | None = None,
) -> LeaveRequest:
    """The headteacher refuses leave, with a note the parent sees. No mark is written: the
    tutor's register shows "Leave refused: G if absent" for those dates. Raises
    ``ValidationError`` without a note, for anyone but the head, or if already decided."""
    note = note_check(note, missing=_("Write a note saying why the leave is refused."))
    leave = _open_leave(school=school, leave=leave, membership=membership)
    leave.status, leave.decision_note = LeaveStatus.REFUSED, note
    leave.decided_by, leave.decided_at = membership, now or timezone.now()
    leave.save(update_fields=["status", "decision_note", "decided_by", "decided_at"])
    return leave
