from __future__ import annotations

import datetime as dt

import pytest

from registers.rules import (
    Phase,
    RegisterTimes,
    arrival_code,
    late_code,
    n_due_date,
    register_phase,
)
from schools.calendar import ClosedRange, DateRange, SchoolCalendar

TC03 = RegisterTimes(opens=dt.time(8, 40), closes=dt.time(9, 10), session_ends=dt.time(12, 0))


@pytest.mark.parametrize(
    ("arrival", "code"),
    [
        (dt.time(8, 39), "/"),
        (dt.time(8, 40, 0), "/"),
        (dt.time(8, 55), "L"),
        (dt.time(9, 9, 59), "L"),
        (dt.time(9, 10, 0), "U"),
        (dt.time(9, 45), "U"),
        (dt.time(12, 30), "N"),
    ],
)
def test_tc03_code_from_arrival_time(arrival, code):
    assert arrival_code(arrival=arrival, times=TC03)[0] == code


def test_minutes_late_are_counted_from_the_register_opening():
    assert arrival_code(arrival=dt.time(8, 55), times=TC03) == ("L", 15)
    assert arrival_code(arrival=dt.time(9, 45), times=TC03) == ("U", 65)


@pytest.mark.parametrize(
    ("minutes", "code"), [(1, "L"), (29, "L"), (30, "U"), (31, "U"), (120, "U")]
)
def test_late_code_from_minutes_late_has_the_same_boundary(minutes, code):
    assert late_code(minutes_late=minutes, times=TC03) == code


def at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


MONDAY = dt.date(2024, 9, 9)


@pytest.mark.parametrize(
    ("now", "taken", "phase"),
    [
        (at(MONDAY - dt.timedelta(days=1), 18, 0), False, Phase.UPCOMING),
        (at(MONDAY, 7, 0), False, Phase.OPEN),
        (at(MONDAY, 9, 9), True, Phase.OPEN),
        (at(MONDAY, 9, 10), True, Phase.LOCKED),  # closes at the close time once taken
        (at(MONDAY, 9, 10), False, Phase.OPEN),  # untaken: still open until the session ends
        (at(MONDAY, 11, 59), False, Phase.OPEN),
        (at(MONDAY, 12, 0), False, Phase.LOCKED),
        (at(MONDAY + dt.timedelta(days=1), 8, 0), False, Phase.LOCKED),
    ],
)
def test_register_phase(now, taken, phase):
    assert register_phase(now=now, date=MONDAY, times=TC03, taken=taken) is phase


def test_tc13_n_due_date_skips_half_term():
    calendar = SchoolCalendar(
        terms=[DateRange(dt.date(2024, 9, 2), dt.date(2024, 12, 20))],
        closures=[ClosedRange(dt.date(2024, 10, 28), dt.date(2024, 11, 1), None)],
    )

    assert n_due_date(calendar=calendar, session_date=dt.date(2024, 10, 25)) == dt.date(2024, 11, 8)
    assert n_due_date(calendar=calendar, session_date=dt.date(2024, 9, 2)) == dt.date(2024, 9, 9)
