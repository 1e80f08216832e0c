from __future__ import annotations

import datetime as dt

import pytest
from django_scopes import scopes_disabled
from hypothesis import given, settings
from hypothesis import strategies as st

from schools.calendar import ClosedRange, DateRange, SchoolCalendar, Session
from schools.models import ClosureKind, SessionChoice
from schools.scoping import school_scope
from schools.selectors import school_calendar_get
from tests import factories as f

AM, PM = Session.AM, Session.PM
d = dt.date

# CAL-A, spec/regulations.md §12: autumn from Mon 2 Sep 2024 to Fri 20 Dec 2024 with half-term
# Mon 28 Oct - Fri 1 Nov 2024 as a closure; Christmas (23 Dec - 3 Jan) falls between the
# terms; spring from Mon 6 Jan 2025 (here to its half-term, Fri 14 Feb 2025). No INSET days.
AUTUMN_2024 = DateRange(d(2024, 9, 2), d(2024, 12, 20))
SPRING_2025 = DateRange(d(2025, 1, 6), d(2025, 2, 14))
HALF_TERM = ClosedRange(d(2024, 10, 28), d(2024, 11, 1), None)
CAL_A = SchoolCalendar(terms=[AUTUMN_2024, SPRING_2025], closures=[HALF_TERM])

# The "School weeks" table of §12, week commencing.
CAL_A_SCHOOL_WEEKS = {
    "W1": d(2024, 9, 2),
    "W2": d(2024, 9, 9),
    "W3": d(2024, 9, 16),
    "W4": d(2024, 9, 23),
    "W5": d(2024, 9, 30),
    "W6": d(2024, 10, 7),
    "W7": d(2024, 10, 14),
    "W8": d(2024, 10, 21),
    # 28 Oct: half-term, not a school week
    "W9": d(2024, 11, 4),
    "W10": d(2024, 11, 11),
    "W11": d(2024, 11, 18),
    "W12": d(2024, 11, 25),
    "W13": d(2024, 12, 2),
    "W14": d(2024, 12, 9),
    "W15": d(2024, 12, 16),
    # 23 Dec and 30 Dec: Christmas holiday, not school weeks
    "W16": d(2025, 1, 6),
}
W = CAL_A_SCHOOL_WEEKS

# Across an academic year: summer term Tue 22 Apr (after Easter Monday) to Fri 18 Jul 2025,
# with the Mon 5 May bank holiday; autumn term from Wed 3 Sep 2025.
SUMMER_TO_AUTUMN = SchoolCalendar(
    terms=[DateRange(d(2025, 4, 22), d(2025, 7, 18)), DateRange(d(2025, 9, 3), d(2025, 12, 19))],
    closures=[ClosedRange(d(2025, 5, 5), d(2025, 5, 5), None)],
)


