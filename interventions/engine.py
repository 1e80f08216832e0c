"""The set-based attendance engine: every enrolment of a school at once, from its marks.

``interventions.reference`` defines what is correct, one enrolment at a time in Python; the
rules this module applies (bands, rates, the penalty-notice and illness rules, the trend cut)
are production's, from ``interventions.rules``, which the reference does not share. This
module gives the same answers for a whole school in a fixed number of queries, so the nightly
run never fetches every mark into Python:

- ``compute``: the §4.1 counts from one grouped count (``_tallies``), and the §5.2 threshold,
  §6 continuous absence, illness and overdue ``N`` from the sparse absence marks alone
  (``_sparse_marks``: ``G``, ``N``, ``O``, ``U``, ``I`` and the threshold's codes, a few
  percent of all marks, served by the (school, code, date) index).
- ``advance``: stored states carried forward over new days (counts add, runs continue, the
  threshold window and overdue ``N`` are read again from a few weeks of sparse marks).

Property tests (tests/interventions/test_engine.py) check ``compute`` against
``reference.summarise`` field by field, and ``advance`` against ``compute``, on SQLite and on
PostgreSQL.

How the reference's rules become SQL:

- **Counted range** (``max(period_start, start)`` to ``min(period_end, as_of, leaving)``):
  pupils whose one enrolment covers the span are counted straight from the marks table; the
  others' marks are joined to their enrolments on ``date >= start_date`` and
  ``date <= leaving_date``.
- **Calendar sessions only**: the calendar is Python (``schools.calendar``), so it is sent as
  data: the school days of the span, split into days with both sessions (``date IN (...)``)
  and days left with only an AM or only a PM by a single-session closure. That is one
  parameter per school day (about 190 a year); weekends, holidays and closures are simply not
  in the list, so a mark on them counts nowhere, as in the reference. ``SchoolCalendar`` stays
  the one place that decides what a session is.
- **What a code means on a date** (``registers.codes.code_lookup``): the code tables change
  meaning only on a few dates (``_meaning_cuts``). Marks are grouped by the interval between
  those dates as well as by code, and ``code_lookup`` is asked once per group, in Python: a
  2023 ``H`` is authorised absence and a 2024 one unknown, a historic ``K`` is missing, and
  the stored ``scheme`` of a mark is never trusted. The SQL never restates a rule.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import functools
import hashlib
import itertools
from collections import Counter, defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeAlias, cast

from django.db import connection
from django.db.models import Q

from interventions.rules import (
    GROUND_I_DAYS,
    TEN_DAY_RETURN_DAYS,
    Band,
    EventKind,
    IllnessRule,
    PenaltyNoticeRule,
    SessionKey,
    SessionName,
    SessionRates,
    band_for,
    check_jurisdiction,
    percentage,
    persistent_absence,
    pn_qualifies,
    severe_absence,
    trend_cut,
)
from registers.codes import (
    ENGLAND_2006,
    ENGLAND_2024,
    ENGLAND_2024_FROM,
    OPEN_END,
    WALES_2010,
    CodeDefinition,
    PenaltyNotice,
    StatCategory,
    code_lookup,
    historic_missing,
)
from registers.models import AttendanceMark
from registers.rules import n_due_date
from schools.calendar import SchoolCalendar, Session
from schools.models import Enrolment, School
from schools.selectors import school_calendar_get

# Above this many pupils a query reads the whole school's rows and drops the others in Python,
# rather than sending a long pupil list (which costs more to send than the extra rows).
WHOLE_SCHOOL_PUPILS = 500

# Values sent as SQL parameters.
SqlParam: TypeAlias = int | str | dt.date

# Every definition code_lookup can return. The tables are cut at these definitions' bounds;
# a test checks that no table registers.codes consults is missing here.
CODE_DEFINITIONS: tuple[CodeDefinition, ...] = (*ENGLAND_2006, *ENGLAND_2024, *WALES_2010)

# The marks of the counted range, joined once under this name; every aggregate reads it.
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


@dataclass
class _Tally:
    """Counts of marks over a span of dates, by category and code (one enrolment)."""

    categories: Counter[StatCategory] = field(default_factory=Counter)
    codes: Counter[str] = field(default_factory=Counter)
    late_sessions: int = 0
    late_minutes: int = 0
    u_sessions: int = 0
    u_minutes: int = 0
    trend_possible: int = 0  # possible sessions on or before the trend cut
    trend_attendance: int = 0
    marks: int = 0  # every mark on a counted session, known code or not
    versions: int = 0  # the sum of the counted marks' versions

    def add(self, other: _Tally) -> None:
        self.categories.update(other.categories)
        self.codes.update(other.codes)
        self.late_sessions += other.late_sessions
        self.late_minutes += other.late_minutes
        self.u_sessions += other.u_sessions
        self.u_minutes += other.u_minutes
        self.trend_possible += other.trend_possible
        self.trend_attendance += other.trend_attendance
        self.marks += other.marks
        self.versions += other.versions

    @property
    def possible(self) -> int:
        return sum(self.categories[c] for c in POSSIBLE)

    @property
    def attendance(self) -> int:
        return self.categories[StatCategory.PRESENT] + self.categories[StatCategory.AEA]

    @property
    def absence(self) -> int:
        return self.categories[StatCategory.AUTHORISED] + self.categories[StatCategory.UNAUTHORISED]

    def counts(self) -> EnrolmentCounts:
        c = self.categories
        return EnrolmentCounts(
            possible_sessions=self.possible,
            present_sessions=c[StatCategory.PRESENT],
            aea_sessions=c[StatCategory.AEA],
            authorised_sessions=c[StatCategory.AUTHORISED],
            unauthorised_sessions=c[StatCategory.UNAUTHORISED],
            not_counted_sessions=c[StatCategory.NOT_COUNTED],
            late_sessions=self.late_sessions,
            late_minutes=self.late_minutes,
            u_sessions=self.u_sessions,
            u_minutes=self.u_minutes,
            code_counts=dict(sorted(self.codes.items())),
            persistent_absence=persistent_absence(absence=self.absence, possible=self.possible),
            severe_absence=severe_absence(absence=self.absence, possible=self.possible),
        )


POSSIBLE = (
    StatCategory.PRESENT,
    StatCategory.AEA,
    StatCategory.AUTHORISED,
    StatCategory.UNAUTHORISED,
)


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
    nowhere. Persistent and severe absence compare integers.

    At most five queries whatever the school's size: the calendar's terms and closures, the
    enrolments, and the grouped count (two when some pupils joined, left or came back within
    the period: ``_tallies``). Call it inside ``school_scope(school)``. Raises ValueError
    if ``period_end`` is before ``period_start`` or the jurisdiction is unknown.
    """
    if period_end < period_start:
        raise ValueError("period_end is before period_start.")
    check_jurisdiction(school.jurisdiction)
    calendar = school_calendar_get(school=school)
    enrolments = _enrolments(
        school=school, period_start=period_start, period_end=period_end, pupil_ids=pupil_ids
    )
    tallies = _tallies(
        school=school,
        calendar=calendar,
        enrolments=enrolments,
        first=period_start,
        last=min(period_end, as_of),
    )
    return {e.pk: tallies.get(e.pk, _Tally()).counts() for e in enrolments}


