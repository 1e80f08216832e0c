"""The reference implementation of the attendance rules: one enrolment's marks in, one summary out.

Pure Python (no ORM, no I/O) over ``registers.codes`` (what a code means on a date),
``registers.rules`` (when an ``N`` falls due) and ``schools.calendar`` (sessions, school days,
school weeks). It is written to be obviously right rather than fast: the set-based SQL path
used by the nightly run must agree with it field by field (a property test, written with
that path, is to check it).
Every count is an integer and every rate an exact ``Fraction`` of a percentage, so two
implementations are compared exactly; rounding happens only for display (``pct1``).

Definitions used throughout (spec/regulations.md section numbers in brackets):

- **Counted range** of an enrolment: the dates from ``max(period_start, enrolment.start)`` to
  ``min(period_end, as_of, enrolment.leaving)``, both inclusive. The leaving date is the last
  day on roll (as ``Pupil.objects.on_roll``). Only sessions the calendar holds count; a mark on
  a non-session (a ``#`` on a holiday, a Saturday) is ignored.
- **Resolving a code**: ``code_lookup(jurisdiction, code, on=session date)``, so a historic mark
  keeps its historic category (§1.4: a 2023 ``H`` is authorised absence). A code with no
  definition there and then is *unknown*; a historic ``K`` is *missing* (§1.4,
  ``historic_missing``). Unknown and missing sessions are in no count of §4.1.
- **Sessions, days, weeks** are the calendar's (§5.2, §11 item 2): a school week is a
  Monday-to-Sunday week with at least one session.

Interpretations of open points are marked "Interpretation" where they are made.

**An independent judge.** The production rules live in ``interventions.rules`` (bands, the
penalty-notice and illness rules, rates, PA/SA, the DfE cohort, the trend cut) and the engine
uses them. This module never imports ``interventions.rules`` or ``interventions.engine``
(tests/interventions/test_layering.py checks it, and that no production module imports this
one): every rule it needs is restated here in its own, obvious way (PA and SA as exact
fractions, bands without trusting their order, the trend cut by listing weeks, the DfE age
from the birth month), so a mistake in ``rules.py`` is a disagreement in the property tests
rather than shared by both sides. Configuration is an input: the reference reads the fields
of a penalty-notice rule, an illness rule and a band through the ``*Fields`` protocols, so
production's dataclasses (``rules.PenaltyNoticeRule``, ``rules.IllnessRule``,
``rules.Band``) can be passed in without being imported, and none of their methods is used.
What the reference does share with production is below the rules: what a code means on a
date (``registers.codes``), when an ``N`` falls due (``registers.rules``) and the calendar
(``schools.calendar``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal, Protocol, TypeVar

from registers.codes import (
    CodeDefinition,
    PenaltyNotice,
    StatCategory,
    code_lookup,
    historic_missing,
)
from registers.rules import n_due_date
from schools.calendar import SchoolCalendar, Session

SessionName = Literal["AM", "PM"]
SessionKey = tuple[dt.date, SessionName]

JURISDICTIONS = ("england", "wales")

# §6.2 and §6.3: the continuous-absence thresholds, in school days.
TEN_DAY_RETURN_DAYS = 10
GROUND_I_DAYS = 20  # §6.1(i): continuously absent for at least 20 school days (G, N, O)

# Interpretation (no spec section defines a trend): "rate_change_4_weeks" compares with the
# rate at the end of the school week this many school weeks before the latest one.
RATE_CHANGE_SCHOOL_WEEKS = 4


# --- Inputs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkIn:
    """One register mark: the session it is for, its code and (for ``L``/``U``) minutes late."""

    date: dt.date
    session: SessionName
    code: str
    minutes_late: int | None = None


@dataclass(frozen=True)
class Enrolment:
    """One entry in the admission register: the starting day and the leaving date, both on
    roll (§3.3; statistics are per enrolment, §4.1)."""

    start: dt.date
    leaving: dt.date | None = None

    def __post_init__(self) -> None:
        if self.leaving is not None and self.leaving < self.start:
            raise ValueError("An enrolment cannot end before it starts.")


class PenaltyNoticeRuleFields(Protocol):
    """What the reference reads of a penalty-notice rule (§5.2): ``sessions`` qualifying
    sessions in a rolling window of ``school_weeks`` school weeks; ``include_n`` is the LA's
    choice on ``N`` (§11 item 1). Production's ``rules.PenaltyNoticeRule`` has these fields."""

    @property
    def enabled(self) -> bool: ...
    @property
    def sessions(self) -> int: ...
    @property
    def school_weeks(self) -> int: ...
    @property
    def include_n(self) -> bool: ...


class IllnessRuleFields(Protocol):
    """What the reference reads of an illness rule (§6.2): ``days`` school days of illness,
    counted ``consecutive``, ``cumulative`` or ``either`` (whichever is reached first)."""

    @property
    def days(self) -> int: ...
    @property
    def mode(self) -> str: ...


