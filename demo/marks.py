"""Registers and marks for the Northfield demo trust (``demo.trust``): believable attendance.

``seed_demo_marks()`` gives each demo school's pupils one mark for every school session of
last academic year and of this one so far, and each form one ``Register`` per session, taken
by its tutor at the register time. Per pupil and academic year:

- A *band* is drawn from the pupil's circumstances (free school meals, SEN, looked after, child
  in need, young carer). Most pupils miss under 5% of sessions and a few miss none. About one
  in ten is persistently absent (10% or more) and 1-2% are severely absent (50% or more).
- Illness (``I``) comes in runs of one to five days. It is twice as likely from December to
  February, and each winter has a fortnight of flu. Medical appointments (``M``) are single
  sessions. Unexplained absence (``O``) is heavier on Friday afternoons.
- Term-time holidays sit next to the school holidays: unauthorised ``G`` runs of 3-5 days,
  ``C`` leave for exceptional circumstances (England), and ``H`` holiday leave (Wales, at most 10
  school days a year). Suspensions (``E``) happen at the secondary. Late arrivals are ``L`` or
  ``U``, from the minutes late and the school's register times (``registers.rules.late_code``).
- Where no reason was known at the register the mark is ``N``. The attendance officer later
  amends it to ``I`` or ``O``, mostly within one or two school days and now and then after the
  five-school-day deadline. The amendment is recorded as ``mark_amend`` records one: the mark
  becomes version 2 and a ``MarkChange`` keeps the reason, name and position.
- Some codes describe a whole group or a pupil's arrangements: whole-form educational visits
  (``V``), a Year 10 work-experience week (``W``), dual-registered pupils at their other school
  (``D``), part-time nursery and settling-in reception (``X``, only while not of compulsory
  school age), and two temporary part-time timetables (``C2``, England), which also get their
  ``PartTimeTimetable`` rows.
- The demo parent's children attend well, with an illness or two.

Which sessions are filled:
- ``today`` picks the academic years (as for the trust seed) and the last day. Every session
  before ``today`` is filled. With ``now`` (the command passes the clock), today's sessions whose
  register has already closed at that school are filled too. Without ``now`` the result
  depends on ``today`` alone, which is what the tests use.
- Among the last ``RECENT_INCOMPLETE_SESSIONS`` sessions filled, each school leaves one form's
  register not taken, so the "not taken after the register closed" alert has something to show.
  In alternate cases it is either partly marked (a ``Register`` row with no ``taken_at``, about
  half the pupils marked) or not started (no row and no marks). Once a register is older than
  that window, it is counted as taken late, 12 to 55 minutes after the register closed.
- An ``N`` stays open until the school day on which its planned resolution falls. The latest
  few days therefore show N marks that are due and a few that are overdue, and a run on a later
  day resolves them.

Deterministic and idempotent, like the trust seed:
- Every choice comes from ``random.Random`` seeded with fixed strings per school, academic year,
  pupil (by UPN) or form (by name), never from database ids. Each pupil-year is planned whole,
  whatever ``today`` is, so the same academic year always gives the same marks. Seeding on
  Monday and again on Friday leaves the same state as seeding once on Friday. The exception
  is ``scripted=True`` (what ``seed_demo`` passes): a few pupils' recent absence is anchored
  on the last session filled, for the escalation queues (``SCRIPTS``).
- A register with ``taken_at`` is never touched again, and a mark is added only where the pupil
  has none for that session. A second run therefore creates nothing, and a run the next day
  adds that day's registers and resolves any N that has fallen due. The check reads the
  ``Register`` rows (tens of thousands), never the million marks.

Writing: every register, mark and amendment goes through ``registers.services``
(``register_history_load``), which enters the marks at version 1, amends the N marks with
``mark_amend``'s checks and ``MarkChange`` rows, and writes with COPY on PostgreSQL and batched
``executemany`` elsewhere, in one transaction per school. About 1.2 million marks at scale 1.0:
``marks_write`` (``bulk_create``, and a recompute queued per call) would take minutes.
"""

from __future__ import annotations

import bisect
import datetime as dt
import random
import zlib
import zoneinfo
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django_scopes import scopes_disabled

from demo import blueprints as trust_demo
from registers.codes import code_lookup, is_compulsory_school_age
from registers.models import AttendanceMark, MarkSource, PartTimeTimetable, Register
from registers.rules import RegisterTimes, late_code
from registers.selectors import register_times
from registers.services.marks import (
    MarkAmendment,
    MarkRecord,
    RegisterRecord,
    register_history_load,
)
from schools.calendar import SchoolCalendar
from schools.models import (
    AcademicYear,
    Contact,
    Enrolment,
    FormGroup,
    FormPlacement,
    FormTutor,
    Jurisdiction,
    NCYear,
    ParentLink,
    Phase,
    Pupil,
    Registration,
    Relationship,
    Role,
    School,
    SenStatus,
    StaffMembership,
)
from schools.selectors import school_calendar_get

_SEED = "northfield-demo-marks-v1"  # change it to plan different (but still repeatable) marks
RECENT_INCOMPLETE_SESSIONS = 3
_BATCH = 5_000

_MARK_COLUMNS = (
    "school_id", "pupil_id", "date", "session", "code", "scheme", "minutes_late", "source",
    "recorded_at", "recorded_by_id", "version",
)  # fmt: skip
_REGISTER_COLUMNS = ("school_id", "form_id", "date", "session", "taken_at", "taken_by_id")
_CHANGE_COLUMNS = (
    "school_id", "mark_id", "pupil_id", "date", "session", "original_code",
    "original_minutes_late", "original_recorded_at", "new_code", "new_minutes_late", "reason",
    "changed_at", "changed_by_id", "changed_by_name", "changed_by_position", "source",
)  # fmt: skip

# Plain strings for the hot loops (an enum member's ``.value`` is a descriptor call).
_PRESENT = {"AM": "/", "PM": "\\"}
_REGISTER_SOURCE = MarkSource.REGISTER.value
_AMENDMENT_SOURCE = MarkSource.AMENDMENT.value
_MAIN, _SUBSIDIARY = Registration.MAIN.value, Registration.SUBSIDIARY.value
_NURSERY = frozenset({NCYear.N1.value, NCYear.N2.value})
_RECEPTION = NCYear.R.value
# Every code the plan may use. A year's scheme table keeps those valid in its jurisdiction
# and period, so a code that is not valid there is never written.
_PLANNED_CODES = (
    "/", "\\", "L", "U", "I", "M", "O", "N", "G", "C", "H", "E", "V", "W", "D", "X", "C2",
)  # fmt: skip

# --- The result -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NotTakenRegister:
    """A recent register deliberately left incomplete, for the "not taken" alert."""

    form: str
    date: dt.date
    session: str
    partly_marked: bool  # a Register row without taken_at; otherwise not started at all


@dataclass(frozen=True)
class SchoolMarks:
    """What one run did at one school, and what it left open."""

    name: str
    slug: str
    last_session: tuple[dt.date, str] | None  # the latest session filled
    marks_created: int
    registers_created: int
    registers_taken: int  # registers that already had a row and were completed by this run
    amendments_created: int  # N marks resolved, each with a MarkChange row
    open_n: int  # N marks still open after the run
    not_taken: tuple[NotTakenRegister, ...]