# --- Enrolments and the grouped count --------------------------------------------------------


@dataclass(frozen=True)
class EnrolmentRow:
    """What the engine needs of an enrolment (and its pupil)."""

    pk: int
    pupil_id: int
    start_date: dt.date
    leaving_date: dt.date | None

    def range_end(self, last: dt.date) -> dt.date:
        return min(last, self.leaving_date) if self.leaving_date else last


def _enrolments(
    *,
    school: School,
    period_start: dt.date,
    period_end: dt.date,
    pupil_ids: Collection[int] | None,
) -> list[EnrolmentRow]:
    enrolments = (
        Enrolment.objects.filter(school=school, start_date__lte=period_end)
        .filter(Q(leaving_date__isnull=True) | Q(leaving_date__gte=period_start))
        .order_by("pk")
    )
    if pupil_ids is not None and len(pupil_ids) < WHOLE_SCHOOL_PUPILS:
        enrolments = enrolments.filter(pupil_id__in=list(pupil_ids))
    wanted = None if pupil_ids is None else set(pupil_ids)
    return [
        EnrolmentRow(*row)
        for row in enrolments.values_list("pk", "pupil_id", "start_date", "leaving_date")
        if wanted is None or row[1] in wanted
    ]


def _tallies(
    *,
    school: School,
    calendar: SchoolCalendar,
    enrolments: Sequence[EnrolmentRow],
    first: dt.date,
    last: dt.date,
    trend_cuts: Mapping[int, dt.date] | None = None,
) -> dict[int, _Tally]:
    """Per enrolment pk, the marks on calendar sessions from ``max(first, start_date)`` to
    ``min(last, leaving_date)``, counted by what their code meant on their date.

    Marks are grouped by (enrolment, code, code-table interval, on or before the enrolment's
    trend cut). The code tables change meaning only on a few dates (``_meaning_cuts``), so the
    interval is a CASE over the cuts inside the span, and each group's category is asked of
    ``code_lookup`` once, in Python: the SQL never restates a rule. ``trend_cuts`` (by
    enrolment pk) also counts the possible and attended sessions up to each enrolment's cut.

    Two queries at most. Most pupils have one enrolment that covers the whole span: their
    marks are grouped by pupil straight from the marks table. The others (joiners, leavers,
    pupils who came back) are grouped per enrolment through a join on its dates. Written in
    SQL because the ORM can reach marks from an enrolment only through the pupil table, a
    join that cost a third of the nightly run; the SQL is portable (``IN`` lists, ``CASE``, no
    arrays) and the property test runs it on SQLite and PostgreSQL.
    """
    if not enrolments or last < first:
        return {}
    sessions_sql, sessions_params = _sessions_sql(calendar, first, last)
    if not sessions_sql:
        return {}
    per_pupil: dict[int, list[EnrolmentRow]] = defaultdict(list)
    for e in enrolments:
        per_pupil[e.pupil_id].append(e)
    covering = {
        pupil: rows[0]
        for pupil, rows in per_pupil.items()
        if len(rows) == 1 and rows[0].start_date <= first and rows[0].range_end(last) == last
    }
    others = [e for e in enrolments if e.pupil_id not in covering]
    cuts = [cut for cut in _meaning_cuts() if first < cut <= last]
    interval_sql, interval_params = "0", list[SqlParam]()
    if cuts:
        interval_sql = (
            "CASE "
            + " ".join(f"WHEN m.date < %s THEN {i}" for i in range(len(cuts)))
            + f" ELSE {len(cuts)} END"
        )
        interval_params = list(cuts)
    trend_cuts = trend_cuts or {}
    span = (school.pk, first, last, *sessions_params)
    span_sql = f"m.school_id = %s AND m.date >= %s AND m.date <= %s AND ({sessions_sql})"
    groups = "COUNT(*), SUM(m.minutes_late), SUM(m.version)"
    rows: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if covering:
            # Keyed by pupil: their one enrolment is known, and every mark in the span is its.
            before_sql, before_params = _before_sql(
                {pupil: trend_cuts.get(e.pk) for pupil, e in covering.items()}, "m.pupil_id"
            )
            if len(per_pupil) >= WHOLE_SCHOOL_PUPILS:
                # The whole roll: leave out the few others rather than list everyone.
                pupils_sql, pupils_params = _pupils_sql({e.pupil_id for e in others}, keep=False)
            else:
                pupils_sql, pupils_params = _pupils_sql(covering, keep=True)
            cursor.execute(
                f"""
                SELECT m.pupil_id, m.code, {interval_sql} AS meaning, {before_sql} AS before_cut,
                       {groups}
                FROM {AttendanceMark._meta.db_table} m
                WHERE {span_sql}{pupils_sql}
                GROUP BY m.pupil_id, m.code, meaning, before_cut
                """,  # noqa: S608 (only table names and placeholders are formatted in)
                [*interval_params, *before_params, *span, *pupils_params],
            )
            rows += [
                (covering[pupil].pk, *rest)
                for pupil, *rest in cursor.fetchall()
                if pupil in covering
            ]
        if others:
            before_sql, before_params = _before_sql(
                {e.pk: trend_cuts.get(e.pk) for e in others}, "e.id"
            )
            pupils_sql, pupils_params = _pupils_sql({e.pupil_id for e in others}, keep=True)
            cursor.execute(
                f"""
                SELECT e.id, m.code, {interval_sql} AS meaning, {before_sql} AS before_cut,
                       {groups}
                FROM {AttendanceMark._meta.db_table} m
                JOIN {Enrolment._meta.db_table} e
                  ON e.pupil_id = m.pupil_id AND e.school_id = m.school_id
                 AND m.date >= e.start_date
                 AND (e.leaving_date IS NULL OR m.date <= e.leaving_date)
                WHERE {span_sql}{pupils_sql}
                GROUP BY e.id, m.code, meaning, before_cut
                """,  # noqa: S608 (only table names and placeholders are formatted in)
                [*interval_params, *before_params, *span, *pupils_params],
            )
            wanted = {e.pk for e in others}
            rows += [row for row in cursor.fetchall() if row[0] in wanted]

    starts = [first, *cuts]
    jurisdiction = school.jurisdiction
    tallies: dict[int, _Tally] = defaultdict(_Tally)
    for pk, code, index, is_before, count, minutes, versions in rows:
        tally = tallies[pk]
        tally.marks += count
        tally.versions += versions
        definition = _meaning(jurisdiction, code, starts[index])
        if definition is None:
            continue
        category = definition.category
        tally.categories[category] += count
        tally.codes[code] += count
        if is_before and category in POSSIBLE:
            tally.trend_possible += count
            if category in (StatCategory.PRESENT, StatCategory.AEA):
                tally.trend_attendance += count
        if code == "L":
            tally.late_sessions += count
            tally.late_minutes += minutes or 0
        elif code == "U":
            tally.u_sessions += count
            tally.u_minutes += minutes or 0
    return tallies


