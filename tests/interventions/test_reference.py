"""The pure reference implementation against spec/regulations.md §12 and boundary cases.

No database: these tests import only Django-free modules. Worked cases use calendar CAL-A of
§12 (terms from Mon 2 Sep 2024 to Fri 20 Dec 2024 and from Mon 6 Jan 2025; half-term
28 Oct - 1 Nov 2024 as a closure). CAL-A gives no end to the spring term; it ends here on
14 Feb 2025, before any February half-term the spec does not list.

Out of scope here: TC-03 (deriving /, L, U from an arrival time is register-side, tested in
tests/registers/test_rules.py; the L-present / U-unauthorised consequence is TC-02 below) and
TC-15 (penalty-notice amounts and the three-year limit are not attendance statistics).
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interventions import reference, rules
from interventions.reference import (
    AttendanceSummary,
    Enrolment,
    MarkIn,
    SessionName,
    aggregate,
    summarise,
)
from interventions.rules import (
    DFE_DEFAULT,
    PN_RULE_ENGLAND,
    PN_RULE_WALES,
    SEED_000_KING_HENRY,
    SEED_002_BEDFORD,
    SEED_004_STAGED,
    Band,
    IllnessRule,
    PenaltyNoticeRule,
    default_pn_rule,
    pct1,
)
from registers.codes import ENGLAND_2006, ENGLAND_2024, WALES_2010, code_lookup
from schools.calendar import ClosedRange, DateRange, SchoolCalendar

D = dt.date

# Production's rules and the reference's restatement of them: boundary tables run on both.
BOTH = [pytest.param(rules, id="rules"), pytest.param(reference, id="reference")]
AUTUMN_2024 = DateRange(D(2024, 9, 2), D(2024, 12, 20))
SPRING_2025 = DateRange(D(2025, 1, 6), D(2025, 2, 14))
OCTOBER_HALF_TERM = ClosedRange(D(2024, 10, 28), D(2024, 11, 1), None)
CAL_A = SchoolCalendar(terms=[AUTUMN_2024, SPRING_2025], closures=[OCTOBER_HALF_TERM])

# CAL-A with the summer term before it, for windows that cross the academic-year boundary.
SUMMER_2024 = DateRange(D(2024, 4, 15), D(2024, 7, 19))
MAY_HALF_TERM_2024 = ClosedRange(D(2024, 5, 27), D(2024, 5, 31), None)
CAL_A_WITH_SUMMER_2024 = SchoolCalendar(
    terms=[SUMMER_2024, AUTUMN_2024, SPRING_2025],
    closures=[MAY_HALF_TERM_2024, OCTOBER_HALF_TERM],
)

# A whole school year 2024/25, for DfE-comparable mode's summer term.
FULL_2024_25 = SchoolCalendar(
    terms=[
        AUTUMN_2024,
        DateRange(D(2025, 1, 6), D(2025, 4, 4)),
        DateRange(D(2025, 4, 22), D(2025, 7, 18)),
    ],
    closures=[
        OCTOBER_HALF_TERM,
        ClosedRange(D(2025, 2, 17), D(2025, 2, 21), None),
        ClosedRange(D(2025, 5, 26), D(2025, 5, 30), None),
    ],
)

ON_ROLL = Enrolment(start=D(2023, 9, 1))  # §12: on roll before 2 Sep 2024
W = {n: D(2024, 9, 2) + dt.timedelta(weeks=n - 1) for n in range(1, 9)}  # §12 school weeks
W.update({n: D(2024, 11, 4) + dt.timedelta(weeks=n - 9) for n in range(9, 16)})
W[16] = D(2025, 1, 6)
FRIDAY = dt.timedelta(days=4)

Codes = Mapping[tuple[dt.date, str], str | None]


def marks_for(
    start: dt.date,
    end: dt.date,
    codes: Codes | None = None,
    *,
    calendar: SchoolCalendar = CAL_A,
    minutes: Mapping[tuple[dt.date, SessionName], int] | None = None,
) -> list[MarkIn]:
    """A mark for every session from ``start`` to ``end``: present unless ``codes`` says
    otherwise (``None`` there leaves the session without a mark)."""
    codes = codes or {}
    minutes = minutes or {}
    marks = []
    for day, session in calendar.sessions_between(start, end):
        key: tuple[dt.date, SessionName] = (day, "AM" if session.value == "AM" else "PM")
        code = codes.get(key, "/" if key[1] == "AM" else "\\")
        if code is not None:
            marks.append(MarkIn(key[0], key[1], code, minutes.get(key)))
    return marks


def days(
    first: dt.date, last: dt.date, code: str, calendar: SchoolCalendar = CAL_A
) -> dict[tuple[dt.date, str], str | None]:
    """``code`` on both sessions of every school day from ``first`` to ``last``."""
    return {
        (day, "AM" if session.value == "AM" else "PM"): code
        for day, session in calendar.sessions_between(first, last)
    }


def run(
    marks: Sequence[MarkIn],
    *,
    start: dt.date,
    end: dt.date,
    as_of: dt.date | None = None,
    calendar: SchoolCalendar = CAL_A,
    jurisdiction: str = "england",
    enrolment: Enrolment = ON_ROLL,
    pn_rule: PenaltyNoticeRule = PN_RULE_ENGLAND,
    **kwargs: Any,
) -> AttendanceSummary:
    return summarise(
        marks=marks,
        calendar=calendar,
        jurisdiction=jurisdiction,
        enrolment=enrolment,
        period_start=start,
        period_end=end,
        as_of=as_of or end,
        pn_rule=pn_rule,
        **kwargs,
    )


def view(summary: AttendanceSummary, expected: Mapping[str, object]) -> dict[str, object]:
    """The fields ``expected`` names; ``*_pct`` names give the rate to 1 dp as displayed."""
    shown: dict[str, object] = {}
    for name in expected:
        if name.endswith("_pct"):
            rate = getattr(summary, name.removesuffix("_pct") + "_rate")
            shown[name] = None if rate is None else pct1(rate)
        else:
            shown[name] = getattr(summary, name)
    return shown


# --- §12 worked cases -----------------------------------------------------------------------


WORKED_CASES = [
    pytest.param(
        {},
        W[2],
        {},
        {
            "possible_sessions": 10,
            "attendance_pct": "100.0",
            "overall_absence_pct": "0.0",
            "persistent_absence": False,
            "severe_absence": False,
            "pn_window_count": 0,
            "pn_threshold_met_on": None,
        },
        id="TC-01 full attendance",
    ),
    pytest.param(
        {(D(2024, 9, 9), "AM"): "L", (D(2024, 9, 10), "AM"): "U"},
        W[2],
        {"minutes": {(D(2024, 9, 9), "AM"): 12, (D(2024, 9, 10), "AM"): 45}},
        {
            "possible_sessions": 10,
            "present_sessions": 9,
            "unauthorised_sessions": 1,
            "attendance_pct": "90.0",
            "overall_absence_pct": "10.0",
            "authorised_pct": "0.0",
            "unauthorised_pct": "10.0",
            "persistent_absence": True,  # exactly 10% counts
            "severe_absence": False,
            "pn_window_count": 1,
            "pn_threshold_met_on": None,
            "late_sessions": 1,
            "late_minutes": 12,
            "u_sessions": 1,
            "u_minutes": 45,
        },
        id="TC-02 L present, U unauthorised, PA inclusive",
    ),
    pytest.param(
        {**days(D(2024, 9, 16), D(2024, 9, 16), "Y4"), **days(D(2024, 9, 17), D(2024, 9, 17), "I")},
        W[3],
        {},
        {
            "possible_sessions": 8,
            "not_counted_sessions": 2,
            "attendance_rate": Fraction(75),
            "attendance_pct": "75.0",
            "overall_absence_pct": "25.0",
            "authorised_pct": "25.0",
            "persistent_absence": True,
            "severe_absence": False,  # 2 x 2 = 4 < 8
            "pn_window_count": 0,
        },
        id="TC-04 not-counted codes leave the denominator",
    ),
    pytest.param(
        {
            **days(D(2024, 9, 23), D(2024, 9, 23), "V"),
            **days(D(2024, 9, 24), D(2024, 9, 24), "B"),
            (D(2024, 9, 25), "AM"): "K",
        },
        W[4],
        {},
        {
            "possible_sessions": 10,
            "present_sessions": 5,
            "aea_sessions": 5,
            "attendance_pct": "100.0",
            "overall_absence_pct": "0.0",
            "persistent_absence": False,
            "severe_absence": False,
        },
        id="TC-05 AEA counts as attendance",
    ),
    pytest.param(
        {(day, "PM"): "C2" for day in CAL_A.school_days_between(W[5], W[5] + FRIDAY)},
        W[5],
        {},
        {
            "possible_sessions": 10,
            "present_sessions": 5,
            "authorised_sessions": 5,
            "attendance_pct": "50.0",
            "overall_absence_pct": "50.0",
            "authorised_pct": "50.0",
            "persistent_absence": True,
            "severe_absence": True,  # 5 x 2 = 10 >= 10
            "pn_window_count": 0,  # C2 is authorised
        },
        id="TC-09 a part-time timetable is absence",
    ),
]


@pytest.mark.parametrize(("codes", "monday", "options", "expected"), WORKED_CASES)
def test_worked_cases(codes, monday, options, expected):
    marks = marks_for(monday, monday + FRIDAY, codes, minutes=options.get("minutes"))
    summary = run(marks, start=monday, end=monday + FRIDAY)
    assert view(summary, expected) == expected


@pytest.mark.parametrize(
    ("enrolment", "not_counted"),
    [
        pytest.param(Enrolment(start=D(2024, 9, 11)), 3, id="Z before the starting day"),
        pytest.param(ON_ROLL, 7, id="Z and D both recorded"),
    ],
)
def test_tc08a_dual_registration_and_not_yet_on_roll(enrolment, not_counted):
    codes: dict[tuple[dt.date, str], str | None] = {
        **days(D(2024, 9, 9), D(2024, 9, 10), "Z"),
    }
    codes.update(
        {(day, "AM"): "D" for day in CAL_A.school_days_between(D(2024, 9, 11), D(2024, 9, 13))}
    )
    summary = run(
        marks_for(W[2], W[2] + FRIDAY, codes), start=W[2], end=W[2] + FRIDAY, enrolment=enrolment
    )
    assert summary.possible_sessions == 3
    assert summary.attendance_rate == 100
    assert summary.persistent_absence is False
    assert summary.not_counted_sessions == not_counted


def test_tc08b_reception_pupil_counts_but_is_outside_the_dfe_cohort():
    marks = marks_for(W[2], W[2] + FRIDAY, days(D(2024, 9, 12), D(2024, 9, 13), "X"))
    dob = D(2020, 1, 15)  # 4 on 31 Aug 2024
    ours = run(marks, start=W[2], end=W[2] + FRIDAY, date_of_birth=dob)
    dfe = run(marks, start=W[2], end=W[2] + FRIDAY, date_of_birth=dob, dfe_comparable=True)

    assert (ours.possible_sessions, pct1(ours.attendance_rate or Fraction(0))) == (6, "100.0")
    assert ours.in_dfe_cohort is None
    assert dfe.in_dfe_cohort is False
    assert (dfe.possible_sessions, dfe.persistent_absence, dfe.attendance_rate) == (0, False, None)


# TC-13: O on Mon 21 - Thu 24 Oct (8 sessions), N on Fri 25 Oct AM and PM.
TC13_CODES = {
    **days(D(2024, 10, 21), D(2024, 10, 24), "O"),
    **days(D(2024, 10, 25), D(2024, 10, 25), "N"),
}
WITH_N = PenaltyNoticeRule(include_n=True)


@pytest.mark.parametrize(
    ("friday", "pn_rule", "count", "met_on", "provisional"),
    [
        pytest.param("N", PN_RULE_ENGLAND, 8, None, False, id="default: N excluded"),
        pytest.param("N", WITH_N, 10, (D(2024, 10, 25), "PM"), True, id="pn_include_N"),
        pytest.param("I", PN_RULE_ENGLAND, 8, None, False, id="resolution A, default"),
        pytest.param("I", WITH_N, 8, None, False, id="resolution A, with N"),
        pytest.param("O", PN_RULE_ENGLAND, 10, (D(2024, 10, 25), "PM"), False, id="resolution B"),
    ],
)
def test_tc13_penalty_notice_count_and_resolutions(friday, pn_rule, count, met_on, provisional):
    codes = {**TC13_CODES, **days(D(2024, 10, 25), D(2024, 10, 25), friday)}
    # Resolution B is made on Fri 8 Nov: the event is dated by the session, not the amendment.
    as_of = D(2024, 11, 8)
    summary = run(
        marks_for(W[1], as_of, codes), start=W[1], end=D(2024, 12, 20), as_of=as_of, pn_rule=pn_rule
    )
    assert summary.pn_window_count == count
    assert summary.pn_threshold_met_on == met_on
    assert summary.pn_threshold_provisional is provisional
    assert summary.pn_window_provisional is provisional


@pytest.mark.parametrize(
    ("as_of", "overdue"),
    [
        pytest.param(D(2024, 10, 25), (), id="on the day"),
        pytest.param(D(2024, 11, 8), (), id="on the 5th school day (due date)"),
        pytest.param(
            D(2024, 11, 9),
            ((D(2024, 10, 25), "AM"), (D(2024, 10, 25), "PM")),
            id="the day after the due date",
        ),
        pytest.param(
            D(2024, 11, 11),
            ((D(2024, 10, 25), "AM"), (D(2024, 10, 25), "PM")),
            id="the next school day",
        ),
    ],
)
def test_tc13_n_is_overdue_the_day_after_the_fifth_school_day(as_of, overdue):
    summary = run(marks_for(W[1], as_of, TC13_CODES), start=W[1], end=D(2024, 12, 20), as_of=as_of)
    assert summary.overdue_n == overdue


def test_tc18_welsh_holiday_leave_is_authorised_and_pn_is_not_evaluated():
    codes = days(D(2024, 9, 12), D(2024, 9, 12), "H")
    summary = run(
        marks_for(W[2], W[2] + FRIDAY, codes),
        start=W[2],
        end=W[2] + FRIDAY,
        jurisdiction="wales",
        pn_rule=default_pn_rule("wales"),
    )
    expected = {
        "possible_sessions": 10,
        "authorised_sessions": 2,
        "unknown_code_sessions": 0,
        "attendance_pct": "80.0",
        "overall_absence_pct": "20.0",
        "authorised_pct": "20.0",
        "persistent_absence": True,
        "severe_absence": False,
        "pn_evaluated": False,
        "pn_window_count": None,
        "pn_threshold_met_on": None,
    }
    assert view(summary, expected) == expected
    assert default_pn_rule("wales") == PN_RULE_WALES
    assert PN_RULE_WALES.enabled is False


def test_an_enabled_welsh_rule_counts_unauthorised_sessions_and_n_only_by_choice():
    codes = {
        **days(D(2024, 9, 9), D(2024, 9, 11), "O"),
        **days(D(2024, 9, 12), D(2024, 9, 12), "N"),
        **days(D(2024, 9, 13), D(2024, 9, 13), "G"),
    }
    marks = marks_for(W[2], W[2] + FRIDAY, codes)
    welsh: dict[str, Any] = {"start": W[2], "end": W[2] + FRIDAY, "jurisdiction": "wales"}
    assert run(marks, pn_rule=PenaltyNoticeRule(), **welsh).pn_window_count == 8
    with_n = run(marks, pn_rule=PenaltyNoticeRule(include_n=True), **welsh)
    assert (with_n.pn_window_count, with_n.pn_threshold_met_on) == (10, (D(2024, 9, 13), "PM"))


def test_h_in_england_after_august_2024_is_an_unknown_code():
    codes = days(D(2024, 9, 12), D(2024, 9, 12), "H")
    summary = run(marks_for(W[2], W[2] + FRIDAY, codes), start=W[2], end=W[2] + FRIDAY)
    assert (summary.possible_sessions, summary.unknown_code_sessions) == (8, 2)
    assert "H" not in summary.code_counts


# --- Boundaries of the statistics -----------------------------------------------------------

LONG = SchoolCalendar(terms=[DateRange(D(2024, 9, 2), D(2026, 12, 31))])
THOUSAND = LONG.sessions_between(D(2024, 9, 2), D(2026, 12, 31))[:1000]


def thousand_sessions(absent: int) -> AttendanceSummary:
    codes: dict[tuple[dt.date, str], str | None] = {
        (day, "AM" if s.value == "AM" else "PM"): "O" for day, s in THOUSAND[:absent]
    }
    end = THOUSAND[-1][0]
    return run(
        marks_for(D(2024, 9, 2), end, codes, calendar=LONG),
        start=D(2024, 9, 2),
        end=end,
        calendar=LONG,
    )


@pytest.mark.parametrize(
    ("absent", "pa", "sa", "shown"),
    [
        pytest.param(100, True, False, "90.0", id="exactly 10% missed is PA"),
        pytest.param(99, False, False, "90.1", id="9.9% missed is not PA"),
        pytest.param(500, True, True, "50.0", id="exactly 50% missed is SA"),
        pytest.param(499, True, False, "50.1", id="49.9% missed is not SA"),
    ],
)
def test_persistent_and_severe_absence_boundaries_on_1000_sessions(absent, pa, sa, shown):
    summary = thousand_sessions(absent)
    assert summary.possible_sessions == 1000
    assert (summary.persistent_absence, summary.severe_absence) == (pa, sa)
    assert summary.attendance_rate is not None
    assert pct1(summary.attendance_rate) == shown


NOT_COUNTED = ["D", "X", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#"]


@pytest.mark.parametrize("code", NOT_COUNTED)
def test_not_counted_codes_leave_the_denominator(code):
    codes = {(D(2024, 9, 10), "PM"): code, (D(2024, 9, 11), "AM"): "O"}
    summary = run(marks_for(W[2], W[2] + FRIDAY, codes), start=W[2], end=W[2] + FRIDAY)
    assert summary.possible_sessions == 9
    assert summary.not_counted_sessions == 1
    assert summary.code_counts[code] == 1
    assert summary.overall_absence_rate == Fraction(100, 9)


def test_marks_on_non_sessions_are_ignored_and_unmarked_sessions_are_missing():
    marks = [
        *marks_for(D(2024, 10, 21), D(2024, 11, 8)),
        MarkIn(D(2024, 10, 28), "AM", "#"),  # half-term: not a session
        MarkIn(D(2024, 10, 26), "AM", "O"),  # a Saturday
    ]
    marks = [m for m in marks if (m.date, m.session) != (D(2024, 11, 4), "AM")]
    summary = run(marks, start=D(2024, 10, 21), end=D(2024, 11, 8))
    assert summary.possible_sessions == 19  # W8 and W9: half-term has no sessions
    assert summary.missing_sessions == 1
    assert summary.not_counted_sessions == 0
    assert summary.unauthorised_sessions == 0


def test_historic_codes_keep_their_historic_meaning():
    calendar = SchoolCalendar(terms=[DateRange(D(2023, 9, 4), D(2023, 10, 20))])
    codes = {
        **days(D(2023, 10, 2), D(2023, 10, 2), "H", calendar),  # 2006 Regs: agreed holiday
        (D(2023, 10, 3), "AM"): "J",  # 2006 Regs: interview, counted as attendance (AEA)
        (D(2023, 10, 4), "AM"): "K",  # §1.4: a historic K is a missing mark
    }
    marks = marks_for(D(2023, 10, 2), D(2023, 10, 6), codes, calendar=calendar)
    summary = run(marks, start=D(2023, 10, 2), end=D(2023, 10, 6), calendar=calendar)
    assert summary.authorised_sessions == 2
    assert summary.aea_sessions == 1
    assert summary.missing_sessions == 1
    assert summary.unknown_code_sessions == 0
    assert summary.possible_sessions == 9
    assert summary.code_counts == {"/": 2, "H": 2, "J": 1, "\\": 4}


def test_enrolment_starting_and_leaving_inside_the_period():
    codes = {
        **days(D(2024, 9, 10), D(2024, 9, 10), "O"),  # before the starting day
        **days(D(2024, 9, 19), D(2024, 9, 20), "O"),  # after the leaving date
        (D(2024, 9, 16), "AM"): None,
    }
    enrolment = Enrolment(start=D(2024, 9, 11), leaving=D(2024, 9, 18))
    summary = run(
        marks_for(W[1], D(2024, 9, 30), codes),
        start=W[1],
        end=D(2024, 12, 20),
        as_of=D(2024, 9, 30),
        enrolment=enrolment,
    )
    assert (summary.range_start, summary.range_end) == (D(2024, 9, 11), D(2024, 9, 18))
    assert summary.possible_sessions == 11
    assert summary.missing_sessions == 1
    assert summary.unauthorised_sessions == 0
    assert summary.pn_window_count == 0


def test_marks_after_as_of_are_ignored():
    codes = {**days(D(2024, 9, 13), D(2024, 9, 13), "O"), (D(2024, 9, 12), "PM"): "N"}
    summary = run(
        marks_for(W[2], W[2] + FRIDAY, codes),
        start=W[2],
        end=W[2] + FRIDAY,
        as_of=D(2024, 9, 12),
        pn_rule=WITH_N,
    )
    assert summary.range_end == D(2024, 9, 12)
    assert summary.possible_sessions == 8
    assert summary.unauthorised_sessions == 1
    assert summary.pn_window_count == 1
    assert summary.ten_day_run_current == 0


def test_an_empty_range_has_no_rates():
    summary = run([], start=W[2], end=W[2] + FRIDAY, enrolment=Enrolment(start=D(2024, 10, 1)))
    assert (summary.range_start, summary.range_end, summary.possible_sessions) == (None, None, 0)
    assert summary.attendance_rate is None
    assert (summary.persistent_absence, summary.severe_absence) == (False, False)


def test_rate_change_over_four_school_weeks():
    # W1-W5 present, W6 all O: the rate is 50/60 now and 100% at the end of W2 (the school
    # week 4 school weeks before W6).
    codes = days(W[6], W[6] + FRIDAY, "O")
    marks = marks_for(W[1], W[6] + FRIDAY, codes)
    summary = run(marks, start=W[1], end=D(2024, 12, 20), as_of=W[6] + FRIDAY)
    assert summary.attendance_rate == Fraction(250, 3)
    assert summary.rate_change_4_weeks == Fraction(-50, 3)
    assert pct1(summary.rate_change_4_weeks) == "-16.7"
    # Across half-term the comparison week is 4 *school* weeks back: W9 compares with W5.
    # The baseline is the end of W5 (all present, 100%); now it is 80 of 90 sessions.
    later = run(
        marks_for(W[1], W[9] + FRIDAY, codes), start=W[1], end=D(2024, 12, 20), as_of=W[9] + FRIDAY
    )
    assert later.rate_change_4_weeks == Fraction(100 * 80, 90) - 100
    # Too early in the calendar: fewer than 5 school weeks.
    early = run(
        marks_for(W[1], W[4] + FRIDAY), start=W[1], end=D(2024, 12, 20), as_of=W[4] + FRIDAY
    )
    assert early.rate_change_4_weeks is None


# --- Penalty-notice windows (§5.2) ----------------------------------------------------------


@pytest.mark.parametrize(
    ("as_of", "count"),
    [
        pytest.param(D(2024, 11, 15), 1, id="W10: the window reaches back over half-term to W1"),
        pytest.param(D(2024, 11, 18), 0, id="W11: W1 has rolled out"),
        pytest.param(D(2024, 10, 30), 1, id="during half-term: the window ends with W8"),
    ],
)
def test_half_term_inside_the_window_adds_a_calendar_week(as_of, count):
    codes = {(W[1], "AM"): "G"}
    summary = run(marks_for(W[1], as_of, codes), start=W[1], end=D(2024, 12, 20), as_of=as_of)
    assert summary.pn_window_count == count


def test_window_spans_the_christmas_holiday():
    codes = {(W[6] + FRIDAY, "AM"): "O", (W[7], "AM"): "O", (W[16], "AM"): "U"}
    as_of = D(2025, 1, 10)  # W16: the window is W7..W16
    summary = run(marks_for(W[1], as_of, codes), start=W[1], end=D(2025, 2, 14), as_of=as_of)
    assert CAL_A.last_school_weeks(10, as_of)[0] == W[7]
    assert summary.pn_window_count == 2


@pytest.mark.parametrize(
    "via_previous_school", [False, True], ids=["same school", "previous school"]
)
def test_window_spans_the_academic_year_boundary(via_previous_school):
    calendar = CAL_A_WITH_SUMMER_2024
    july = {
        **days(D(2024, 7, 15), D(2024, 7, 17), "U", calendar),  # 6 sessions in 2023/24
        (D(2024, 5, 10), "AM"): "G",  # before the window's first week (13 May)
    }
    september = {**days(D(2024, 9, 2), D(2024, 9, 3), "O", calendar)}  # 4 sessions
    as_of = D(2024, 9, 6)
    if via_previous_school:
        previous = [
            m
            for m in marks_for(D(2024, 4, 15), D(2024, 7, 19), july, calendar=calendar)
            if m.code != "/" and m.code != "\\"
        ]
        marks = marks_for(W[1], as_of, september, calendar=calendar)
        enrolment = Enrolment(start=W[1])
    else:
        previous = []
        marks = marks_for(D(2024, 4, 15), as_of, {**july, **september}, calendar=calendar)
        enrolment = Enrolment(start=D(2024, 4, 15))
    summary = run(
        marks,
        start=W[1],
        end=D(2025, 2, 14),
        as_of=as_of,
        calendar=calendar,
        enrolment=enrolment,
        previous_marks=previous,
    )
    assert calendar.last_school_weeks(10, as_of)[0] == D(2024, 5, 13)
    assert summary.pn_window_count == 10
    assert summary.pn_threshold_met_on == (D(2024, 9, 3), "PM")
    # The statistics stay inside the 2024/25 period.
    assert (summary.possible_sessions, summary.unauthorised_sessions) == (10, 4)


def test_threshold_met_on_the_tenth_session_stands_after_the_window_rolls_past():
    codes = days(W[2], W[2] + FRIDAY, "O")
    met = (W[2] + FRIDAY, "PM")
    for as_of, count, met_on in [
        (D(2024, 9, 12), 8, None),
        (D(2024, 9, 13), 10, met),
        (D(2024, 11, 22), 10, met),  # W11: the window is W2..W11
        (D(2024, 11, 25), 0, met),  # W12: W2 has rolled out; the event stands
    ]:
        summary = run(marks_for(W[1], as_of, codes), start=W[1], end=D(2024, 12, 20), as_of=as_of)
        assert (summary.pn_window_count, summary.pn_threshold_met_on) == (count, met_on), as_of


@pytest.mark.parametrize(
    ("weeks", "met_on"),
    [
        pytest.param(range(1, 11), (W[10], "AM"), id="one a week for 10 school weeks"),
        pytest.param(
            [*range(1, 10), 11], None, id="9 in W1-W9 and 1 in W11: never 10 in one window"
        ),
    ],
)
def test_rolling_window_counts_spread_out_sessions(weeks, met_on):
    codes = {(W[n], "AM"): "O" for n in weeks}
    summary = run(marks_for(W[1], D(2024, 12, 20), codes), start=W[1], end=D(2024, 12, 20))
    assert summary.pn_threshold_met_on == met_on


def test_threshold_before_the_period_is_not_an_event_of_this_period():
    codes = days(W[2], W[2] + FRIDAY, "O")
    summary = run(
        marks_for(W[1], W[4] + FRIDAY, codes), start=W[3], end=D(2024, 12, 20), as_of=W[4] + FRIDAY
    )
    assert summary.pn_window_count == 10
    assert summary.pn_threshold_met_on is None


# --- Continuous absence (§6) ----------------------------------------------------------------


def test_u_counts_for_the_penalty_notice_and_the_ten_day_return_but_not_ground_i():
    codes = days(D(2024, 9, 9), D(2024, 9, 20), "U")
    summary = run(
        marks_for(W[1], D(2024, 9, 20), codes),
        start=W[1],
        end=D(2024, 12, 20),
        as_of=D(2024, 9, 20),
    )
    assert summary.pn_window_count == 20
    assert summary.ten_day_run_current == 10
    assert summary.ten_day_reached_on == D(2024, 9, 20)
    assert summary.ground_i_run_current == 0
    assert summary.ground_i_reached_on is None


def test_twenty_days_of_g_n_o_reach_ground_i_across_half_term():
    codes = {
        **days(D(2024, 10, 7), D(2024, 10, 18), "O"),
        **days(D(2024, 10, 21), D(2024, 10, 25), "G"),
        **days(D(2024, 11, 4), D(2024, 11, 8), "N"),
    }
    as_of = D(2024, 11, 8)
    summary = run(marks_for(W[1], as_of, codes), start=W[1], end=D(2024, 12, 20), as_of=as_of)
    assert summary.ground_i_run_current == 20
    assert summary.ground_i_reached_on == as_of
    assert summary.ground_i_episodes == ((D(2024, 10, 7), as_of),)
    assert summary.ten_day_episodes == ((D(2024, 10, 7), D(2024, 10, 18)),)


@pytest.mark.parametrize(
    ("break_code", "current", "reached_on"),
    [
        pytest.param("/", 10, D(2024, 10, 4), id="one present session breaks the run"),
        pytest.param(None, 10, D(2024, 10, 4), id="one missing mark breaks the run"),
        pytest.param("Y4", 10, D(2024, 10, 4), id="one not-counted code breaks the run"),
        pytest.param("O", 20, D(2024, 9, 20), id="unbroken: one episode of 20 days"),
    ],
)
def test_a_run_is_broken_by_any_other_mark(break_code, current, reached_on):
    codes: dict[tuple[dt.date, str], str | None] = {
        **days(D(2024, 9, 9), D(2024, 10, 4), "O"),
        (D(2024, 9, 20), "AM"): break_code,
    }
    as_of = D(2024, 10, 4)
    summary = run(marks_for(W[1], as_of, codes), start=W[1], end=D(2024, 12, 20), as_of=as_of)
    assert summary.ten_day_run_current == current
    assert summary.ten_day_reached_on == reached_on
    assert len(summary.ten_day_episodes) == 1


def test_a_new_episode_starts_only_after_the_run_breaks():
    codes = {
        **days(D(2024, 9, 2), D(2024, 9, 13), "O"),
        **days(D(2024, 9, 17), D(2024, 9, 30), "G"),
    }
    as_of = D(2024, 10, 1)
    summary = run(marks_for(W[1], as_of, codes), start=W[1], end=D(2024, 12, 20), as_of=as_of)
    assert summary.ten_day_episodes == (
        (D(2024, 9, 2), D(2024, 9, 13)),
        (D(2024, 9, 17), D(2024, 9, 30)),
    )
    assert summary.ten_day_reached_on == D(2024, 9, 13)
    assert summary.ten_day_run_current == 0  # present on 1 Oct


def test_a_run_carries_on_from_before_the_period():
    codes = days(D(2024, 9, 2), D(2024, 9, 13), "O")
    summary = run(
        marks_for(W[1], D(2024, 9, 13), codes),
        start=D(2024, 9, 9),
        end=D(2024, 12, 20),
        as_of=D(2024, 9, 13),
    )
    assert summary.ten_day_run_current == 10
    assert summary.ten_day_episodes == ((D(2024, 9, 2), D(2024, 9, 13)),)


@pytest.mark.parametrize(
    ("codes", "consecutive", "cumulative", "due"),
    [
        pytest.param(
            days(D(2024, 9, 9), D(2024, 9, 30), "I"),
            16,
            16,
            {"consecutive": True, "cumulative": True, "either": True},
            id="16 consecutive days",
        ),
        pytest.param(
            {
                **days(D(2024, 9, 9), D(2024, 9, 18), "I"),
                **days(D(2024, 9, 20), D(2024, 9, 30), "I"),
            },
            7,
            15,
            {"consecutive": False, "cumulative": True, "either": True},
            id="8 days, a present day, 7 days",
        ),
        pytest.param(
            {**days(D(2024, 9, 9), D(2024, 9, 30), "I"), (D(2024, 9, 20), "PM"): "\\"},
            6,
            15,
            {"consecutive": False, "cumulative": True, "either": True},
            id="a half day of illness is not an illness day",
        ),
    ],
)
def test_illness_consecutive_and_cumulative(codes, consecutive, cumulative, due):
    as_of = D(2024, 9, 30)
    marks = marks_for(W[1], as_of, codes)
    for mode, expected in due.items():
        summary = run(
            marks, start=W[1], end=D(2024, 12, 20), as_of=as_of, illness_rule=IllnessRule(mode=mode)
        )
        assert summary.illness_consecutive_days_current == consecutive
        assert summary.illness_cumulative_days == cumulative
        assert summary.illness_return_due is expected, mode
    assert summary.illness_sessions == sum(1 for code in codes.values() if code == "I")


# --- DfE-comparable mode (§4.2) -------------------------------------------------------------


@pytest.mark.parametrize("impl", BOTH)
def test_summer_second_half_starts_after_the_late_may_half_term(impl):
    second_half = impl.dfe_summer_second_half_start
    assert second_half(calendar=FULL_2024_25, academic_year=2024) == D(2025, 6, 2)
    # No summer term in the calendar: the spring bank holiday (last Monday in May).
    assert second_half(calendar=CAL_A, academic_year=2024) == D(2025, 5, 26)


@pytest.mark.parametrize(
    ("dob", "in_cohort", "removed"),
    [
        pytest.param(D(2009, 3, 1), True, 70, id="15 on 31 Aug: second half of summer removed"),
        pytest.param(D(2010, 3, 1), True, 0, id="14 on 31 Aug: nothing removed"),
        pytest.param(D(2008, 3, 1), False, 0, id="16 on 31 Aug: outside the cohort"),
        pytest.param(D(2009, 8, 31), True, 70, id="15th birthday on 31 Aug itself"),
        pytest.param(D(2008, 9, 1), True, 70, id="16th birthday on 1 Sep: still 15"),
    ],
)
def test_dfe_mode_cohort_and_age_15_summer_removal(dob, in_cohort, removed):
    start, end = D(2024, 9, 2), D(2025, 7, 18)
    codes = days(D(2025, 6, 2), end, "O", FULL_2024_25)
    marks = marks_for(start, end, codes, calendar=FULL_2024_25)
    summary = run(
        marks, start=start, end=end, calendar=FULL_2024_25, date_of_birth=dob, dfe_comparable=True
    )
    assert summary.in_dfe_cohort is in_cohort
    assert summary.dfe_removed_sessions == removed
    total = len(FULL_2024_25.sessions_between(start, end))
    assert summary.possible_sessions == (total - removed if in_cohort else 0)
    assert summary.unauthorised_sessions == (70 - removed if in_cohort else 0)
    # Operational fields are not statistics: the absence run still counts.
    if in_cohort:
        assert summary.ten_day_run_current == 35


def test_dfe_mode_takes_an_explicit_second_half_start():
    start, end = D(2024, 9, 2), D(2025, 7, 18)
    marks = marks_for(start, end, calendar=FULL_2024_25)
    summary = run(
        marks,
        start=start,
        end=end,
        calendar=FULL_2024_25,
        date_of_birth=D(2009, 3, 1),
        dfe_comparable=True,
        summer_second_half_start=D(2025, 7, 14),
    )
    assert summary.dfe_removed_sessions == 10


# --- Bands ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bands", "rate", "name"),
    [
        (DFE_DEFAULT, Fraction(90), "Persistent absence (90% or below)"),
        (DFE_DEFAULT, Fraction(9001, 100), "Not persistently absent (above 90%)"),
        (DFE_DEFAULT, Fraction(50), "Severe absence (50% or below)"),
        (DFE_DEFAULT, Fraction(0), "Severe absence (50% or below)"),
        (SEED_002_BEDFORD, Fraction(100), "A"),
        (SEED_002_BEDFORD, Fraction(97), "A"),
        (
            SEED_002_BEDFORD,
            Fraction(9695, 100),
            "B",
        ),  # between the table's rows: exact, not rounded
        (SEED_002_BEDFORD, Fraction(95), "B"),
        (SEED_002_BEDFORD, Fraction(93), "C"),
        (SEED_002_BEDFORD, Fraction(90), "D"),
        (SEED_002_BEDFORD, Fraction(8999, 100), "E"),
        (SEED_002_BEDFORD, Fraction(80), "E"),
        (SEED_002_BEDFORD, Fraction(50), "F"),
        (SEED_002_BEDFORD, Fraction(4999, 100), "G"),
        (SEED_000_KING_HENRY, Fraction(96), "96% Attendance"),
        (SEED_000_KING_HENRY, Fraction(9599, 100), "90%-96% Attendance"),
        (SEED_000_KING_HENRY, Fraction(90), "81%-90% Attendance"),
        (SEED_000_KING_HENRY, Fraction(80), "51%-80% Attendance"),
        (SEED_000_KING_HENRY, Fraction(50), "31%-50% Attendance"),
        (SEED_000_KING_HENRY, Fraction(30), None),
        (SEED_004_STAGED, Fraction(97), "Cause for concern Level 1"),
        (SEED_004_STAGED, Fraction(9701, 100), "Attendance Above 97%"),
        (SEED_004_STAGED, Fraction(94), "Cause for concern Level 2"),
        (SEED_004_STAGED, Fraction(9401, 100), "Cause for concern Level 1"),
    ],
)
@pytest.mark.parametrize("impl", BOTH)
def test_band_boundaries(impl, bands, rate, name):
    band = impl.band_for(rate, bands)
    assert (band.name if band else None) == name


@pytest.mark.parametrize("impl", BOTH)
def test_band_for_has_no_band_without_a_rate(impl):
    assert impl.band_for(None, SEED_002_BEDFORD) is None
    assert impl.band_for(Fraction(90), [Band("x", Fraction(90))]) == Band("x", Fraction(90))


def test_production_band_for_needs_sorted_bands_and_the_reference_does_not():
    with pytest.raises(ValueError, match="sorted"):
        rules.band_for(Fraction(50), tuple(reversed(SEED_002_BEDFORD)))
    reversed_bands = tuple(reversed(SEED_002_BEDFORD))
    assert reference.band_for(Fraction(50), reversed_bands) == SEED_002_BEDFORD[5]  # F


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Fraction(200, 3), "66.7"),
        (Fraction(25, 2), "12.5"),
        (Fraction(1, 20), "0.1"),  # half up, not to even
        (Fraction(1, 4), "0.3"),
        (Fraction(-50, 3), "-16.7"),
        (Fraction(-1, 100), "0.0"),
        (Fraction(100), "100.0"),
        (Fraction(8999, 100), "90.0"),  # displayed 90.0, yet below the 90 band: compare exactly
    ],
)
def test_pct1_rounds_half_up_from_the_exact_fraction(value, shown):
    assert pct1(value) == shown
    # A second judge: decimal's own half-up rounding (exact enough at these denominators).
    with decimal.localcontext(prec=50):
        exact = decimal.Decimal(value.numerator) / decimal.Decimal(value.denominator)
        judged = exact.quantize(decimal.Decimal("0.1"), rounding=decimal.ROUND_HALF_UP)
    assert pct1(value) == ("0.0" if judged == 0 else str(judged))


# --- Aggregation (§4.1) ---------------------------------------------------------------------


def test_aggregate_sums_sessions_rather_than_averaging_percentages():
    full = run(marks_for(W[2], W[2] + FRIDAY), start=W[2], end=W[2] + FRIDAY)
    codes = days(W[2], W[4] + FRIDAY, "O")
    codes.update(days(W[2], W[2] + FRIDAY, "I"))
    half = run(marks_for(W[2], W[5] + FRIDAY, codes), start=W[2], end=W[5] + FRIDAY)
    assert (full.attendance_rate, half.attendance_rate) == (Fraction(100), Fraction(25))

    total = aggregate([full, half])
    average_of_rates = (Fraction(100) + Fraction(25)) / 2
    assert total.possible_sessions == 50
    assert total.attendance_rate == Fraction(100 * (10 + 10), 50)  # 40%
    assert total.attendance_rate != average_of_rates  # 62.5%
    assert total.overall_absence_rate == 60
    assert (total.authorised_rate, total.unauthorised_rate) == (Fraction(20), Fraction(40))
    assert (total.pa_enrolments, total.sa_enrolments, total.enrolments) == (1, 1, 2)
    assert (total.pa_rate, total.sa_rate) == (Fraction(50), Fraction(50))
    assert total.code_counts == {"/": 10, "I": 10, "O": 20, "\\": 10}


def test_aggregate_leaves_out_zero_possible_enrolments_from_pa_rate_and_non_cohort_pupils():
    pa = run(marks_for(W[2], W[2] + FRIDAY, days(W[2], W[2], "O")), start=W[2], end=W[2] + FRIDAY)
    dual = run(
        marks_for(W[2], W[2] + FRIDAY, days(W[2], W[2] + FRIDAY, "D")),
        start=W[2],
        end=W[2] + FRIDAY,
    )
    young = run(
        marks_for(W[2], W[2] + FRIDAY),
        start=W[2],
        end=W[2] + FRIDAY,
        date_of_birth=D(2020, 1, 1),
        dfe_comparable=True,
    )
    total = aggregate([pa, dual, young])
    assert (total.enrolments, total.enrolments_with_possible) == (2, 1)
    assert total.pa_rate == 100
    assert aggregate([]).attendance_rate is None


# --- Contract errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marks", "kwargs", "message"),
    [
        ([MarkIn(W[2], "AM", "/"), MarkIn(W[2], "AM", "O")], {}, "Two marks"),
        ([MarkIn(W[2], "XX", "/")], {}, "'AM' or 'PM'"),  # type: ignore[arg-type]
        ([], {"jurisdiction": "scotland"}, "jurisdiction"),
        ([], {"dfe_comparable": True}, "date of birth"),
        ([], {"end": W[1]}, "period_end"),
    ],
)
def test_contract_errors(marks, kwargs, message):
    options: dict[str, Any] = {"start": W[2], "end": W[2] + FRIDAY, **kwargs}
    with pytest.raises(ValueError, match=message):
        run(marks, **options)


def test_rules_validate_themselves():
    with pytest.raises(ValueError, match="at least 1"):
        PenaltyNoticeRule(sessions=0)
    with pytest.raises(ValueError, match="at least 1"):
        IllnessRule(days=0)
    with pytest.raises(ValueError, match="before it starts"):
        Enrolment(start=W[2], leaving=W[1])


# --- Properties -----------------------------------------------------------------------------

ENGLAND_CODES = sorted({d.code for d in ENGLAND_2024})
PROPERTY_SESSIONS = CAL_A.sessions_between(W[1], W[4] + FRIDAY)  # 40 sessions, W1-W4
code_or_gap = st.one_of(st.sampled_from(ENGLAND_CODES), st.none(), st.sampled_from(["H", "??"]))


def property_marks(codes: Sequence[str | None]) -> list[MarkIn]:
    return [
        MarkIn(day, "AM" if session.value == "AM" else "PM", code)
        for (day, session), code in zip(PROPERTY_SESSIONS, codes, strict=True)
        if code is not None
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(code_or_gap, min_size=40, max_size=40))
def test_counts_partition_the_sessions_and_rates_add_up(codes):
    summary = run(property_marks(codes), start=W[1], end=W[4] + FRIDAY)
    s = summary
    assert s.possible_sessions == s.present_sessions + s.aea_sessions + s.absence_sessions
    assert (
        s.possible_sessions + s.not_counted_sessions + s.missing_sessions + s.unknown_code_sessions
    ) == 40
    assert sum(s.code_counts.values()) == s.possible_sessions + s.not_counted_sessions
    assert not s.severe_absence or s.persistent_absence
    # The window at as_of covers the whole period, so it counts exactly G, O and U.
    assert s.pn_window_count == sum(s.code_counts.get(c, 0) for c in ("G", "O", "U"))
    # G, N, O (ground i) are a subset of G, N, O, U (10-day return).
    assert s.ground_i_run_current <= s.ten_day_run_current
    band = reference.band_for(s.attendance_rate, DFE_DEFAULT)
    assert rules.band_for(s.attendance_rate, DFE_DEFAULT) is band
    if s.possible_sessions == 0:
        assert s.attendance_rate is None
        assert band is None
        return
    assert s.attendance_rate is not None
    assert s.overall_absence_rate is not None
    assert s.attendance_rate + s.overall_absence_rate == 100
    assert s.authorised_rate is not None
    assert s.unauthorised_rate is not None
    assert s.authorised_rate + s.unauthorised_rate == s.overall_absence_rate
    assert band is not None
    assert (band is DFE_DEFAULT[0]) == (not s.persistent_absence)
    assert (band is DFE_DEFAULT[2]) == s.severe_absence
    one = aggregate([s])
    assert (one.attendance_rate, one.possible_sessions) == (s.attendance_rate, s.possible_sessions)


@settings(max_examples=75, deadline=None)
@given(st.lists(code_or_gap, min_size=40, max_size=40), st.integers(min_value=1, max_value=19))
def test_statistics_are_additive_over_split_periods(codes, split_day):
    school_days = CAL_A.school_days_between(W[1], W[4] + FRIDAY)
    cut = school_days[split_day]
    marks = property_marks(codes)
    whole = run(marks, start=W[1], end=W[4] + FRIDAY)
    parts = aggregate(
        [
            run(marks, start=W[1], end=cut - dt.timedelta(days=1)),
            run(marks, start=cut, end=W[4] + FRIDAY),
        ]
    )
    for name in (
        "possible_sessions",
        "present_sessions",
        "aea_sessions",
        "authorised_sessions",
        "unauthorised_sessions",
        "not_counted_sessions",
        "missing_sessions",
        "unknown_code_sessions",
        "code_counts",
    ):
        assert getattr(parts, name) == getattr(whole, name), name
    assert parts.attendance_rate == whole.attendance_rate


def test_illness_return_dates():
    codes = {
        **days(D(2024, 9, 9), D(2024, 9, 18), "I"),  # 8 days
        **days(D(2024, 9, 20), D(2024, 10, 11), "I"),  # 16 days
    }
    as_of = D(2024, 10, 11)
    summary = run(marks_for(W[1], as_of, codes), start=W[1], end=D(2024, 12, 20), as_of=as_of)
    assert summary.illness_cumulative_reached_on == D(2024, 9, 30)  # the 15th illness day
    assert summary.illness_consecutive_reached_on == D(2024, 10, 10)  # 15th day of the 2nd run
    assert (summary.illness_consecutive_days_current, summary.illness_cumulative_days) == (16, 24)


def test_a_disabled_rule_is_not_evaluated_in_england_either():
    codes = days(W[2], W[2] + FRIDAY, "O")
    summary = run(
        marks_for(W[2], W[2] + FRIDAY, codes),
        start=W[2],
        end=W[2] + FRIDAY,
        pn_rule=PenaltyNoticeRule(enabled=False),
    )
    assert (summary.pn_evaluated, summary.pn_window_count, summary.pn_threshold_met_on) == (
        False,
        None,
        None,
    )
    assert summary.unauthorised_sessions == 10


def test_a_session_marked_at_both_schools_counts_once_and_a_definite_code_beats_n():
    codes = days(W[2], D(2024, 9, 12), "O")  # 8 sessions here
    previous = [
        MarkIn(D(2024, 9, 12), "PM", "N"),  # the same session, N at the other school
        MarkIn(D(2024, 9, 13), "AM", "N"),
        MarkIn(D(2024, 9, 13), "PM", "G"),
    ]
    summary = run(
        marks_for(W[2], W[2] + FRIDAY, codes),
        start=W[2],
        end=W[2] + FRIDAY,
        pn_rule=WITH_N,
        previous_marks=previous,
    )
    assert summary.pn_window_count == 10
    assert summary.pn_threshold_met_on == (D(2024, 9, 13), "PM")
    assert summary.pn_threshold_provisional is True  # 13 Sep AM is still N


# --- Production rules against the reference, at the boundaries --------------------------------


@pytest.mark.parametrize("impl", BOTH)
@pytest.mark.parametrize(
    ("absence", "possible", "pa", "sa"),
    [
        pytest.param(0, 0, False, False, id="no possible session"),
        pytest.param(1, 10, True, False, id="exactly 10%"),
        pytest.param(99, 1000, False, False, id="9.9%"),
        pytest.param(101, 1010, True, False, id="exactly 10% of 1010"),
        pytest.param(5, 10, True, True, id="exactly 50%"),
        pytest.param(4, 9, True, False, id="44.4%"),
        pytest.param(3, 3, True, True, id="everything missed"),
        pytest.param(0, 3, False, False, id="nothing missed"),
    ],
)
def test_persistent_and_severe_absence_at_their_bounds(impl, absence, possible, pa, sa):
    assert impl.persistent_absence(absence=absence, possible=possible) is pa
    assert impl.severe_absence(absence=absence, possible=possible) is sa


@pytest.mark.parametrize("impl", BOTH)
def test_percentage_is_exact(impl):
    assert impl.percentage(1, 3) == Fraction(100, 3)
    assert impl.percentage(0, 0) is None
    assert impl.percentage(0, 5) == 0


@pytest.mark.parametrize("impl", BOTH)
@pytest.mark.parametrize(
    ("jurisdiction", "code", "rule", "qualifies"),
    [
        pytest.param("england", "G", PN_RULE_ENGLAND, True, id="England G"),
        pytest.param("england", "O", PN_RULE_ENGLAND, True, id="England O"),
        pytest.param("england", "U", PN_RULE_ENGLAND, True, id="England U"),
        pytest.param("england", "N", PN_RULE_ENGLAND, False, id="England N, default"),
        pytest.param(
            "england", "N", PenaltyNoticeRule(include_n=True), None, id="England N, LA counts N"
        ),
        pytest.param("england", "I", PN_RULE_ENGLAND, False, id="England I"),
        pytest.param("england", "L", PN_RULE_ENGLAND, False, id="England L"),
        pytest.param("england", "??", PN_RULE_ENGLAND, False, id="unknown code"),
        pytest.param("wales", "O", PenaltyNoticeRule(), True, id="Wales O"),
        pytest.param("wales", "N", PenaltyNoticeRule(), False, id="Wales N, default"),
        pytest.param(
            "wales", "N", PenaltyNoticeRule(include_n=True), None, id="Wales N, LA counts N"
        ),
        pytest.param("wales", "I", PenaltyNoticeRule(), False, id="Wales I"),
    ],
)
def test_penalty_notice_qualification(impl, jurisdiction, code, rule, qualifies):
    definition = code_lookup(jurisdiction=jurisdiction, code=code, on=D(2024, 10, 1))
    assert impl.pn_qualifies(definition, rule=rule, jurisdiction=jurisdiction) is qualifies


@pytest.mark.parametrize("include_n", [False, True])
def test_penalty_notice_qualification_agrees_on_every_code(include_n):
    rule = PenaltyNoticeRule(include_n=include_n)
    for jurisdiction, table in (
        ("england", ENGLAND_2006),
        ("england", ENGLAND_2024),
        ("wales", WALES_2010),
    ):
        for definition in table:
            ours = rules.pn_qualifies(definition, rule=rule, jurisdiction=jurisdiction)
            judged = reference.pn_qualifies(definition, rule=rule, jurisdiction=jurisdiction)
            assert ours is judged, (jurisdiction, definition.code)


def test_the_default_penalty_notice_rules_are_the_spec_s():
    # §5.2: 10 sessions in 10 school weeks, N excluded; §2: no national Welsh rule.
    assert (PN_RULE_ENGLAND.sessions, PN_RULE_ENGLAND.school_weeks) == (10, 10)
    assert (PN_RULE_ENGLAND.enabled, PN_RULE_ENGLAND.include_n) == (True, False)
    assert default_pn_rule("england") == PN_RULE_ENGLAND
    assert default_pn_rule("wales").enabled is False
    # §6.2: 15 school days; the reference's default is the spec's, stated on its own.
    ours, spec = rules.ILLNESS_RULE_DEFAULT, reference.SPEC_ILLNESS_RULE
    assert (ours.days, ours.mode) == (spec.days, spec.mode) == (15, "either")


@pytest.mark.parametrize("impl", BOTH)
@pytest.mark.parametrize(
    ("range_start", "range_end", "cut"),
    [
        # W5 is the first week after half-term's gap; four school weeks before it is W1.
        pytest.param(W[1], W[5] + FRIDAY, W[1] + dt.timedelta(days=6), id="5 school weeks"),
        pytest.param(W[1], W[4] + FRIDAY, None, id="only 4 school weeks"),
        pytest.param(W[2], W[5] + FRIDAY, None, id="the cut falls before range_start"),
        pytest.param(
            W[1] + dt.timedelta(days=6), W[5], W[1] + dt.timedelta(days=6), id="cut on range_start"
        ),
        # Half-term (28 Oct) is no school week: W9 (4 Nov) looks back to W5.
        pytest.param(W[1], W[9], W[5] + dt.timedelta(days=6), id="half-term is skipped"),
        pytest.param(W[1], D(2024, 11, 2), W[4] + dt.timedelta(days=6), id="end in half-term"),
        pytest.param(W[3], W[2], None, id="empty range"),
    ],
)
def test_trend_cut(impl, range_start, range_end, cut):
    assert impl.trend_cut(calendar=CAL_A, range_start=range_start, range_end=range_end) == cut


@pytest.mark.parametrize("impl", BOTH)
@pytest.mark.parametrize(
    ("dob", "in_cohort"),
    [
        pytest.param(D(2019, 8, 31), True, id="5 on 31 Aug"),
        pytest.param(D(2019, 9, 1), False, id="5 on 1 Sep: 4 on 31 Aug"),
        pytest.param(D(2009, 8, 31), True, id="15 on 31 Aug"),
        pytest.param(D(2008, 9, 1), True, id="16 on 1 Sep: 15 on 31 Aug"),
        pytest.param(D(2008, 8, 31), False, id="16 on 31 Aug"),
        pytest.param(D(2012, 2, 29), True, id="leap-day birthday"),
    ],
)
def test_dfe_cohort_bounds(impl, dob, in_cohort):
    assert impl.in_dfe_cohort(date_of_birth=dob, academic_year=2024) is in_cohort


@pytest.mark.parametrize("impl", BOTH)
@pytest.mark.parametrize(
    ("period_start", "period_end", "as_of", "year"),
    [
        pytest.param(D(2024, 9, 1), D(2025, 8, 31), D(2025, 3, 1), 2024, id="mid-year"),
        pytest.param(D(2024, 8, 1), D(2025, 7, 31), D(2024, 8, 20), 2023, id="as_of in August"),
        pytest.param(D(2024, 9, 1), D(2025, 8, 31), D(2024, 1, 1), 2024, id="as_of before"),
        pytest.param(D(2024, 9, 1), D(2025, 8, 31), D(2026, 1, 1), 2024, id="as_of after"),
    ],
)
def test_dfe_academic_year(impl, period_start, period_end, as_of, year):
    assert (
        impl.dfe_academic_year(period_start=period_start, period_end=period_end, as_of=as_of)
        == year
    )