@dataclass(frozen=True)
class MarksSummary:
    """What one run of ``seed_demo_marks`` did, school by school, with trust totals."""

    schools: list[SchoolMarks]

    @property
    def marks_created(self) -> int:
        return sum(s.marks_created for s in self.schools)

    @property
    def registers_written(self) -> int:  # created, or completed from a partly taken one
        return sum(s.registers_created + s.registers_taken for s in self.schools)

    @property
    def amendments_created(self) -> int:
        return sum(s.amendments_created for s in self.schools)

    @property
    def open_n(self) -> int:
        return sum(s.open_n for s in self.schools)

    @property
    def not_taken(self) -> int:
        return sum(len(s.not_taken) for s in self.schools)

    @property
    def last_session(self) -> tuple[dt.date, str] | None:
        sessions = [s.last_session for s in self.schools if s.last_session]
        return max(sessions) if sessions else None

    @property
    def rows_created(self) -> int:
        return self.marks_created + self.registers_written + self.amendments_created


# --- Seeding --------------------------------------------------------------------------------


def seed_demo_marks(
    *,
    today: dt.date,
    scale: float = 1.0,
    now: dt.datetime | None = None,
    scripted: bool = False,
) -> MarksSummary:
    """Fill the demo trust's registers and marks up to ``today``, or add whatever is missing.

    Run it after ``demo.trust.seed_demo_trust`` with the same ``today``. Sessions before
    ``today`` are filled. With ``now`` (an aware datetime on ``today``), so are today's
    sessions whose register has closed at the school. Marks follow whatever roll the
    database holds, so ``scale`` only has to be positive; it is taken so that the command
    passes one value to both seeds. Idempotent and deterministic (see the module docstring).
    Each school is written in its own transaction. With ``scripted`` (the command's choice),
    the few pupils of ``SCRIPTS`` get their absence runs ending on the last session filled,
    so their marks, unlike the rest, depend on the day of the run.

    Raises ``ValueError`` for a scale that is not positive, for a naive ``now`` or one on
    another day, and when the demo trust has not been seeded.
    """
    if not scale > 0:
        raise ValueError("scale must be a positive number")
    if now is not None and (now.tzinfo is None or now.utcoffset() is None):
        raise ValueError("now must be an aware datetime")
    with scopes_disabled():  # three schools; every query below filters by school
        schools = {
            s.slug: s
            for s in School.objects.filter(
                trust__slug=trust_demo.TRUST_SLUG,
                slug__in=[bp.slug for bp in trust_demo.BLUEPRINTS],
            )
        }
        if len(schools) != len(trust_demo.BLUEPRINTS):
            raise ValueError("Seed the demo trust first (demo.trust.seed_demo_trust).")
        results = []
        with _roomy_sqlite_cache():
            for blueprint in trust_demo.BLUEPRINTS:
                with transaction.atomic():
                    results.append(
                        _SchoolSeeder(schools[blueprint.slug], today, now, scripted).run()
                    )
    return MarksSummary(schools=results)


@contextmanager
def _roomy_sqlite_cache() -> Iterator[None]:
    """Give SQLite a 256 MB page cache while a million marks go in, then put it back.

    Its default of 2 MB cannot hold the pages of the marks table's seven indexes, so inserts
    keep re-reading them: 31 s with the default against 25 s with this (measured, scale 1.0).
    Other databases manage their own buffers; nothing changes for them.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        previous = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -262144")  # negative: KiB rather than pages
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {previous}")


# --- The plan (pure) ------------------------------------------------------------------------


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join([_SEED, *map(str, parts)]))


def _pick(rng: random.Random, weighted: Sequence[tuple[str, float]]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


# Band weights before a pupil's circumstances are applied. The persistent and severe bands
# are multiplied by ``_PupilRow.risk`` (about 1.3 on average), and a few "ok" pupils cross 10%
# in a bad year: 2025/26 at scale 1.0 came out at 8.8% persistently and 1.4% severely absent.
_BANDS: tuple[tuple[str, float], ...] = (
    ("perfect", 0.10),
    ("good", 0.64),
    ("ok", 0.18),
    ("persistent", 0.05),
    ("severe", 0.0085),
)
# The share of a pupil's possible sessions that their band misses: (lowest, highest).
_BAND_RATES = {
    "perfect": (0.0, 0.0),
    "good": (0.006, 0.04),
    "ok": (0.04, 0.075),
    "persistent": (0.11, 0.34),
    "severe": (0.52, 0.8),
    "family": (0.0, 0.0),  # the demo parent's children: planned event by event
}
# What the rest of a band's absence is made of, once fixed events are placed.
_ABSENCE_MIX = {
    "good": (("I", 0.74), ("M", 0.17), ("O", 0.09)),
    "ok": (("I", 0.64), ("M", 0.14), ("O", 0.22)),
    "persistent": (("I", 0.48), ("M", 0.06), ("O", 0.46)),
    "severe": (("I", 0.3), ("M", 0.03), ("O", 0.67)),
}
# Chance of an absent Friday afternoon, each Friday: the dip heads of year look for.
_FRIDAY_PM = {"perfect": 0.0, "good": 0.008, "ok": 0.03, "persistent": 0.08, "severe": 0.12}
# Lates a year: (fewest, most).
_LATES = {
    "perfect": (0, 2),
    "good": (0, 4),
    "ok": (1, 6),
    "persistent": (4, 14),
    "severe": (1, 5),
    "family": (0, 2),
}
# Chance a year of: a G run (England; Wales x0.4), H leave (Wales), a suspension (secondary).
_HOLIDAY_G = {"good": 0.02, "ok": 0.07, "persistent": 0.18, "severe": 0.1}
_HOLIDAY_H = {"good": 0.04, "ok": 0.07, "persistent": 0.1, "severe": 0.05}
_SUSPENSION = {"good": 0.004, "ok": 0.02, "persistent": 0.12, "severe": 0.25}
_EXCEPTIONAL_LEAVE = 0.015  # C in England: a funeral, a sibling's graduation abroad

# Illness by month (more in winter), and the school-day lag before an N is resolved: one in
# six is resolved after the 5-school-day deadline, so the unresolved list has overdue items.
_ILLNESS_BY_MONTH = {
    8: 0.5, 9: 0.6, 10: 0.9, 11: 1.2, 12: 1.8, 1: 1.9, 2: 1.5, 3: 1.1, 4: 0.8, 5: 0.7, 6: 0.6,
    7: 0.6,
}  # fmt: skip
_N_LAGS = ((1, 35), (2, 25), (3, 12), (4, 8), (5, 7), (6, 5), (7, 4), (8, 2), (9, 2))

_REASONS = {
    "I": (
        "Parent phoned the office after the register closed: unwell.",
        "Parent emailed: illness. Reason accepted.",
        "First-day call: parent confirmed illness.",
        "Note from parent on return: illness.",
    ),
    "O": (
        "No reason received after first-day calls and a text: recorded as unauthorised.",
        "Reason given not accepted by the school: unauthorised.",
        "No contact within five school days despite calls and a letter: unauthorised.",
    ),
}


@dataclass(frozen=True)
class _NEvent:
    """An N at the register, resolved to ``final`` ``lag`` school days later."""

    final: str
    lag: int
    minute: int  # minutes after 09:00 on the day it is resolved
    reason: str


@dataclass
class _Plan:
    """One pupil's academic year: the final code of every slot (``None``: present)."""

    codes: list[str | None]
    minutes: dict[int, int] = field(default_factory=dict)  # slot -> minutes late (L, U)
    n_events: dict[int, _NEvent] = field(default_factory=dict)


