"""The school calendar: the one place that decides school days, sessions and school weeks.

Pure Python over a school's terms and closures, so rolling windows and deadlines elsewhere
(N due dates, penalty-notice weeks, continuous absence) ask this object and compute nothing of
their own. Load one with ``schools.selectors.school_calendar_get(school=...)``.

Definitions (spec/product.md "The school year", spec/regulations.md §5.2 and §11 item 2):
- a *session* is an AM or PM on a weekday inside a term, not removed by a closure;
- a *school day* is a day with at least one session;
- a *school week* is a Monday-to-Sunday week with at least one session;
- an *academic year* runs from 1 August to 31 July.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class Session(StrEnum):
    AM = "AM"
    PM = "PM"


BOTH_SESSIONS = (Session.AM, Session.PM)


@dataclass(frozen=True)
class DateRange:
    start: dt.date
    end: dt.date  # inclusive

    def days(self) -> Iterable[dt.date]:
        day = self.start
        while day <= self.end:
            yield day
            day += dt.timedelta(days=1)


@dataclass(frozen=True)
class ClosedRange:
    start: dt.date
    end: dt.date
    session: Session | None  # None: the whole day


def week_start(day: dt.date) -> dt.date:
    """The Monday of ``day``'s week."""
    return day - dt.timedelta(days=day.weekday())


def academic_year_start(day: dt.date) -> dt.date:
    """1 August of the academic year (1 August to 31 July) containing ``day``."""
    return dt.date(day.year if day.month >= 8 else day.year - 1, 8, 1)


def academic_year_end(start: dt.date) -> dt.date:
    """31 July, the last day of the academic year starting on ``start``."""
    return dt.date(start.year + 1, 7, 31)


def academic_year_name(start: dt.date) -> str:
    """``2024/25`` for the year starting 1 August 2024."""
    return f"{start.year}/{(start.year + 1) % 100:02d}"


@dataclass
class SchoolCalendar:
    """A school's sessions, indexed once so every question is a lookup or a bisect."""

    terms: Sequence[DateRange]
    closures: Sequence[ClosedRange] = ()
    _sessions: dict[dt.date, tuple[Session, ...]] = field(init=False, repr=False)
    _days: list[dt.date] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        sessions: dict[dt.date, set[Session]] = {}
        for term in self.terms:
            for day in term.days():
                if day.weekday() < 5:
                    sessions[day] = set(BOTH_SESSIONS)
        for closure in self.closures:
            for day in DateRange(closure.start, closure.end).days():
                open_sessions = sessions.get(day)
                if open_sessions is None:
                    continue
                if closure.session is None:
                    open_sessions.clear()
                else:
                    open_sessions.discard(closure.session)
        self._sessions = {
            day: tuple(s for s in BOTH_SESSIONS if s in open_sessions)
            for day, open_sessions in sessions.items()
            if open_sessions
        }
        self._days = sorted(self._sessions)

    # --- single days ------------------------------------------------------------------------

    def is_school_day(self, day: dt.date) -> bool:
        return day in self._sessions

    def is_session(self, day: dt.date, session: Session | str) -> bool:
        return Session(session) in self._sessions.get(day, ())

    def sessions_on(self, day: dt.date) -> tuple[Session, ...]:
        return self._sessions.get(day, ())

    # --- ranges -----------------------------------------------------------------------------

    def school_days_between(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """School days from ``start`` to ``end``, both inclusive, in order."""
        lo = bisect.bisect_left(self._days, start)
        hi = bisect.bisect_right(self._days, end)
        return self._days[lo:hi]

    def sessions_between(self, start: dt.date, end: dt.date) -> list[tuple[dt.date, Session]]:
        """Every (date, session) from ``start`` to ``end`` inclusive, in register order."""
        return [
            (day, session)
            for day in self.school_days_between(start, end)
            for session in self._sessions[day]
        ]

    def school_weeks(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Mondays of the weeks with at least one session between ``start`` and ``end``.

        Weeks without sessions (half-terms, holidays, INSET-only weeks) are skipped, so a run
        of school weeks crosses terms and academic years without counting the gaps.
        """
        weeks: list[dt.date] = []
        for day in self.school_days_between(start, end):
            monday = week_start(day)
            if not weeks or weeks[-1] != monday:
                weeks.append(monday)
        return weeks

    def last_school_weeks(self, count: int, ending: dt.date) -> list[dt.date]:
        """The Mondays of the ``count`` school weeks up to and including the week containing
        ``ending``, even when that week's sessions all fall after ``ending`` (a Monday bank
        holiday, a term starting on a Tuesday)."""
        hi = bisect.bisect_right(self._days, week_start(ending) + dt.timedelta(days=6))
        weeks: list[dt.date] = []
        for day in reversed(self._days[:hi]):
            monday = week_start(day)
            if not weeks or weeks[-1] != monday:
                if len(weeks) == count:
                    break
                weeks.append(monday)
        return weeks[::-1]

    def nth_school_day_after(self, day: dt.date, n: int) -> dt.date | None:
        """The ``n``-th school day after ``day`` (``day`` itself is day 0; §3.4).

        ``None`` when the calendar does not yet hold that many school days after ``day``.
        """
        if n < 1:
            raise ValueError("n counts school days after the given day, so it starts at 1")
        index = bisect.bisect_right(self._days, day) + n - 1
        return self._days[index] if index < len(self._days) else None

    def school_day_before(self, day: dt.date) -> dt.date | None:
        """The latest school day strictly before ``day``."""
        index = bisect.bisect_left(self._days, day) - 1
        return self._days[index] if index >= 0 else None

    @property
    def first_day(self) -> dt.date | None:
        return self._days[0] if self._days else None

    @property
    def last_day(self) -> dt.date | None:
        return self._days[-1] if self._days else None
