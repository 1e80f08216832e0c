"""The production attendance rules: pure Python (no ORM, no I/O), imported by the engine,
the recompute, selectors, views, the API and the commands.

Here live the rules the stored results follow: attendance bands and their presets, the
penalty-notice and illness rules, the §4.1 rates and the persistent/severe-absence flags, the
DfE cohort (§4.2), the trend cut, and ``EventKind``, the one definition of every crossing the
engine writes to the event ledger. Every rate is an exact ``Fraction`` percentage; rounding
happens only for display (``pct1``).

``interventions.reference`` is the independent judge these rules are tested against: it
restates each rule in its own way and never imports this module, so a mistake here shows up
as a disagreement in the property tests (tests/interventions/test_engine.py,
tests/interventions/test_reference.py) instead of being shared by both sides.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from django.db import models
from django.utils.translation import gettext_lazy as _

from registers.codes import CodeDefinition, PenaltyNotice, StatCategory
from schools.calendar import SchoolCalendar

SessionName = Literal["AM", "PM"]
SessionKey = tuple[dt.date, SessionName]
IllnessMode = Literal["consecutive", "cumulative", "either"]

JURISDICTIONS = ("england", "wales")
HUNDRED = Fraction(100)

# §6.2 and §6.3: the continuous-absence thresholds, in school days.
TEN_DAY_RETURN_DAYS = 10
GROUND_I_DAYS = 20  # §6.1(i): continuously absent for at least 20 school days (G, N, O)

# Interpretation (no spec section defines a trend): "rate_change_4_weeks" compares with the
# rate at the end of the school week this many school weeks before the latest one.
RATE_CHANGE_SCHOOL_WEEKS = 4


class EventKind(models.TextChoices):
    """Every crossing the engine writes to the event ledger (``AttendanceEvent.kind``).

    The one definition: the engine emits these members, the model's choices, the API's filter
    and the tests use them. The values are stored; changing one needs a data migration."""

    BAND_CHANGED = "band_changed", _("Band changed")
    PA_STARTED = "pa_started", _("Persistent absence started")
    PA_ENDED = "pa_ended", _("Persistent absence ended")
    SA_STARTED = "sa_started", _("Severe absence started")
    SA_ENDED = "sa_ended", _("Severe absence ended")
    PN_THRESHOLD_MET = "pn_threshold_met", _("Penalty-notice threshold met")
    TEN_DAY_REACHED = "ten_day_reached", _("10 school days' continuous absence (LA return)")
    GROUND_I_REACHED = "ground_i_reached", _("20 school days' continuous absence (ground (i))")
    ILLNESS_RETURN_DUE = "illness_return_due", _("Illness absence return due")
    N_OVERDUE = "n_overdue", _("N overdue")


# --- Configuration: penalty notices (§5.2) and illness (§6.2) -------------------------------


@dataclass(frozen=True)
class PenaltyNoticeRule:
    """The penalty-notice threshold: ``sessions`` qualifying sessions in a rolling window of
    ``school_weeks`` school weeks (§5.2). ``include_n`` is the LA's choice on ``N`` (§11 item 1);
    sessions still coded ``N`` make any count that includes them *provisional*."""

    enabled: bool = True
    sessions: int = 10
    school_weeks: int = 10
    include_n: bool = False

    def __post_init__(self) -> None:
        if self.sessions < 1 or self.school_weeks < 1:
            raise ValueError("A penalty-notice rule needs at least 1 session and 1 school week.")


# §5.2: England's national framework. §2: Wales has no national rolling-window rule; each LA's
# code of conduct sets one, so the Welsh default is off and a school that enables it configures
# its LA's numbers.
PN_RULE_ENGLAND = PenaltyNoticeRule()
PN_RULE_WALES = PenaltyNoticeRule(enabled=False)


def default_pn_rule(jurisdiction: str) -> PenaltyNoticeRule:
    """The default penalty-notice rule for a school in ``jurisdiction`` (§5.2, §2)."""
    check_jurisdiction(jurisdiction)
    return PN_RULE_ENGLAND if jurisdiction == "england" else PN_RULE_WALES


@dataclass(frozen=True)
class IllnessRule:
    """When the LA must be told of illness absence: ``days`` school days of illness (§6.2).

    Whether the 15 days are consecutive or cumulative is [U] in the spec, which asks for both
    counters and a configurable rule; ``either`` (the default) raises the return on whichever
    is reached first.
    """

    days: int = 15
    mode: IllnessMode = "either"

    def __post_init__(self) -> None:
        if self.days < 1:
            raise ValueError("An illness rule needs at least 1 school day.")
        if self.mode not in ("consecutive", "cumulative", "either"):
            raise ValueError(f"Unknown illness rule mode {self.mode!r}.")


ILLNESS_RULE_DEFAULT = IllnessRule()


def check_jurisdiction(jurisdiction: str) -> None:
    """ValueError unless ``jurisdiction`` is one the code tables know."""
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(f"Unknown jurisdiction {jurisdiction!r}: expected one of {JURISDICTIONS}.")


def pn_qualifies(
    definition: CodeDefinition | None, *, rule: PenaltyNoticeRule, jurisdiction: str
) -> bool | None:
    """Does a session with this code count towards the penalty-notice threshold (§5.2)? True if
    it counts, None if it counts only as an ``N`` (provisional), False if not."""
    if definition is None:
        return False
    if definition.code == "N":
        is_n_counted = rule.include_n and (
            definition.penalty_notice is not PenaltyNotice.NO or jurisdiction == "wales"
        )
        return None if is_n_counted else False
    if jurisdiction == "wales":
        return definition.category is StatCategory.UNAUTHORISED
    return definition.penalty_notice is PenaltyNotice.YES


# --- Rates and flags (§4.1) ------------------------------------------------------------------


def persistent_absence(*, absence: int, possible: int) -> bool:
    """Missed 10% or more of possible sessions (§4.1), decided on integers, never on rates."""
    return possible > 0 and absence * 10 >= possible


def severe_absence(*, absence: int, possible: int) -> bool:
    """Missed 50% or more of possible sessions (§4.1), decided on integers."""
    return possible > 0 and absence * 2 >= possible


def percentage(numerator: int, possible: int) -> Fraction | None:
    """``numerator`` as an exact percentage of ``possible`` sessions; ``None`` if none."""
    return Fraction(numerator, possible) * HUNDRED if possible else None


class SessionRates:
    """The §4.1 rates of anything holding the four session counts (a stored result, an
    engine state), as exact percentages; ``None`` without a possible session."""

    possible_sessions: int
    present_sessions: int
    aea_sessions: int
    authorised_sessions: int
    unauthorised_sessions: int

    @property
    def attendance_rate(self) -> Fraction | None:
        return percentage(self.present_sessions + self.aea_sessions, self.possible_sessions)

    @property
    def missed_sessions(self) -> int:
        """Sessions missed: authorised and unauthorised absence (what §4.1's absence rate
        counts), the figure pages lead with before the percentage."""
        return self.authorised_sessions + self.unauthorised_sessions

    @property
    def overall_absence_rate(self) -> Fraction | None:
        return percentage(self.missed_sessions, self.possible_sessions)

    @property
    def authorised_rate(self) -> Fraction | None:
        return percentage(self.authorised_sessions, self.possible_sessions)

    @property
    def unauthorised_rate(self) -> Fraction | None:
        return percentage(self.unauthorised_sessions, self.possible_sessions)


# --- Display --------------------------------------------------------------------------------


def days1(sessions: int) -> str:
    """Sessions (half days) as school days for display: "12" or "12.5"."""
    whole, half = divmod(sessions, 2)
    return f"{whole}.5" if half else str(whole)


def pct1(value: Fraction) -> str:
    """``value`` to one decimal place, half away from zero (``decimal.ROUND_HALF_UP``), from the
    exact fraction: ``pct1(Fraction(2, 3) * 100) == "66.7"``. For display only; flags never
    compare rounded figures (§4.1)."""
    scaled = value * 10
    tenths, remainder = divmod(abs(scaled.numerator), scaled.denominator)
    if 2 * remainder >= scaled.denominator:
        tenths += 1
    sign = "-" if value < 0 and tenths else ""
    return f"{sign}{tenths // 10}.{tenths % 10}"


# --- Bands ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """An attendance band: rates at or above ``lower_bound`` (strictly above it when
    ``inclusive`` is False), up to the next band's bound. ``lower_bound`` is a percentage."""

    name: str
    lower_bound: Fraction
    inclusive: bool = True
    meaning: str = ""
    colour: str = "#6b7280"
    pk: int | None = None  # the stored AttendanceBand, when the band is a school's own

    def admits(self, rate: Fraction) -> bool:
        return rate > self.lower_bound or (self.inclusive and rate == self.lower_bound)