def _days(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


# --- school weeks ---------------------------------------------------------------------------


def test_cal_a_school_weeks_are_the_worked_table():
    weeks = CAL_A.school_weeks(d(2024, 9, 1), d(2025, 1, 12))

    assert weeks == list(CAL_A_SCHOOL_WEEKS.values())
    assert d(2024, 10, 28) not in weeks  # half-term
    assert d(2024, 12, 23) not in weeks  # Christmas
    assert d(2024, 12, 30) not in weeks  # Christmas


def test_cal_a_autumn_term_has_75_school_days_and_150_sessions():
    # 16 Monday-to-Friday weeks from 2 Sep to 20 Dec = 80 weekdays, less the 5 of half-term.
    assert len(CAL_A.school_days_between(d(2024, 9, 1), d(2024, 12, 31))) == 75
    assert len(CAL_A.sessions_between(d(2024, 9, 1), d(2024, 12, 31))) == 150


def test_school_weeks_of_a_partial_range_start_at_the_week_of_its_first_school_day():
    # Wed 30 Oct (half-term) to Tue 5 Nov: only 4 and 5 Nov are school days.
    assert CAL_A.school_weeks(d(2024, 10, 30), d(2024, 11, 5)) == [W["W9"]]
    assert CAL_A.school_weeks(d(2024, 12, 21), d(2025, 1, 5)) == []


@pytest.mark.parametrize(
    ("ending", "expected"),
    [
        # a Friday in W12: W3..W12, skipping half-term (10 weeks span 11 calendar weeks)
        (d(2024, 11, 29), ["W3", "W4", "W5", "W6", "W7", "W8", "W9", "W10", "W11", "W12"]),
        # a Saturday counts with its own week
        (d(2024, 11, 30), ["W3", "W4", "W5", "W6", "W7", "W8", "W9", "W10", "W11", "W12"]),
        # in W16: across half-term and Christmas
        (d(2025, 1, 8), ["W7", "W8", "W9", "W10", "W11", "W12", "W13", "W14", "W15", "W16"]),
        # New Year's Day, in the holiday: the window ends at the last school week, W15
        (d(2025, 1, 1), ["W6", "W7", "W8", "W9", "W10", "W11", "W12", "W13", "W14", "W15"]),
        # the half-term Sunday: only 8 school weeks exist so far
        (d(2024, 11, 3), ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8"]),
    ],
)
def test_last_ten_school_weeks_span_half_term_and_christmas(ending, expected):
    assert CAL_A.last_school_weeks(10, ending) == [W[name] for name in expected]


def test_last_school_weeks_cross_an_academic_year():
    assert SUMMER_TO_AUTUMN.school_weeks(d(2025, 7, 14), d(2025, 9, 14)) == [
        d(2025, 7, 14),
        d(2025, 9, 1),
        d(2025, 9, 8),
    ]
    assert SUMMER_TO_AUTUMN.last_school_weeks(3, d(2025, 9, 5)) == [
        d(2025, 7, 7),
        d(2025, 7, 14),
        d(2025, 9, 1),
    ]


@pytest.mark.parametrize(
    ("ending", "expected"),
    [
        # Mon 5 May 2025 is a bank holiday; Tue 6 - Fri 9 May are school days.
        (d(2025, 5, 5), [d(2025, 4, 28), d(2025, 5, 5)]),
        # Easter Monday 21 Apr 2025; the summer term starts on Tue 22 Apr.
        (d(2025, 4, 21), [d(2025, 4, 21)]),
    ],
)
def test_last_school_weeks_include_the_week_containing_ending(ending, expected):
    assert SUMMER_TO_AUTUMN.last_school_weeks(len(expected), ending) == expected


# --- nth school day after (the N deadline of §3.4) ------------------------------------------


def test_n_deadline_is_the_fifth_school_day_after_the_session_tc13():
    # TC-13: N on Fri 25 Oct 2024; the session day is day 0; half-term is skipped.
    days = [CAL_A.nth_school_day_after(d(2024, 10, 25), n) for n in range(1, 6)]

    assert days == [d(2024, 11, 4), d(2024, 11, 5), d(2024, 11, 6), d(2024, 11, 7), d(2024, 11, 8)]


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (d(2024, 10, 21), 5, d(2024, 11, 4)),  # Mon + 22, 23, 24, 25 Oct, then 4 Nov
        (d(2024, 10, 26), 1, d(2024, 11, 4)),  # a Saturday before half-term
        (d(2024, 10, 30), 1, d(2024, 11, 4)),  # a day inside half-term
        (d(2024, 12, 19), 1, d(2024, 12, 20)),
        (d(2024, 12, 19), 2, d(2025, 1, 6)),  # across Christmas
        (d(2024, 12, 20), 5, d(2025, 1, 10)),  # 6, 7, 8, 9, 10 Jan
    ],
)
def test_nth_school_day_after_skips_holidays(day, n, expected):
    assert CAL_A.nth_school_day_after(day, n) == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (d(2025, 7, 16), 2, d(2025, 7, 18)),
        (d(2025, 7, 16), 3, d(2025, 9, 3)),  # summer holiday skipped
        (d(2025, 7, 18), 5, d(2025, 9, 9)),  # Wed 3, Thu 4, Fri 5, Mon 8, Tue 9 Sep
        (d(2025, 5, 2), 1, d(2025, 5, 6)),  # the bank holiday Monday is skipped
    ],
)
def test_nth_school_day_after_crosses_an_academic_year(day, n, expected):
    assert SUMMER_TO_AUTUMN.nth_school_day_after(day, n) == expected


def test_nth_school_day_after_is_none_beyond_the_calendar():
    assert CAL_A.nth_school_day_after(d(2025, 2, 12), 2) == d(2025, 2, 14)
    assert CAL_A.nth_school_day_after(d(2025, 2, 12), 3) is None
    assert CAL_A.nth_school_day_after(d(2025, 2, 14), 1) is None
    assert SchoolCalendar(terms=[]).nth_school_day_after(d(2024, 9, 2), 1) is None


def test_nth_school_day_after_refuses_day_zero():
    with pytest.raises(ValueError, match="starts at 1"):
        CAL_A.nth_school_day_after(d(2024, 10, 25), 0)


def test_school_day_before_and_the_calendars_ends():
    assert CAL_A.school_day_before(d(2024, 11, 4)) == d(2024, 10, 25)
    assert CAL_A.school_day_before(d(2025, 1, 6)) == d(2024, 12, 20)
    assert CAL_A.school_day_before(d(2024, 9, 2)) is None
    assert CAL_A.first_day == d(2024, 9, 2)
    assert CAL_A.last_day == d(2025, 2, 14)
    assert SchoolCalendar(terms=[]).first_day is None


