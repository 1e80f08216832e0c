"""Weekly summaries (issue 12 item 5): write them inside the recompute's transaction, and read
them for the dashboards.

The grouped count is the engine's own (its calendar sessions, code-table intervals and
``_meaning`` classification from ``registers.codes``), grouped by enrolment and school week as
well; nothing here restates which code counts where.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Collection
from typing import Any

from django.db import connection

from interventions import engine
from interventions.models import EnrolmentAttendance, SchoolRollup, SchoolYearRollup, WeeklySummary
from registers.codes import StatCategory
from registers.models import AttendanceMark
from schools.calendar import SchoolCalendar
from schools.models import Enrolment, School

_WEEK = dt.timedelta(days=7)
_CATEGORY_FIELD = {
    StatCategory.PRESENT: "present_sessions",
    StatCategory.AEA: "aea_sessions",
    StatCategory.AUTHORISED: "authorised_sessions",
    StatCategory.UNAUTHORISED: "unauthorised_sessions",
    StatCategory.NOT_COUNTED: "not_counted_sessions",
}


_COUNTS = (
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_sessions",
    "unauthorised_sessions",
    "not_counted_sessions",
    "late_sessions",
)
_COLUMNS = (
    "school_id",
    "enrolment_id",
    "pupil_id",
    "period_start",
    "week_start",
    *_COUNTS,
    "code_counts",
)
_INSERT = f"""
    INSERT INTO {WeeklySummary._meta.db_table} ({", ".join(_COLUMNS)})
    VALUES ({", ".join(["%s"] * len(_COLUMNS))})
"""  # noqa: S608 (column names from the model; values are parameters)
_COPY = f"COPY {WeeklySummary._meta.db_table} ({', '.join(_COLUMNS)}) FROM STDIN"


_ROLLUP_SUMS = (
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_sessions",
    "unauthorised_sessions",
)
_ROLLUP_INSERT = f"""
    INSERT INTO {SchoolRollup._meta.db_table}
        (school_id, period_start, week_start, {", ".join(_ROLLUP_SUMS)})
    SELECT school_id, period_start, week_start, {", ".join(f"SUM({c})" for c in _ROLLUP_SUMS)}
    FROM {WeeklySummary._meta.db_table}
    WHERE school_id = %s AND period_start = %s AND week_start >= %s
    GROUP BY school_id, period_start, week_start
"""  # noqa: S608 (column names from the models; values are parameters)


# The year's row: the stored results summed, and the enrolments counted as the dashboards
# count them (with a possible session; persistent and severe by the engine's stored flags).
_YEAR_INSERT = f"""
    INSERT INTO {SchoolYearRollup._meta.db_table}
        (school_id, period_start, {", ".join(_ROLLUP_SUMS)},
         enrolments, pa_enrolments, sa_enrolments)
    SELECT school_id, period_start, {", ".join(f"SUM({c})" for c in _ROLLUP_SUMS)},
        SUM(CASE WHEN possible_sessions > 0 THEN 1 ELSE 0 END),
        SUM(CASE WHEN persistent_absence THEN 1 ELSE 0 END),
        SUM(CASE WHEN severe_absence THEN 1 ELSE 0 END)
    FROM {EnrolmentAttendance._meta.db_table}
    WHERE school_id = %s AND period_start = %s
    GROUP BY school_id, period_start