def band_for(rate: Fraction | None, bands: Sequence[Band]) -> Band | None:
    """The highest band ``rate`` reaches, comparing exact fractions (never a rounded rate).

    ``bands`` must be sorted from the highest lower bound down (ValueError otherwise).
    Returns ``None`` when ``rate`` is ``None`` (no possible sessions) or below every band.
    """
    for higher, lower in itertools.pairwise(bands):
        # At an equal bound, "strictly above" is the higher band.
        if (higher.lower_bound, not higher.inclusive) < (lower.lower_bound, not lower.inclusive):
            raise ValueError("Bands must be sorted from the highest lower bound down.")
    if rate is None:
        return None
    for band in bands:
        if band.admits(rate):
            return band
    return None


def _b(name: str, lower: int, *, inclusive: bool = True, meaning: str = "") -> Band:
    return Band(name=name, lower_bound=Fraction(lower), inclusive=inclusive, meaning=meaning)


# §4.1: persistent absence is missing 10% or more (attendance 90% or below, so exactly 90.0% is
# PA: TC-02) and severe absence 50% or more missed (attendance 50% or below). Both upper bands
# therefore start *strictly* above their figure, and band_for agrees with the PA/SA flags.
DFE_DEFAULT: tuple[Band, ...] = (
    _b("Not persistently absent (above 90%)", 90, inclusive=False),
    _b(
        "Persistent absence (90% or below)",
        50,
        inclusive=False,
        meaning="Missed 10% or more of possible sessions (§4.1).",
    ),
    _b(
        "Severe absence (50% or below)",
        0,
        meaning="Missed 50% or more of possible sessions (§4.1).",
    ),
)