def _pupils_sql(pupils: Collection[int], *, keep: bool) -> tuple[str, list[SqlParam]]:
    """A condition keeping (or leaving out) these pupils' marks; none to leave out nobody."""
    if not pupils:
        return ("", []) if not keep else (" AND 1 = 0", [])
    ordered = sorted(pupils)
    operator = "IN" if keep else "NOT IN"
    return f" AND m.pupil_id {operator} {_in_list(ordered)}", list(ordered)


def _in_list(values: Sequence[object]) -> str:
    return f"({', '.join(['%s'] * len(values))})"


def _before_sql(cuts: Mapping[int, dt.date | None], key: str) -> tuple[str, list[SqlParam]]:
    """A CASE: is the mark on or before the trend cut of its row (1) or not (0)? ``cuts`` maps
    the value of ``key`` (a pupil or an enrolment) to its cut. The cut most rows share
    (everyone still on roll) is the ELSE branch; the others (leavers, recent joiners without a
    cut) are listed."""
    by_cut: dict[dt.date | None, list[int]] = defaultdict(list)
    for owner, cut in cuts.items():
        by_cut[cut].append(owner)
    common = max(by_cut, key=lambda cut: len(by_cut[cut]))
    whens: list[str] = []
    params: list[SqlParam] = []
    for cut, owners in by_cut.items():
        if cut == common:
            continue
        if cut is None:
            whens.append(f"WHEN {key} IN {_in_list(owners)} THEN 0")
            params += owners
        else:
            whens.append(
                f"WHEN {key} IN {_in_list(owners)} THEN (CASE WHEN m.date <= %s THEN 1 ELSE 0 END)"
            )
            params += [*owners, cut]
    otherwise, otherwise_params = "0", list[SqlParam]()
    if common is not None:
        otherwise, otherwise_params = "(CASE WHEN m.date <= %s THEN 1 ELSE 0 END)", [common]
    if not whens:
        return otherwise, otherwise_params
    return f"CASE {' '.join(whens)} ELSE {otherwise} END", [*params, *otherwise_params]


@functools.cache
def _meaning_cuts() -> tuple[dt.date, ...]:
    """Every date on which some code's meaning can change: a definition starts, the day after
    one ends, and the day historic ``K`` stops being "missing". Between two of them every
    code means one thing, so a span is cut there and each piece asked once."""
    return tuple(
        sorted(
            {d.valid_from for d in CODE_DEFINITIONS}
            | {d.valid_to + _ONE_DAY for d in CODE_DEFINITIONS if d.valid_to < OPEN_END}
            | {ENGLAND_2024_FROM}
        )
    )


