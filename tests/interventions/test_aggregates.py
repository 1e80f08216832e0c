"""School, group and trust aggregates of attendance results (§4.1 "Aggregation", §4.2): sessions
summed, never percentages averaged; the stored (SQL) and computed (Python) paths agree; the
DfE-comparable cohort; a fixed number of queries whatever the roll."""

from __future__ import annotations

import dataclasses
import datetime as dt
from fractions import Fraction
from typing import cast

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from interventions import reference, rules
from interventions.recompute import school_recompute
from interventions.selectors import (
    GROUP_BYS,
    ZERO_TOTALS,
    AttendanceAggregate,
    AttendanceTotals,
    academic_period_for,
    school_attendance_computed,
    school_attendance_stored,
    trust_attendance_stored,
)
from registers.models import AttendanceMark
from schools import models
from schools.scoping import school_scope
from schools.selectors import school_calendar_get
from tests import factories as f
from tests.interventions.attendance_world import (
    SUMMER_SECOND_HALF,
    YEAR_END,
    YEAR_START,
    D,
    add_marks,
    add_pupil,
    build_year_world,
    mark_pattern,
    sessions,
)
from tests.registers.conftest import RegisterWorld

pytestmark = pytest.mark.django_db

AS_OF = D(2025, 5, 5)  # 300 sessions from Mon 2 Sep 2024 (150 + 130 + 20)


def stored(rw: RegisterWorld, as_of: dt.date = AS_OF) -> AttendanceAggregate:
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=as_of)
        return school_attendance_stored(school=rw.school, on=as_of)


def computed(
    rw: RegisterWorld,
    as_of: dt.date = AS_OF,
    *,
    start: dt.date = YEAR_START,
    end: dt.date = YEAR_END,
    dfe: bool = False,
) -> AttendanceAggregate:
    with school_scope(rw.school):
        return school_attendance_computed(
            school=rw.school, period_start=start, period_end=end, as_of=as_of, dfe_comparable=dfe
        )


def totals(**given: int) -> AttendanceTotals:
    return dataclasses.replace(ZERO_TOTALS, **given)


# --- Hand-computed: sums, not averages; PA/SA rates; the 10% and 50% boundaries --------------


@pytest.fixture
def four_pupils() -> RegisterWorld:
    """big: 300 possible, 30 O (exactly 10%: PA, not SA). small: 10 possible, 5 I (exactly
    50%: PA and SA). none: 10 sessions of X, no possible session. below: 11 possible, 1 O
    (9.09%: not PA)."""
    rw = build_year_world()
    school = rw.school
    year = sessions(school, D(2024, 9, 2), AS_OF)
    assert len(year) == 300
    big = add_pupil(rw, legal_surname="Big", fsm=True, gender="M")
    mark_pattern(school, big, year, {"O": 30})
    small = add_pupil(rw, legal_surname="Small", fsm=False, gender="F")
    mark_pattern(school, small, year[:10], {"I": 5})
    none = add_pupil(rw, legal_surname="None", fsm=False, gender="F")
    add_marks(school, none, year[:10], "X")
    below = add_pupil(rw, legal_surname="Below", fsm=True, gender="F")
    mark_pattern(school, below, year[:11], {"O": 1})
    rw.pupils = [big, small, none, below]
    return rw


FOUR_TOTAL = totals(
    enrolments=4,
    enrolments_with_possible=3,
    possible_sessions=321,
    present_sessions=270 + 5 + 10,
    authorised_sessions=5,
    unauthorised_sessions=31,
    not_counted_sessions=10,
    pa_enrolments=2,
    sa_enrolments=1,
)


@pytest.mark.parametrize("path", [stored, computed])
def test_school_rate_sums_sessions_and_never_averages_percentages(four_pupils, path):
    aggregate = path(four_pupils)

    assert aggregate.total == FOUR_TOTAL
    assert aggregate.total.attendance_rate == Fraction(285, 321) * 100
    assert rules.pct1(aggregate.total.attendance_rate) == "88.8"
    assert rules.pct1(aggregate.total.overall_absence_rate) == "11.2"
    # The pupils' own rates are 90, 50 and 90.9: their mean (77.0) is not the school's rate.
    mean = (Fraction(90) + Fraction(50) + Fraction(1000, 11)) / 3
    assert rules.pct1(mean) == "77.0"
    # PA and SA over the 3 enrolments with a possible session, not the 4 enrolments.
    assert aggregate.total.pa_rate == Fraction(200, 3)
    assert rules.pct1(aggregate.total.pa_rate) == "66.7"
    assert rules.pct1(aggregate.total.sa_rate) == "33.3"