# Seed 002 (Bedford High School attendance policy), Appendix 3, "Percentage / Category /
# Definition / Band". The table's ranges are written to 1 dp ("95% - 96.9%"), so each stated
# lower figure is inclusive; a rate between two rows (96.95%) belongs to the lower row because
# rates are compared exactly, not rounded. Two conflicts inside the seed, kept as written:
# its §5.2 calls PA "below 90%" while the DfE flag includes exactly 90% (band D here, PA flag
# true), and its §5.2 calls SA "50% or less" while Appendix 3 puts exactly 50% in F
# ("50% - 79.9%") and G is "Under 50%"; the SA flag carries the DfE rule separately.
SEED_002_BEDFORD: tuple[Band, ...] = (
    _b("A", 97, meaning="Excellent: attendance is excellent. Recognition given."),
    _b("B", 95, meaning="Acceptable: attendance is acceptable."),
    _b("C", 93, meaning="Below Expected: form teachers intervene to motivate students."),
    _b("D", 90, meaning="At Risk: at risk of falling below 90%; the pastoral team intervenes."),
    _b("E", 80, meaning="Support: persistently absent; parents notified, meetings, may fine."),
    _b("F", 50, meaning="Intervention: pastoral team and Attendance Enforcement Officers."),
    _b("G", 0, meaning="Severely Absent: individualised plans, attendance enforcement."),
)