class BandFields(Protocol):
    """What the reference reads of an attendance band: its bound (a percentage) and whether
    a rate exactly at it belongs to the band."""

    @property
    def lower_bound(self) -> Fraction: ...
    @property
    def inclusive(self) -> bool: ...


_B = TypeVar("_B", bound=BandFields)


@dataclass(frozen=True)
class SpecIllnessRule:
    """§6.2's default, as the spec states it: 15 school days, whichever counter first."""

    days: int = 15
    mode: str = "either"


SPEC_ILLNESS_RULE = SpecIllnessRule()


# --- Outputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceSummary:
    """One enrolment's attendance over a period, as of a date. Every field is an integer, an
    exact ``Fraction`` (percentages, not rounded), a date or a tuple of those, so two
    implementations can be compared with ``==``.

    Statistics (§4.1) are over the *counted range* (``range_start``..``range_end``, ``None``
    when empty), less the sessions DfE-comparable mode removes (§4.2). Penalty-notice and
    continuous-absence fields follow their own windows (see ``summarise``).
    """

    range_start: dt.date | None
    range_end: dt.date | None
    # §4.1 counts, in sessions.
    possible_sessions: int
    present_sessions: int  # PRESENT, including L (§1.3)
    aea_sessions: int  # approved educational activity: counts as attendance
    authorised_sessions: int
    unauthorised_sessions: int
    not_counted_sessions: int  # codes outside the denominator (D, X, Q, Y1-Y7, Z, #, ...)
    missing_sessions: int  # calendar sessions with no mark (or a historic K, §1.4)
    unknown_code_sessions: int  # marks whose code means nothing there and then
    code_counts: dict[str, int]  # every known code on a counted session, keys sorted
    late_sessions: int  # L
    late_minutes: int  # sum of minutes_late on L (a missing figure adds 0)
    u_sessions: int
    u_minutes: int
    # §4.1 rates, in percent, exact; None when there is no possible session.
    attendance_rate: Fraction | None
    overall_absence_rate: Fraction | None
    authorised_rate: Fraction | None
    unauthorised_rate: Fraction | None
    persistent_absence: bool
    severe_absence: bool
    rate_change_4_weeks: Fraction | None  # percentage points; see summarise()
    # §5.2 penalty-notice threshold; None/False when the rule is disabled (Wales by default).
    pn_evaluated: bool
    pn_window_count: int | None
    pn_window_provisional: bool
    pn_threshold_met_on: SessionKey | None
    pn_threshold_provisional: bool
    # §6.2 (10 school days of G, N, O, U) and §6.1(i) (20 school days of G, N, O).
    ten_day_run_current: int
    ten_day_reached_on: dt.date | None
    ten_day_episodes: tuple[tuple[dt.date, dt.date], ...]  # (run start, date it reached 10)
    ground_i_run_current: int
    ground_i_reached_on: dt.date | None
    ground_i_episodes: tuple[tuple[dt.date, dt.date], ...]
    # §6.2 illness return.
    illness_consecutive_days_current: int
    illness_cumulative_days: int
    illness_sessions: int
    illness_consecutive_reached_on: dt.date | None
    illness_cumulative_reached_on: dt.date | None
    illness_return_due: bool
    # §3.4: N marks still N after their 5th school day.
    overdue_n: tuple[SessionKey, ...]
    # §4.2: None outside DfE-comparable mode.
    in_dfe_cohort: bool | None
    dfe_removed_sessions: int

    @property
    def absence_sessions(self) -> int:
        return self.authorised_sessions + self.unauthorised_sessions


@dataclass(frozen=True)
class AggregateSummary:
    """Several enrolments together (a form, a year group, a school, a trust; §4.1
    "Aggregation"): sessions are summed, never percentages averaged.

    ``enrolments`` counts the summaries included (DfE-mode summaries outside the cohort are
    left out). The PA and SA rates divide by ``enrolments_with_possible``: the DfE leaves out
    enrolments with zero possible sessions (performance tables: "Enrolments for whom zero
    possible sessions were recorded are not included" [S]), e.g. a pupil coded only ``D``.
    """

    enrolments: int
    enrolments_with_possible: int
    possible_sessions: int
    present_sessions: int
    aea_sessions: int
    authorised_sessions: int
    unauthorised_sessions: int
    not_counted_sessions: int
    missing_sessions: int
    unknown_code_sessions: int
    code_counts: dict[str, int]
    late_sessions: int
    late_minutes: int
    u_sessions: int
    u_minutes: int
    pa_enrolments: int
    sa_enrolments: int
    attendance_rate: Fraction | None
    overall_absence_rate: Fraction | None
    authorised_rate: Fraction | None
    unauthorised_rate: Fraction | None
    pa_rate: Fraction | None
    sa_rate: Fraction | None


