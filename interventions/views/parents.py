"""The parents' days-missed page: their child's attendance this school year as days and
sessions missed, the percentage second, then the marks as a calendar with a legend.

It lives in interventions, not registers, because the figures are the engine's (stored
results, or computed now from the marks before the first recompute): registers may not import
interventions, and a second implementation of the §4.1 figures would drift. The calendar
itself is plain data from registers (``registers.selectors.pupil_mark_calendar``), and its
component (``_components/mark_calendar.html``) is shared with staff's pupil page."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from interventions import rules, selectors
from registers.selectors import pupil_mark_calendar
from schools.permissions import Capability, require_capability
from schools.selectors import pupil_visible_get
from schools.types import SchoolRequest


@dataclass(frozen=True)
class DaysMissed:
    """Sessions are half-days: 2 sessions make a day."""

    missed_sessions: int
    possible_sessions: int
    attendance: str | None  # one decimal place, e.g. "93.4"; None with no possible session

    @property
    def missed_days(self) -> str:
        return _days(self.missed_sessions)

    @property
    def possible_days(self) -> str:
        return _days(self.possible_sessions)


def _days(sessions: int) -> str:
    whole, half = divmod(sessions, 2)
    return f"{whole}.5" if half else str(whole)


def days_missed(rates: rules.SessionRates | None) -> DaysMissed:
    if rates is None:
        return DaysMissed(missed_sessions=0, possible_sessions=0, attendance=None)
    rate: Fraction | None = rates.attendance_rate
    return DaysMissed(
        missed_sessions=rates.authorised_sessions + rates.unauthorised_sessions,
        possible_sessions=rates.possible_sessions,
        attendance=rules.pct1(rate) if rate is not None else None,
    )


@require_GET
@require_capability(Capability.VIEW_MARKS)
def child_days_missed(request: SchoolRequest, pupil_id: int) -> HttpResponse:
    school, today = request.school, timezone.localdate()
    pupil = pupil_visible_get(
        school=school, access=request.access, user=request.user, pupil_id=pupil_id, on=today
    )
    results = selectors.pupil_attendance_stored(school=school, pupil=pupil, on=today)
    if not results:  # before the first recompute: the engine, now, from the marks
        start, end = selectors.academic_period_for(school=school, on=today)
        results = selectors.pupil_attendance_computed(
            school=school, pupil=pupil, period_start=start, period_end=end, as_of=today
        )
    return render(
        request,
        "interventions/child_days_missed.html",
        {
            "pupil": pupil,
            "figures": days_missed(results[0].state if results else None),
            "calendar": pupil_mark_calendar(school=school, pupil=pupil, today=today),
            "today": today,
        },
    )
