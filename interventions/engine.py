"""The set-based attendance engine: §4.1 session counts for every enrolment of a school at once.

``interventions.reference`` defines what is correct, one enrolment at a time in Python. This
module computes the same §4.1 counts for a whole school with the database doing the counting:
one grouped query for the counts and one for the per-code counts, whatever the number of
pupils, so the nightly run does not fetch every mark into Python. A property test
(tests/interventions/test_engine.py) checks it against ``reference.summarise`` field by field,
on SQLite and on PostgreSQL.

How the reference's rules become SQL:

- **Counted range** (``max(period_start, start)`` to ``min(period_end, as_of, leaving)``): the
  marks are LEFT JOINed to their pupil's enrolment on ``date >= start_date`` and
  ``date <= COALESCE(leaving_date, last day)``; the period and ``as_of`` bounds are the same
  for every enrolment and come from the calendar list below.
- **Calendar sessions only**: the calendar is Python (``schools.calendar``), so it is sent as
  data: the school days between the period's first day and ``min(period_end, as_of)``, split
  into days with both sessions (``date IN (...)``) and days with only an AM or only a PM
  session left by a single-session closure (``date IN (...) AND session = 'AM'``). That is one
  bound parameter per school day (about 190 for a school year, 950 for five years), sent once
  in the JOIN condition rather than in every aggregate; both backends take far more (65,535
  per statement in PostgreSQL, 32,766 by default in SQLite since 3.32). Weekends, holidays and
  closures are simply not in the list, so a mark on them counts nowhere, as in the reference.
  Listing sessions, rather than re-expressing terms, weekdays and closures in SQL, keeps
  ``SchoolCalendar`` the one place that decides what a session is.
- **What a code means on a date** (``registers.codes.code_lookup``): the code tables are
  cut into the date intervals on which no definition starts or ends, ``code_lookup`` is asked
  once per code and interval, and the answers become ``code IN (...) AND date >= ... AND
  date <= ...`` conditions per statistical category. A 2023 ``H`` is therefore authorised
  absence and a 2024 one unknown, a historic ``K`` is missing (``historic_missing``), and the
  stored ``scheme`` of a mark is never trusted. Codes with no definition there and then match
  no condition and count nowhere, like unmarked sessions.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db.models import (
    Count,
    DateField,
    F,
    FilteredRelation,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from interventions.reference import persistent_absence, severe_absence
from registers.codes import (
    ENGLAND_2006,
    ENGLAND_2024,
    ENGLAND_2024_FROM,
    OPEN_END,
    WALES_2010,
    CodeDefinition,
    StatCategory,
    code_lookup,
    historic_missing,
)
from schools.calendar import SchoolCalendar, Session
from schools.models import Enrolment, School
from schools.selectors import school_calendar_get

JURISDICTIONS = ("england", "wales")

# Every definition code_lookup can return. The tables are cut at these definitions' bounds;
# a test checks that no table registers.codes consults is missing here.
CODE_DEFINITIONS: tuple[CodeDefinition, ...] = (*ENGLAND_2006, *ENGLAND_2024, *WALES_2010)

# The marks of the counted range, joined once under this name; every aggregate reads it.
_MARKS = "counted"
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class EnrolmentCounts:
    """One enrolment's §4.1 counts over the counted range. The names are those of
    ``reference.AttendanceSummary``, and each field equals the reference's field."""

    possible_sessions: int
    present_sessions: int  # PRESENT, including L
    aea_sessions: int
    authorised_sessions: int
    unauthorised_sessions: int
    not_counted_sessions: int
    late_sessions: int  # L
    late_minutes: int  # sum of minutes_late on L; a missing figure adds 0
    u_sessions: int
    u_minutes: int
    code_counts: dict[str, int]  # every known code on a counted session, keys sorted
    persistent_absence: bool
    severe_absence: bool


@dataclass(frozen=True)
class CodeValidity:
    """``codes`` mean ``category`` for sessions from ``start`` to ``end`` inclusive."""

    category: StatCategory
    codes: tuple[str, ...]
    start: dt.date
    end: dt.date