@dataclass(frozen=True)
class _Form:
    pk: int
    name: str
    nc_year: str
    tutor: int | None  # the form's first tutor's membership


@dataclass(frozen=True)
class _PartTimeSpec:
    years_back: int  # 0: this academic year; 1: last year
    nc_year: str
    half_term: int  # which half-term of the year: 0 is the first (September to October)
    sessions_off: tuple[str, ...]


# A couple of temporary part-time timetables (C2 is England-only): a Year 9 pupil on mornings
# only for the second half of this autumn term, and a Year 2 pupil at home on Wednesday and
# Friday afternoons for the first half of last spring term.
_PART_TIME = {
    trust_demo.KINGSMEAD.slug: _PartTimeSpec(
        0, NCYear.Y9.value, 1, ("Mon PM", "Tue PM", "Wed PM", "Thu PM", "Fri PM")
    ),
    trust_demo.OAKFIELD.slug: _PartTimeSpec(1, NCYear.Y2.value, 2, ("Wed PM", "Fri PM")),
}


@dataclass(frozen=True)
class _PartTime:
    start: dt.date
    end: dt.date
    sessions_off: tuple[str, ...]  # e.g. ("Mon PM", "Fri PM"), as PartTimeTimetable stores it
    agreed_with: str


@dataclass
class _PupilRow:
    pk: int
    upn: str
    date_of_birth: dt.date
    risk: float  # multiplies the persistent and severe band weights
    family: bool  # one of the demo parent's children
    registration: str
    enrolments: list[tuple[dt.date, dt.date | None]]
    placements: list[tuple[dt.date, dt.date | None, int]]  # (start, end, form pk)


@dataclass
class _Year:
    """One academic year of one school's sessions ("slots"), indexed once."""

    start_year: int
    dates: list[dt.date]
    sessions: list[str]
    day_of_slot: list[int]
    day_first: list[int]  # first slot of each school day, then len(slots)
    day_dates: list[dt.date]
    through: int  # slots [0, through) are due for marks
    schemes: dict[str, str]  # code -> scheme, for the codes valid in this year
    illness: list[float]  # cumulative illness weight per school day
    before_holiday: list[int]  # last school day before each holiday (day index)
    after_holiday: list[int]  # first school day after each holiday
    forms: list[_Form]  # sorted by name
    form_pks: frozenset[int]
    trips: dict[int, dict[int, str]]  # form pk -> day index -> V or W
    late: list[tuple[int, bool, int]]  # per slot: (late form pk, partly marked?, min past close)
    offsets: dict[int, bytes]  # form pk -> minutes after opening the register is taken, per slot

    @property
    def days(self) -> int:
        return len(self.day_dates)

    def slot_of(self, date: dt.date, session: str) -> int | None:
        i = bisect.bisect_left(self.dates, date)
        while i < len(self.dates) and self.dates[i] == date:
            if self.sessions[i] == session:
                return i
            i += 1
        return None

    def day_slots(self, day: int) -> range:
        return range(self.day_first[day], self.day_first[day + 1])


def _year_slots(
    *,
    calendar: SchoolCalendar,
    year: AcademicYear,
    jurisdiction: str,
    forms: list[_Form],
    slug: str,
    today: dt.date,
    through_today: set[str],
) -> _Year:
    """Index a year's sessions and plan its school-wide events (all pure, all repeatable)."""
    slots = calendar.sessions_between(year.start_date, year.end_date)
    dates = [d for d, _ in slots]
    sessions = [s.value for _, s in slots]
    day_dates: list[dt.date] = []
    day_first: list[int] = []
    day_of_slot: list[int] = []
    for i, date in enumerate(dates):
        if not day_dates or day_dates[-1] != date:
            day_dates.append(date)
            day_first.append(i)
        day_of_slot.append(len(day_dates) - 1)
    day_first.append(len(dates))
    through = bisect.bisect_left(dates, today)  # every session before today
    while through < len(dates) and dates[through] == today and sessions[through] in through_today:
        through += 1

    schemes: dict[str, str] = {}
    if dates:
        for code in _PLANNED_CODES:
            first = code_lookup(jurisdiction=jurisdiction, code=code, on=dates[0])
            last = code_lookup(jurisdiction=jurisdiction, code=code, on=dates[-1])
            if first is not None and last is not None and first.scheme == last.scheme:
                schemes[code] = first.scheme.value

    rng = _rng(slug, year.start_date.year, "school")
    # A fortnight of flu somewhere between December and February.
    winter = [j for j, d in enumerate(day_dates) if d.month in (12, 1, 2) and d.weekday() == 0]
    flu = day_dates[rng.choice(winter)] if winter else None
    illness: list[float] = []
    total = 0.0
    for date in day_dates:
        weight = _ILLNESS_BY_MONTH[date.month]
        if flu is not None and flu <= date < flu + dt.timedelta(days=14):
            weight *= 2.5
        total += weight
        illness.append(total)
    # A holiday is a week or more without school (not a long weekend, even with an INSET day).
    before = [j for j in range(len(day_dates) - 1) if (day_dates[j + 1] - day_dates[j]).days > 6]
    before_holiday = [*before, len(day_dates) - 1] if day_dates else []
    after_holiday = [0, *(j + 1 for j in before)] if day_dates else []

    # Whole-form visits (about a quarter of forms a year) and Year 10's work-experience week.
    full_days = [j for j in range(len(day_dates)) if day_first[j + 1] - day_first[j] == 2]
    trips: dict[int, dict[int, str]] = {}
    for form in forms:
        if rng.random() < 0.25 and len(full_days) > 20:
            trips.setdefault(form.pk, {})[rng.choice(full_days[5:-10])] = "V"
        if form.nc_year == NCYear.Y10.value:
            july = [j for j in full_days if day_dates[j] >= dt.date(year.end_date.year, 7, 1)]
            for j in july[:5]:
                trips.setdefault(form.pk, {})[j] = "W"

    late: list[tuple[int, bool, int]] = []
    for _ in dates:
        late_pk = rng.choice(forms).pk if forms else 0
        late.append((late_pk, rng.random() < 0.5, rng.randint(12, 55)))
    offsets = {}
    for form in forms:
        form_rng = _rng(slug, year.start_date.year, "register", form.name)
        offsets[form.pk] = bytes(form_rng.randint(1, 9) for _ in dates)
    return _Year(
        start_year=year.start_date.year,
        dates=dates,
        sessions=sessions,
        day_of_slot=day_of_slot,
        day_first=day_first,
        day_dates=day_dates,
        through=through,
        schemes=schemes,
        illness=illness,
        before_holiday=before_holiday,
        after_holiday=after_holiday,
        forms=forms,
        form_pks=frozenset(f.pk for f in forms),
        trips=trips,
        late=late,
        offsets=offsets,
    )