# Seed 000 (King Henry VIII 3-19 School attendance strategy, September 2024: a Welsh school),
# the tier table under "Our school attendance target is 96%". Its ranges overlap at their ends
# ("90%-96%", "81%-90%", "51%-80%", "31%-50%"). Reading: 96% meets the target (inclusive);
# below it the pattern 81-90 / 51-80 / 31-50 puts the upper figure inside each tier, so 90.0%
# is in the 81%-90% tier and every lower bound (90, 80, 50, 30) is exclusive. The seed names
# no tier at 30% or below (it moves to an EWS referral, which is not rate-based), so band_for
# returns None there.
SEED_000_KING_HENRY: tuple[Band, ...] = (
    _b("96% Attendance", 96, meaning="Target met: universal provision."),
    _b(
        "90%-96% Attendance",
        90,
        inclusive=False,
        meaning="Class teacher / form tutor monitors and mentors.",
    ),
    _b(
        "81%-90% Attendance",
        80,
        inclusive=False,
        meaning="AHT Phase / WBLSO: parents contacted, Personal Attendance Plan.",
    ),
    _b(
        "51%-80% Attendance",
        50,
        inclusive=False,
        meaning="Family Engagement Officer / Wellbeing Leader oversee an action plan.",
    ),
    _b(
        "31%-50% Attendance",
        30,
        inclusive=False,
        meaning="AHT Wellbeing Vulnerable Learners and Family Engagement Officer: bespoke support.",
    ),
)

# Seed 004 ("A Staged Approach to Supporting Attendance - 2018 - 2019"), the stage table.
# "Attendance Above 97%" excludes 97.0%; Level 1 is "94.1% and 97%", so 97.0% is Level 1 and
# 94.0% is not; Level 2 is "Below 94%", read as everything from 94.0% down (the seed leaves
# 94.0-94.1 unassigned). The seed's "Persistent Absentees 10% absenteeism or more" stage is the
# DfE PA rule, carried by the persistent-absence flag, not a band.
SEED_004_STAGED: tuple[Band, ...] = (
    _b("Attendance Above 97%", 97, inclusive=False, meaning="Rewarded and celebrated."),
    _b(
        "Cause for concern Level 1",
        94,
        inclusive=False,
        meaning="AT1 letter; tracked; 4-week monitoring period.",
    ),
    _b(
        "Cause for concern Level 2",
        0,
        meaning="AT2 letter with legal implications; meeting offered; 4-week monitoring period.",
    ),
)


# Seed 000: form tutors mentor "pupils with 90-96% attendance". Read as the seed's own tier
# table (SEED_000_KING_HENRY above): 96% meets the target and 90.0% belongs to the 81%-90%
# tier, so the band is strictly above 90% and strictly below 96%. The bounds are arguments:
# a school with other figures passes its own.
MENTORING_LOWER, MENTORING_UPPER = Fraction(90), Fraction(96)


def in_mentoring_band(
    rate: Fraction | None,
    *,
    lower: Fraction = MENTORING_LOWER,
    upper: Fraction = MENTORING_UPPER,
) -> bool:
    """Whether an exact attendance ``rate`` is in the tutors' mentoring band (never a rounded
    rate: 95.96% is in it, 96% is not)."""
    return rate is not None and lower < rate < upper


# --- DfE-comparable helpers (§4.2) ----------------------------------------------------------


def academic_year_of(day: dt.date) -> int:
    """The calendar year in which ``day``'s academic year (1 September to 31 August) starts."""
    return day.year if day.month >= 9 else day.year - 1