# --- Bands ----------------------------------------------------------------------------------


def band_for(rate: Fraction | None, bands: Sequence[_B]) -> _B | None:
    """The band ``rate`` belongs to: of the bands whose bound it reaches (above the bound, or
    at it when the band is inclusive), the one with the highest bound, and at an equal bound
    the exclusive one (it sits above). Restated without relying on the bands' order, so a
    production lookup that trusted a wrong order would disagree. ``None`` without a rate or
    below every band."""
    if rate is None:
        return None
    reached = [
        band
        for band in bands
        if rate > band.lower_bound or (rate == band.lower_bound and band.inclusive)
    ]
    if not reached:
        return None
    return max(reached, key=lambda band: (band.lower_bound, not band.inclusive))


# --- The summary ----------------------------------------------------------------------------


@dataclass
class _Tally:
    """Running §4.1 counts over a set of sessions."""

    present: int = 0
    aea: int = 0
    authorised: int = 0
    unauthorised: int = 0
    not_counted: int = 0
    missing: int = 0
    unknown: int = 0
    codes: Counter[str] = field(default_factory=Counter)
    late_sessions: int = 0
    late_minutes: int = 0
    u_sessions: int = 0
    u_minutes: int = 0

    @property
    def possible(self) -> int:
        return self.present + self.aea + self.authorised + self.unauthorised

    @property
    def attendance(self) -> int:
        return self.present + self.aea

    def add(self, mark: MarkIn | None, definition: CodeDefinition | None) -> None:
        if mark is None:
            self.missing += 1
            return
        if definition is None:
            self.unknown += 1
            return
        self.codes[definition.code] += 1
        category = definition.category
        if category is StatCategory.PRESENT:
            self.present += 1
        elif category is StatCategory.AEA:
            self.aea += 1
        elif category is StatCategory.AUTHORISED:
            self.authorised += 1
        elif category is StatCategory.UNAUTHORISED:
            self.unauthorised += 1
        else:
            self.not_counted += 1
        if definition.code == "L":
            self.late_sessions += 1
            self.late_minutes += mark.minutes_late or 0
        elif definition.code == "U":
            self.u_sessions += 1
            self.u_minutes += mark.minutes_late or 0


def persistent_absence(*, absence: int, possible: int) -> bool:
    """Missed 10% or more of possible sessions (§4.1): an exact fraction, never a rounded
    rate; false without a possible session."""
    return possible > 0 and Fraction(absence, possible) >= Fraction(1, 10)


def severe_absence(*, absence: int, possible: int) -> bool:
    """Missed 50% or more of possible sessions (§4.1), as an exact fraction."""
    return possible > 0 and Fraction(absence, possible) >= Fraction(1, 2)


def percentage(numerator: int, possible: int) -> Fraction | None:
    """``numerator`` as an exact percentage of ``possible`` sessions; ``None`` if none."""
    if possible == 0:
        return None
    return Fraction(100 * numerator, possible)