def test_rates_are_none_without_a_possible_session():
    assert ZERO_TOTALS.attendance_rate is None
    assert ZERO_TOTALS.pa_rate is None
    only_x = totals(enrolments=1, not_counted_sessions=10)
    assert only_x.overall_absence_rate is None
    assert only_x.sa_rate is None


@pytest.mark.parametrize("impl", [rules, reference], ids=["rules", "reference"])
def test_the_boundaries_are_exact_not_rounded(impl):
    # 10 of 100 missed is PA (and 99 of 1000 is not, though it shows as "9.9"); 50% is SA.
    assert impl.persistent_absence(absence=10, possible=100)
    assert not impl.persistent_absence(absence=99, possible=1000)
    assert impl.severe_absence(absence=5, possible=10)
    assert not impl.severe_absence(absence=4, possible=9)


def test_per_group_splits_add_up_to_the_total(four_pupils):
    aggregate = computed(four_pupils)

    fsm = {g.label: g.totals for g in aggregate.breakdown("fsm").groups}
    assert list(fsm) == ["Free school meals", "Not free school meals"]
    # big (300, 30 O, PA) and below (11, 1 O)
    assert fsm["Free school meals"] == totals(
        enrolments=2,
        enrolments_with_possible=2,
        possible_sessions=311,
        present_sessions=280,
        unauthorised_sessions=31,
        pa_enrolments=1,
    )
    assert fsm["Free school meals"].attendance_rate == Fraction(280, 311) * 100  # "90.0"
    assert fsm["Free school meals"] + fsm["Not free school meals"] == aggregate.total

    gender = {g.key: g.totals for g in aggregate.breakdown("gender").groups}
    assert gender["M"].possible_sessions == 300
    assert gender["F"].enrolments == 3
    for grouping in GROUP_BYS:
        groups = aggregate.breakdown(grouping).groups
        assert sum((g.totals for g in groups), ZERO_TOTALS) == aggregate.total, grouping


def test_form_and_year_group_follow_the_placement_on_the_as_of_date():
    rw = build_year_world()
    school = rw.school
    with scopes_disabled():
        year10 = f.YearGroupFactory(school=school, nc_year=models.NCYear.Y10)
        form_10a = f.FormGroupFactory(
            school=school, academic_year=rw.form.academic_year, year_group=year10, name="10A"
        )
    stays = add_pupil(rw)
    moves = add_pupil(rw)
    unplaced = add_pupil(rw)
    with scopes_disabled():
        models.FormPlacement.objects.filter(pupil=moves).update(end_date=D(2024, 12, 20))
        f.FormPlacementFactory(pupil=moves, form=form_10a, start_date=D(2025, 1, 6))
        models.FormPlacement.objects.filter(pupil=unplaced).delete()
    autumn = sessions(school, D(2024, 9, 2), D(2024, 9, 6))
    for pupil in (stays, moves, unplaced):
        add_marks(school, pupil, autumn, "/")

    for aggregate in (stored(rw), computed(rw)):
        forms = {g.label: g.totals.enrolments for g in aggregate.breakdown("form").groups}
        assert forms == {"9A": 1, "10A": 1, "No form on the as-of date": 1}
        years = {g.label: g.totals.enrolments for g in aggregate.breakdown("year").groups}
        assert years == {"Year 9": 1, "Year 10": 1, "No form on the as-of date": 1}

    # As of the autumn, the pupil who moved is still in 9A.
    autumn_view = computed(rw, as_of=D(2024, 10, 1))
    forms = {g.label: g.totals.enrolments for g in autumn_view.breakdown("form").groups}
    assert forms == {"9A": 2, "No form on the as-of date": 1}


# --- The stored (SQL) and computed (Python) paths agree -----------------------------------------


def test_stored_and_computed_paths_give_identical_results(four_pupils):
    rw = four_pupils
    with scopes_disabled():
        year10 = f.YearGroupFactory(school=rw.school, nc_year=models.NCYear.Y10)
        form_10a = f.FormGroupFactory(
            school=rw.school, academic_year=rw.form.academic_year, year_group=year10
        )
    extra = add_pupil(
        rw, form=form_10a, sen_status="K", ethnicity="WBRI", eal=True, looked_after=True
    )
    add_marks(rw.school, extra, sessions(rw.school, D(2025, 1, 6), D(2025, 3, 28)), "\\")
    add_pupil(rw, child_in_need=True, pupil_premium=True, start=D(2025, 6, 2))  # joins later

    from_store, now = stored(rw), computed(rw)

    assert from_store.source == "stored"
    assert now.source == "computed"
    assert from_store.as_of == from_store.earliest_as_of == AS_OF
    assert from_store.computed_at is not None
    assert (from_store.period_start, from_store.period_end) == (YEAR_START, YEAR_END)
    assert from_store.total == now.total
    assert from_store.breakdowns == now.breakdowns
    assert [b.group_by for b in from_store.breakdowns] == list(GROUP_BYS)