# --- single days and sessions ---------------------------------------------------------------


def test_weekends_never_have_sessions_even_inside_a_term():
    # A term written from a Saturday to a Sunday: its weekends are still not school days.
    calendar = SchoolCalendar(terms=[DateRange(d(2024, 8, 31), d(2025, 2, 16))])

    for day in _days(d(2024, 8, 31), d(2025, 2, 16)):
        if day.weekday() >= 5:
            assert calendar.sessions_on(day) == ()
            assert not calendar.is_school_day(day)
            assert not calendar.is_session(day, AM)
            assert not calendar.is_session(day, PM)
        else:
            assert calendar.sessions_on(day) == (AM, PM)


def test_holidays_and_closures_have_no_sessions():
    for day in [*_days(d(2024, 10, 28), d(2024, 11, 1)), *_days(d(2024, 12, 23), d(2025, 1, 3))]:
        assert not CAL_A.is_school_day(day)
        assert CAL_A.sessions_on(day) == ()
    assert CAL_A.is_school_day(d(2024, 10, 25))
    assert CAL_A.is_session(d(2024, 10, 25), "AM")
    assert CAL_A.is_session(d(2024, 10, 25), "PM")
    assert CAL_A.is_school_day(d(2024, 11, 4))


def test_an_inset_morning_leaves_the_afternoon_session():
    inset_am = ClosedRange(d(2024, 9, 11), d(2024, 9, 11), AM)
    calendar = SchoolCalendar(terms=[AUTUMN_2024], closures=[HALF_TERM, inset_am])

    assert calendar.sessions_between(d(2024, 9, 10), d(2024, 9, 12)) == [
        (d(2024, 9, 10), AM),
        (d(2024, 9, 10), PM),
        (d(2024, 9, 11), PM),
        (d(2024, 9, 12), AM),
        (d(2024, 9, 12), PM),
    ]
    assert calendar.is_school_day(d(2024, 9, 11))
    assert not calendar.is_session(d(2024, 9, 11), AM)
    assert calendar.is_session(d(2024, 9, 11), PM)
    assert calendar.nth_school_day_after(d(2024, 9, 10), 1) == d(2024, 9, 11)


def test_a_closed_morning_and_a_closed_afternoon_close_the_day():
    calendar = SchoolCalendar(
        terms=[AUTUMN_2024],
        closures=[
            ClosedRange(d(2024, 9, 11), d(2024, 9, 11), AM),
            ClosedRange(d(2024, 9, 11), d(2024, 9, 11), PM),
        ],
    )

    assert not calendar.is_school_day(d(2024, 9, 11))
    assert calendar.nth_school_day_after(d(2024, 9, 10), 1) == d(2024, 9, 12)


def test_a_week_of_only_inset_days_is_not_a_school_week():
    # §11 item 2: a week counts only if pupils have at least one session in it.
    inset_week = ClosedRange(d(2024, 9, 2), d(2024, 9, 6), None)
    calendar = SchoolCalendar(terms=[AUTUMN_2024], closures=[inset_week])

    assert calendar.school_weeks(d(2024, 9, 1), d(2024, 9, 15)) == [d(2024, 9, 9)]
    assert calendar.last_school_weeks(2, d(2024, 9, 13)) == [d(2024, 9, 9)]


def test_a_week_of_inset_mornings_is_still_a_school_week():
    inset_mornings = ClosedRange(d(2024, 9, 2), d(2024, 9, 6), AM)
    calendar = SchoolCalendar(terms=[AUTUMN_2024], closures=[inset_mornings])

    assert calendar.school_weeks(d(2024, 9, 1), d(2024, 9, 15)) == [d(2024, 9, 2), d(2024, 9, 9)]
    assert len(calendar.sessions_between(d(2024, 9, 2), d(2024, 9, 6))) == 5


def test_a_closure_outside_every_term_changes_nothing():
    summer = ClosedRange(d(2024, 8, 1), d(2024, 8, 30), None)
    calendar = SchoolCalendar(terms=[AUTUMN_2024, SPRING_2025], closures=[HALF_TERM, summer])

    assert calendar.sessions_between(d(2024, 8, 1), d(2025, 2, 28)) == CAL_A.sessions_between(
        d(2024, 8, 1), d(2025, 2, 28)
    )


# --- properties over random calendars -------------------------------------------------------

FIRST = d(2024, 1, 1)
FAR_FUTURE = d(2030, 1, 1)
dates = st.integers(0, 600).map(lambda n: FIRST + dt.timedelta(days=n))
terms = st.builds(
    lambda start, length: DateRange(start, start + dt.timedelta(days=length)),
    dates,
    st.integers(0, 120),
)
closures = st.builds(
    lambda start, length, session: ClosedRange(start, start + dt.timedelta(days=length), session),
    dates,
    st.integers(0, 12),
    st.sampled_from([None, AM, PM]),
)
calendars = st.builds(
    lambda t, c: (t, c, SchoolCalendar(terms=t, closures=c)),
    st.lists(terms, max_size=4),
    st.lists(closures, max_size=8),
)