@dataclass(frozen=True)
class _PlanContext:
    """What a pupil-year plan needs to know about the school."""

    slug: str
    england: bool
    secondary: bool
    times: dict[str, RegisterTimes]
    forms: dict[int, _Form]


def _band(ctx: _PlanContext, pupil: _PupilRow, rng: random.Random) -> str:
    if pupil.family:
        return "family"
    weights = [
        (band, weight * pupil.risk if band in ("persistent", "severe") else weight)
        for band, weight in _BANDS
    ]
    latent = _pick(_rng(ctx.slug, "band", pupil.upn), weights)
    # Bands persist from year to year, perfect attendance less so.
    if rng.random() < (0.5 if latent == "perfect" else 0.2):
        return _pick(rng, weights)
    return latent


def _plan_pupil_year(
    ctx: _PlanContext,
    year: _Year,
    pupil: _PupilRow,
    segments: Sequence[tuple[int, int, int]],
    part_time: _PartTime | None,
) -> _Plan:
    """The pupil's whole academic year, whatever ``today`` is (pure and repeatable).

    ``segments`` are the (first slot, end slot, form pk) ranges the pupil is on roll and in a
    form. Structural codes (D, X, C2) come first; absence events then take present slots only.
    """
    n = len(year.dates)
    codes: list[str | None] = [None] * n
    plan = _Plan(codes)
    onroll = bytearray(n)
    for lo, hi, _ in segments:
        onroll[lo:hi] = b"\x01" * (hi - lo)
    possible = sum(onroll)
    if not possible:
        return plan
    rng = _rng(ctx.slug, year.start_year, "pupil", pupil.upn)
    band = _band(ctx, pupil, rng)
    schemes = year.schemes

    # --- Structural codes: the pupil's arrangements rather than absences ---------------------
    settling_days = 5 if ctx.england else 10  # reception: mornings only for a week or two
    if (
        pupil.registration != Registration.SINGLE
        or part_time is not None
        or any(ctx.forms[f].nc_year in _NURSERY or ctx.forms[f].nc_year == _RECEPTION
               for _, _, f in segments)
    ):  # fmt: skip
        for lo, hi, form_pk in segments:
            nc_year = ctx.forms[form_pk].nc_year
            for i in range(lo, hi):
                date, session = year.dates[i], year.sessions[i]
                weekday = date.weekday()
                code = None
                if pupil.registration == _MAIN and weekday == 2:
                    code = "D"  # Wednesdays at the pupil's other school
                elif pupil.registration == _SUBSIDIARY and weekday < 3:
                    code = "D"  # here on Thursdays and Fridays only
                elif session == "PM" and (
                    nc_year in _NURSERY  # part-time nursery
                    or (nc_year == _RECEPTION and year.day_of_slot[i] < settling_days)
                ):
                    if not is_compulsory_school_age(pupil.date_of_birth, date):
                        code = "X"
                elif (
                    part_time is not None
                    and part_time.start <= date <= part_time.end
                    and f"{date:%a} {session}" in part_time.sessions_off
                    and is_compulsory_school_age(pupil.date_of_birth, date)
                ):
                    code = "C2" if "C2" in schemes else "C"
                if code is not None:
                    codes[i] = code

    def mark(i: int, code: str) -> bool:
        if onroll[i] and codes[i] is None:
            codes[i] = code
            return True
        return False

    def mark_days(first_day: int, days: int, code: str) -> list[int]:
        marked: list[int] = []
        for day in range(first_day, min(first_day + days, year.days)):
            marked += [i for i in year.day_slots(day) if mark(i, code)]
        return marked

    def any_day() -> int:
        return rng.randrange(year.days)

    def winter_day() -> int:
        return min(bisect.bisect(year.illness, rng.random() * year.illness[-1]), year.days - 1)

    def session_of(day: int, am_share: float) -> int:
        slots = year.day_slots(day)
        return slots[0] if len(slots) == 1 or rng.random() < am_share else slots[-1]

    def holiday_run(days: int) -> int:
        # Term-time holidays stretch the school holidays, so most start or end next to one.
        if rng.random() < 0.25:
            return any_day()
        if rng.random() < 0.5:
            return max(0, rng.choice(year.before_holiday) - days + 1)
        return rng.choice(year.after_holiday)

    def n_first(slots: Sequence[int], final: str) -> None:
        lag = int(_pick(rng, [(str(lag), weight) for lag, weight in _N_LAGS]))
        event = _NEvent(final, lag, rng.randrange(0, 6 * 60), rng.choice(_REASONS[final]))
        for i in slots:
            plan.n_events[i] = event

    placed = 0

    # --- Fixed events: leave, holidays and suspensions ---------------------------------------
    if band == "family":
        for _ in range(rng.randint(1, 2)):
            placed += len(mark_days(winter_day(), rng.choice((1, 1, 2)), "I"))
        if rng.random() < 0.5:
            placed += mark(session_of(any_day(), 0.3), "M")
    elif band != "perfect":
        if ctx.england:
            if rng.random() < _HOLIDAY_G[band]:
                days = rng.randint(3, 5)
                placed += len(mark_days(holiday_run(days), days, "G"))
            if rng.random() < _EXCEPTIONAL_LEAVE:
                placed += len(mark_days(any_day(), rng.randint(1, 2), "C"))
        else:
            if "H" in schemes and rng.random() < _HOLIDAY_H[band]:
                days = rng.choice((3, 4, 5, 5, 5, 5, 8, 10))  # within 10 school days a year
                placed += len(mark_days(holiday_run(days), days, "H"))
            if rng.random() < _HOLIDAY_G[band] * 0.4:
                days = rng.randint(3, 5)
                placed += len(mark_days(holiday_run(days), days, "G"))
        if ctx.secondary:
            for _ in range(2 if band == "severe" else 1):
                if rng.random() < _SUSPENSION[band]:
                    placed += len(mark_days(any_day(), rng.choice((1, 1, 2, 3)), "E"))

    # --- Friday afternoons -------------------------------------------------------------------
    friday = _FRIDAY_PM.get(band, 0.0)
    if friday:
        for day in range(year.days):
            slots = year.day_slots(day)
            if year.day_dates[day].weekday() != 4 or year.sessions[slots[-1]] != "PM":
                continue
            if rng.random() < friday:
                code = _pick(rng, (("O", 0.45), ("I", 0.35), ("M", 0.2)))
                if mark(slots[-1], code):
                    placed += 1
                    if code == "O" and rng.random() < 0.6:
                        n_first([slots[-1]], "O")

    # --- The rest of the band's absence, episode by episode ---------------------------------
    low, high = _BAND_RATES[band]
    skew = 1.6 if band == "persistent" else 1.0  # most persistent absentees sit near 10-15%
    rate = low + (high - low) * rng.random() ** skew
    budget = round(rate * possible)
    mix = _ABSENCE_MIX.get(band)
    attempts = 0
    while mix and placed < budget and attempts < 600:
        attempts += 1
        kind = _pick(rng, mix)
        if kind == "O" and not ctx.secondary and rng.random() < 0.4:
            kind = "I"  # primary pupils' unexplained absence is rarer
        if kind == "I":
            if rng.random() < 0.12:  # sent home at lunchtime, or back after a morning at home
                marked = [i for i in [session_of(winter_day(), 0.5)] if mark(i, "I")]
            else:
                days = int(_pick(rng, (("1", 50), ("2", 26), ("3", 13), ("4", 7), ("5", 4))))
                marked = mark_days(winter_day(), days, "I")
            if marked and rng.random() < 0.2:
                first = year.day_of_slot[marked[0]]
                n_first([i for i in marked if year.day_of_slot[i] == first], "I")
        elif kind == "M":
            marked = [i for i in [session_of(any_day(), 0.45)] if mark(i, "M")]
        else:
            if band in ("good", "ok") and rng.random() < 0.45:
                marked = [i for i in [session_of(any_day(), 0.5)] if mark(i, "O")]
            else:
                lengths = (("1", 30), ("2", 25), ("3", 20), ("5", 15), ("10", 10))
                days = int(_pick(rng, lengths if band == "severe" else lengths[:3]))
                marked = mark_days(any_day(), days, "O")
            if marked and rng.random() < 0.7:
                n_first(marked, "O")
        placed += len(marked)

    # --- Lateness: L before the register closes, U after ------------------------------------
    fewest, most = _LATES[band]
    for _ in range(rng.randint(fewest, most)):
        i = session_of(any_day(), 0.88)
        if not onroll[i] or codes[i] is not None:
            continue
        times = ctx.times[year.sessions[i]]
        window = _minutes_between(times.opens, times.closes)
        if band in ("perfect", "family") or rng.random() < 0.8:
            minutes = min(1 + int(rng.expovariate(1 / 6)), 25)
            if band in ("perfect", "family"):
                minutes = min(minutes, window - 1)
        else:
            minutes = window + rng.randint(0, 45)
        codes[i] = late_code(minutes_late=minutes, times=times)
        plan.minutes[i] = minutes
    return plan