def summarise(
    *,
    marks: Iterable[MarkIn],
    calendar: SchoolCalendar,
    jurisdiction: str,
    enrolment: Enrolment,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    pn_rule: PenaltyNoticeRuleFields,
    illness_rule: IllnessRuleFields = SPEC_ILLNESS_RULE,
    date_of_birth: dt.date | None = None,
    dfe_comparable: bool = False,
    summer_second_half_start: dt.date | None = None,
    previous_marks: Iterable[MarkIn] = (),
) -> AttendanceSummary:
    """Summarise ONE enrolment's ``marks`` over ``period_start``..``period_end`` as of ``as_of``.

    ``marks`` are this enrolment's marks at this school (one per session at most: a duplicate
    (date, session) raises ValueError, as do a session other than "AM"/"PM", an unknown
    ``jurisdiction``, ``period_end`` before ``period_start``, and DfE-comparable mode without a
    date of birth). Marks after ``as_of`` are ignored everywhere.

    **Statistics (§4.1)** over the counted range (module docstring). PA and SA compare integers
    (``absence * 10 >= possible``, ``absence * 2 >= possible``, both false when possible is 0).

    **rate_change_4_weeks** (interpretation: the spec does not define a trend measure): the
    attendance rate over the counted range minus the attendance rate over the counted range
    cut at the Sunday of the school week 4 school weeks before the school week of
    ``range_end`` (the latest school week on or before it when its own week has no session).
    Positive means improving. ``None`` when the calendar holds fewer than 5 school weeks up to
    ``range_end``, the cut falls before ``range_start``, or either rate has no possible session.

    **Penalty-notice threshold (§5.2)**, only when ``pn_rule.enabled``. A session qualifies when
    its code's definition says ``penalty_notice`` YES, or it is ``N`` (SCHOOL_CHOICE) and
    ``include_n``. In Wales no code carries the flag (no national rule), so an enabled Welsh
    rule counts unauthorised-category sessions (``N`` again only with ``include_n``): a Welsh LA
    code of conduct counts "sessions of unauthorised absence" (§2). Qualifying sessions are this
    enrolment's marks on calendar sessions from ``enrolment.start`` to
    ``min(as_of, enrolment.leaving)`` (not cut at ``period_start``: the window spans terms and
    school years) plus ``previous_marks`` (earlier schools or enrolments, on their own dates,
    no calendar check, resolved with this school's jurisdiction); one session counted once.
    The window for a day is the ``school_weeks`` school weeks of this calendar ending with that
    day's week (``calendar.last_school_weeks``), i.e. the dates from the Monday of the earliest
    of them; the calendar must hold the previous school year for the window to reach back
    into it. ``pn_window_count`` counts qualifying sessions in the window of ``as_of`` up to
    ``as_of``. ``pn_threshold_met_on`` is the first qualifying session dated within
    ``period_start``..``min(period_end, as_of)`` at which the count over its own window, up to
    and including it, reached ``pn_rule.sessions``; the event stands once met (§5.2 step 4).
    Either count is *provisional* when it includes an ``N``.

    **Continuous absence (§6.1(i), §6.2)**, per school day: a day *counts* when every session
    the calendar holds that day has a mark whose definition has the flag
    (``counts_ten_day_return``: G, N, O, U; ``continues_deletion_ground_i``: G, N, O). A
    missing mark or any other code, including not-counted ones such as ``Y4``, breaks the run
    (interpretation: ground (i) says any other code breaks it; the 10-day return follows
    suit). Runs are over school days from ``enrolment.start`` to ``range_end``, so a run that
    started before ``period_start`` (e.g. before the summer holiday) carries on. ``*_current`` is
    the run ending at the last school day on or before ``range_end``; an episode is recorded on
    the day a run reaches the threshold (10 or 20 school days) and is reported when that day is
    in the counted range; a new episode needs the run to break first (§6.2, "one return per
    episode").

    **Illness (§6.2)**: an illness day is a school day whose every session is ``I``.
    ``illness_consecutive_days_current`` is the run of illness days ending at ``range_end``
    (looking back to the enrolment start, as above); ``illness_cumulative_days`` counts illness
    days in the counted range and ``illness_sessions`` every ``I`` session in it (half days
    included). ``illness_return_due`` follows ``illness_rule.mode``.

    **Overdue N (§3.4)**: ``N`` marks in the counted range whose due date
    (``registers.rules.n_due_date``, the 5th school day after) is before ``as_of``: an N is
    overdue from the day after its due date. An N whose due date the calendar cannot yet
    place is not overdue.

    **DfE-comparable mode (§4.2)**: a pupil not aged 5-15 on the 31 August before the academic
    year of ``period_start`` is outside the cohort: the summary has ``in_dfe_cohort=False`` and
    every count zero. For a pupil aged 15 then, the statistics leave out the sessions from
    the start of the second half of that year's summer term to 31 August
    (``dfe_summer_second_half_start``, or ``summer_second_half_start`` if given);
    ``dfe_removed_sessions`` says how many. The removal applies to the statistics only: the
    penalty-notice, continuous-absence, illness and N fields are operational and unchanged.
    """
    _check_jurisdiction(jurisdiction)
    if period_end < period_start:
        raise ValueError("period_end is before period_start.")
    # A historic K was a third-party "mark not received" (§1.4): it is a missing mark.
    by_session = _index_marks(marks, calendar, jurisdiction)
    previous = _index_marks(previous_marks, None, jurisdiction)

    range_start = max(period_start, enrolment.start)
    range_end = min(period_end, as_of, enrolment.leaving or dt.date.max)

    in_cohort: bool | None = None
    removed_from: dt.date | None = None
    removed_to: dt.date | None = None
    if dfe_comparable:
        if date_of_birth is None:
            raise ValueError("DfE-comparable mode needs the pupil's date of birth (§4.2).")
        year = dfe_academic_year(period_start=period_start, period_end=period_end, as_of=as_of)
        in_cohort = in_dfe_cohort(date_of_birth=date_of_birth, academic_year=year)
        if not in_cohort:
            return _empty_summary(range_start, range_end, in_cohort=False)
        if dfe_age(date_of_birth=date_of_birth, academic_year=year) == 15:  # the oldest (§4.2)
            removed_from = summer_second_half_start or dfe_summer_second_half_start(
                calendar=calendar, academic_year=year
            )
            removed_to = dt.date(year + 1, 8, 31)

    lookup = functools.partial(_lookup, jurisdiction)
    sessions = calendar.sessions_between(range_start, range_end) if range_start <= range_end else []

    def counted(day: dt.date) -> bool:
        """False for a day DfE-comparable mode takes out of the statistics (§4.2)."""
        if removed_from is None or removed_to is None:
            return True
        return not removed_from <= day <= removed_to

    # §4.1 statistics.
    tally = _Tally()
    removed = 0
    for day, session in sessions:
        if not counted(day):
            removed += 1
            continue
        mark = by_session.get((day, _name(session)))
        tally.add(mark, lookup(mark) if mark else None)

    possible = tally.possible
    absence = tally.authorised + tally.unauthorised
    rate_change = _rate_change(
        calendar=calendar,
        range_start=range_start,
        range_end=range_end,
        current=percentage(tally.attendance, possible),
        counted=counted,
        by_session=by_session,
        lookup=lookup,
    )

    # §5.2 penalty notices.
    pn = _penalty_notice(
        rule=pn_rule,
        jurisdiction=jurisdiction,
        calendar=calendar,
        by_session=by_session,
        previous=previous,
        lookup=lookup,
        enrolment=enrolment,
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
    )

    # §6 continuous absence and §6.2 illness, per school day.
    run_days = calendar.school_days_between(enrolment.start, range_end)

    def every_session(day: dt.date, test: Callable[[CodeDefinition], bool]) -> bool:
        for session in calendar.sessions_on(day):
            mark = by_session.get((day, _name(session)))
            definition = lookup(mark) if mark else None
            if definition is None or not test(definition):
                return False
        return True

    def ten_day(day: dt.date) -> bool:
        return every_session(day, lambda d: d.counts_ten_day_return)

    def ground_i(day: dt.date) -> bool:
        return every_session(day, lambda d: d.continues_deletion_ground_i)

    def ill(day: dt.date) -> bool:
        return every_session(day, lambda d: d.code == "I")

    ten_current, ten_episodes = _runs(run_days, ten_day, TEN_DAY_RETURN_DAYS, range_start)
    gi_current, gi_episodes = _runs(run_days, ground_i, GROUND_I_DAYS, range_start)
    ill_current, ill_episodes = _runs(run_days, ill, illness_rule.days, range_start)

    ill_days = [day for day in run_days if day >= range_start and ill(day)]
    ill_cumulative_on = (
        ill_days[illness_rule.days - 1] if len(ill_days) >= illness_rule.days else None
    )
    ill_consecutive_on = ill_episodes[0][1] if ill_episodes else None
    if illness_rule.mode == "consecutive":
        illness_due = ill_consecutive_on is not None
    elif illness_rule.mode == "cumulative":
        illness_due = ill_cumulative_on is not None
    else:
        illness_due = ill_consecutive_on is not None or ill_cumulative_on is not None

    illness_sessions = 0
    overdue: list[SessionKey] = []
    for day, session in sessions:
        key = (day, _name(session))
        mark = by_session.get(key)
        definition = lookup(mark) if mark else None
        if definition is None:
            continue
        if definition.code == "I":
            illness_sessions += 1
        elif definition.code == "N":
            due = n_due_date(calendar=calendar, session_date=day)
            if due is not None and due < as_of:
                overdue.append(key)

    return AttendanceSummary(
        range_start=range_start if range_start <= range_end else None,
        range_end=range_end if range_start <= range_end else None,
        possible_sessions=possible,
        present_sessions=tally.present,
        aea_sessions=tally.aea,
        authorised_sessions=tally.authorised,
        unauthorised_sessions=tally.unauthorised,
        not_counted_sessions=tally.not_counted,
        missing_sessions=tally.missing,
        unknown_code_sessions=tally.unknown,
        code_counts=dict(sorted(tally.codes.items())),
        late_sessions=tally.late_sessions,
        late_minutes=tally.late_minutes,
        u_sessions=tally.u_sessions,
        u_minutes=tally.u_minutes,
        attendance_rate=percentage(tally.attendance, possible),
        overall_absence_rate=percentage(absence, possible),
        authorised_rate=percentage(tally.authorised, possible),
        unauthorised_rate=percentage(tally.unauthorised, possible),
        persistent_absence=persistent_absence(absence=absence, possible=possible),
        severe_absence=severe_absence(absence=absence, possible=possible),
        rate_change_4_weeks=rate_change,
        pn_evaluated=pn_rule.enabled,
        pn_window_count=pn.window_count,
        pn_window_provisional=pn.window_provisional,
        pn_threshold_met_on=pn.met_on,
        pn_threshold_provisional=pn.met_provisional,
        ten_day_run_current=ten_current,
        ten_day_reached_on=ten_episodes[0][1] if ten_episodes else None,
        ten_day_episodes=ten_episodes,
        ground_i_run_current=gi_current,
        ground_i_reached_on=gi_episodes[0][1] if gi_episodes else None,
        ground_i_episodes=gi_episodes,
        illness_consecutive_days_current=ill_current,
        illness_cumulative_days=len(ill_days),
        illness_sessions=illness_sessions,
        illness_consecutive_reached_on=ill_consecutive_on,
        illness_cumulative_reached_on=ill_cumulative_on,
        illness_return_due=illness_due,
        overdue_n=tuple(overdue),
        in_dfe_cohort=in_cohort,
        dfe_removed_sessions=removed,
    )


