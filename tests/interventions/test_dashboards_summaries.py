"""Weekly summaries (issue 12 item 5): kept by the recompute path, and each enrolment's weeks
sum to its stored results."""

from __future__ import annotations

from collections import Counter

import pytest

from interventions.dashboards import Totals
from interventions.models import (
    EnrolmentAttendance,
    SchoolRollup,
    SchoolYearRollup,
    WeeklySummary,
)
from interventions.recompute import pupils_recompute, school_recompute
from registers.models import AttendanceMark
from schools.models import School
from schools.scoping import school_scope
from tests.interventions.test_recompute import D, put_marks, rw, school_days  # noqa: F401

pytestmark = pytest.mark.django_db

FIELDS = (
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_sessions",
    "unauthorised_sessions",
    "not_counted_sessions",
    "late_sessions",
)


def sums_equal_results(school: School) -> None:
    totals: dict[int, Counter[str]] = {}
    codes: dict[int, Counter[str]] = {}
    for row in WeeklySummary.objects.filter(school=school):
        assert row.week_start.weekday() == 0
        totals.setdefault(row.enrolment_id, Counter()).update({f: getattr(row, f) for f in FIELDS})
        codes.setdefault(row.enrolment_id, Counter()).update(row.code_counts)
    results = EnrolmentAttendance.objects.filter(school=school)
    assert results.exists()
    for result in results:
        got = totals.get(result.enrolment_id, Counter())
        for name in FIELDS:
            assert got[name] == getattr(result, name), (result.enrolment_id, name)
        assert dict(codes.get(result.enrolment_id, Counter())) == {
            k: v for k, v in result.code_counts.items() if v
        }


def test_the_full_run_writes_weekly_summaries_that_sum_to_the_results(rw):  # noqa: F811
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        sums_equal_results(rw.school)
        _steady, truant, _unexplained = rw.pupils
        week = WeeklySummary.objects.get(pupil=truant, week_start=D(2024, 9, 16))
        assert (week.possible_sessions, week.unauthorised_sessions) == (10, 10)
        assert week.code_counts == {"U": 10}


def test_a_change_of_marks_rewrites_only_its_pupils_summaries(rw):  # noqa: F811
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        steady, truant, _ = rw.pupils
        untouched = {
            r.pk for r in WeeklySummary.objects.filter(school=rw.school).exclude(pupil=steady)
        }
        put_marks(rw, steady, school_days(D(2024, 10, 7), D(2024, 10, 11)), code="I")
        pupils_recompute(school=rw.school, pupil_ids=[steady.pk], as_of=D(2024, 10, 11))
        assert untouched <= set(WeeklySummary.objects.values_list("pk", flat=True))
        week = WeeklySummary.objects.get(pupil=steady, week_start=D(2024, 10, 7))
        assert week.authorised_sessions == 10
        assert not WeeklySummary.objects.filter(pupil=truant, week_start=D(2024, 10, 7)).exists()
        # The nightly run brings everyone to the same date; then the sums agree again.
        school_recompute(school=rw.school, as_of=D(2024, 10, 11))
        sums_equal_results(rw.school)


def _snapshot(school: School) -> dict[tuple[int, object], tuple[object, ...]]:
    return {
        (row.enrolment_id, row.week_start): (*(getattr(row, f) for f in FIELDS), row.code_counts)
        for row in WeeklySummary.objects.filter(school=school)
    }


def test_a_days_register_rewrites_only_the_summaries_of_its_week(rw):  # noqa: F811
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        # Stored as of Friday 4 Oct: the summaries are rewritten from the week of the day after
        # (the week of 30 Sep, which a weekend session would belong to) and no earlier.
        week_of_saturday = D(2024, 9, 30)
        before = {
            r.pk
            for r in WeeklySummary.objects.filter(school=rw.school, week_start__lt=week_of_saturday)
        }
        day = D(2024, 10, 7)
        for pupil in rw.pupils:
            put_marks(rw, pupil, [day], code="U" if pupil == rw.pupils[0] else "/")
        pupils_recompute(
            school=rw.school, pupil_ids=[p.pk for p in rw.pupils], as_of=day, changed_from=day
        )
        # The weeks before the changed day are the same rows, not deleted and written again.
        kept = set(
            WeeklySummary.objects.filter(week_start__lt=week_of_saturday).values_list(
                "pk", flat=True
            )
        )
        assert kept == before
        week = WeeklySummary.objects.get(pupil=rw.pupils[0], week_start=day)
        assert (week.possible_sessions, week.unauthorised_sessions) == (2, 2)
        sums_equal_results(rw.school)
        incremental = _snapshot(rw.school)
        school_recompute(school=rw.school, as_of=day)
        assert _snapshot(rw.school) == incremental