# --- Scripted pupils: the escalation queues' demo (issue 10 part 6) -----------------------------
#
# The random plan gives every school absence of every kind, but not reliably *just now*. A few
# pupils per school therefore get a scripted run ending on the last session filled, so that
# the queues built from it by ``demo.queues`` are live on the demo day: first-day calls in
# every vulnerability tier, a pupil at day 3 with nobody reached, a 10-day return, a ground (i)
# enquiry (and, in England, penalty-notice thresholds). The run is anchored on the last
# session filled, so these few pupils' marks follow the day of the seed (the rest of the plan
# does not): a run on a later day extends their absence rather than rewriting it.


@dataclass(frozen=True)
class _Script:
    role: str
    flag: str  # the vulnerability flag the pupil must have ("" for a pupil with none)
    days: int  # school days of absence ending on the last day filled
    holiday_days: int = 0  # the first days are a term-time holiday (G), the rest O via N
    resolve: bool = False  # the N marks are resolved to O the next school day (else they stay N)


SCRIPTS: tuple[_Script, ...] = (
    _Script("first-day-cpp", "child_protection_plan", 1),
    _Script("first-day-lac", "looked_after", 3),  # day 3, tier 2: tell the social worker
    _Script("first-day-cin", "child_in_need", 1),
    _Script("first-day-carer", "young_carer", 1),
    _Script("first-day-ehcp", "ehcp", 1),
    _Script("day-3-no-contact", "", 3),
    _Script("ten-day-return", "", 11, resolve=True),
    _Script("ground-i-enquiry", "", 22, holiday_days=5, resolve=True),
)
_SCRIPT_REASON = _REASONS["O"][0]
SCRIPT_FLAGS = tuple(script.flag for script in SCRIPTS if script.flag)
_HOLIDAY_CODE = "G"


def _script_slots(year: _Year, through: int, days: int) -> list[int]:
    """The slots of the last ``days`` school days up to slot ``through`` (excluded)."""
    if not through:
        return []
    last_day = year.day_of_slot[through - 1]
    return [
        i
        for day in range(max(0, last_day - days + 1), last_day + 1)
        for i in year.day_slots(day)
        if i < through
    ]


def _apply_script(plan: _Plan, year: _Year, through: int, script: _Script) -> None:
    """Overwrite the plan's last ``script.days`` school days with the scripted absence."""
    slots = _script_slots(year, through, script.days)
    holiday_until = year.day_of_slot[slots[0]] + script.holiday_days if slots else 0
    for i in slots:
        plan.minutes.pop(i, None)
        plan.n_events.pop(i, None)
        if year.day_of_slot[i] < holiday_until:
            plan.codes[i] = _HOLIDAY_CODE
        elif script.resolve:
            plan.codes[i] = "O"
            plan.n_events[i] = _NEvent("O", 1, 20, _SCRIPT_REASON)
        else:
            plan.codes[i] = "N"