def aggregate(summaries: Iterable[AttendanceSummary]) -> AggregateSummary:
    """Sum enrolments' sessions and recompute the rates from the sums (§4.1 "Aggregation").

    Percentages are never averaged: a pupil with 10 possible sessions does not weigh as much
    as one with 300. PA rate = PA enrolments / enrolments with a possible session, as a
    percentage; SA likewise. Summaries with ``in_dfe_cohort=False`` are left out entirely.
    """
    included = [s for s in summaries if s.in_dfe_cohort is not False]
    codes: Counter[str] = Counter()
    for summary in included:
        codes.update(summary.code_counts)

    def total(attribute: str) -> int:
        return sum(int(getattr(s, attribute)) for s in included)

    possible = total("possible_sessions")
    authorised = total("authorised_sessions")
    unauthorised = total("unauthorised_sessions")
    with_possible = sum(1 for s in included if s.possible_sessions > 0)
    pa = sum(1 for s in included if s.persistent_absence)
    sa = sum(1 for s in included if s.severe_absence)
    return AggregateSummary(
        enrolments=len(included),
        enrolments_with_possible=with_possible,
        possible_sessions=possible,
        present_sessions=total("present_sessions"),
        aea_sessions=total("aea_sessions"),
        authorised_sessions=authorised,
        unauthorised_sessions=unauthorised,
        not_counted_sessions=total("not_counted_sessions"),
        missing_sessions=total("missing_sessions"),
        unknown_code_sessions=total("unknown_code_sessions"),
        code_counts=dict(sorted(codes.items())),
        late_sessions=total("late_sessions"),
        late_minutes=total("late_minutes"),
        u_sessions=total("u_sessions"),
        u_minutes=total("u_minutes"),
        pa_enrolments=pa,
        sa_enrolments=sa,
        attendance_rate=percentage(total("present_sessions") + total("aea_sessions"), possible),
        overall_absence_rate=percentage(authorised + unauthorised, possible),
        authorised_rate=percentage(authorised, possible),
        unauthorised_rate=percentage(unauthorised, possible),
        pa_rate=percentage(pa, with_possible),
        sa_rate=percentage(sa, with_possible),
    )