def test_summaries_follow_marks_since_the_stored_date_not_only_the_changed_day(rw):  # noqa: F811
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        steady, truant, unexplained = rw.pupils
        # A week of marks, of which only Friday's is said to have changed: the stored results
        # (as of the 4th) are carried over the whole week, and so are the summaries.
        put_marks(rw, steady, school_days(D(2024, 10, 7), D(2024, 10, 11)), code="I")
        put_marks(rw, truant, school_days(D(2024, 10, 7), D(2024, 10, 11)))
        put_marks(rw, unexplained, school_days(D(2024, 10, 7), D(2024, 10, 11)))
        pupils_recompute(
            school=rw.school,
            pupil_ids=[p.pk for p in rw.pupils],
            as_of=D(2024, 10, 11),
            changed_from=D(2024, 10, 11),
        )
        sums_equal_results(rw.school)
        incremental = _snapshot(rw.school)
        school_recompute(school=rw.school, as_of=D(2024, 10, 11))
        assert _snapshot(rw.school) == incremental


def test_an_earlier_correction_rewrites_the_summaries_from_its_week(rw):  # noqa: F811
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        _steady, truant, _ = rw.pupils
        # The truant's U on 17 Sep is corrected to present (computed again from the marks).
        AttendanceMark.objects.filter(pupil=truant, date=D(2024, 9, 17)).update(code="/")
        pupils_recompute(
            school=rw.school,
            pupil_ids=[truant.pk],
            as_of=D(2024, 10, 4),
            changed_from=D(2024, 9, 17),
        )
        week = WeeklySummary.objects.get(pupil=truant, week_start=D(2024, 9, 16))
        assert week.unauthorised_sessions == 8  # 10 sessions of U, 2 of them now present
        sums_equal_results(rw.school)
        incremental = _snapshot(rw.school)
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        assert _snapshot(rw.school) == incremental


def _rollup_matches_summaries(school: School) -> None:
    weeks: dict[object, Counter[str]] = {}
    for row in WeeklySummary.objects.filter(school=school):
        weeks.setdefault((row.period_start, row.week_start), Counter()).update(
            {f: getattr(row, f) for f in ROLLUP_FIELDS}
        )
    rollup = {
        (r.period_start, r.week_start): Counter({f: getattr(r, f) for f in ROLLUP_FIELDS})
        for r in SchoolRollup.objects.filter(school=school)
    }
    assert rollup
    assert rollup == weeks
    _year_rollup_matches_results(school)


def _year_rollup_matches_results(school: School) -> None:
    """The year's row equals the school dashboard's total of the stored results (persistent
    and severe absence decided there on each enrolment's integers)."""
    expected: dict[object, Totals] = {}
    for row in EnrolmentAttendance.objects.filter(school=school).values(
        "period_start", "pupil_id", *ROLLUP_FIELDS
    ):
        expected.setdefault(row["period_start"], Totals()).add(row)
    got = {
        r.period_start: (
            r.possible_sessions,
            r.present_sessions + r.aea_sessions,
            r.authorised_sessions,
            r.unauthorised_sessions,
            r.enrolments,
            r.pa_enrolments,
            r.sa_enrolments,
        )
        for r in SchoolYearRollup.objects.filter(school=school)
    }
    assert got == {
        start: (
            t.possible,
            t.attendance,
            t.authorised,
            t.unauthorised,
            t.enrolments,
            t.persistent,
            t.severe,
        )
        for start, t in expected.items()
    }


ROLLUP_FIELDS = FIELDS[:5]


def test_the_school_rollups_sum_every_enrolment_after_each_kind_of_run(rw):  # noqa: F811
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        _rollup_matches_summaries(rw.school)
        year = SchoolYearRollup.objects.get()
        assert (year.enrolments, year.pa_enrolments, year.sa_enrolments) == (3, 1, 0)  # the truant
        steady, truant, _unexplained = rw.pupils
        # One pupil's register changes: the rollup still sums every pupil of the school.
        put_marks(rw, steady, [D(2024, 10, 7)], code="I")
        pupils_recompute(
            school=rw.school,
            pupil_ids=[steady.pk],
            as_of=D(2024, 10, 7),
            changed_from=D(2024, 10, 7),
        )
        _rollup_matches_summaries(rw.school)
        week = SchoolRollup.objects.get(week_start=D(2024, 10, 7))
        assert (week.possible_sessions, week.authorised_sessions) == (2, 2)
        # A correction in September, for another pupil.
        AttendanceMark.objects.filter(pupil=truant, date=D(2024, 9, 17)).update(code="/")
        pupils_recompute(
            school=rw.school,
            pupil_ids=[truant.pk],
            as_of=D(2024, 10, 7),
            changed_from=D(2024, 9, 17),
        )
        _rollup_matches_summaries(rw.school)