def dfe_summer_second_half_start(*, calendar: SchoolCalendar, academic_year: int) -> dt.date:
    """The first day of the second half of the summer term of ``academic_year`` (§4.2).

    Approximation from the calendar (the spec gives no rule): the first school day after the
    last gap of at least one whole school-free weekday week (5 weekdays without a session)
    that starts on or after 1 May, i.e. after the late-May half-term. When the calendar holds
    no such gap (summer term not entered yet, or no May half-term), the spring bank holiday
    (last Monday in May) is used: the school census splits the summer term there (§7.2).
    Callers with the real date use it instead.
    """
    may_first = dt.date(academic_year + 1, 5, 1)
    days = calendar.school_days_between(
        dt.date(academic_year, 9, 1), dt.date(academic_year + 1, 8, 31)
    )
    start: dt.date | None = None
    for before, after in itertools.pairwise(days):
        first_free = before + dt.timedelta(days=1)
        if first_free >= may_first and _weekdays_between(before, after) >= 5:
            start = after
    if start is not None:
        return start
    may_last = dt.date(academic_year + 1, 5, 31)
    return may_last - dt.timedelta(days=may_last.weekday())


def _weekdays_between(before: dt.date, after: dt.date) -> int:
    """Weekdays strictly between two dates."""
    count = 0
    day = before + dt.timedelta(days=1)
    while day < after:
        count += day.weekday() < 5
        day += dt.timedelta(days=1)
    return count


# §4.2: the DfE's statistics cover pupils aged 5 to 15 on the 31 August that starts the year.
DFE_YOUNGEST, DFE_OLDEST = 5, 15


def age_on(date_of_birth: dt.date, on: dt.date) -> int:
    before_birthday = (on.month, on.day) < (date_of_birth.month, date_of_birth.day)
    return on.year - date_of_birth.year - before_birthday


def dfe_cohort_age(*, date_of_birth: dt.date, academic_year: int) -> int:
    """Age on the 31 August that starts ``academic_year`` (§4.2)."""
    return age_on(date_of_birth, dt.date(academic_year, 8, 31))


def in_dfe_cohort(*, date_of_birth: dt.date, academic_year: int) -> bool:
    """Aged 5 to 15 on the 31 August that starts ``academic_year`` (§4.2): the pupils whose
    figures the DfE publishes. Outside it, persistent and severe absence are "not a DfE
    measure" wherever the app shows them."""
    age = dfe_cohort_age(date_of_birth=date_of_birth, academic_year=academic_year)
    return DFE_YOUNGEST <= age <= DFE_OLDEST


def dfe_academic_year(*, period_start: dt.date, period_end: dt.date, as_of: dt.date) -> int:
    """The academic year whose 31 August decides the DfE cohort (§4.2): that of the last day
    counted, ``min(period_end, as_of)`` (not before ``period_start``). Interpretation: a
    school's own year may start on 1 August, which is still the year the DfE names by its
    September; the last counted day names it either way."""
    return academic_year_of(max(period_start, min(period_end, as_of)))


# --- The trend (interpretation) ------------------------------------------------------------


def trend_cut(
    *, calendar: SchoolCalendar, range_start: dt.date, range_end: dt.date
) -> dt.date | None:
    """The last day ``rate_change_4_weeks`` compares with: the Sunday of the school week
    ``RATE_CHANGE_SCHOOL_WEEKS`` school weeks before ``range_end``'s; the school week of
    ``range_end`` is the latest one on or before it when its own week has no session.
    Positive change means improving. ``None`` when the calendar holds too few school weeks or the cut is before ``range_start``."""
    if range_end < range_start:
        return None
    weeks = calendar.last_school_weeks(RATE_CHANGE_SCHOOL_WEEKS + 1, range_end)
    if len(weeks) < RATE_CHANGE_SCHOOL_WEEKS + 1:
        return None
    cut = weeks[0] + dt.timedelta(days=6)
    return None if cut < range_start else cut