@functools.lru_cache(maxsize=4096)
def _meaning(jurisdiction: str, code: str, on: dt.date) -> CodeDefinition | None:
    """What ``code`` means on ``on`` (None: unknown there and then, or a historic missing K)."""
    if historic_missing(jurisdiction=jurisdiction, code=code, on=on):
        return None
    return code_lookup(jurisdiction=jurisdiction, code=code, on=on)


# --- Per-enrolment results: §4.1 counts, §5.2 threshold, §6 continuous absence ---------------


@dataclass(frozen=True)
class Event:
    """A crossing for the event ledger (``interventions.models.AttendanceEvent``)."""

    kind: EventKind
    key: str
    occurred_on: dt.date
    session: str = ""
    provisional: bool = False
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass
class EnrolmentState(SessionRates):
    """One enrolment's stored result (the fields of ``EnrolmentAttendance``, same names).

    Every field equals what ``reference.summarise`` says for the enrolment with the same
    period, ``as_of`` and rules; the property test in tests/interventions/test_engine.py
    checks it. ``*_run``/``*_run_start`` are the runs of school days ending at the counted
    range's last school day (0/None when broken), which is what lets ``advance`` carry them on.
    """

    enrolment_id: int
    pupil_id: int
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    marks_counted: int = 0
    marks_versions: int = 0
    possible_sessions: int = 0
    present_sessions: int = 0
    aea_sessions: int = 0
    authorised_sessions: int = 0
    unauthorised_sessions: int = 0
    not_counted_sessions: int = 0
    late_sessions: int = 0
    late_minutes: int = 0
    u_sessions: int = 0
    u_minutes: int = 0
    code_counts: dict[str, int] = field(default_factory=dict)
    persistent_absence: bool = False
    severe_absence: bool = False
    band_id: int | None = None
    band_name: str = ""
    trend_cut: dt.date | None = None
    trend_possible: int = 0
    trend_attendance: int = 0
    pn_evaluated: bool = False
    pn_window_start: dt.date | None = None
    pn_window_count: int | None = None
    pn_window_n: int = 0
    pn_threshold_met_on: dt.date | None = None
    pn_threshold_met_session: str = ""
    pn_threshold_provisional: bool = False
    ten_day_run: int = 0
    ten_day_run_start: dt.date | None = None
    ground_i_run: int = 0
    ground_i_run_start: dt.date | None = None
    illness_run: int = 0
    illness_run_start: dt.date | None = None
    illness_days: int = 0
    illness_sessions: int = 0
    illness_return_due: bool = False
    overdue_n: int = 0

    @property
    def rate_change_4_weeks(self) -> Fraction | None:
        """Percentage points since ``trend_cut`` (``reference.summarise``'s definition)."""
        now = self.attendance_rate
        then = percentage(self.trend_attendance, self.trend_possible)
        if self.trend_cut is None or now is None or then is None:
            return None
        return now - then


STATE_FIELDS = tuple(f.name for f in dataclasses.fields(EnrolmentState))


@dataclass(frozen=True)
class EngineRules:
    """The rules one school's results follow (``interventions.selectors``)."""

    pn: PenaltyNoticeRule
    illness: IllnessRule
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class Computed:
    state: EnrolmentState
    events: tuple[Event, ...]


def compute(
    *,
    school: School,
    calendar: SchoolCalendar,
    rules: EngineRules,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    pupil_ids: Collection[int] | None = None,
) -> list[Computed]:
    """Every enrolment of ``school`` overlapping the period (of ``pupil_ids`` if given), from
    its marks: the state ``reference.summarise`` would give, and the crossings found in the
    counted range (continuous-absence episodes, the threshold first met, overdue ``N``).

    A fixed number of queries whatever the roll: the enrolments, one grouped count of every
    mark, and the sparse marks (absence codes only) for the sequences; a pupil whose absence
    run reaches back before the sparse marks' first day costs one more query for all such.
    """
    if period_end < period_start:
        raise ValueError("period_end is before period_start.")
    check_jurisdiction(school.jurisdiction)
    enrolments = _enrolments(
        school=school, period_start=period_start, period_end=period_end, pupil_ids=pupil_ids
    )
    if not enrolments:
        return []
    context = _Context.build(
        school=school,
        calendar=calendar,
        rules=rules,
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
    )
    cuts = {}
    for e in enrolments:
        cut = context.trend_cut(e)
        if cut is not None:
            cuts[e.pk] = cut
    tallies = _tallies(
        school=school,
        calendar=calendar,
        enrolments=enrolments,
        first=period_start,
        last=context.last,
        trend_cuts=cuts,
    )
    lookback = context.lookback(period_start)
    marks = _sparse_marks(
        school=school, enrolments=enrolments, first=lookback, last=as_of, n_from=None
    )
    # Absence runs reaching back before the sparse marks' first day: read those pupils again
    # from their enrolment's start (rare: only a run unbroken across that day).
    reach_back = [
        e
        for e in enrolments
        if e.start_date < lookback and context.run_touches(marks.get(e.pupil_id, []), lookback)
    ]
    if reach_back:
        marks.update(
            _sparse_marks(
                school=school,
                enrolments=reach_back,
                first=min(e.start_date for e in reach_back),
                last=as_of,
                n_from=None,
            )
        )
    results = []
    for e in enrolments:
        state = EnrolmentState(
            enrolment_id=e.pk,
            pupil_id=e.pupil_id,
            period_start=period_start,
            period_end=period_end,
            as_of=as_of,
            trend_cut=cuts.get(e.pk),
        )
        _apply_tally(state, tallies.get(e.pk, _Tally()), context)
        events = _apply_sequences(state, e, marks.get(e.pupil_id, []), context, previous=None)
        results.append(Computed(state=state, events=events))
    return results


