"""Pure register rules: lateness (TC-03), when a register is open, when an N falls due.

No ORM here, so the rules are tested table-driven and called from services, views and
imports alike (spec/regulations.md §3.1, §3.2, §3.4).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from schools.calendar import SchoolCalendar

# §3.4: N must be replaced within 5 school days; the session day is day 0. The guidance's one
# mention of "working days" is not followed: school days are the regulation's unit (§11 item 6).
N_RESOLVE_SCHOOL_DAYS = 5


@dataclass(frozen=True)
class RegisterTimes:
    opens: dt.time
    closes: dt.time
    session_ends: dt.time


class Phase(StrEnum):
    UPCOMING = "upcoming"  # a later day: nothing to take yet
    OPEN = "open"  # the tutor may take and correct it
    LOCKED = "locked"  # closed: only authorised staff amend, with a reason


def register_phase(*, now: dt.datetime, date: dt.date, times: RegisterTimes, taken: bool) -> Phase:
    """Where a register stands at ``now`` (a naive or aware local time at the school).

    It is open all day until the register closes; a register not yet complete at its close
    time stays open until the end of the session so it can still be taken (and is flagged to
    the attendance officer meanwhile); then it locks (product.md, Registers).
    """
    local = now.replace(tzinfo=None)
    if local.date() < date:
        return Phase.UPCOMING
    if local.date() > date:
        return Phase.LOCKED
    if local.time() < times.closes:
        return Phase.OPEN
    if not taken and local.time() < times.session_ends:
        return Phase.OPEN
    return Phase.LOCKED


def _minutes_after_opening(times: RegisterTimes, at: dt.time) -> int:
    day = dt.date(2000, 1, 3)
    delta = dt.datetime.combine(day, at) - dt.datetime.combine(day, times.opens)
    return int(delta.total_seconds() // 60)


def late_code(*, minutes_late: int, times: RegisterTimes) -> str | None:
    """``L`` or ``U`` for a pupil arriving ``minutes_late`` minutes after the register opened,
    or ``None`` when that arrival is at or after the end of the session.

    Before the register has ended it is ``L``; at exactly the close time or later it is ``U``
    (§3.2: arriving at the closing time is not "before the taking of the register has ended").
    After the session has ended there is no L or U (§3.2): the caller refuses the minutes.
    Counted in minutes, not clock times, so a large number cannot wrap past midnight into an
    early arrival.
    """
    if minutes_late >= _minutes_after_opening(times, times.session_ends):
        return None
    return "L" if minutes_late < _minutes_after_opening(times, times.closes) else "U"


def arrival_code(*, arrival: dt.time, times: RegisterTimes) -> tuple[str, int | None]:
    """The code and minutes late for a pupil arriving at ``arrival`` (TC-03's table).

    Returns ``("/", None)`` for arrival by the opening time. After the session has ended there
    is no L or U: ``("N", None)`` until the reason is known (§3.2).
    """
    if arrival <= times.opens:
        return "/", None
    if arrival >= times.session_ends:
        return "N", None
    opened = dt.datetime.combine(dt.date(2000, 1, 3), times.opens)
    minutes = int((dt.datetime.combine(opened.date(), arrival) - opened).total_seconds() // 60)
    return ("L" if arrival < times.closes else "U"), minutes


def n_due_date(*, calendar: SchoolCalendar, session_date: dt.date) -> dt.date | None:
    """The last school day to resolve an ``N`` recorded on ``session_date`` (TC-13)."""
    return calendar.nth_school_day_after(session_date, N_RESOLVE_SCHOOL_DAYS)