def _expected_sessions(
    terms: list[DateRange], closures: list[ClosedRange], day: dt.date
) -> list[Session]:
    """Brute force: the definition in schools/calendar.py's docstring, one day at a time."""
    if day.weekday() >= 5 or not any(t.start <= day <= t.end for t in terms):
        return []
    return [
        session
        for session in (AM, PM)
        if not any(c.start <= day <= c.end and c.session in (None, session) for c in closures)
    ]


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@settings(deadline=None)
@given(calendar=calendars, a=dates, b=dates)
def test_sessions_are_weekdays_in_a_term_and_not_closed(calendar, a, b):
    term_list, closure_list, cal = calendar
    start, end = min(a, b), max(a, b)

    expected = [
        (day, session)
        for day in _days(start, end)
        for session in _expected_sessions(term_list, closure_list, day)
    ]
    assert cal.sessions_between(start, end) == expected
    for day in _days(start, end):
        assert cal.is_school_day(day) == bool(_expected_sessions(term_list, closure_list, day))


@settings(deadline=None)
@given(calendar=calendars, a=dates, b=dates)
def test_school_weeks_are_the_mondays_of_the_school_days(calendar, a, b):
    _, _, cal = calendar
    start, end = min(a, b), max(a, b)

    mondays = sorted({_week_start(day) for day in cal.school_days_between(start, end)})
    assert cal.school_weeks(start, end) == mondays


@settings(deadline=None)
@given(calendar=calendars, day=dates, n=st.integers(1, 60))
def test_nth_school_day_after_is_the_nth_later_school_day(calendar, day, n):
    _, _, cal = calendar

    later = cal.school_days_between(day + dt.timedelta(days=1), FAR_FUTURE)
    assert cal.nth_school_day_after(day, n) == (later[n - 1] if len(later) >= n else None)


@settings(deadline=None)
@given(calendar=calendars, day=dates, count=st.integers(1, 12))
def test_last_school_weeks_ending_on_a_sunday_are_the_latest_school_weeks(calendar, day, count):
    _, _, cal = calendar
    sunday = _week_start(day) + dt.timedelta(days=6)

    assert cal.last_school_weeks(count, sunday) == cal.school_weeks(FIRST, sunday)[-count:]


# --- loading a school's calendar from the database ------------------------------------------


@pytest.mark.django_db
def test_school_calendar_get_reads_only_that_schools_terms_and_closures():
    with scopes_disabled():
        cal_a_school = f.SchoolFactory()
        year = f.AcademicYearFactory(school=cal_a_school, start_date=d(2024, 8, 1))
        f.TermFactory(academic_year=year, start_date=d(2024, 9, 2), end_date=d(2024, 12, 20))
        f.TermFactory(
            academic_year=year, name="Spring", start_date=d(2025, 1, 6), end_date=d(2025, 2, 14)
        )
        f.ClosureFactory(school=cal_a_school)  # half-term 28 Oct - 1 Nov 2024

        other = f.SchoolFactory()
        other_year = f.AcademicYearFactory(school=other, start_date=d(2024, 8, 1))
        f.TermFactory(academic_year=other_year, start_date=d(2024, 9, 9), end_date=d(2024, 12, 13))
        f.ClosureFactory(
            school=other,
            start_date=d(2024, 9, 10),
            end_date=d(2024, 9, 10),
            session=SessionChoice.AM,
            kind=ClosureKind.INSET,
        )

    with school_scope(cal_a_school):
        calendar = school_calendar_get(school=cal_a_school)
    with school_scope(other):
        other_calendar = school_calendar_get(school=other)

    assert calendar.school_weeks(d(2024, 9, 1), d(2025, 1, 12)) == list(W.values())
    assert calendar.sessions_on(d(2024, 9, 10)) == (AM, PM)
    assert not calendar.is_school_day(d(2024, 10, 28))
    assert calendar.last_day == d(2025, 2, 14)

    assert other_calendar.first_day == d(2024, 9, 9)
    assert other_calendar.last_day == d(2024, 12, 13)
    assert other_calendar.sessions_on(d(2024, 9, 10)) == (PM,)
    assert other_calendar.is_school_day(d(2024, 10, 28))  # no half-term at this school

    with scopes_disabled():  # the selector filters by school itself, scope or not
        assert school_calendar_get(school=other).sessions_between(
            d(2024, 1, 1), d(2025, 12, 31)
        ) == other_calendar.sessions_between(d(2024, 1, 1), d(2025, 12, 31))