# --- DfE-comparable helpers (§4.2), restated --------------------------------------------------


def dfe_summer_second_half_start(*, calendar: SchoolCalendar, academic_year: int) -> dt.date:
    """The first day of the second half of the summer term of ``academic_year`` (§4.2).

    The same approximation as production (the spec gives no rule), restated as a walk over
    the days from 30 April: the last school day that ends a break of at least 5 school-free
    weekdays, when the school day before the break is on or after 30 April (the break starts
    in May). Without one, the last Monday in May (the spring bank holiday, §7.2)."""
    start: dt.date | None = None
    previous_school_day: dt.date | None = None
    free_weekdays = 0
    day = dt.date(academic_year + 1, 4, 30)
    while day <= dt.date(academic_year + 1, 8, 31):
        if calendar.is_school_day(day):
            if previous_school_day is not None and free_weekdays >= 5:
                start = day
            previous_school_day, free_weekdays = day, 0
        elif day.weekday() < 5:
            free_weekdays += 1
        day += dt.timedelta(days=1)
    if start is not None:
        return start
    mondays_in_may = [
        dt.date(academic_year + 1, 5, d)
        for d in range(1, 32)
        if dt.date(academic_year + 1, 5, d).weekday() == 0
    ]
    return mondays_in_may[-1]


def dfe_age(*, date_of_birth: dt.date, academic_year: int) -> int:
    """Age on 31 August ``academic_year`` (§4.2): a birthday from September to December has
    not come yet by then."""
    return academic_year - date_of_birth.year - (1 if date_of_birth.month >= 9 else 0)


def in_dfe_cohort(*, date_of_birth: dt.date, academic_year: int) -> bool:
    """Aged 5 to 15 on the 31 August that starts ``academic_year`` (§4.2)."""
    return dfe_age(date_of_birth=date_of_birth, academic_year=academic_year) in range(5, 16)


def dfe_academic_year(*, period_start: dt.date, period_end: dt.date, as_of: dt.date) -> int:
    """The academic year (named by the calendar year of its September) of the last day
    counted, ``min(period_end, as_of)``, and never before ``period_start``'s (§4.2)."""
    last = max(period_start, min(period_end, as_of))
    return last.year - (1 if last.month < 9 else 0)


# --- Internals ------------------------------------------------------------------------------