"""  # noqa: S608 (column names from the models; values are parameters)


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def summaries_rewrite(
    *,
    school: School,
    calendar: SchoolCalendar,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    pupil_ids: Collection[int] | None = None,
    changed_from: dt.date | None = None,
) -> int:
    """Replace the weekly summaries of the year starting ``period_start`` of every enrolment
    of ``school`` (of ``pupil_ids`` if given) with counts from their marks up to ``as_of``:
    the same counted range as the engine's stored results, so each enrolment's weeks sum to
    its ``EnrolmentAttendance`` counts. With ``changed_from`` (no mark dated before it changed
    since the summaries were last written, and they were written as of the day before it or
    later) only the weeks from its Monday are rewritten: a day's register then reads one week
    of marks, not the year. Then the school's rollups (``rollup_rewrite``). A fixed number of
    queries and one bulk insert whatever the roll. Call inside the recompute's transaction and
    ``school_scope(school)``; returns the summary rows written."""
    first = _first_week(period_start, changed_from)
    written = _summaries_write(
        school=school,
        calendar=calendar,
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
        pupil_ids=pupil_ids,
        first=first,
    )
    rollup_rewrite(school=school, period_start=period_start, first=first)
    return written


def _first_week(period_start: dt.date, changed_from: dt.date | None) -> dt.date:
    """The first day of the weeks to rewrite: the Monday of ``changed_from`` (the first week
    may start on ``period_start`` itself), or the whole year."""
    if changed_from is not None and changed_from > period_start:
        return max(period_start, monday(changed_from))
    return period_start


def rollup_rewrite(*, school: School, period_start: dt.date, first: dt.date) -> None:
    """Replace ``school``'s ``SchoolRollup`` rows of the year from the week of ``first`` with
    the sums of its weekly summaries (every enrolment's, whichever pupils a run rewrote), and
    its ``SchoolYearRollup`` of the year with the sums of its stored results (which the run
    wrote first). Four queries. Call inside the recompute's transaction and
    ``school_scope(school)``."""
    SchoolRollup.objects.filter(
        school=school, period_start=period_start, week_start__gte=monday(first)
    ).delete()
    SchoolYearRollup.objects.filter(school=school, period_start=period_start).delete()
    ops = connection.ops
    year = ops.adapt_datefield_value(period_start)
    with connection.cursor() as cursor:
        cursor.execute(_ROLLUP_INSERT, [school.pk, year, ops.adapt_datefield_value(monday(first))])
        cursor.execute(_YEAR_INSERT, [school.pk, year])


def _summaries_write(
    *,
    school: School,
    calendar: SchoolCalendar,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    pupil_ids: Collection[int] | None,
    first: dt.date,
) -> int:
    last = min(period_end, as_of)
    existing = WeeklySummary.objects.filter(school=school, period_start=period_start)
    if first > period_start:
        existing = existing.filter(week_start__gte=first)
    if pupil_ids is not None:
        existing = existing.filter(pupil_id__in=list(pupil_ids))
    existing.delete()
    enrolments = engine._enrolments(
        school=school, period_start=period_start, period_end=period_end, pupil_ids=pupil_ids
    )
    if not enrolments or last < first:
        return 0
    sessions_sql, sessions_params = engine._sessions_sql(calendar, first, last)
    if not sessions_sql:
        return 0
    cuts = [cut for cut in engine._meaning_cuts() if first < cut <= last]
    interval_sql, interval_params = "0", list[Any]()
    if cuts:
        interval_sql = (
            "CASE "
            + " ".join(f"WHEN m.date < %s THEN {i}" for i in range(len(cuts)))
            + f" ELSE {len(cuts)} END"
        )
        interval_params = list(cuts)
    weeks = []
    week = monday(first) + _WEEK
    while week <= last:
        weeks.append(week)
        week += _WEEK
    week_sql, week_params = "0", list[Any]()
    if weeks:
        week_sql = (
            "CASE "
            + " ".join(f"WHEN m.date < %s THEN {i}" for i in range(len(weeks)))
            + f" ELSE {len(weeks)} END"
        )
        week_params = list(weeks)
    pupils_sql, pupils_params = "", list[Any]()
    if pupil_ids is not None:
        pupils_sql, pupils_params = engine._pupils_sql(set(pupil_ids), keep=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT e.id, e.pupil_id, m.code, {interval_sql} AS meaning, {week_sql} AS week,
                   COUNT(*)
            FROM {AttendanceMark._meta.db_table} m
            JOIN {Enrolment._meta.db_table} e
              ON e.pupil_id = m.pupil_id AND e.school_id = m.school_id
             AND m.date >= e.start_date
             AND (e.leaving_date IS NULL OR m.date <= e.leaving_date)
            WHERE m.school_id = %s AND m.date >= %s AND m.date <= %s AND ({sessions_sql})
              {pupils_sql}
            GROUP BY e.id, e.pupil_id, m.code, meaning, week
            """,  # noqa: S608 (only table names and placeholders are formatted in)
            [
                *interval_params,
                *week_params,
                school.pk,
                first,
                last,
                *sessions_params,
                *pupils_params,
            ],
        )
        rows = cursor.fetchall()
    wanted = {e.pk for e in enrolments}
    starts = [first, *cuts]
    mondays = [monday(first), *weeks]
    cells: dict[tuple[int, int, int], Counter[str]] = {}
    codes: dict[tuple[int, int, int], Counter[str]] = defaultdict(Counter)
    jurisdiction = school.jurisdiction
    for enrolment_id, pupil_id, code, index, week_index, count in rows:
        if enrolment_id not in wanted:
            continue
        definition = engine._meaning(jurisdiction, code, starts[index])
        if definition is None:
            continue
        key = (enrolment_id, pupil_id, week_index)
        cell = cells.setdefault(key, Counter[str]())
        cell[_CATEGORY_FIELD[definition.category]] += count
        if definition.category in engine.POSSIBLE:
            cell["possible_sessions"] += count
        if code == "L":
            cell["late_sessions"] += count
        codes[key][code] += count
    ops = connection.ops
    week_starts = [ops.adapt_datefield_value(day) for day in mondays]
    year = ops.adapt_datefield_value(period_start)
    values = [
        [
            school.pk,
            enrolment_id,
            pupil_id,
            year,
            week_starts[week_index],
            *(cell[name] for name in _COUNTS),
            json.dumps(dict(sorted(codes[key].items()))),
        ]
        for key, cell in cells.items()
        for enrolment_id, pupil_id, week_index in [key]
    ]
    if values:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # COPY: a full run writes ~45 weeks for every enrolment (80,000 rows for a
                # secondary school), and row-by-row inserts were most of the night's time.
                with cursor.cursor.copy(_COPY) as copy:
                    for row in values:
                        copy.write_row(row)
            else:
                # One statement for the lot (bulk_create splits it by SQLite's parameter
                # limit, so the number of queries would grow with the roll).
                cursor.executemany(_INSERT, values)
    return len(cells)
