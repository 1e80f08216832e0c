from __future__ import annotations

import datetime as dt

import pytest

from registers.codes import (
    ENGLAND_2024_FROM,
    CodeDefinition,
    CodeScheme,
    PenaltyNotice,
    StatCategory,
    age_rule_error,
    code_lookup,
    codes_in_force,
    compulsory_school_age_ends,
    compulsory_school_age_starts,
    historic_missing,
    is_compulsory_school_age,
)

AUTUMN_2024 = dt.date(2024, 9, 9)
SUMMER_2024 = dt.date(2024, 6, 10)

# spec/regulations.md §1.3, verbatim.
ENGLAND_2024_SETS = {
    StatCategory.PRESENT: {"/", "\\", "L"},
    StatCategory.AEA: {"K", "V", "P", "W", "B"},
    StatCategory.AUTHORISED: {"C", "C1", "C2", "E", "I", "J1", "M", "R", "S", "T"},
    StatCategory.UNAUTHORISED: {"G", "N", "O", "U"},
    StatCategory.NOT_COUNTED: {"D", "X", "Q", "Y1", "Y2", "Y3", "Y4", "Y5", "Y6", "Y7", "Z", "#"},
}


def defined(jurisdiction: str, code: str, on: dt.date) -> CodeDefinition:
    definition = code_lookup(jurisdiction=jurisdiction, code=code, on=on)
    assert definition is not None, f"{code} should be valid in {jurisdiction} on {on}"
    return definition


def test_england_2024_partition_is_exactly_the_spec():
    codes = codes_in_force(jurisdiction="england", on=AUTUMN_2024)
    by_category: dict[StatCategory, set[str]] = {c: set() for c in StatCategory}
    for definition in codes:
        by_category[definition.category].add(definition.code)
        assert definition.scheme is CodeScheme.ENG_2024

    assert by_category == ENGLAND_2024_SETS
    assert len(codes) == sum(len(s) for s in ENGLAND_2024_SETS.values())  # no duplicates


@pytest.mark.parametrize(
    ("code", "penalty", "deletion_i", "ten_day"),
    [
        ("G", PenaltyNotice.YES, True, True),
        ("N", PenaltyNotice.SCHOOL_CHOICE, True, True),
        ("O", PenaltyNotice.YES, True, True),
        ("U", PenaltyNotice.YES, False, True),
        ("I", PenaltyNotice.NO, False, False),
        ("C2", PenaltyNotice.NO, False, False),
        ("L", PenaltyNotice.NO, False, False),
    ],
)
def test_england_flags_follow_the_master_table(code, penalty, deletion_i, ten_day):
    definition = code_lookup(jurisdiction="england", code=code, on=AUTUMN_2024)

    assert definition is not None
    assert definition.penalty_notice is penalty
    assert definition.continues_deletion_ground_i is deletion_i
    assert definition.counts_ten_day_return is ten_day


def test_the_scheme_is_decided_by_the_session_date():
    assert defined("england", "H", SUMMER_2024).category is StatCategory.AUTHORISED
    assert code_lookup(jurisdiction="england", code="H", on=ENGLAND_2024_FROM) is None
    assert code_lookup(jurisdiction="england", code="C2", on=SUMMER_2024) is None
    # J was attendance before 2024 and stays so for historic sessions; J1 replaced it as absence.
    assert defined("england", "J", SUMMER_2024).category is StatCategory.AEA
    assert defined("england", "J1", AUTUMN_2024).category is StatCategory.AUTHORISED
    last_2006_day = ENGLAND_2024_FROM - dt.timedelta(days=1)
    assert defined("england", "Y", last_2006_day).scheme is CodeScheme.ENG_2006


def test_dual_registration_was_attendance_until_2011_and_not_counted_since():
    assert defined("england", "D", dt.date(2010, 10, 1)).category is StatCategory.AEA
    assert defined("england", "D", dt.date(2012, 10, 1)).category is StatCategory.NOT_COUNTED
    assert code_lookup(jurisdiction="england", code="F", on=dt.date(2013, 9, 2)) is None


def test_historic_k_is_a_missing_mark_not_education_arranged_by_the_la():
    assert historic_missing(jurisdiction="england", code="K", on=SUMMER_2024)
    assert code_lookup(jurisdiction="england", code="K", on=SUMMER_2024) is None
    assert not historic_missing(jurisdiction="england", code="K", on=AUTUMN_2024)
    assert defined("england", "K", AUTUMN_2024).category is StatCategory.AEA


@pytest.mark.parametrize("code", ["C2", "J1", "K", "Q", "Y4"])
def test_welsh_schools_are_not_offered_english_2024_codes(code):  # TC-18
    assert code_lookup(jurisdiction="wales", code=code, on=AUTUMN_2024) is None


def test_welsh_holiday_leave_is_authorised_and_no_code_counts_towards_an_english_penalty_notice():
    holiday = code_lookup(jurisdiction="wales", code="H", on=AUTUMN_2024)

    assert holiday is not None
    assert holiday.category is StatCategory.AUTHORISED
    assert all(
        d.penalty_notice is PenaltyNotice.NO
        for d in codes_in_force(jurisdiction="wales", on=AUTUMN_2024)
    )


@pytest.mark.parametrize(
    ("born", "starts"),
    [
        (dt.date(2019, 1, 1), dt.date(2024, 3, 31)),
        (dt.date(2019, 3, 31), dt.date(2024, 3, 31)),
        (dt.date(2019, 4, 1), dt.date(2024, 8, 31)),
        (dt.date(2019, 8, 31), dt.date(2024, 8, 31)),
        (dt.date(2019, 9, 1), dt.date(2024, 12, 31)),
        (dt.date(2019, 12, 31), dt.date(2024, 12, 31)),
        (dt.date(2016, 2, 29), dt.date(2021, 3, 31)),
    ],
)
def test_compulsory_school_age_starts_on_the_prescribed_day_after_the_fifth_birthday(born, starts):
    assert compulsory_school_age_starts(born) == starts


@pytest.mark.parametrize(
    ("born", "ends"),
    [
        (dt.date(2009, 1, 15), dt.date(2025, 6, 27)),  # turns 16 in January: that June
        (dt.date(2009, 8, 31), dt.date(2025, 6, 27)),  # turns 16 in the summer holidays
        (dt.date(2009, 9, 1), dt.date(2026, 6, 26)),  # the youngest of the next year group
    ],
)
def test_compulsory_school_age_ends_on_the_last_friday_of_june(born, ends):
    assert compulsory_school_age_ends(born) == ends
    assert ends.weekday() == 4


def test_x_only_below_compulsory_school_age_and_c2_only_at_it():  # TC-08 validation
    reception_aged_4 = dt.date(2020, 1, 15)  # four on 31 Aug 2024
    year_3 = dt.date(2016, 5, 1)
    x = defined("england", "X", AUTUMN_2024)
    c2 = defined("england", "C2", AUTUMN_2024)

    assert not is_compulsory_school_age(reception_aged_4, AUTUMN_2024)
    assert age_rule_error(x, date_of_birth=reception_aged_4, on=AUTUMN_2024) is None
    assert age_rule_error(x, date_of_birth=year_3, on=AUTUMN_2024) is not None
    assert age_rule_error(c2, date_of_birth=year_3, on=AUTUMN_2024) is None
    assert age_rule_error(c2, date_of_birth=reception_aged_4, on=AUTUMN_2024) is not None