def test_no_stored_results_yet_gives_empty_groups(four_pupils):
    with school_scope(four_pupils.school):
        aggregate = school_attendance_stored(school=four_pupils.school, on=AS_OF)
    assert aggregate.total == ZERO_TOTALS
    assert aggregate.as_of is None
    assert all(b.groups == () for b in aggregate.breakdowns)


# --- DfE-comparable mode (§4.2) -----------------------------------------------------------------

DFE_FROM, DFE_AS_OF = D(2025, 5, 12), D(2025, 6, 13)


@pytest.fixture
def dfe_world() -> RegisterWorld:
    """Ages on 31 August 2024. Each pupil: the week of 12 May present but one O, and the two
    weeks from 2 June (the second half of the summer term) all O."""
    rw = build_year_world()
    school = rw.school
    may = sessions(school, DFE_FROM, D(2025, 5, 16))
    june = sessions(school, SUMMER_SECOND_HALF, DFE_AS_OF)
    assert (len(may), len(june)) == (10, 20)
    born = {
        "fourteen": D(2010, 1, 1),
        "fifteen": D(2009, 1, 1),
        "fifteen on the day": D(2009, 8, 31),
        "sixteen": D(2008, 1, 1),
        "four": D(2020, 1, 1),
        "five on the day": D(2019, 8, 31),
    }
    rw.pupils = []
    for name, date_of_birth in born.items():
        pupil = add_pupil(rw, legal_surname=name, date_of_birth=date_of_birth)
        mark_pattern(school, pupil, may, {"O": 1})
        add_marks(school, pupil, june, "O")
        rw.pupils.append(pupil)
    # A 15-year-old who joins on 2 June: an enrolment of the cohort with every session removed.
    late = add_pupil(
        rw, legal_surname="late", date_of_birth=D(2009, 5, 5), start=SUMMER_SECOND_HALF
    )
    add_marks(school, late, june, "/")
    rw.pupils.append(late)
    return rw


def test_dfe_mode_keeps_ages_5_to_15_and_drops_15s_second_half_of_summer(dfe_world):
    all_pupils = computed(dfe_world, DFE_AS_OF, start=DFE_FROM)
    dfe = computed(dfe_world, DFE_AS_OF, start=DFE_FROM, dfe=True)

    assert all_pupils.total.enrolments == 7
    assert all_pupils.total.possible_sessions == 6 * 30 + 20
    assert not all_pupils.dfe_comparable
    assert dfe.dfe_comparable
    # In: fourteen and five-on-the-day (30 sessions, 21 O: SA), fifteen and fifteen-on-the-day
    # (May only: 10 sessions, 1 O: exactly 10%, PA), late (no session left). Out: 16 and 4.
    assert dfe.total == totals(
        enrolments=5,
        enrolments_with_possible=4,
        possible_sessions=2 * 30 + 2 * 10,
        present_sessions=2 * 9 + 2 * 9,
        unauthorised_sessions=2 * 21 + 2 * 1,
        pa_enrolments=4,
        sa_enrolments=2,
    )
    assert dfe.total.sa_rate == 50


def test_dfe_mode_agrees_with_the_reference_aggregate(dfe_world):
    rw = dfe_world
    with school_scope(rw.school):
        calendar = school_calendar_get(school=rw.school)
        enrolments = list(models.Enrolment.objects.filter(school=rw.school).select_related("pupil"))
        marks = list(AttendanceMark.objects.filter(school=rw.school))
    summaries = [
        reference.summarise(
            marks=[
                reference.MarkIn(m.date, cast("reference.SessionName", m.session), m.code)
                for m in marks
                if m.pupil_id == e.pupil_id
            ],
            calendar=calendar,
            jurisdiction="england",
            enrolment=reference.Enrolment(e.start_date, e.leaving_date),
            period_start=DFE_FROM,
            period_end=YEAR_END,
            as_of=DFE_AS_OF,
            pn_rule=rules.PN_RULE_ENGLAND,
            date_of_birth=e.pupil.date_of_birth,
            dfe_comparable=True,
        )
        for e in enrolments
    ]
    expected = reference.aggregate(summaries)

    found = computed(rw, DFE_AS_OF, start=DFE_FROM, dfe=True).total

    for name in (
        "enrolments",
        "enrolments_with_possible",
        "possible_sessions",
        "present_sessions",
        "aea_sessions",
        "authorised_sessions",
        "unauthorised_sessions",
        "pa_enrolments",
        "sa_enrolments",
        "attendance_rate",
        "overall_absence_rate",
        "pa_rate",
        "sa_rate",
    ):
        assert getattr(found, name) == getattr(expected, name), name


