"""The school dashboard (issue 12 item 1), read only from what the recompute keeps with the
weekly summaries: each enrolment's stored result (its weeks summed) and the school's weekly
rollup (its enrolments' weeks summed).

Every rate is sessions summed and then divided (``rules.percentage``), never an average of
pupils' percentages; persistent and severe absence are decided per enrolment on integers
(``rules.persistent_absence`` / ``severe_absence``). A fixed number of queries whatever the
roll: the per-enrolment totals with the pupil's groups, and the weekly totals of this year and
last year (rows the recompute wrote, not summed again per request).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.db.models import Sum

from interventions.dashboard_dfe import dfe_summaries_q
from interventions.models import EnrolmentAttendance, SchoolRollup, WeeklySummary
from interventions.rules import percentage, persistent_absence, severe_absence
from interventions.selectors import academic_period_for
from schools.models import School
from schools.selectors import school_calendar_get

_SUMS = (
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_sessions",
    "unauthorised_sessions",
)
# The pupil groups of issue 12 item 1, as (key, field of Pupil).
PUPIL_GROUPS = (
    ("fsm", "fsm"),
    ("send", "sen_status"),
    ("gender", "gender"),
    ("ethnicity", "ethnicity"),
    ("eal", "eal"),
    ("looked_after", "looked_after"),
    ("child_in_need", "child_in_need"),
    ("pupil_premium", "pupil_premium"),
)


@dataclass
class Totals:
    """Sessions summed over enrolments, and the persistent/severe counts among them."""

    possible: int = 0
    attendance: int = 0
    authorised: int = 0
    unauthorised: int = 0
    enrolments: int = 0  # with at least one possible session
    persistent: int = 0
    severe: int = 0
    pupil_ids: list[int] = field(default_factory=list)

    def add(self, row: dict[str, Any]) -> None:
        possible = row["possible_sessions"] or 0
        authorised = row["authorised_sessions"] or 0
        unauthorised = row["unauthorised_sessions"] or 0
        self.possible += possible
        self.attendance += (row["present_sessions"] or 0) + (row["aea_sessions"] or 0)
        self.authorised += authorised
        self.unauthorised += unauthorised
        self.pupil_ids.append(row["pupil_id"])
        if possible:
            self.enrolments += 1
            absence = authorised + unauthorised
            self.persistent += persistent_absence(absence=absence, possible=possible)
            self.severe += severe_absence(absence=absence, possible=possible)

    @property
    def absence(self) -> int:
        return self.authorised + self.unauthorised

    @property
    def attendance_rate(self) -> Fraction | None:
        return percentage(self.attendance, self.possible)

    @property
    def absence_rate(self) -> Fraction | None:
        return percentage(self.absence, self.possible)

    @property
    def authorised_rate(self) -> Fraction | None:
        return percentage(self.authorised, self.possible)

    @property
    def unauthorised_rate(self) -> Fraction | None:
        return percentage(self.unauthorised, self.possible)

    @property
    def persistent_rate(self) -> Fraction | None:
        return percentage(self.persistent, self.enrolments)

    @property
    def severe_rate(self) -> Fraction | None:
        return percentage(self.severe, self.enrolments)


@dataclass(frozen=True)
class WeekPoint:
    """School week ``number`` (1 = the year's first week with a possible session)."""

    number: int
    week_start: dt.date | None
    this_year: Fraction | None
    last_year: Fraction | None


@dataclass(frozen=True)
class Dashboard:
    school: School
    period_start: dt.date
    period_end: dt.date
    total: Totals
    last_year_to_date: Totals
    target: Fraction | None
    weeks: list[WeekPoint]
    groups: list[tuple[str, list[tuple[str, Totals]]]]
    per_pupil: dict[int, dict[str, Any]]


def _weeks(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The weeks with at least one possible session, in order: the school weeks."""
    return sorted((r for r in rows if r["possible_sessions"]), key=lambda r: r["week_start"])


def school_dashboard(*, school: School, on: dt.date, dfe: bool = False) -> Dashboard:
    """The school's dashboard for the academic year containing ``on``, from the weekly
    summaries. "Last year to date" sums last year's first *n* school weeks, where *n* is the
    number of school weeks summarised so far this year. Three queries whatever the roll.
    With ``dfe``, only what the DfE counts (``dashboard_dfe``, §4.2). Call inside
    ``school_scope(school)``."""
    period_start, period_end = academic_period_for(school=school, on=on)
    last_start, last_end = academic_period_for(
        school=school, on=period_start - dt.timedelta(days=1)
    )
    if dfe:
        # The DfE's cohort and weeks are per pupil and per week (dashboard_dfe), so this reads
        # the weekly summaries themselves: the stored results and the rollup cannot narrow.
        scope = dfe_summaries_q(
            calendar=school_calendar_get(school=school),
            periods=[(period_start, period_end), (last_start, last_end)],
            on=on,
        )
        sums = {name: Sum(name) for name in _SUMS}
        per_enrolment = list(
            WeeklySummary.objects.filter(scope, school=school, period_start=period_start)
            .values("enrolment_id", "pupil_id", *(f"pupil__{f}" for _, f in PUPIL_GROUPS))
            .annotate(**sums)
            .order_by("enrolment_id")
        )
        weekly = list(
            WeeklySummary.objects.filter(
                scope, school=school, period_start__in=[period_start, last_start]
            )
            .values("period_start", "week_start")
            .annotate(**sums)
            .order_by()
        )
    else:
        # Each enrolment's year to date from its stored result: one row, written with its
        # weekly summaries to the same day and equal to them summed
        # (test_dashboards_summaries.py); the school's weeks from its rollup (the summaries
        # summed when written), not every enrolment's weeks of two years summed again.
        per_enrolment = list(
            EnrolmentAttendance.objects.filter(school=school, period_start=period_start)
            .values("enrolment_id", "pupil_id", *(f"pupil__{f}" for _, f in PUPIL_GROUPS), *_SUMS)
            .order_by("enrolment_id")
        )
        weekly = list(
            SchoolRollup.objects.filter(school=school, period_start__in=[period_start, last_start])
            .values("period_start", "week_start", *_SUMS)
            .order_by()
        )
    this_weeks = _weeks(r for r in weekly if r["period_start"] == period_start)
    last_weeks = _weeks(r for r in weekly if r["period_start"] == last_start)
    total = Totals()
    groups: dict[str, dict[str, Totals]] = {key: {} for key, _ in PUPIL_GROUPS}
    per_pupil: dict[int, dict[str, Any]] = {}
    for row in per_enrolment:
        total.add(row)
        for key, name in PUPIL_GROUPS:
            value = str(row[f"pupil__{name}"])
            groups[key].setdefault(value, Totals()).add(row)
        per_pupil.setdefault(row["pupil_id"], row)
    # Last year to the same school week: sessions summed, not rates averaged.
    last_to_date = Totals()
    for row in last_weeks[: len(this_weeks)]:
        last_to_date.possible += row["possible_sessions"]
        last_to_date.attendance += row["present_sessions"] + row["aea_sessions"]
        last_to_date.authorised += row["authorised_sessions"]
        last_to_date.unauthorised += row["unauthorised_sessions"]
    points = []
    for index in range(max(len(this_weeks), len(last_weeks))):
        mine = this_weeks[index] if index < len(this_weeks) else None
        theirs = last_weeks[index] if index < len(last_weeks) else None
        points.append(
            WeekPoint(
                number=index + 1,
                week_start=mine["week_start"] if mine else None,
                this_year=_rate(mine),
                last_year=_rate(theirs),
            )
        )
    target = school.attendance_target
    return Dashboard(
        school=school,
        period_start=period_start,
        period_end=period_end,
        total=total,
        last_year_to_date=last_to_date,
        target=Fraction(target) if target is not None else None,
        weeks=points,
        groups=[(key, sorted(by.items())) for key, by in groups.items()],
        per_pupil=per_pupil,
    )


def _rate(row: dict[str, Any] | None) -> Fraction | None:
    if row is None:
        return None
    return percentage(row["present_sessions"] + row["aea_sessions"], row["possible_sessions"])