def _check_jurisdiction(jurisdiction: str) -> None:
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(f"Unknown jurisdiction {jurisdiction!r}: expected one of {JURISDICTIONS}.")


def _name(session: Session) -> SessionName:
    return "AM" if session is Session.AM else "PM"


def _index_marks(
    marks: Iterable[MarkIn], calendar: SchoolCalendar | None, jurisdiction: str
) -> dict[SessionKey, MarkIn]:
    """Marks by (date, session), less historic missing marks; with a calendar, only those on
    its sessions. ValueError on a bad session name or two marks for one session."""
    indexed: dict[SessionKey, MarkIn] = {}
    for mark in marks:
        if mark.session not in ("AM", "PM"):
            raise ValueError(f"A mark's session is 'AM' or 'PM', not {mark.session!r}.")
        key = (mark.date, mark.session)
        if key in indexed:
            raise ValueError(f"Two marks for {mark.date} {mark.session}.")
        indexed[key] = mark
    return {
        key: mark
        for key, mark in indexed.items()
        if (calendar is None or calendar.is_session(*key))
        and not historic_missing(jurisdiction=jurisdiction, code=mark.code, on=mark.date)
    }


@functools.lru_cache(maxsize=4096)
def _definition(jurisdiction: str, code: str, on: dt.date) -> CodeDefinition | None:
    # Cached: the code tables are scanned linearly, and a year of marks repeats few codes.
    return code_lookup(jurisdiction=jurisdiction, code=code, on=on)


def _lookup(jurisdiction: str, mark: MarkIn) -> CodeDefinition | None:
    return _definition(jurisdiction, mark.code, mark.date)


def _runs(
    days: Sequence[dt.date],
    counts: Callable[[dt.date], bool],
    threshold: int,
    report_from: dt.date,
) -> tuple[int, tuple[tuple[dt.date, dt.date], ...]]:
    """The current run length and the episodes (run start, day the run reached ``threshold``)
    reached on or after ``report_from``. One episode per unbroken run."""
    current = 0
    start = dt.date.min
    episodes: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if not counts(day):
            current = 0
            continue
        if current == 0:
            start = day
        current += 1
        # Only the day the run *reaches* the threshold: a longer run is still one episode.
        if current == threshold and day >= report_from:
            episodes.append((start, day))
    return current, tuple(episodes)


def trend_cut(
    *, calendar: SchoolCalendar, range_start: dt.date, range_end: dt.date
) -> dt.date | None:
    """The last day ``rate_change_4_weeks`` compares with (see ``summarise``).

    Restated by listing weeks: the Mondays of the weeks with a session from the week of
    ``range_start`` to the week of ``range_end``; the cut is the Sunday of the fifth-latest.
    A school week wholly before ``range_start``'s week would give a cut before
    ``range_start``, which is ``None`` anyway, so the weeks before it need no look."""
    if range_end < range_start:
        return None
    first_monday = range_start - dt.timedelta(days=range_start.weekday())
    last_sunday = range_end + dt.timedelta(days=6 - range_end.weekday())
    mondays = sorted(
        {
            day - dt.timedelta(days=day.weekday())
            for day in calendar.school_days_between(first_monday, last_sunday)
        }
    )
    if len(mondays) < RATE_CHANGE_SCHOOL_WEEKS + 1:
        return None
    return mondays[-(RATE_CHANGE_SCHOOL_WEEKS + 1)] + dt.timedelta(days=6)


def _rate_change(
    *,
    calendar: SchoolCalendar,
    range_start: dt.date,
    range_end: dt.date,
    current: Fraction | None,
    counted: Callable[[dt.date], bool],
    by_session: Mapping[SessionKey, MarkIn],
    lookup: Callable[[MarkIn], CodeDefinition | None],
) -> Fraction | None:
    cut = trend_cut(calendar=calendar, range_start=range_start, range_end=range_end)
    if current is None or cut is None:
        return None
    tally = _Tally()
    for day, session in calendar.sessions_between(range_start, min(cut, range_end)):
        if counted(day):
            mark = by_session.get((day, _name(session)))
            tally.add(mark, lookup(mark) if mark else None)
    before = percentage(tally.attendance, tally.possible)
    return None if before is None else current - before


def pn_qualifies(
    definition: CodeDefinition | None, *, rule: PenaltyNoticeRuleFields, jurisdiction: str
) -> bool | None:
    """Does a session with this code count towards the penalty-notice threshold (§5.2)? True if
    it counts, None if it counts only provisionally (an ``N`` the LA chooses to count), False
    if not.

    Restated from the spec, not from the production rule: in England a code counts when its
    definition says YES and is the LA's choice when it says SCHOOL_CHOICE (only ``N``); in
    Wales no code carries the flag, so an LA code of conduct counts the unauthorised codes,
    with ``N`` again the LA's choice (§2)."""
    if definition is None:
        return False
    if jurisdiction == "england":
        definite = definition.penalty_notice is PenaltyNotice.YES
        by_choice = definition.penalty_notice is PenaltyNotice.SCHOOL_CHOICE
    else:
        by_choice = definition.code == "N"
        definite = definition.category is StatCategory.UNAUTHORISED and not by_choice
    if definite:
        return True
    return None if by_choice and rule.include_n else False