def test_dfe_mode_for_a_period_wholly_in_the_second_half_of_summer(dfe_world):
    dfe = computed(dfe_world, DFE_AS_OF, start=SUMMER_SECOND_HALF, dfe=True)
    # Only the 14-year-old and the 5-year-old count sessions; the 15s are enrolments without.
    assert dfe.total.enrolments == 5
    assert dfe.total.enrolments_with_possible == 2
    assert dfe.total.possible_sessions == 40


# --- Trust --------------------------------------------------------------------------------------


def test_trust_totals_sum_the_schools_of_the_trust_only(four_pupils):
    first = four_pupils
    trust = first.school.trust
    second = build_year_world(trust=trust)
    pupil = add_pupil(second)
    add_marks(second.school, pupil, sessions(second.school, D(2024, 9, 2), D(2024, 9, 6)), "/")
    elsewhere = build_year_world()  # another trust: never counted
    add_marks(
        elsewhere.school,
        add_pupil(elsewhere),
        sessions(elsewhere.school, D(2024, 9, 2), D(2024, 9, 6)),
        "O",
    )
    for rw in (first, second, elsewhere):
        stored(rw)
    quiet = f.SchoolFactory(trust=trust)  # no academic year, no results yet

    with scopes_disabled(), CaptureQueriesContext(connection) as queries:
        summary = trust_attendance_stored(trust=trust, on=AS_OF)

    assert len(queries.captured_queries) == 3
    by_school = {row.school: row for row in summary.schools}
    assert set(by_school) == {first.school, second.school, quiet}
    assert by_school[first.school].totals == FOUR_TOTAL
    assert by_school[first.school].as_of == AS_OF
    assert by_school[second.school].totals.possible_sessions == 10
    assert by_school[quiet].totals == ZERO_TOTALS
    assert by_school[quiet].as_of is None
    assert summary.total == FOUR_TOTAL + by_school[second.school].totals
    assert summary.total.enrolments == 5


# --- A fixed number of queries whatever the roll ------------------------------------------------

STORED_QUERIES = 13  # academic year, 10 groupings (school is their total), form and year names


def test_the_stored_summary_takes_the_same_queries_for_5_and_30_pupils(
    django_assert_max_num_queries,
):
    used = []
    for size in (5, 30):
        rw = build_year_world()
        for _ in range(size):
            pupil = add_pupil(rw)
            add_marks(rw.school, pupil, sessions(rw.school, D(2024, 9, 2), D(2024, 9, 13)), "/")
        with school_scope(rw.school):
            school_recompute(school=rw.school, as_of=AS_OF)
            with (
                CaptureQueriesContext(connection) as queries,
                django_assert_max_num_queries(STORED_QUERIES),
            ):
                aggregate = school_attendance_stored(school=rw.school, on=AS_OF)
        assert aggregate.total.enrolments == size
        used.append(len(queries.captured_queries))
    assert used[0] == used[1]


def test_the_computed_summary_takes_the_same_queries_for_5_and_30_pupils():
    used = []
    for size in (5, 30):
        rw = build_year_world()
        for _ in range(size):
            pupil = add_pupil(rw)
            add_marks(rw.school, pupil, sessions(rw.school, D(2024, 9, 2), D(2024, 9, 13)), "O")
        for dfe in (False, True):
            with CaptureQueriesContext(connection) as queries:
                aggregate = computed(rw, dfe=dfe)
            assert aggregate.total.enrolments == size
            used.append((dfe, len(queries.captured_queries)))
    assert used[:2] == used[2:]


def test_the_period_is_the_academic_year_of_the_date(four_pupils):
    with school_scope(four_pupils.school):
        assert academic_period_for(school=four_pupils.school, on=AS_OF) == (YEAR_START, YEAR_END)