def session_counts(
    *,
    school: School,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    pupil_ids: Collection[int] | None = None,
) -> dict[int, EnrolmentCounts]:
    """The §4.1 counts of every enrolment of ``school`` overlapping the period, by enrolment pk.

    An enrolment overlaps the period when it starts on or before ``period_end`` and leaves on or
    after ``period_start`` (or has not left); ``pupil_ids``, if given, keeps only those pupils'
    enrolments. Each enrolment's counts are those of ``reference.summarise`` with the same
    arguments: marks on the school calendar's sessions from ``max(period_start, start_date)``
    to ``min(period_end, as_of, leaving_date)``, each code read with its meaning on the
    session's date in the school's jurisdiction; unmarked sessions and unknown codes count
    nowhere. An enrolment whose counted range is empty (it starts after ``as_of``) has zero
    counts. Persistent and severe absence compare integers: absence * 10 (or * 2) >= possible,
    and possible > 0.

    At most four queries whatever the school's size: the calendar's terms and closures, the
    counts, the per-code counts. Call it inside ``school_scope(school)`` (ScopeError
    otherwise). Raises ValueError if ``period_end`` is before ``period_start`` or the school's
    jurisdiction is not one of ``JURISDICTIONS``.
    """
    if period_end < period_start:
        raise ValueError("period_end is before period_start.")
    jurisdiction = school.jurisdiction
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(f"Unknown jurisdiction {jurisdiction!r}: expected one of {JURISDICTIONS}.")

    queries = _queries(
        school=school,
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
        pupil_ids=pupil_ids,
    )
    if queries.counts is None or queries.codes is None:
        # No session to count (as_of before the period, or a period in the holidays): every
        # enrolment has zero counts, and an empty IN list must not reach the JOIN condition.
        return {pk: _counts({}, {}) for pk in queries.enrolments.values_list("pk", flat=True)}

    codes: defaultdict[int, dict[str, int]] = defaultdict(dict)
    for row in queries.codes:
        codes[row["pk"]][row["code"]] = row["sessions"]
    return {row["pk"]: _counts(row, codes[row["pk"]]) for row in queries.counts}


class _Queries(NamedTuple):
    enrolments: QuerySet[Enrolment]
    counts: QuerySet[Enrolment, dict[str, Any]] | None  # one row per enrolment
    codes: QuerySet[Enrolment, dict[str, Any]] | None  # one row per enrolment and known code


def _queries(
    *,
    school: School,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    pupil_ids: Collection[int] | None,
) -> _Queries:
    """The two grouped queries of ``session_counts`` (``None`` when no session is in range).

    Separate from evaluating them so the SQL can be read with ``str(queryset.query)``.
    """
    last_day = min(period_end, as_of)
    enrolments = (
        Enrolment.objects.filter(school=school, start_date__lte=period_end)
        .filter(Q(leaving_date__isnull=True) | Q(leaving_date__gte=period_start))
        .order_by("pk")
    )
    if pupil_ids is not None:
        enrolments = enrolments.filter(pupil_id__in=pupil_ids)
    sessions = _sessions_condition(school_calendar_get(school=school), period_start, last_day)
    if sessions is None:
        return _Queries(enrolments=enrolments, counts=None, codes=None)

    # Marks on the counted range of each enrolment, LEFT JOINed so an enrolment without any
    # still comes back (with zero counts). The bounds that differ per enrolment are column
    # references; the period and as_of bounds are in the calendar list.
    counted = enrolments.annotate(
        **{
            _MARKS: FilteredRelation(
                "pupil__marks",
                condition=Q(pupil__marks__school=school)
                & Q(pupil__marks__date__gte=F("start_date"))
                & Q(
                    pupil__marks__date__lte=Coalesce(
                        F("leaving_date"), Value(last_day), output_field=DateField()
                    )
                )
                & sessions,
            )
        }
    )

    table = code_table(school.jurisdiction)
    by_category = {category: _category_condition(table, category) for category in StatCategory}
    late, u = _code_condition(table, "L"), _code_condition(table, "U")
    mark, minutes = f"{_MARKS}__pk", f"{_MARKS}__minutes_late"
    aggregates: dict[str, Any] = {
        category.value: Count(mark, filter=condition)
        for category, condition in by_category.items()
        if condition is not None
    }
    aggregates["late_sessions"] = Count(mark, filter=late)
    # SUM over no row is NULL; the reference adds 0 for a missing figure.
    aggregates["late_minutes"] = Coalesce(Sum(minutes, filter=late), 0, output_field=IntegerField())
    aggregates["u_sessions"] = Count(mark, filter=u)
    aggregates["u_minutes"] = Coalesce(Sum(minutes, filter=u), 0, output_field=IntegerField())
    counts = counted.values("pk").annotate(**aggregates).order_by("pk")

    # The per-code counts: known codes only (as the reference's code_counts), grouped by
    # enrolment and code. A WHERE on the joined mark turns the LEFT JOIN into an inner one,
    # which is right here: an enrolment without a known code has no row.
    known = _any_of([q for q in by_category.values() if q is not None])
    assert known is not None  # every table defines codes
    codes = (
        counted.filter(known)
        .values("pk", code=F(f"{_MARKS}__code"))
        .annotate(sessions=Count(mark))
        .order_by()
    )
    return _Queries(enrolments=enrolments, counts=counts, codes=codes)


# --- The code tables as date intervals ------------------------------------------------------