def _minutes_between(start: dt.time, end: dt.time) -> int:
    day = dt.date(2000, 1, 3)
    return int((dt.datetime.combine(day, end) - dt.datetime.combine(day, start)).seconds // 60)


def _first_pass(upn: str, date: dt.date, session: str) -> bool:
    """Whether a partly taken register had this pupil marked before it was left (about half)."""
    return zlib.crc32(f"{upn}:{date}:{session}".encode()) % 100 < 55


def _risk(*, fsm: bool, sen: str, looked_after: bool, child_in_need: bool, carer: bool) -> float:
    return (
        1.0
        + 0.9 * fsm
        + 0.5 * (sen != SenStatus.NONE)
        + 1.0 * looked_after
        + 0.5 * child_in_need
        + 0.6 * carer
    )


# --- Writing --------------------------------------------------------------------------------


class _SchoolSeeder:
    """Plans and writes one school's missing registers and marks (call ``run`` once)."""

    def __init__(
        self, school: School, today: dt.date, now: dt.datetime | None, scripted: bool = False
    ) -> None:
        self.school = school
        self.scripted = scripted
        self.today = today
        self.tz = zoneinfo.ZoneInfo(school.timezone)
        self.times = {s: register_times(school=school, session=s) for s in ("AM", "PM")}
        local_now = now.astimezone(self.tz) if now is not None else None
        if local_now is not None and local_now.date() != today:
            raise ValueError("now must fall on today at the school")
        # Today's sessions count once their register has closed (the command passes the clock).
        self.through_today = {
            s
            for s, t in self.times.items()
            if local_now is not None and local_now.time() >= t.closes
        }
        self._moments: dict[tuple[dt.date, str, int], dt.datetime] = {}
        self.plans: dict[tuple[int, int], _Plan] = {}

    # --- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        school = self.school
        self.calendar = school_calendar_get(school=school)
        years = list(AcademicYear.objects.filter(school=school, start_date__lte=self.today))
        years = years[-2:]  # last academic year and this one, as the trust seed plans them
        tutors: dict[int, int] = {}
        for form_pk, membership_pk in (
            FormTutor.objects.filter(school=school)
            .order_by("pk")
            .values_list("form_id", "membership_id")
        ):
            tutors.setdefault(form_pk, membership_pk)
        forms_by_year: dict[int, list[_Form]] = {}
        self.forms: dict[int, _Form] = {}
        for pk, name, year_pk, nc_year in (
            FormGroup.objects.filter(school=school, academic_year__in=years)
            .order_by("name")
            .values_list("pk", "name", "academic_year_id", "year_group__nc_year")
        ):
            form = _Form(pk, name, nc_year, tutors.get(pk))
            self.forms[pk] = form
            forms_by_year.setdefault(year_pk, []).append(form)
        self.ctx = _PlanContext(
            slug=school.slug,
            england=school.jurisdiction == Jurisdiction.ENGLAND,
            secondary=school.phase == Phase.SECONDARY,
            times=self.times,
            forms=self.forms,
        )

        self.pupils: dict[int, _PupilRow] = {}
        family = set(
            ParentLink.objects.filter(
                school=school, user__username=trust_demo.PARENT[2]
            ).values_list("pupil_id", flat=True)
        )
        flags: dict[int, frozenset[str]] = {}
        for pk, upn, dob, fsm, sen, lac, cin, carer, cpp, ehcp in Pupil.objects.filter(
            school=school
        ).values_list(
            "pk",
            "upn",
            "date_of_birth",
            "fsm",
            "sen_status",
            "looked_after",
            "child_in_need",
            "young_carer",
            "child_protection_plan",
            "ehcp",
        ):
            flags[pk] = frozenset(
                name
                for name, on in (
                    ("child_protection_plan", cpp),
                    ("looked_after", lac),
                    ("child_in_need", cin),
                    ("young_carer", carer),
                    ("ehcp", ehcp),
                )
                if on
            )
            risk = _risk(fsm=fsm, sen=sen, looked_after=lac, child_in_need=cin, carer=carer)
            self.pupils[pk] = _PupilRow(
                pk, upn, dob, risk, pk in family, Registration.SINGLE, [], []
            )
        for pupil_pk, start, leaving, registration in Enrolment.objects.filter(
            school=school
        ).values_list("pupil_id", "start_date", "leaving_date", "registration"):
            pupil = self.pupils[pupil_pk]
            pupil.enrolments.append((start, leaving))
            if registration != Registration.SINGLE:
                pupil.registration = registration
        for pupil_pk, form_pk, start, end in FormPlacement.objects.filter(
            school=school
        ).values_list("pupil_id", "form_id", "start_date", "end_date"):
            self.pupils[pupil_pk].placements.append((start, end, form_pk))

        self.years: list[_Year] = []
        for academic_year in years:
            self.years.append(
                _year_slots(
                    calendar=self.calendar,
                    year=academic_year,
                    jurisdiction=school.jurisdiction,
                    forms=forms_by_year.get(academic_year.pk, []),
                    slug=school.slug,
                    today=self.today,
                    through_today=self.through_today,
                )
            )
        # Segments: where each pupil is on roll and in a form, as slot ranges per year.
        self.segments: dict[tuple[int, int], list[tuple[int, int, int]]] = {}
        for y, year in enumerate(self.years):
            for pupil in self.pupils.values():
                found = _segments(year, pupil)
                if found:
                    self.segments[(y, pupil.pk)] = found
        self.part_time = self._plan_part_time()
        self.scripts = self._choose_scripts(flags) if self.scripted else {}

    def _plan_part_time(self) -> dict[tuple[int, int], _PartTime]:
        """The school's temporary part-time timetable (C2, England only), if it has one."""
        spec = _PART_TIME.get(self.school.slug)
        if spec is None or not self.ctx.england or len(self.years) <= spec.years_back:
            return {}
        y = len(self.years) - 1 - spec.years_back
        year = self.years[y]
        if len(year.after_holiday) <= spec.half_term:
            return {}
        first, last = year.after_holiday[spec.half_term], year.before_holiday[spec.half_term]
        start, end = year.day_dates[first], year.day_dates[last]
        lo, hi = year.day_first[first], year.day_first[last + 1]
        candidates = sorted(
            (pupil.upn, pupil.pk)
            for pupil in self.pupils.values()
            if not pupil.family
            and pupil.registration == Registration.SINGLE
            and any(
                s <= lo and e >= hi and self.forms[f].nc_year == spec.nc_year
                for s, e, f in self.segments.get((y, pupil.pk), [])
            )
            and is_compulsory_school_age(pupil.date_of_birth, start)
        )
        if not candidates:
            return {}
        _upn, pk = _rng(self.school.slug, year.start_year, "part-time").choice(candidates)
        contact = (
            Contact.objects.filter(school=self.school, pupil_id=pk, parental_responsibility=True)
            .order_by("priority")
            .values_list("full_name", "relationship")
            .first()
        )
        agreed = f"{contact[0]} ({Relationship(contact[1]).label})" if contact else "Parent"
        return {(y, pk): _PartTime(start, end, spec.sessions_off, agreed)}

    # --- the run ---------------------------------------------------------------------------

    def run(self) -> SchoolMarks:
        self._load()
        school = self.school
        self._ensure_part_time_rows()
        officer = self._officer()

        # Registers already on file decide what is left to do (never the marks themselves).
        filled = [(y, year) for y, year in enumerate(self.years) if year.through]
        taken: set[tuple[int, dt.date, str]] = set()
        untaken: dict[tuple[int, dt.date, str], int] = {}
        if filled:
            first = filled[0][1].dates[0]
            last_year = filled[-1][1]
            last = last_year.dates[last_year.through - 1]
            for pk, form_pk, date, session, taken_at in Register.objects.filter(
                school=school, date__gte=first, date__lte=last
            ).values_list("pk", "form_id", "date", "session", "taken_at"):
                if taken_at is None:
                    untaken[(form_pk, date, session)] = pk
                else:
                    taken.add((form_pk, date, session))
        recent = self._recent_slots()
        todo = {y: self._todo(y, year, taken, untaken, recent) for y, year in filled}

        # N marks still open from an earlier run, to resolve if they have fallen due.
        open_n = list(
            AttendanceMark.objects.filter(
                school=school, code="N", version=1, source=MarkSource.REGISTER
            ).values_list("pk", "pupil_id", "date", "session", "recorded_at")
        )

        # Earlier runs' N marks that have fallen due, then this run's registers and marks: an
        # N resolved before today is entered as N at the register and amended by the officer.
        amendments = self._resolve_open_n(open_n) if open_n else []
        registers: list[RegisterRecord] = []
        marks: list[MarkRecord] = []
        if any(todo.values()):
            marks = self._mark_rows(todo, amendments)
            registers = self._registers(todo)
        loaded = register_history_load(
            school=school,
            registers=registers,
            marks=marks,
            amendments=amendments,
            amended_by=officer,
        )

        last_session = None
        if filled:
            year = filled[-1][1]
            last_session = (year.dates[year.through - 1], year.sessions[year.through - 1])
        return SchoolMarks(
            name=school.name,
            slug=school.slug,
            last_session=last_session,
            marks_created=loaded.marks_created,
            registers_created=loaded.registers_created,
            registers_taken=loaded.registers_taken,
            amendments_created=loaded.amendments,
            open_n=AttendanceMark.objects.filter(school=school, code="N").count(),
            not_taken=self._not_taken(recent),
        )

    def _recent_slots(self) -> set[tuple[int, int]]:
        """The last ``RECENT_INCOMPLETE_SESSIONS`` filled (year, slot)s, across years."""
        recent: list[tuple[int, int]] = []
        for y in reversed(range(len(self.years))):
            for i in reversed(range(self.years[y].through)):
                if len(recent) == RECENT_INCOMPLETE_SESSIONS:
                    return set(recent)
                recent.append((y, i))
        return set(recent)

    def _todo(
        self,
        y: int,
        year: _Year,
        taken: set[tuple[int, dt.date, str]],
        untaken: dict[tuple[int, dt.date, str], int],
        recent: set[tuple[int, int]],
    ) -> dict[int, bytearray]:
        """Per form, per slot: 0 nothing to do, 1 take the register, 2 mark it only partly."""
        roll: dict[int, bytearray] = {}
        for (yy, _pupil), segments in self.segments.items():
            if yy != y:
                continue
            for lo, hi, form_pk in segments:
                flags = roll.setdefault(form_pk, bytearray(len(year.dates)))
                flags[lo:hi] = b"\x01" * (hi - lo)
        # A scripted pupil's marks must be there for the queues (see SCRIPTS).
        scripted_forms = {
            form_pk
            for (yy, pupil_pk) in self.scripts
            if yy == y
            for _lo, _hi, form_pk in self.segments.get((yy, pupil_pk), [])
        }
        todo: dict[int, bytearray] = {}
        for form in year.forms:
            has_roll = roll.get(form.pk)
            if has_roll is None:
                continue
            flags = bytearray(len(year.dates))
            for i in range(year.through):
                if not has_roll[i]:
                    continue
                key = (form.pk, year.dates[i], year.sessions[i])
                if key in taken:
                    continue
                state = 1
                late_pk, partly, _ = year.late[i]
                if late_pk == form.pk and (y, i) in recent and form.pk not in scripted_forms:
                    # Left for the "not taken" alert: partly marked once, or not started.
                    state = 2 if partly and key not in untaken else 0
                flags[i] = state
            if any(flags):
                todo[form.pk] = flags
        return todo

    def _plan(self, y: int, pupil_pk: int) -> _Plan:
        key = (y, pupil_pk)
        plan = self.plans.get(key)
        if plan is None:
            plan = _plan_pupil_year(
                self.ctx,
                self.years[y],
                self.pupils[pupil_pk],
                self.segments.get(key, []),
                self.part_time.get(key),
            )
            script = self.scripts.get(key)
            if script is not None:
                _apply_script(plan, self.years[y], self.years[y].through, script)
            self.plans[key] = plan
        return plan

    def _choose_scripts(self, flags: dict[int, frozenset[str]]) -> dict[tuple[int, int], _Script]:
        """One pupil per ``SCRIPTS`` entry, by UPN: on roll in one form over the whole run,
        single registration, of compulsory school age, and not the demo parent's child. The
        choice depends on the roll only, so later runs extend the same pupils' absence; their
        forms' registers are never the ones left untaken (``_todo``)."""
        y = next((y for y in reversed(range(len(self.years))) if self.years[y].through), None)
        if y is None:
            return {}
        year = self.years[y]
        through = year.through
        longest = max(script.days for script in SCRIPTS)
        first = _script_slots(year, through, longest)[0]
        candidates = []
        for pupil in sorted(self.pupils.values(), key=lambda p: p.upn):
            key = (y, pupil.pk)
            if pupil.family or pupil.registration != Registration.SINGLE or key in self.part_time:
                continue
            form_pk = next(
                (f for lo, hi, f in self.segments.get(key, []) if lo <= first and through <= hi),
                None,
            )
            if form_pk is None:
                continue
            nc_year = self.forms[form_pk].nc_year
            if nc_year in _NURSERY or nc_year == _RECEPTION:
                continue
            candidates.append(pupil.pk)
        chosen: dict[tuple[int, int], _Script] = {}
        used: set[int] = set()
        for script in SCRIPTS:
            for pk in candidates:
                # The pupil's first flag in tier order is the script's (or none at all).
                mine = flags[pk]
                earlier = SCRIPT_FLAGS[: SCRIPT_FLAGS.index(script.flag)] if script.flag else ()
                fits = (
                    script.flag in mine and not mine.intersection(earlier)
                    if script.flag
                    else not mine
                )
                if pk not in used and fits:
                    chosen[(y, pk)] = script
                    used.add(pk)
                    break
        return chosen

    def _moment(self, date: dt.date, session: str, minutes: int) -> dt.datetime:
        """``minutes`` after the register opens on ``date``, as an aware local datetime."""
        key = (date, session, minutes)
        moment = self._moments.get(key)
        if moment is None:
            opens = dt.datetime.combine(date, self.times[session].opens, tzinfo=self.tz)
            moment = self._moments[key] = opens + dt.timedelta(minutes=minutes)
        return moment

    def _register_minutes(self, year: _Year, form_pk: int, i: int, upn: str | None) -> int:
        """When (minutes after opening) a form's register, or one pupil's line, was taken.

        A register picked to be late is taken 12-55 minutes after it closed; if it was partly
        marked first, the pupils in that first pass keep the usual time.
        """
        late_pk, partly, past_close = year.late[i]
        if late_pk == form_pk and not (
            partly and upn is not None and _first_pass(upn, year.dates[i], year.sessions[i])
        ):
            times = self.times[year.sessions[i]]
            return _minutes_between(times.opens, times.closes) + past_close
        return year.offsets[form_pk][i]

    def _existing_marks(
        self, todo: dict[int, dict[int, bytearray]]
    ) -> set[tuple[int, dt.date, str]]:
        """Marks already recorded in the sessions about to be filled (by hand, from leave, on a
        partly taken register): those pupils are skipped rather than duplicated."""
        dates: list[dt.date] = []
        for y, forms in todo.items():
            for flags in forms.values():
                first = len(flags) - len(flags.lstrip(b"\x00"))
                last = len(flags.rstrip(b"\x00")) - 1
                if last >= first:
                    dates += [self.years[y].dates[first], self.years[y].dates[last]]
        if not dates:
            return set()
        return set(
            AttendanceMark.objects.filter(
                school=self.school, date__gte=min(dates), date__lte=max(dates)
            ).values_list("pupil_id", "date", "session")
        )

    def _mark_rows(
        self, todo: dict[int, dict[int, bytearray]], amendments: list[MarkAmendment]
    ) -> list[MarkRecord]:
        """Every mark to enter on the registers of ``todo``; the officer's later amendments
        of the N marks among them are added to ``amendments``."""
        existing = self._existing_marks(todo)
        marks: list[MarkRecord] = []
        for y, forms in todo.items():
            year = self.years[y]
            for (yy, pupil_pk), segments in self.segments.items():
                if yy != y:
                    continue
                for lo, hi, form_pk in segments:
                    flags = forms.get(form_pk)
                    slots = range(lo, min(hi, year.through))
                    if flags is not None and any(flags[slots.start : slots.stop]):
                        self._segment_rows(
                            y,
                            self.pupils[pupil_pk],
                            form_pk,
                            flags,
                            slots,
                            existing,
                            marks,
                            amendments,
                        )
        return marks

    def _segment_rows(
        self,
        y: int,
        pupil: _PupilRow,
        form_pk: int,
        flags: bytearray,
        slots: range,
        existing: set[tuple[int, dt.date, str]],
        marks: list[MarkRecord],
        amendments: list[MarkAmendment],
    ) -> None:
        """Add one pupil's marks for a stretch in one form (the hot loop: ~1.2M iterations)."""
        year, plan = self.years[y], self._plan(y, pupil.pk)
        codes, minutes, n_events = plan.codes, plan.minutes, plan.n_events
        dates, sessions, late_forms = year.dates, year.sessions, year.late
        trips = year.trips.get(form_pk, {})
        offsets = year.offsets[form_pk]
        tutor = self.forms[form_pk].tutor
        pupil_pk, upn = pupil.pk, pupil.upn
        moment = self._moment
        for i in slots:
            state = flags[i]
            if not state:
                continue
            date, session = dates[i], sessions[i]
            if existing and (pupil_pk, date, session) in existing:
                continue
            if late_forms[i][0] == form_pk:
                if state == 2 and not _first_pass(upn, date, session):
                    continue  # not yet marked on a partly taken register
                at = moment(date, session, self._register_minutes(year, form_pk, i, upn))
            else:
                at = moment(date, session, offsets[i])
            code = codes[i]
            late_by = None
            if code is None:
                code = trips.get(year.day_of_slot[i]) or _PRESENT[session]
            elif code in ("L", "U"):
                late_by = minutes[i]
                # Entered when the pupil arrived, if that was after the register was taken.
                at = max(at, moment(date, session, late_by))
            elif i in n_events:
                event = n_events[i]
                changed_at = self._resolved_at(date, event)
                if changed_at is not None:
                    amendments.append(
                        MarkAmendment(pupil_pk, date, session, code, event.reason, changed_at)
                    )
                code = "N"  # the reason was not known at the register
            marks.append(MarkRecord(pupil_pk, date, session, code, late_by, at, tutor))

    def _resolved_at(self, date: dt.date, event: _NEvent) -> dt.datetime | None:
        """When the officer resolves an N recorded on ``date``, or ``None`` if not before today."""
        resolved_on = self.calendar.nth_school_day_after(date, event.lag)
        resolved_on = resolved_on or date + dt.timedelta(days=event.lag)
        if resolved_on >= self.today:
            return None
        nine = dt.datetime.combine(resolved_on, dt.time(9), tzinfo=self.tz)
        return nine + dt.timedelta(minutes=event.minute)

    def _resolve_open_n(
        self,
        open_n: list[tuple[int, int, dt.date, str, dt.datetime]],
    ) -> list[MarkAmendment]:
        """Resolve N marks from earlier runs whose planned resolution day has now passed.

        Only marks this seed wrote are touched: the N must be in the pupil's plan and carry
        the planned register time; anything entered by hand is left to the officer.
        """
        amendments: list[MarkAmendment] = []
        for _pk, pupil_pk, date, session, recorded_at in open_n:
            if pupil_pk not in self.pupils:
                continue
            for y, year in enumerate(self.years):
                i = year.slot_of(date, session)
                if i is None:
                    continue
                event = self._plan(y, pupil_pk).n_events.get(i)
                form_pk = next(
                    (f for lo, hi, f in self.segments.get((y, pupil_pk), []) if lo <= i < hi),
                    None,
                )
                if event is None or form_pk is None:
                    continue
                minutes = self._register_minutes(year, form_pk, i, self.pupils[pupil_pk].upn)
                if recorded_at != self._moment(date, session, minutes):
                    continue
                changed_at = self._resolved_at(date, event)
                if changed_at is None:
                    continue
                amendments.append(
                    MarkAmendment(pupil_pk, date, session, event.final, event.reason, changed_at)
                )
        return amendments

    def _registers(self, todo: dict[int, dict[int, bytearray]]) -> list[RegisterRecord]:
        """The registers of ``todo``: taken by the tutor, or partly marked (no ``taken_at``).
        The service completes a partly taken one already on file."""
        registers: list[RegisterRecord] = []
        for y, forms in todo.items():
            year = self.years[y]
            for form_pk, flags in forms.items():
                tutor = self.forms[form_pk].tutor
                for i in range(year.through):
                    state = flags[i]
                    if not state:
                        continue
                    date, session = year.dates[i], year.sessions[i]
                    if state == 2:  # partly marked: a row without taken_at
                        registers.append(RegisterRecord(form_pk, date, session, None, None))
                        continue
                    at = self._moment(date, session, self._register_minutes(year, form_pk, i, None))
                    registers.append(RegisterRecord(form_pk, date, session, at, tutor))
        return registers

    def _ensure_part_time_rows(self) -> None:
        existing = set(
            PartTimeTimetable.objects.filter(school=self.school).values_list(
                "pupil_id", "start_date"
            )
        )
        PartTimeTimetable.objects.bulk_create(
            [
                PartTimeTimetable(
                    school=self.school,
                    pupil_id=pupil_pk,
                    start_date=plan.start,
                    end_date=plan.end,
                    sessions_off=list(plan.sessions_off),
                    agreed_with=plan.agreed_with,
                )
                for (_, pupil_pk), plan in self.part_time.items()
                if (pupil_pk, plan.start) not in existing
            ]
        )

    def _officer(self) -> StaffMembership:
        """The attendance officer who resolves N marks: the demo login if it is there."""
        officers = StaffMembership.objects.filter(
            school=self.school, role=Role.ATTENDANCE_OFFICER
        ).select_related("user")
        membership = (
            officers.filter(user__username=f"officer@{self.school.slug}.example.org").first()
            or officers.order_by("pk").first()
        )
        if membership is None:
            raise ValueError(f"{self.school.name} has no attendance officer to amend marks.")
        return membership

    def _not_taken(self, recent: set[tuple[int, int]]) -> tuple[NotTakenRegister, ...]:
        """The recent registers left incomplete (unless someone has taken them since)."""
        found = []
        for y, i in sorted(recent):
            year = self.years[y]
            form_pk, _partly, _ = year.late[i]
            if form_pk not in self.forms:
                continue
            date, session = year.dates[i], year.sessions[i]
            register = Register.objects.filter(
                school=self.school, form_id=form_pk, date=date, session=session
            ).first()
            has_roll = any(
                lo <= i < hi and f == form_pk
                for (yy, _), segments in self.segments.items()
                if yy == y
                for lo, hi, f in segments
            )
            if has_roll and (register is None or register.taken_at is None):
                found.append(
                    NotTakenRegister(self.forms[form_pk].name, date, session, register is not None)
                )
        return tuple(found)


def _segments(year: _Year, pupil: _PupilRow) -> list[tuple[int, int, int]]:
    """Slot ranges where ``pupil`` is both on roll and placed in a form, in ``year``.

    A pupil on roll without a form that day has no register to be marked on; the demo roll
    always places pupils, so none are lost.
    """
    dates = year.dates
    found = []
    for start, leaving in pupil.enrolments:
        lo = bisect.bisect_left(dates, start)
        hi = len(dates) if leaving is None else bisect.bisect_right(dates, leaving)
        for p_start, p_end, form_pk in pupil.placements:
            p_lo = bisect.bisect_left(dates, p_start)
            p_hi = len(dates) if p_end is None else bisect.bisect_right(dates, p_end)
            s_lo, s_hi = max(lo, p_lo), min(hi, p_hi)
            if s_lo < s_hi and form_pk in year.form_pks:
                found.append((s_lo, s_hi, form_pk))
    return sorted(found)
