"""Weekly summaries (issue 12 item 5): kept by the recompute path, and each enrolment's weeks
sum to its stored results."""

from __future__ import annotations

from collections import Counter

import pytest

from interventions.models import EnrolmentAttendance, WeeklySummary
from interventions.recompute import pupils_recompute, school_recompute
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
