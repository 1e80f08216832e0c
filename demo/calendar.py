"""The demo schools' calendars (pure): terms, half-terms, bank holidays and INSET days as the
local authorities of England and Wales lay them out."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Literal

from schools.calendar import (
    ClosedRange,
    DateRange,
    SchoolCalendar,
    Session,
    academic_year_end,
    academic_year_name,
)
from schools.models import (
    ClosureKind,
)


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday of ``year`` in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def bank_holidays(year: int) -> dict[dt.date, str]:
    """The regular England and Wales bank holidays in calendar ``year``, with their names.

    Weekend New Year's, Christmas and Boxing Days move to the following weekdays, as the
    proclamations do. One-off holidays (jubilees, coronations) are not included.
    """
    easter = easter_sunday(year)
    holidays = {
        _next_weekday(dt.date(year, 1, 1)): "New Year's Day",
        easter - dt.timedelta(days=2): "Good Friday",
        easter + dt.timedelta(days=1): "Easter Monday",
        _weekday_on_or_after(dt.date(year, 5, 1), 0): "Early May bank holiday",
        _weekday_on_or_before(dt.date(year, 5, 31), 0): "Spring bank holiday",
        _weekday_on_or_before(dt.date(year, 8, 31), 0): "Summer bank holiday",
    }
    christmas, boxing = dt.date(year, 12, 25), dt.date(year, 12, 26)
    if christmas.weekday() == 5:  # Saturday: Monday and Tuesday
        christmas, boxing = christmas + dt.timedelta(days=2), christmas + dt.timedelta(days=3)
    elif christmas.weekday() == 6:  # Sunday: Boxing Day is Monday, Christmas moves to Tuesday
        christmas = christmas + dt.timedelta(days=2)
    elif christmas.weekday() == 4:  # Friday: Boxing Day moves to Monday
        boxing = dt.date(year, 12, 28)
    holidays[christmas] = "Christmas Day"
    holidays[boxing] = "Boxing Day"
    return holidays


def _weekday_on_or_after(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _weekday_on_or_before(day: dt.date, weekday: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - weekday) % 7)


def _next_weekday(day: dt.date) -> dt.date:
    return day if day.weekday() < 5 else _weekday_on_or_after(day, 0)


def _term_start(day: dt.date) -> dt.date:
    """First weekday on or after ``day``; a term does not start on a lone Friday."""
    return _weekday_on_or_after(day, 0) if day.weekday() >= 4 else day


InsetAnchor = Literal[
    "autumn_first",
    "autumn_second",
    "before_october_half_term",
    "spring_first",
    "before_february_half_term",
    "summer_first",
    "after_may_half_term",
    "summer_last",
]


@dataclass(frozen=True)
class CalendarRules:
    """How one school's local authority lays out its year, as far as the demo needs.

    England: the Easter holiday is Holy Week and Easter week. Wales: from Good Friday for two
    weeks after Easter Monday. Half-terms are the weeks of the last Monday of October, the
    third Monday of February and the spring bank holiday (last Monday of May) everywhere.
    """

    easter_holiday: Literal["holy_week", "from_good_friday"]
    summer_term_ends: int  # day of July (moved back to the Friday at a weekend)
    inset_days: tuple[InsetAnchor, ...]
    welsh: bool = False  # describe terms and closures in English and Welsh


@dataclass(frozen=True)
class TermDates:
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class ClosureDates:
    start: dt.date
    end: dt.date
    kind: ClosureKind
    description: str
    session: str = ""  # "" for the whole day, else "AM" or "PM"


@dataclass(frozen=True)
class YearCalendar:
    """One academic year (1 August to 31 July) of one school's terms and closures."""

    start_year: int
    terms: tuple[TermDates, ...]
    closures: tuple[ClosureDates, ...]

    @property
    def name(self) -> str:
        return academic_year_name(self.start_date)

    @property
    def start_date(self) -> dt.date:
        return dt.date(self.start_year, 8, 1)

    @property
    def end_date(self) -> dt.date:
        return academic_year_end(self.start_date)

    @functools.cached_property
    def school_calendar(self) -> SchoolCalendar:
        return SchoolCalendar(
            terms=[DateRange(term.start, term.end) for term in self.terms],
            closures=[
                ClosedRange(c.start, c.end, Session(c.session) if c.session else None)
                for c in self.closures
            ],
        )

    @property
    def first_school_day(self) -> dt.date:
        first = self.school_calendar.first_day
        assert first is not None  # every planned year has terms
        return first

    @property
    def last_school_day(self) -> dt.date:
        last = self.school_calendar.last_day
        assert last is not None
        return last

    def first_school_day_after_half_term(self, month: int) -> dt.date:
        """The day pupils come back from the half-term that starts in ``month``."""
        half_term = next(
            c for c in self.closures if c.kind == ClosureKind.HALF_TERM and c.start.month == month
        )
        day = self.school_calendar.nth_school_day_after(half_term.end, 1)
        assert day is not None
        return day