@dataclass(frozen=True)
class _PenaltyNoticeResult:
    window_count: int | None = None
    window_provisional: bool = False
    met_on: SessionKey | None = None
    met_provisional: bool = False


def _penalty_notice(
    *,
    rule: PenaltyNoticeRuleFields,
    jurisdiction: str,
    calendar: SchoolCalendar,
    by_session: Mapping[SessionKey, MarkIn],
    previous: Mapping[SessionKey, MarkIn],
    lookup: Callable[[MarkIn], CodeDefinition | None],
    enrolment: Enrolment,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
) -> _PenaltyNoticeResult:
    if not rule.enabled:
        return _PenaltyNoticeResult()

    def qualifies(definition: CodeDefinition | None) -> bool | None:
        return pn_qualifies(definition, rule=rule, jurisdiction=jurisdiction)

    # Qualifying sessions, each with "is an N", one entry per (date, session).
    last = min(as_of, enrolment.leaving or dt.date.max)
    qualifying: dict[SessionKey, bool] = {}
    for source, bounded in ((previous, False), (by_session, True)):
        for key, mark in source.items():
            day = key[0]
            if day > as_of or (bounded and not enrolment.start <= day <= last):
                continue
            verdict = qualifies(lookup(mark))
            if verdict is False:
                continue
            is_n = verdict is None
            # A session marked at both schools counts once; a definite code beats an N.
            qualifying[key] = qualifying.get(key, True) and is_n
    keys = sorted(qualifying)

    window_start_cache: dict[dt.date, dt.date | None] = {}

    def window_start(day: dt.date) -> dt.date | None:
        monday = day - dt.timedelta(days=day.weekday())
        if monday not in window_start_cache:
            weeks = calendar.last_school_weeks(rule.school_weeks, day)
            window_start_cache[monday] = weeks[0] if weeks else None
        return window_start_cache[monday]

    def window(end: SessionKey) -> list[SessionKey]:
        """Qualifying sessions in ``end``'s window, up to and including ``end``."""
        start = window_start(end[0])
        if start is None:
            return []
        return keys[bisect.bisect_left(keys, (start, "AM")) : bisect.bisect_right(keys, end)]

    in_window = window((as_of, "PM"))
    met_on: SessionKey | None = None
    met_provisional = False
    # The count only rises at a qualifying session, so only those can be where it is reached.
    for key in keys:
        if not period_start <= key[0] <= min(period_end, as_of):
            continue
        reached = window(key)
        if len(reached) >= rule.sessions:
            met_on = key
            met_provisional = any(qualifying[k] for k in reached)
            break
    return _PenaltyNoticeResult(
        window_count=len(in_window),
        window_provisional=any(qualifying[k] for k in in_window),
        met_on=met_on,
        met_provisional=met_provisional,
    )


def _empty_summary(
    range_start: dt.date, range_end: dt.date, *, in_cohort: bool | None
) -> AttendanceSummary:
    """Zero counts: a pupil outside the DfE cohort (§4.2)."""
    non_empty = range_start <= range_end
    return AttendanceSummary(
        range_start=range_start if non_empty else None,
        range_end=range_end if non_empty else None,
        possible_sessions=0,
        present_sessions=0,
        aea_sessions=0,
        authorised_sessions=0,
        unauthorised_sessions=0,
        not_counted_sessions=0,
        missing_sessions=0,
        unknown_code_sessions=0,
        code_counts={},
        late_sessions=0,
        late_minutes=0,
        u_sessions=0,
        u_minutes=0,
        attendance_rate=None,
        overall_absence_rate=None,
        authorised_rate=None,
        unauthorised_rate=None,
        persistent_absence=False,
        severe_absence=False,
        rate_change_4_weeks=None,
        pn_evaluated=False,
        pn_window_count=None,
        pn_window_provisional=False,
        pn_threshold_met_on=None,
        pn_threshold_provisional=False,
        ten_day_run_current=0,
        ten_day_reached_on=None,
        ten_day_episodes=(),
        ground_i_run_current=0,
        ground_i_reached_on=None,
        ground_i_episodes=(),
        illness_consecutive_days_current=0,
        illness_cumulative_days=0,
        illness_sessions=0,
        illness_consecutive_reached_on=None,
        illness_cumulative_reached_on=None,
        illness_return_due=False,
        overdue_n=(),
        in_dfe_cohort=in_cohort,
        dfe_removed_sessions=0,
    )