def advance(
    *,
    school: School,
    calendar: SchoolCalendar,
    rules: EngineRules,
    states: Sequence[EnrolmentState],
    as_of: dt.date,
) -> list[Computed]:
    """Carry stored states forward to ``as_of`` from the marks dated after their ``as_of``.

    Right only when no mark dated on or before a state's ``as_of`` has changed since it was
    computed (the caller knows: ``interventions.recompute`` falls back to ``compute`` when one
    has). Counts add the new days' grouped counts; the trend adds the days its cut moved
    over; runs carry on from their stored length; the threshold window and overdue ``N`` are
    read again from the sparse marks (a few weeks of absence codes). The result equals
    ``compute`` as of ``as_of`` (property-tested), with the crossings of the new days.
    All states must share one period and ``as_of`` (a ValueError otherwise).
    """
    if not states:
        return []
    previous_as_of = {s.as_of for s in states}
    periods = {(s.period_start, s.period_end) for s in states}
    if len(previous_as_of) != 1 or len(periods) != 1:
        raise ValueError("advance() takes states of one period and one as_of.")
    (since,), ((period_start, period_end),) = previous_as_of, periods
    if not period_start <= since < as_of:
        raise ValueError("advance() needs as_of after the states' as_of, within their period.")
    by_enrolment = {s.enrolment_id: s for s in states}
    enrolments = [
        e
        for e in _enrolments(
            school=school,
            period_start=period_start,
            period_end=period_end,
            pupil_ids={s.pupil_id for s in states},
        )
        if e.pk in by_enrolment
    ]
    context = _Context.build(
        school=school,
        calendar=calendar,
        rules=rules,
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
    )
    earlier = context.on(since)
    new_days = _tallies(
        school=school,
        calendar=calendar,
        enrolments=enrolments,
        first=since + _ONE_DAY,
        last=context.last,
    )
    # The trend: each enrolment's cut moves forward (or appears); count the days it passed.
    moves: dict[tuple[dt.date, dt.date], list[EnrolmentRow]] = defaultdict(list)
    cuts: dict[int, dt.date | None] = {}
    for e in enrolments:
        stored_cut, new_cut = by_enrolment[e.pk].trend_cut, context.trend_cut(e)
        cuts[e.pk] = new_cut
        if new_cut is not None and new_cut != stored_cut:
            start = stored_cut + _ONE_DAY if stored_cut is not None else context.range_start(e)
            moves[(start, new_cut)].append(e)
    trend_added: dict[int, _Tally] = {}
    for (start, end), moved in moves.items():
        for pk, tally in _tallies(
            school=school,
            calendar=calendar,
            enrolments=moved,
            first=start,
            last=end,
            trend_cuts=dict.fromkeys((e.pk for e in moved), end),
        ).items():
            trend_added[pk] = tally
    first_new = since + _ONE_DAY
    marks = _sparse_marks(
        school=school,
        enrolments=enrolments,
        first=min(first_new, context.lookback(first_new)),
        last=as_of,
        n_from=period_start,
    )
    results = []
    for e in enrolments:
        old = by_enrolment[e.pk]
        state = dataclasses.replace(old, as_of=as_of, code_counts=dict(old.code_counts))
        tally = _stored_tally(old)
        tally.add(new_days.get(e.pk, _Tally()))
        new_cut = cuts[e.pk]
        if new_cut is None:
            tally.trend_possible = tally.trend_attendance = 0
        elif new_cut != old.trend_cut:
            if old.trend_cut is None:
                tally.trend_possible = tally.trend_attendance = 0
            moved_tally = trend_added.get(e.pk, _Tally())
            tally.trend_possible += moved_tally.trend_possible
            tally.trend_attendance += moved_tally.trend_attendance
        state.trend_cut = new_cut
        _apply_tally(state, tally, context)
        events = _apply_sequences(
            state, e, marks.get(e.pupil_id, []), context, previous=(old, earlier)
        )
        results.append(Computed(state=state, events=events))
    return results


def _stored_tally(state: EnrolmentState) -> _Tally:
    return _Tally(
        categories=Counter(
            {
                StatCategory.PRESENT: state.present_sessions,
                StatCategory.AEA: state.aea_sessions,
                StatCategory.AUTHORISED: state.authorised_sessions,
                StatCategory.UNAUTHORISED: state.unauthorised_sessions,
                StatCategory.NOT_COUNTED: state.not_counted_sessions,
            }
        ),
        codes=Counter(state.code_counts),
        late_sessions=state.late_sessions,
        late_minutes=state.late_minutes,
        u_sessions=state.u_sessions,
        u_minutes=state.u_minutes,
        trend_possible=state.trend_possible,
        trend_attendance=state.trend_attendance,
        marks=state.marks_counted,
        versions=state.marks_versions,
    )


def _apply_tally(state: EnrolmentState, tally: _Tally, context: _Context) -> None:
    """The §4.1 fields of ``state`` from ``tally``, and the school's band for its rate."""
    for name, value in vars(tally.counts()).items():
        setattr(state, name, value)
    state.marks_counted = tally.marks
    state.marks_versions = tally.versions
    state.trend_possible = tally.trend_possible
    state.trend_attendance = tally.trend_attendance
    band = band_for(state.attendance_rate, context.rules.bands)
    state.band_id = band.pk if band else None
    state.band_name = band.name if band else ""


# --- The sparse marks and the sequences -------------------------------------------------------

SparseMark = tuple[dt.date, str, str]  # date, session, code


