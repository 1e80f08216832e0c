"""The DfE-comparable scope (spec/regulations.md §4.2) as a filter on the weekly summaries, so
the dashboards' ``?dfe=1`` toggle applies to every figure they read.

Same rule as ``selectors._computed_states``: only pupils aged 5 to 15 on the 31 August that
starts the academic year are counted; for those aged 15 then, the sessions from the second
half of the summer term (``rules.dfe_summer_second_half_start``) are removed. Summaries are
weekly, so the cut is at the week level: the weeks starting on or after that day go. The
second half starts on a Monday in every calendar the app imports (after the May half-term);
a mid-week start would keep that one week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q

from interventions import rules
from schools.calendar import SchoolCalendar


@dataclass(frozen=True)
class DfeScope:
    """Dates of birth of the cohort (inclusive), those of the 15-year-olds, and the first day
    of the summer term's second half, for one academic year."""

    born_from: dt.date
    born_to: dt.date
    fifteen_born_to: dt.date
    second_half: dt.date

    def summaries_q(self, prefix: str = "") -> Q:
        """A ``WeeklySummary`` filter: the weeks the DfE counts."""
        born = f"{prefix}pupil__date_of_birth"
        return Q(**{f"{born}__gte": self.born_from, f"{born}__lte": self.born_to}) & ~Q(
            **{
                f"{born}__lte": self.fifteen_born_to,
                f"{prefix}week_start__gte": self.second_half,
            }
        )

    def counts(self, date_of_birth: dt.date, day: dt.date) -> bool:
        """Whether a session on ``day`` of a pupil born on ``date_of_birth`` is counted."""
        if not self.born_from <= date_of_birth <= self.born_to:
            return False
        return not (date_of_birth <= self.fifteen_born_to and day >= self.second_half)


def dfe_scope(
    *,
    calendar: SchoolCalendar,
    period_start: dt.date,
    period_end: dt.date,
    on: dt.date,
) -> DfeScope:
    """The §4.2 scope of the academic year ``period_start`` to ``period_end`` seen on ``on``."""
    year = rules.dfe_academic_year(period_start=period_start, period_end=period_end, as_of=on)
    # Aged 15 or less on 31 August ``year``: born on or after 1 September ``year - 16``;
    # aged 5 or more: born on or before 31 August ``year - 5``; aged exactly 15: born on or
    # before 31 August ``year - 15`` (and in the cohort).
    return DfeScope(
        born_from=dt.date(year - rules.DFE_OLDEST - 1, 9, 1),
        born_to=dt.date(year - rules.DFE_YOUNGEST, 8, 31),
        fifteen_born_to=dt.date(year - rules.DFE_OLDEST, 8, 31),
        second_half=rules.dfe_summer_second_half_start(calendar=calendar, academic_year=year),
    )


def dfe_summaries_q(
    *,
    calendar: SchoolCalendar,
    periods: list[tuple[dt.date, dt.date]],
    on: dt.date,
) -> Q:
    """A ``WeeklySummary`` filter keeping, for each academic year in ``periods``, the weeks
    the DfE counts (each year has its own cohort)."""
    q = Q(pk__in=[])
    for start, end in periods:
        scope = dfe_scope(calendar=calendar, period_start=start, period_end=end, on=on)
        q |= Q(period_start=start) & scope.summaries_q()
    return q