def _bilingual(english: str, welsh: str, rules: CalendarRules) -> str:
    return f"{english} / {welsh}" if rules.welsh else english


@functools.cache
def year_calendar(rules: CalendarRules, start_year: int) -> YearCalendar:
    """The terms and closures of the academic year starting 1 August ``start_year``.

    Pure and cached. About 190 school days a year: three terms, three half-term weeks, the
    early May bank holiday when it falls in term, five INSET days and one planned afternoon
    closure (an early finish on the last day before Christmas).
    """
    y = start_year
    easter = easter_sunday(y + 1)
    december_20 = dt.date(y, 12, 20)
    autumn_end = (
        december_20
        if december_20.weekday() in (2, 3)  # a Wednesday or Thursday: finish that day
        else _weekday_on_or_before(december_20, 4)
    )
    if rules.easter_holiday == "holy_week":
        spring_end = easter - dt.timedelta(days=9)  # the Friday before Palm Sunday
        summer_start = easter + dt.timedelta(days=8)  # the Monday after Easter week
    else:
        spring_end = easter - dt.timedelta(days=3)  # the Thursday before Good Friday
        summer_start = easter + dt.timedelta(days=15)  # two weeks after Easter Monday
    summer_end = dt.date(y + 1, 7, rules.summer_term_ends)
    if summer_end.weekday() >= 5:
        summer_end = _weekday_on_or_before(summer_end, 4)
    terms = (
        TermDates(
            _bilingual(f"Autumn {y}", "Tymor yr Hydref", rules),
            _term_start(dt.date(y, 9, 1)),
            autumn_end,
        ),
        TermDates(
            _bilingual(f"Spring {y + 1}", "Tymor y Gwanwyn", rules),
            _term_start(dt.date(y + 1, 1, 4)),
            spring_end,
        ),
        TermDates(_bilingual(f"Summer {y + 1}", "Tymor yr Haf", rules), summer_start, summer_end),
    )
    autumn, spring, summer = terms
    # The school days before any closure: weekdays in term, as schools.calendar counts them.
    in_term = SchoolCalendar(terms=[DateRange(t.start, t.end) for t in terms]).is_school_day

    closures: list[ClosureDates] = []
    closed: set[dt.date] = set()

    def close(
        start: dt.date, end: dt.date, kind: ClosureKind, description: str, session: str = ""
    ) -> None:
        closures.append(ClosureDates(start, end, kind, description, session))
        if not session:
            closed.update(d for d in DateRange(start, end).days())

    half_terms = (
        (_weekday_on_or_before(dt.date(y, 10, 31), 0), "October", "Hydref"),
        (_weekday_on_or_after(dt.date(y + 1, 2, 15), 0), "February", "Chwefror"),
        (_weekday_on_or_before(dt.date(y + 1, 5, 31), 0), "May", "Mai"),
    )
    for monday, english, welsh in half_terms:
        close(
            monday,
            monday + dt.timedelta(days=4),
            ClosureKind.HALF_TERM,
            _bilingual(f"{english} half-term", f"Hanner tymor {welsh}", rules),
        )
    for calendar_year in (y, y + 1):
        for day, holiday in sorted(bank_holidays(calendar_year).items()):
            if in_term(day) and day not in closed:
                close(
                    day,
                    day,
                    ClosureKind.BANK_HOLIDAY,
                    _bilingual(holiday, "Gŵyl y banc", rules),
                )

    anchors: dict[InsetAnchor, tuple[dt.date, int]] = {  # date, and which way to move it
        "autumn_first": (autumn.start, 1),
        "autumn_second": (autumn.start + dt.timedelta(days=1), 1),
        "before_october_half_term": (half_terms[0][0] - dt.timedelta(days=3), -1),
        "spring_first": (spring.start, 1),
        "before_february_half_term": (half_terms[1][0] - dt.timedelta(days=3), -1),
        "summer_first": (summer.start, 1),
        "after_may_half_term": (half_terms[2][0] + dt.timedelta(days=7), 1),
        "summer_last": (summer.end, -1),
    }
    for anchor in rules.inset_days:
        day, step = anchors[anchor]
        # Slide off weekends, bank holidays and other INSET days, staying in term.
        while not in_term(day) or day in closed:
            day += dt.timedelta(days=step)
        close(day, day, ClosureKind.INSET, _bilingual("INSET day", "Diwrnod HMS", rules))

    last_autumn_day = autumn.end
    while last_autumn_day in closed or not in_term(last_autumn_day):
        last_autumn_day -= dt.timedelta(days=1)
    close(
        last_autumn_day,
        last_autumn_day,
        ClosureKind.PLANNED,
        _bilingual(
            "Christmas early finish: school closes at lunchtime",
            "Gorffen yn gynnar dros y Nadolig",
            rules,
        ),
        session=Session.PM.value,
    )
    closures.sort(key=lambda c: (c.start, c.session))
    return YearCalendar(start_year=y, terms=terms, closures=tuple(closures))