@functools.cache
def _sparse_codes(jurisdiction: str) -> tuple[str, ...]:
    """Codes that can ever matter to a sequence: a continuous-absence run, illness, ``N``,
    or the penalty-notice threshold (any rule: Welsh rules count unauthorised codes)."""
    codes = {
        d.code
        for d in CODE_DEFINITIONS
        if d.counts_ten_day_return
        or d.continues_deletion_ground_i
        or d.code in ("I", "N")
        or d.penalty_notice is PenaltyNotice.YES
        or (jurisdiction == "wales" and d.category is StatCategory.UNAUTHORISED)
    }
    return tuple(sorted(codes))


def _sparse_marks(
    *,
    school: School,
    enrolments: Sequence[EnrolmentRow],
    first: dt.date,
    last: dt.date,
    n_from: dt.date | None,
) -> dict[int, list[SparseMark]]:
    """Per pupil, their marks from ``first`` to ``last`` with a sequence code, in order (and
    with ``n_from``, also every ``N`` from that date). The (school, code, date) index serves
    it: absence codes are a few percent of all marks."""
    if last < first:
        return {}
    window = Q(date__gte=first, date__lte=last, code__in=_sparse_codes(school.jurisdiction))
    if n_from is not None and n_from < first:
        window |= Q(date__gte=n_from, date__lte=last, code="N")
    marks: dict[int, list[SparseMark]] = defaultdict(list)
    pupils = sorted({e.pupil_id for e in enrolments})
    queryset = AttendanceMark.objects.filter(window, school=school)
    if len(pupils) < WHOLE_SCHOOL_PUPILS:
        queryset = queryset.filter(pupil_id__in=pupils)
    wanted = set(pupils)
    for pupil_id, day, session, code in queryset.order_by(
        "pupil_id", "date", "session"
    ).values_list("pupil_id", "date", "session", "code"):
        if pupil_id in wanted:
            marks[pupil_id].append((day, session, code))
    return marks


@dataclass
class _Run:
    """A run of consecutive school days: its length, first day and last day's index."""

    length: int = 0
    start: dt.date | None = None
    last_index: int = -2

    def step(self, day: dt.date, index: int) -> None:
        if self.length and index == self.last_index + 1:
            self.length += 1
        else:
            self.length, self.start = 1, day
        self.last_index = index


@dataclass
class _Context:
    """What every enrolment of one computation shares: the rules, the calendar's school days
    by index, and caches of window starts and due dates."""

    jurisdiction: str
    calendar: SchoolCalendar
    rules: EngineRules
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date
    last: dt.date  # min(period_end, as_of)
    index: dict[dt.date, int]
    days: list[dt.date]
    _window_starts: dict[dt.date, dt.date | None] = field(default_factory=dict)
    _due: dict[dt.date, dt.date | None] = field(default_factory=dict)
    _cuts: dict[tuple[dt.date, dt.date], dt.date | None] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        school: School,
        calendar: SchoolCalendar,
        rules: EngineRules,
        period_start: dt.date,
        period_end: dt.date,
        as_of: dt.date,
    ) -> _Context:
        days = calendar.school_days_between(dt.date.min, dt.date.max)
        return cls(
            jurisdiction=school.jurisdiction,
            calendar=calendar,
            rules=rules,
            period_start=period_start,
            period_end=period_end,
            as_of=as_of,
            last=min(period_end, as_of),
            index={day: i for i, day in enumerate(days)},
            days=days,
        )

    def on(self, as_of: dt.date) -> _Context:
        """The same computation as of another date (the calendar's index is shared)."""
        return dataclasses.replace(self, as_of=as_of, last=min(self.period_end, as_of))

    def range_start(self, e: EnrolmentRow) -> dt.date:
        return max(self.period_start, e.start_date)

    def trend_cut(self, e: EnrolmentRow) -> dt.date | None:
        key = (self.range_start(e), e.range_end(self.last))
        if key not in self._cuts:
            self._cuts[key] = trend_cut(
                calendar=self.calendar, range_start=key[0], range_end=key[1]
            )
        return self._cuts[key]

    def window_start(self, day: dt.date) -> dt.date | None:
        """The first day of the penalty-notice window of ``day`` (§5.2)."""
        monday = day - dt.timedelta(days=day.weekday())
        if monday not in self._window_starts:
            weeks = self.calendar.last_school_weeks(self.rules.pn.school_weeks, day)
            self._window_starts[monday] = weeks[0] if weeks else None
        return self._window_starts[monday]

    def lookback(self, day: dt.date) -> dt.date:
        """The earliest mark a computation from ``day`` reads: the threshold window of the
        earliest day it evaluates, and the last school day on or before it."""
        day = min(day, self.as_of)
        start = self.window_start(day) if self.rules.pn.enabled else None
        # From a school day, so a run ending just before ``day`` is seen (``run_touches``).
        school_day = self.calendar.school_day_before(day + _ONE_DAY)
        return min(day, start or day, school_day or day)

    def due(self, day: dt.date) -> dt.date | None:
        if day not in self._due:
            self._due[day] = n_due_date(calendar=self.calendar, session_date=day)
        return self._due[day]

    def last_school_day_index(self, end: dt.date) -> int | None:
        """The index of the last school day on or before ``end``."""
        position = bisect.bisect_right(self.days, end) - 1
        return position if position >= 0 else None

    def run_touches(self, marks: Sequence[SparseMark], first: dt.date) -> bool:
        """Does an absence run (every session of a day flagged) start on the first school day
        on or after ``first``, so that it may reach further back?"""
        position = bisect.bisect_left(self.days, first)
        if position >= len(self.days):
            return False
        day = self.days[position]
        on_day = [m for m in marks if m[0] == day and self.calendar.is_session(day, m[1])]
        sessions = self.calendar.sessions_on(day)
        return len(on_day) == len(sessions) and all(
            (d := _meaning(self.jurisdiction, m[2], day)) is not None
            and (d.counts_ten_day_return or d.continues_deletion_ground_i or d.code == "I")
            for m in on_day
        )


