"""The trust dashboard (issue 12 item 2): every school of a trust on the school dashboard's
measures, read from the rollups the recompute keeps with the stored results: each school's
year to date (``SchoolYearRollup``: its enrolments' results summed, with how many are
persistently and severely absent, each decided on the enrolment's integers) and its weekly
rollup (``SchoolRollup``, for the sparkline and last year to the same school week).

Each school is read for its own academic year containing the day asked for, and "last year to
date" is that school's first *n* school weeks of its previous year, *n* being the school weeks
it has summarised so far this year (as on the school dashboard). The trust total adds sessions
and enrolments across schools and then divides: never an average of the schools' rates, so a
large school weighs as much as its pupils. A fixed number of queries whatever the number of
schools and pupils.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from interventions.dashboards import Totals
from interventions.models import SchoolRollup, SchoolYearRollup
from interventions.selectors import _default_academic_period
from schools.models import AcademicYear, School, Trust
from schools.scoping import schools_scope

_SUMS = (
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_sessions",
    "unauthorised_sessions",
)


_ADDED = (
    "possible",
    "attendance",
    "authorised",
    "unauthorised",
    "enrolments",
    "persistent",
    "severe",
)


@dataclass(frozen=True)
class SchoolColumn:
    """One school: its year to date, its last year to the same school week, its target and its
    weekly attendance rates this year (the sparkline)."""

    school: School
    totals: Totals
    last_year_to_date: Totals
    target: Fraction | None
    weekly: list[Fraction | None]


@dataclass(frozen=True)
class TrustDashboard:
    schools: list[SchoolColumn]
    total: Totals
    last_year_to_date: Totals


def trust_dashboard(*, trust: Trust, on: dt.date) -> TrustDashboard:
    """Every active school of ``trust`` for its academic year containing ``on``. Four queries:
    the schools, their academic years, the schools' year rollups of this year, their weekly
    rollups of this year and last. Reads across the trust's schools and only
    those."""
    schools = list(School.objects.filter(trust=trust, is_active=True).order_by("name"))
    if not schools:
        return TrustDashboard(schools=[], total=Totals(), last_year_to_date=Totals())
    school_ids = [school.pk for school in schools]
    with schools_scope(schools):
        years: dict[int, list[tuple[dt.date, dt.date]]] = {pk: [] for pk in school_ids}
        for school_id, start, end in AcademicYear.objects.filter(
            school_id__in=school_ids, start_date__lte=on, end_date__gte=on - dt.timedelta(800)
        ).values_list("school_id", "start_date", "end_date"):
            years[school_id].append((start, end))
        this = {pk: _period(years[pk], on)[0] for pk in school_ids}
        last = {pk: _period(years[pk], this[pk] - dt.timedelta(days=1))[0] for pk in school_ids}
        # Each school's year to date: its stored year rollup, one row (the enrolments' stored
        # results summed and their persistent/severe flags counted when the recompute wrote
        # them: tests/interventions/test_dashboards_summaries.py), rather than every
        # enrolment's result read and added up per request.
        totals = {pk: Totals() for pk in school_ids}
        for (
            school_id,
            start,
            possible,
            present,
            aea,
            authorised,
            unauthorised,
            enrolments,
            persistent,
            severe,
        ) in (
            SchoolYearRollup.objects.filter(
                school_id__in=school_ids, period_start__in=set(this.values())
            )
            .values_list(
                "school_id", "period_start", *_SUMS, "enrolments", "pa_enrolments", "sa_enrolments"
            )
            .order_by()
        ):
            if start != this[school_id]:
                continue  # another school's year start
            totals[school_id] = Totals(
                possible=possible,
                attendance=present + aea,
                authorised=authorised,
                unauthorised=unauthorised,
                enrolments=enrolments,
                persistent=persistent,
                severe=severe,
            )
        # The weeks: a few stored rows a school, not every enrolment's weeks summed again.
        weekly = list(
            # Filtered by year starts, not one condition per school (building 60 ORed
            # conditions took longer than the query); each row is kept for its own school's
            # years below.
            SchoolRollup.objects.filter(
                school_id__in=school_ids,
                period_start__in={*this.values(), *last.values()},
            )
            .values("school_id", "period_start", "week_start", *_SUMS)
            .order_by("week_start")
        )
    # The trust: every school's integers added (sessions and pupils), then divided.
    total = Totals()
    for school_totals in totals.values():
        for name in _ADDED:
            setattr(total, name, getattr(total, name) + getattr(school_totals, name))
    # School weeks: weeks with a possible session, in order (as the school dashboard counts).
    this_weeks: dict[int, list[dict[str, Any]]] = {pk: [] for pk in school_ids}
    last_weeks: dict[int, list[dict[str, Any]]] = {pk: [] for pk in school_ids}
    for row in weekly:
        if not row["possible_sessions"]:
            continue
        pk = row["school_id"]
        if row["period_start"] == this[pk]:
            this_weeks[pk].append(row)
        if row["period_start"] == last[pk]:
            last_weeks[pk].append(row)
    columns = []
    trust_last = Totals()
    for school in schools:
        mine = this_weeks[school.pk]
        last_to_date = Totals()
        for row in last_weeks[school.pk][: len(mine)]:
            _add_week(last_to_date, row)
            _add_week(trust_last, row)
        target = school.attendance_target
        columns.append(
            SchoolColumn(
                school=school,
                totals=totals[school.pk],
                last_year_to_date=last_to_date,
                target=Fraction(target) if target is not None else None,
                weekly=[
                    Totals(
                        possible=row["possible_sessions"],
                        attendance=row["present_sessions"] + row["aea_sessions"],
                    ).attendance_rate
                    for row in mine
                ],
            )
        )
    return TrustDashboard(schools=columns, total=total, last_year_to_date=trust_last)


def _period(years: list[tuple[dt.date, dt.date]], on: dt.date) -> tuple[dt.date, dt.date]:
    """The school's academic year containing ``on``, else the calendar's rule (as
    ``selectors.academic_period_for``)."""
    for start, end in years:
        if start <= on <= end:
            return start, end
    return _default_academic_period(on)


def _add_week(totals: Totals, row: dict[str, Any]) -> None:
    totals.possible += row["possible_sessions"]
    totals.attendance += row["present_sessions"] + row["aea_sessions"]
    totals.authorised += row["authorised_sessions"]
    totals.unauthorised += row["unauthorised_sessions"]