@functools.cache
def code_table(jurisdiction: str) -> tuple[CodeValidity, ...]:
    """What every code means, as (category, codes, first date, last date) rows, for
    ``jurisdiction``: exactly ``code_lookup``'s answers, less ``historic_missing`` codes.

    ``code_lookup`` scans its tables for the first definition whose dates include the
    session's; that answer can only change on a day some definition starts or the day after
    one ends. Between two such days it is asked once per code, and adjacent intervals with the
    same answer are merged, so the whole of England is a handful of rows.
    """
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(f"Unknown jurisdiction {jurisdiction!r}: expected one of {JURISDICTIONS}.")
    cuts = sorted(
        {d.valid_from for d in CODE_DEFINITIONS}
        | {d.valid_to + _ONE_DAY for d in CODE_DEFINITIONS if d.valid_to < OPEN_END}
        | {ENGLAND_2024_FROM}  # where historic_missing stops applying
    )
    intervals = [(start, following - _ONE_DAY) for start, following in itertools.pairwise(cuts)]
    intervals.append((cuts[-1], OPEN_END))

    # Per code: (category, start, end), merged across adjacent intervals.
    spans: dict[str, list[tuple[StatCategory, dt.date, dt.date]]] = defaultdict(list)
    for code in sorted({d.code for d in CODE_DEFINITIONS}):
        for start, end in intervals:
            definition = code_lookup(jurisdiction=jurisdiction, code=code, on=start)
            if definition is None or historic_missing(
                jurisdiction=jurisdiction, code=code, on=start
            ):
                continue
            runs = spans[code]
            if runs and runs[-1][0] is definition.category and runs[-1][2] + _ONE_DAY == start:
                runs[-1] = (definition.category, runs[-1][1], end)
            else:
                runs.append((definition.category, start, end))

    grouped: dict[tuple[StatCategory, dt.date, dt.date], list[str]] = defaultdict(list)
    for code, runs in spans.items():
        for category, start, end in runs:
            grouped[(category, start, end)].append(code)
    return tuple(
        CodeValidity(category=category, codes=tuple(sorted(codes)), start=start, end=end)
        for (category, start, end), codes in sorted(grouped.items())
    )


def _validity_q(codes: Sequence[str], start: dt.date, end: dt.date) -> Q:
    q = Q(**{f"{_MARKS}__code__in": list(codes), f"{_MARKS}__date__gte": start})
    if end < OPEN_END:
        q &= Q(**{f"{_MARKS}__date__lte": end})
    return q


def _any_of(conditions: Sequence[Q]) -> Q | None:
    return functools.reduce(lambda a, b: a | b, conditions) if conditions else None


def _category_condition(table: Sequence[CodeValidity], category: StatCategory) -> Q | None:
    """Marks whose code means ``category`` on their date; ``None`` if no code ever does."""
    return _any_of([_validity_q(v.codes, v.start, v.end) for v in table if v.category is category])


def _code_condition(table: Sequence[CodeValidity], code: str) -> Q:
    """Marks of ``code`` on a date it is a known code (``L``/``U`` minutes count only then)."""
    condition = _any_of([_validity_q([code], v.start, v.end) for v in table if code in v.codes])
    if condition is None:
        raise ValueError(f"Code {code!r} is never defined.")
    return condition


# --- The calendar as data -------------------------------------------------------------------


def _sessions_condition(calendar: SchoolCalendar, first: dt.date, last: dt.date) -> Q | None:
    """Marks on a calendar session from ``first`` to ``last``; ``None`` if there is none."""
    by_day: dict[dt.date, list[Session]] = defaultdict(list)
    for day, session in calendar.sessions_between(first, last) if first <= last else []:
        by_day[day].append(session)
    both = [day for day, on in by_day.items() if len(on) == 2]
    conditions: list[Q] = []
    if both:
        conditions.append(Q(pupil__marks__date__in=both, pupil__marks__session__in=["AM", "PM"]))
    for only in (Session.AM, Session.PM):
        days = [day for day, on in by_day.items() if on == [only]]
        if days:
            conditions.append(Q(pupil__marks__date__in=days, pupil__marks__session=only.value))
    return _any_of(conditions)


def _counts(row: Mapping[str, Any], codes: Mapping[str, int]) -> EnrolmentCounts:
    def count(name: str) -> int:
        return int(row.get(name) or 0)

    present = count(StatCategory.PRESENT.value)
    aea = count(StatCategory.AEA.value)
    authorised = count(StatCategory.AUTHORISED.value)
    unauthorised = count(StatCategory.UNAUTHORISED.value)
    possible = present + aea + authorised + unauthorised
    absence = authorised + unauthorised
    return EnrolmentCounts(
        possible_sessions=possible,
        present_sessions=present,
        aea_sessions=aea,
        authorised_sessions=authorised,
        unauthorised_sessions=unauthorised,
        not_counted_sessions=count(StatCategory.NOT_COUNTED.value),
        late_sessions=count("late_sessions"),
        late_minutes=count("late_minutes"),
        u_sessions=count("u_sessions"),
        u_minutes=count("u_minutes"),
        code_counts=dict(sorted(codes.items())),
        persistent_absence=persistent_absence(absence=absence, possible=possible),
        severe_absence=severe_absence(absence=absence, possible=possible),
    )