def _apply_sequences(
    state: EnrolmentState,
    e: EnrolmentRow,
    marks: Sequence[SparseMark],
    context: _Context,
    *,
    previous: tuple[EnrolmentState, _Context] | None,
) -> tuple[Event, ...]:
    """Fill the threshold, run, illness and overdue-``N`` fields of ``state`` from ``marks``
    (the pupil's sparse marks) and return the crossings found.

    From scratch (``previous`` None) the runs are walked from the enrolment's start; carried
    on (``previous`` = the stored state and its context) they continue from the stored run
    lengths over the days after the stored ``as_of`` only, and only crossings on those days
    are returned. The threshold and overdue ``N`` are always re-read from ``marks`` (the
    caller reads enough of them), but a threshold met before stands.
    """
    rules, jurisdiction = context.rules, context.jurisdiction
    range_start = context.range_start(e)
    range_end = e.range_end(context.last)
    pn_last = min(context.as_of, e.leaving_date or dt.date.max)
    events: list[Event] = []
    old_state = previous[0] if previous else None
    # Where the walk starts: the enrolment's start, or after the stored range's end.
    walk_from = e.start_date if previous is None else e.range_end(previous[1].last) + _ONE_DAY

    # What each mark means, and which of this enrolment's sessions it is on.
    ten_day: Counter[dt.date] = Counter()
    ground_i: Counter[dt.date] = Counter()
    illness: Counter[dt.date] = Counter()
    qualifying: list[tuple[SessionKey, bool]] = []  # (date, session), is an N
    overdue: list[tuple[dt.date, str, dt.date]] = []
    illness_sessions = 0
    for day, session, code in marks:
        definition = _meaning(jurisdiction, code, day)
        if definition is None or day > context.as_of:
            continue
        in_enrolment = e.start_date <= day and context.calendar.is_session(day, session)
        if day < e.start_date:
            # An earlier enrolment's marks count towards the threshold only (§5.2).
            verdict = pn_qualifies(definition, rule=rules.pn, jurisdiction=jurisdiction)
            if verdict is not False:
                qualifying.append(((day, cast("SessionName", session)), verdict is None))
            continue
        if not in_enrolment:
            continue
        if day <= pn_last:
            verdict = pn_qualifies(definition, rule=rules.pn, jurisdiction=jurisdiction)
            if verdict is not False:
                qualifying.append(((day, cast("SessionName", session)), verdict is None))
        if day > range_end:
            continue
        if day >= walk_from:  # earlier days are in the stored runs
            ten_day[day] += definition.counts_ten_day_return
            ground_i[day] += definition.continues_deletion_ground_i
            illness[day] += definition.code == "I"
        if day < range_start:
            continue
        if definition.code == "I":
            illness_sessions += day >= walk_from  # earlier ones are in the stored count
        elif definition.code == "N":
            due = context.due(day)
            if due is not None and due < context.as_of:
                overdue.append((day, session, due))

    def full_days(counter: Counter[dt.date]) -> list[dt.date]:
        return sorted(
            day for day, n in counter.items() if n and n == len(context.calendar.sessions_on(day))
        )

    end_index = context.last_school_day_index(range_end)
    reported_from = max(range_start, walk_from)

    def walk(
        counter: Counter[dt.date], threshold: int, stored: tuple[int, dt.date | None]
    ) -> tuple[_Run, list[tuple[dt.date, dt.date]]]:
        run = _Run()
        if previous is not None and stored[0]:
            # The stored run ended at the last school day of the stored range.
            last_index = context.last_school_day_index(walk_from - _ONE_DAY)
            assert last_index is not None
            run = _Run(length=stored[0], start=stored[1], last_index=last_index)
        episodes = []
        for day in full_days(counter):
            if day < walk_from:
                continue
            run.step(day, context.index[day])
            if run.length == threshold and day >= reported_from:
                assert run.start is not None
                episodes.append((run.start, day))
        if end_index is None or run.last_index != end_index:
            run = _Run()
        return run, episodes

    ten_run, ten_episodes = walk(
        ten_day,
        TEN_DAY_RETURN_DAYS,
        (old_state.ten_day_run, old_state.ten_day_run_start) if old_state else (0, None),
    )
    gi_run, gi_episodes = walk(
        ground_i,
        GROUND_I_DAYS,
        (old_state.ground_i_run, old_state.ground_i_run_start) if old_state else (0, None),
    )
    ill_run, ill_episodes = walk(
        illness,
        rules.illness.days,
        (old_state.illness_run, old_state.illness_run_start) if old_state else (0, None),
    )
    state.ten_day_run, state.ten_day_run_start = ten_run.length, ten_run.start
    state.ground_i_run, state.ground_i_run_start = gi_run.length, gi_run.start
    state.illness_run, state.illness_run_start = ill_run.length, ill_run.start
    for start, reached in ten_episodes:
        events.append(Event(EventKind.TEN_DAY_REACHED, start.isoformat(), reached))
    for start, reached in gi_episodes:
        events.append(Event(EventKind.GROUND_I_REACHED, start.isoformat(), reached))

    # Illness (§6.2): consecutive episodes and the cumulative count of whole days.
    ill_days = [d for d in full_days(illness) if d >= max(range_start, walk_from)]
    before = old_state.illness_days if old_state else 0
    cumulative_on = None
    if before < rules.illness.days <= before + len(ill_days):
        cumulative_on = ill_days[rules.illness.days - before - 1]
    state.illness_days = before + len(ill_days)
    state.illness_sessions = (old_state.illness_sessions if old_state else 0) + illness_sessions
    mode = rules.illness.mode
    due_now = False
    if mode in ("consecutive", "either"):
        for start, reached in ill_episodes:
            events.append(Event(EventKind.ILLNESS_RETURN_DUE, f"consecutive:{start}", reached))
            due_now = True
    if mode in ("cumulative", "either") and cumulative_on is not None:
        events.append(
            Event(EventKind.ILLNESS_RETURN_DUE, f"cumulative:{range_start}", cumulative_on)
        )
        due_now = True
    state.illness_return_due = (old_state.illness_return_due if old_state else False) or due_now

    # Overdue N (§3.4): every N in the counted range past its due date.
    state.overdue_n = len(overdue)
    for day, session, due in overdue:
        events.append(
            Event(
                EventKind.N_OVERDUE,
                f"{day.isoformat()}:{session}",
                day,
                session=session,
                detail={"due": due.isoformat()},
            )
        )

    events += _apply_threshold(state, qualifying, context, old_state)
    return tuple(events)


def _apply_threshold(
    state: EnrolmentState,
    qualifying: list[tuple[SessionKey, bool]],
    context: _Context,
    old_state: EnrolmentState | None,
) -> list[Event]:
    """The penalty-notice window as of ``as_of`` and the session it was first met (§5.2)."""
    rule = context.rules.pn
    state.pn_evaluated = rule.enabled
    if not rule.enabled:
        state.pn_window_start = state.pn_window_count = None
        state.pn_window_n = 0
        state.pn_threshold_met_on, state.pn_threshold_met_session = None, ""
        state.pn_threshold_provisional = False
        return []
    qualifying.sort()
    keys = [key for key, _ in qualifying]
    ns = list(itertools.accumulate((is_n for _, is_n in qualifying), initial=0))

    def window(end: SessionKey) -> tuple[int, int]:
        """Qualifying sessions, and Ns among them, in ``end``'s window up to ``end``."""
        start = context.window_start(end[0])
        if start is None:
            return 0, 0
        lo = bisect.bisect_left(keys, (start, "AM"))
        hi = bisect.bisect_right(keys, end)
        return hi - lo, ns[hi] - ns[lo]

    state.pn_window_start = context.window_start(context.as_of)
    state.pn_window_count, state.pn_window_n = window((context.as_of, "PM"))
    if old_state is not None and old_state.pn_threshold_met_on is not None:
        return []  # met before: the event stands
    first = context.period_start if old_state is None else old_state.as_of + _ONE_DAY
    for key in keys:
        if not first <= key[0] <= context.last:
            continue
        count, n_count = window(key)
        if count >= rule.sessions:
            state.pn_threshold_met_on, state.pn_threshold_met_session = key
            state.pn_threshold_provisional = n_count > 0
            return [
                Event(
                    EventKind.PN_THRESHOLD_MET,
                    context.period_start.isoformat(),
                    key[0],
                    session=key[1],
                    provisional=n_count > 0,
                    detail={"count": str(count)},
                )
            ]
    return []


def transition_events(previous: EnrolmentState | None, current: EnrolmentState) -> list[Event]:
    """Band changed, persistent or severe absence started or ended: crossings between two
    stored states of one enrolment (none on a first computation except flags that start)."""
    day = current.as_of
    events: list[Event] = []
    flags = (
        (
            EventKind.PA_STARTED,
            EventKind.PA_ENDED,
            previous.persistent_absence if previous else False,
            current.persistent_absence,
        ),
        (
            EventKind.SA_STARTED,
            EventKind.SA_ENDED,
            previous.severe_absence if previous else False,
            current.severe_absence,
        ),
    )
    for started, ended, was, now in flags:
        if now and not was:
            events.append(Event(started, day.isoformat(), day))
        elif was and not now:
            events.append(Event(ended, day.isoformat(), day))
    if previous is not None and previous.band_name != current.band_name:
        change = f"{previous.band_name}>{current.band_name}"
        digest = hashlib.sha1(change.encode(), usedforsecurity=False).hexdigest()[:12]
        events.append(
            Event(
                EventKind.BAND_CHANGED,
                f"{day.isoformat()}:{digest}",
                day,
                detail={"from": previous.band_name, "to": current.band_name},
            )
        )
    return events


# --- The calendar as data -------------------------------------------------------------------


def _sessions_sql(
    calendar: SchoolCalendar, first: dt.date, last: dt.date
) -> tuple[str, list[SqlParam]]:
    """A condition on ``m``: the mark is on a calendar session from ``first`` to ``last``
    (empty when there is none). One parameter per school day: days with both sessions, then
    days left with only an AM or only a PM by a half-day closure."""
    by_day: dict[dt.date, list[Session]] = defaultdict(list)
    for day, session in calendar.sessions_between(first, last) if first <= last else []:
        by_day[day].append(session)
    conditions: list[str] = []
    params: list[SqlParam] = []
    both = [day for day, on in by_day.items() if len(on) == 2]
    if both:
        conditions.append(f"m.date IN {_in_list(both)}")
        params += both
    for only in (Session.AM, Session.PM):
        days = [day for day, on in by_day.items() if on == [only]]
        if days:
            conditions.append(f"(m.date IN {_in_list(days)} AND m.session = %s)")
            params += [*days, only.value]
    return " OR ".join(conditions), params
