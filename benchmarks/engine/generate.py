"""The synthetic authority: schools, calendars, pupils, and a school year of marks made in SQL.

Everything except the marks goes through the real models, one school at a time (``bulk_create``):
a trust of mixed primary and secondary schools (a couple in Wales once there are enough), each
with academic year 2025/26, three terms, three half-terms, the May bank holiday, five INSET days
and, at some schools, an afternoon closure or a day closed by a heating failure. Pupils have valid
UPNs, dates of birth that fit their year group, forms of 30 and an enrolment each. A few join or
leave during the year.

The marks are made by PostgreSQL, not Python. Two helper tables in the ``bench`` schema hold one
row per school session (``bench.session``, from ``schools.selectors.school_calendar_get``, so the
calendar service decides what a session is) and one row per pupil with the pupil's absence profile
(``bench.pupil``). ``INSERT ... SELECT`` joins the two and picks each code from hashes of
(pupil id, school day, session), so the same database always gets the same marks and the next
school day's marks can be made later by the same statement. The marks table's indexes and
foreign keys are dropped for the bulk load and rebuilt from their saved definitions afterwards.

What the marks look like, per pupil: an absence rate drawn from four bands (most under 4%, about
a quarter 4-8.5%, about 6% at 10-25% and about 1% over 45%), spent as three-day illness spells
(``I``), single days (``I``, ``O``, ``G``, ``C``, ``M``, and ``N`` mostly in the last few days,
where reasons are not yet known) and single sessions (``M``, ``U`` with minutes, ``N``, ``O``).
Present pupils are ``/`` or ``\\``, sometimes ``L`` with minutes, now and then ``B``. About 1%
have a run of 10-35 school days of ``O``, ``I`` or ``G`` (half of them still running at the end),
about 4% take a week's unauthorised holiday (``G``) next to a school holiday, reception children
not yet of compulsory school age have ``X`` while settling in, Year 11 have ``X`` after the end of
compulsory school age, and one school in four has a day of travel disruption (``Y2``; ``Y`` in
Wales).
"""

from __future__ import annotations

import datetime as dt
import json
import queue
import random
import threading
import time
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg
from django.db import connection, transaction
from django_scopes import scopes_disabled
from psycopg import sql

from registers.codes import (
    CodeScheme,
    StatCategory,
    code_lookup,
    compulsory_school_age_ends,
    compulsory_school_age_starts,
)
from registers.models import AttendanceMark, MarkSource
from schools.calendar import SchoolCalendar
from schools.models import (
    AcademicYear,
    Closure,
    ClosureKind,
    DeletionGround,
    Enrolment,
    FormGroup,
    FormPlacement,
    Gender,
    Jurisdiction,
    NCYear,
    Phase,
    Pupil,
    School,
    SenStatus,
    Term,
    Trust,
    YearGroup,
    stored_label,
)
from schools.scoping import school_scope
from schools.selectors import school_calendar_get
from schools.upn import upn_make

Log = Callable[[str], None]

TRUST_SLUG = "engine-bench"
LA_CODE = "999"
YEAR_NAME = "2025/26"
YEAR_START, YEAR_END = dt.date(2025, 9, 1), dt.date(2026, 8, 31)
TERMS = (
    ("Autumn", dt.date(2025, 9, 2), dt.date(2025, 12, 19)),
    ("Spring", dt.date(2026, 1, 5), dt.date(2026, 3, 27)),
    ("Summer", dt.date(2026, 4, 13), dt.date(2026, 7, 21)),
)
HALF_TERMS = (
    (dt.date(2025, 10, 27), dt.date(2025, 10, 31)),
    (dt.date(2026, 2, 16), dt.date(2026, 2, 20)),
    (dt.date(2026, 5, 25), dt.date(2026, 5, 29)),
)
BANK_HOLIDAY = (dt.date(2026, 5, 4), "Early May bank holiday")
# Each school takes five of these as INSET days: 195 weekdays in term less the bank holiday and
# five INSET days leave 190 school days. None is in the last week, so every school's last two
# school days (the cut-off and the incremental day) are the same.
INSET_CHOICES = (
    dt.date(2025, 9, 2),
    dt.date(2025, 9, 3),
    dt.date(2025, 11, 3),
    dt.date(2025, 12, 19),
    dt.date(2026, 1, 5),
    dt.date(2026, 2, 23),
    dt.date(2026, 3, 27),
    dt.date(2026, 4, 13),
    dt.date(2026, 6, 1),
    dt.date(2026, 7, 3),
)
SPORTS_DAY_PM = dt.date(2026, 7, 10)  # an afternoon closure at one school in six
HEATING_FAILURE = dt.date(2026, 1, 13)  # a day closed at one school in ten
TRAVEL_DISRUPTION = dt.date(2026, 1, 8)  # Y2/Y for a third of pupils at one school in four
SETTLING_IN_UNTIL = dt.date(2025, 9, 19)  # reception pupils' afternoons are X until then
RECENT_DAYS = 6  # N is the usual whole-day code in the last school days (reasons not yet in)
AM_RECORDED, PM_RECORDED = dt.time(8, 52), dt.time(13, 7)
LONDON = zoneinfo.ZoneInfo("Europe/London")

PRIMARY_YEARS = (NCYear.R, NCYear.Y1, NCYear.Y2, NCYear.Y3, NCYear.Y4, NCYear.Y5, NCYear.Y6)
SECONDARY_YEARS = (NCYear.Y7, NCYear.Y8, NCYear.Y9, NCYear.Y10, NCYear.Y11)
FORM_SIZE = 30
FORENAMES = (
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Ivy", "Leo",
    "Freya", "Oscar", "Lily", "Harry", "Sophia", "Muhammad", "Grace", "Jack", "Evie", "Theo",
    "Rosie", "Alfie", "Willow", "Finley", "Aisha", "Dylan", "Seren", "Osian", "Cerys", "Yusuf",
)  # fmt: skip
SURNAMES = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas",
    "Roberts", "Johnson", "Lewis", "Walker", "Robinson", "Wood", "Thompson", "White", "Khan",
    "Hughes", "Green", "Hall", "Edwards", "Patel", "Ahmed", "Morgan", "Clarke", "Begum",
)  # fmt: skip

# Every code the generator writes. ``generated_categories`` checks each means the same thing in
# both schemes, so the summary's persistent-absence figure can use one list for the authority.
GENERATED_CODES = {
    "england": ("/", "\\", "L", "B", "I", "M", "C", "G", "O", "U", "N", "X", "Y2"),
    "wales": ("/", "\\", "L", "B", "I", "M", "C", "G", "O", "U", "N", "X", "Y"),
}
SCHEMES = {"england": CodeScheme.ENG_2024.value, "wales": CodeScheme.WAL_2010.value}

# Session settings for the load: the index builds get room, and a lost commit after a crash
# only means regenerating. Printed by ``run.py``.
LOAD_SETTINGS = {
    "synchronous_commit": "off",
    "work_mem": "64MB",
    "maintenance_work_mem": "1GB",
    "max_parallel_maintenance_workers": "2",
}


@dataclass(frozen=True)
class SchoolPlan:
    index: int
    phase: str
    jurisdiction: str
    pupils: int


@dataclass(frozen=True)
class Summary:
    codes: dict[str, int]  # marks by code, most used first
    pupils: int
    persistent: int  # pupils who missed 10% or more of their possible sessions
    severe: int  # 50% or more
    absence_rate: float  # absent sessions over possible sessions, all pupils


@dataclass(frozen=True)
class Generated:
    cut_off: dt.date  # D: the last school day whose marks the bulk load wrote
    next_day: dt.date  # D + 1 school day: the incremental step's day
    marks: int
    seconds: float


def school_plans(*, schools: int, pupils: int) -> list[SchoolPlan]:
    """Two primaries to each secondary, a secondary three times a primary's size; the last
    ``schools // 50`` schools (at least one from three schools up) are in Wales."""
    if schools < 1 or pupils < schools:
        raise ValueError("Need at least one school and one pupil a school.")
    secondary = [i % 3 == 2 for i in range(schools)]
    weights = [3 if s else 1 for s in secondary]
    sizes = [pupils * w // sum(weights) for w in weights]
    for i in range(pupils - sum(sizes)):
        sizes[i % schools] += 1
    welsh = max(schools // 50, 1 if schools >= 3 else 0)
    return [
        SchoolPlan(
            index=i,
            phase=Phase.SECONDARY.value if secondary[i] else Phase.PRIMARY.value,
            jurisdiction=(
                Jurisdiction.WALES.value if i >= schools - welsh else Jurisdiction.ENGLAND.value
            ),
            pupils=sizes[i],
        )
        for i in range(schools)
    ]


def generated_categories() -> dict[str, set[str]]:
    """The generated codes by statistical category, asked of ``registers.codes``."""
    on = dt.date(2026, 1, 5)
    categories: dict[str, set[str]] = {}
    meaning: dict[str, StatCategory] = {}
    for jurisdiction, codes in GENERATED_CODES.items():
        for code in codes:
            definition = code_lookup(jurisdiction=jurisdiction, code=code, on=on)
            if definition is None:
                raise AssertionError(f"{code!r} is not a code in {jurisdiction} in 2025/26")
            if meaning.setdefault(code, definition.category) != definition.category:
                raise AssertionError(f"{code!r} means different things in England and Wales")
            categories.setdefault(definition.category.value, set()).add(code)
    return categories


# --- The whole run ------------------------------------------------------------------------------


def generate(*, pupils: int, schools: int, conninfo: str, log: Log) -> Generated:
    """Fill an empty, migrated database with the authority and its marks up to the cut-off."""
    started = time.perf_counter()
    generated_categories()  # fail before writing anything if a code is not what we think
    _bench_tables_create()
    plans = school_plans(schools=schools, pupils=pupils)
    last_days: set[tuple[dt.date, dt.date]] = set()
    with scopes_disabled():
        trust = Trust.objects.create(name="Bench Local Authority", slug=TRUST_SLUG)
        for plan in plans:
            with transaction.atomic():
                last_days.add(_school_create(trust=trust, plan=plan))
            if (plan.index + 1) % 10 == 0 or plan.index + 1 == len(plans):
                log(f"  roll: {plan.index + 1}/{len(plans)} schools")
    if len(last_days) != 1:
        raise AssertionError(f"Schools disagree on their last two school days: {last_days}")
    ((cut_off, next_day),) = last_days
    rolled = time.perf_counter()
    log(f"  schools, calendars and {pupils:,} pupils in {rolled - started:.0f} s")
    _meta_set(pupils=pupils, schools=schools, cut_off=cut_off, next_day=next_day)

    saved = _mark_ddl_save()
    _meta_set(saved_ddl=json.dumps(saved))
    _mark_ddl_drop(saved)
    marks = _marks_load(conninfo=conninfo, school_ids=_school_ids_largest_first(), log=log)
    loaded = time.perf_counter()
    log(f"  {marks:,} marks inserted in {loaded - rolled:.0f} s (indexes and foreign keys off)")
    _mark_ddl_restore(saved, conninfo=conninfo, log=log)
    if _mark_ddl_save() != saved:
        raise AssertionError("The marks table's indexes and constraints did not come back as saved")
    restored = time.perf_counter()
    log(f"  indexes and foreign keys rebuilt in {restored - loaded:.0f} s")
    with psycopg.connect(conninfo, autocommit=True) as pg:
        pg.execute("VACUUM (FREEZE, ANALYZE)")
    seconds = time.perf_counter() - started
    log(f"  VACUUM (FREEZE, ANALYZE) in {time.perf_counter() - restored:.0f} s")
    _meta_set(marks=marks, generated_seconds=round(seconds, 1), complete="yes")
    return Generated(cut_off=cut_off, next_day=next_day, marks=marks, seconds=seconds)


def next_day_insert(*, conninfo: str, next_day: dt.date) -> int:
    """Insert every pupil's marks for ``next_day`` (indexes in place); return how many."""
    with psycopg.connect(conninfo, autocommit=True) as pg:
        _settings_apply(pg, {"synchronous_commit": "on"})
        cursor = pg.execute(_marks_sql(school_id=None, first=next_day, last=next_day))
        return cursor.rowcount


def marks_after_delete(*, conninfo: str, after: dt.date) -> int:
    """Delete the marks after ``after`` (a previous run's incremental day); return how many."""
    with psycopg.connect(conninfo, autocommit=True) as pg:
        cursor = pg.execute(
            "DELETE FROM registers_attendancemark WHERE date > %s", [after], prepare=False
        )
        return cursor.rowcount


def meta_get() -> dict[str, str]:
    """What the last generation stored about itself; empty if this database has none."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench.meta') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return {}
        cursor.execute("SELECT key, value FROM bench.meta")
        return dict(cursor.fetchall())


def summary_query(*, conninfo: str, cut_off: dt.date) -> Summary:
    """Code shares and persistent/severe absence to the cut-off, as a sanity check (slow:
    two passes over the marks)."""
    categories = generated_categories()
    absent = sorted(categories["authorised"] | categories["unauthorised"])
    not_counted = sorted(categories["not_counted"])
    with psycopg.connect(conninfo) as pg:
        codes: dict[str, int] = dict(
            pg.execute(
                "SELECT code, count(*) FROM registers_attendancemark WHERE date <= %s "
                "GROUP BY code ORDER BY 2 DESC",
                [cut_off],
            ).fetchall()
        )
        row = pg.execute(
            """
            WITH per_pupil AS (
                SELECT pupil_id,
                       count(*) FILTER (WHERE code <> ALL(%(nc)s)) AS possible,
                       count(*) FILTER (WHERE code = ANY(%(absent)s)) AS absent
                FROM registers_attendancemark WHERE date <= %(cut_off)s GROUP BY pupil_id
            )
            SELECT count(*),
                   count(*) FILTER (WHERE possible > 0 AND absent * 10 >= possible),
                   count(*) FILTER (WHERE possible > 0 AND absent * 2 >= possible),
                   sum(absent)::float8 / nullif(sum(possible), 0)
            FROM per_pupil
            """,
            {"nc": not_counted, "absent": absent, "cut_off": cut_off},
        ).fetchone()
    assert row is not None
    pupils, persistent, severe, absence_rate = row
    return Summary(
        codes=codes,
        pupils=pupils,
        persistent=persistent,
        severe=severe,
        absence_rate=absence_rate or 0.0,
    )


# --- Schools, calendars, pupils -----------------------------------------------------------------


def _school_create(*, trust: Trust, plan: SchoolPlan) -> tuple[dt.date, dt.date]:
    """One school with its calendar, roll and helper rows; return its last two school days."""
    rng = random.Random(f"engine-bench-school-{plan.index}")
    kind = "Secondary" if plan.phase == Phase.SECONDARY else "Primary"
    welsh = plan.jurisdiction == Jurisdiction.WALES
    school = School.objects.create(
        trust=trust,
        name=f"{'Ysgol Bench' if welsh else 'Bench'} {kind} {plan.index + 1:03d}",
        slug=f"eb-{plan.index + 1:04d}",
        urn=f"{900000 + plan.index:06d}",
        la_code=LA_CODE,
        jurisdiction=plan.jurisdiction,
        phase=plan.phase,
        welsh_language=welsh,
    )
    year = AcademicYear.objects.create(
        school=school, name=YEAR_NAME, start_date=YEAR_START, end_date=YEAR_END
    )
    Term.objects.bulk_create(
        Term(school=school, academic_year=year, name=name, start_date=start, end_date=end)
        for name, start, end in TERMS
    )
    closures = [
        Closure(school=school, start_date=s, end_date=e, kind=ClosureKind.HALF_TERM)
        for s, e in HALF_TERMS
    ]
    closures.append(
        Closure(
            school=school,
            start_date=BANK_HOLIDAY[0],
            end_date=BANK_HOLIDAY[0],
            kind=ClosureKind.BANK_HOLIDAY,
            description=BANK_HOLIDAY[1],
        )
    )
    closures += [
        Closure(school=school, start_date=day, end_date=day, kind=ClosureKind.INSET)
        for day in sorted(rng.sample(INSET_CHOICES, 5))
    ]
    if plan.index % 6 == 5:
        closures.append(
            Closure(
                school=school,
                start_date=SPORTS_DAY_PM,
                end_date=SPORTS_DAY_PM,
                session="PM",
                kind=ClosureKind.PLANNED,
                description="Sports day afternoon",
            )
        )
    if plan.index % 10 == 7:
        closures.append(
            Closure(
                school=school,
                start_date=HEATING_FAILURE,
                end_date=HEATING_FAILURE,
                kind=ClosureKind.OTHER,
                description="Heating failure",
            )
        )
    Closure.objects.bulk_create(closures)
    with school_scope(school):
        calendar = school_calendar_get(school=school)
    days = calendar.school_days_between(YEAR_START, YEAR_END)
    _sessions_write(school=school, calendar=calendar, days=days, disrupted=plan.index % 4 == 1)
    _roll_create(school=school, year=year, plan=plan, days=days, rng=rng)
    return days[-2], days[-1]


def _sessions_write(
    *, school: School, calendar: SchoolCalendar, days: Sequence[dt.date], disrupted: bool
) -> None:
    rows = []
    for day_no, day in enumerate(days):
        for session in calendar.sessions_on(day):
            recorded = AM_RECORDED if session == "AM" else PM_RECORDED
            rows.append(
                (
                    school.pk,
                    day,
                    session.value,
                    0 if session == "AM" else 1,
                    day_no,
                    dt.datetime.combine(day, recorded, tzinfo=LONDON),
                    day_no >= len(days) - RECENT_DAYS,
                    disrupted and day == TRAVEL_DISRUPTION,
                )
            )
    _copy(
        "bench.session",
        ("school_id", "date", "session", "sess_no", "day_no", "recorded_at", "recent", "disrupted"),
        rows,
    )


def _roll_create(
    *,
    school: School,
    year: AcademicYear,
    plan: SchoolPlan,
    days: Sequence[dt.date],
    rng: random.Random,
) -> None:
    nc_years = SECONDARY_YEARS if plan.phase == Phase.SECONDARY else PRIMARY_YEARS
    year_groups = YearGroup.objects.bulk_create(
        YearGroup(school=school, nc_year=nc, name=stored_label(nc.label), sort_order=i)
        for i, nc in enumerate(nc_years)
    )
    breaks = [i for i in range(1, len(days)) if (days[i] - days[i - 1]).days > 3]
    pupils: list[Pupil] = []
    profiles: list[list[object]] = []
    placements: list[tuple[int, str]] = []  # (year group index, form name) per pupil
    for yg_index, nc in enumerate(nc_years):
        count = plan.pupils // len(nc_years) + (yg_index < plan.pupils % len(nc_years))
        age = 4 + yg_index + (0 if nc_years is PRIMARY_YEARS else 7)  # on 31 August 2025
        for serial in range(count):
            dob = dt.date(2025 - age - 1, 9, 1) + dt.timedelta(days=rng.randrange(365))
            n = len(pupils)  # unique in the school: establishment digits, then a serial
            body = f"{LA_CODE}{plan.index * 10 + n // 1000:04d}{(dob.year + 5) % 100:02d}"
            profile, flags = _profile(rng=rng, days=days, breaks=breaks, nc=nc, dob=dob)
            pupils.append(
                Pupil(
                    school=school,
                    upn=upn_make(f"{body}{n % 1000:03d}"),
                    legal_forename=rng.choice(FORENAMES),
                    legal_surname=rng.choice(SURNAMES),
                    date_of_birth=dob,
                    gender=rng.choice((Gender.FEMALE, Gender.MALE)),
                    **flags,
                )
            )
            profiles.append(profile)
            placements.append((yg_index, f"{nc.value}-{serial // FORM_SIZE + 1}"))
    Pupil.objects.bulk_create(pupils, batch_size=2000)
    forms = FormGroup.objects.bulk_create(
        FormGroup(school=school, academic_year=year, year_group=year_groups[yg], name=name)
        for yg, name in dict.fromkeys(placements)
    )
    form_by_name = {form.name: form for form in forms}
    enrolments, form_placements = [], []
    scheme = SCHEMES[plan.jurisdiction]
    for pupil, profile, (yg_index, form_name) in zip(pupils, profiles, placements, strict=True):
        start, end = profile[0], profile[1]
        assert isinstance(start, dt.date)
        assert isinstance(end, dt.date)
        # Everyone else joined in the September they started in the school's first year group.
        joined = start if start > days[0] else dt.date(2025 - yg_index, 9, 1)
        leaving = end if end < days[-1] else None
        enrolments.append(
            Enrolment(
                school=school,
                pupil=pupil,
                start_date=joined,
                leaving_date=leaving,
                deletion_ground=DeletionGround.A if leaving else "",
            )
        )
        form_placements.append(
            FormPlacement(
                school=school,
                pupil=pupil,
                form=form_by_name[form_name],
                start_date=max(joined, YEAR_START),
                end_date=leaving,
            )
        )
        profile[:0] = [pupil.pk, school.pk, scheme]
    Enrolment.objects.bulk_create(enrolments, batch_size=2000)
    FormPlacement.objects.bulk_create(form_placements, batch_size=2000)
    _copy("bench.pupil", PUPIL_COLUMNS, profiles)


PUPIL_COLUMNS = (
    "pupil_id", "school_id", "scheme", "start_date", "end_date", "x_until", "x_from",
    "block_rate", "day_rate", "ses_rate", "late_rate", "run_start", "run_end", "run_code",
    "hol_start", "hol_end",
)  # fmt: skip


def _profile(
    *,
    rng: random.Random,
    days: Sequence[dt.date],
    breaks: Sequence[int],
    nc: NCYear,
    dob: dt.date,
) -> tuple[list[object], dict[str, object]]:
    """One pupil's absence profile (``PUPIL_COLUMNS`` after the first three) and flags."""
    u = rng.random()
    if u < 0.012:
        rate = rng.uniform(0.45, 0.75)  # severely absent
    elif u < 0.072:
        rate = rng.uniform(0.10, 0.25)  # persistently absent
    elif u < 0.35:
        rate = rng.uniform(0.04, 0.085)
    else:
        rate = rng.uniform(0.0, 0.04)
    # Whole days (illness spells and single days) make 85% of absent sessions, single sessions
    # the rest; the day rate is what is left of a day after the spells.
    block_rate = 0.35 * rate
    day_rate = min(0.5 * rate / (1 - block_rate), 0.95)
    ses_rate = 0.15 * rate
    late_rate = rng.uniform(0.0, 0.03) + (0.03 if u < 0.072 else 0.0)

    start, end = days[0], days[-1]
    joiner_or_leaver = rng.random()
    if joiner_or_leaver < 0.02:
        start = days[rng.randrange(20, len(days) - 40)]
    elif joiner_or_leaver < 0.04:
        end = days[rng.randrange(40, len(days) - 20)]

    run_start = run_end = None
    run_code = None
    if rng.random() < 0.01:  # a run of continuous absence, half still going at the end
        length = rng.randint(10, 35)
        still_going = rng.random() < 0.5
        run_end = len(days) - 1 if still_going else rng.randrange(length + 5, len(days) - 10)
        run_start = run_end - length + 1
        run_code = rng.choices(("O", "I", "G"), weights=(60, 25, 15))[0]
    hol_start = hol_end = None
    if rng.random() < 0.04 and breaks:  # a week's holiday either side of a school holiday
        edge = rng.choice(breaks)
        length = rng.randint(3, 5)
        hol_start = edge if rng.random() < 0.5 else max(edge - length, 0)
        hol_end = hol_start + length - 1

    x_until = x_from = None
    if nc == NCYear.R:
        x_until = compulsory_school_age_starts(dob)  # X while not yet of compulsory age
    elif nc == NCYear.Y11:
        x_from = compulsory_school_age_ends(dob)  # and once past it
    flags: dict[str, object] = {
        "fsm": rng.random() < 0.15 + rate,
        "pupil_premium": rng.random() < 0.2 + rate,
        "sen_status": rng.choices(
            (SenStatus.NONE, SenStatus.SUPPORT, SenStatus.EHC_PLAN), weights=(85, 13, 2)
        )[0],
        "eal": rng.random() < 0.2,
        "looked_after": rng.random() < 0.01,
    }
    profile: list[object] = [
        start, end, x_until, x_from, block_rate, day_rate, ses_rate, late_rate,
        run_start, run_end, run_code, hol_start, hol_end,
    ]  # fmt: skip
    return profile, flags


def _school_ids_largest_first() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT school_id FROM bench.pupil GROUP BY school_id ORDER BY count(*) DESC, 1"
        )
        return [row[0] for row in cursor.fetchall()]


# --- The marks ----------------------------------------------------------------------------------


def _r(expression: str, bits: int = 0) -> str:
    """A uniform number in [0, 1) from 24 bits of a 64-bit hash."""
    return f"((({expression} >> {bits}) & 16777215)::float8 / 16777216)"


def _marks_sql(*, school_id: int | None, first: dt.date | None, last: dt.date) -> str:
    """``INSERT ... SELECT`` of the marks of one school (or all) for sessions in a date range.

    Three hashes a mark: per pupil and school day (whole-day choices, so both sessions agree),
    per pupil and three-day block (illness spells), per pupil and session. Seeds 1-3 are fixed,
    so the marks are the same on every run.
    """
    h_day = "hashint8extended(p.pupil_id * 1024 + s.day_no, 1)"
    h_block = "hashint8extended(p.pupil_id * 1024 + s.day_no / 3, 2)"
    h_ses = "hashint8extended(p.pupil_id * 2048 + s.day_no * 2 + s.sess_no, 3)"
    r_day, r_code, r_block = _r(h_day), _r(h_day, 24), _r(h_block)
    r_ses, r_kind = _r(h_ses), _r(h_ses, 24)
    where = [f"s.date <= DATE '{last.isoformat()}'"]
    if first is not None:
        where.append(f"s.date >= DATE '{first.isoformat()}'")
    if school_id is not None:
        where.append(f"p.school_id = {int(school_id)}")
    settle = SETTLING_IN_UNTIL.isoformat()
    source = MarkSource.REGISTER.value
    table = AttendanceMark._meta.db_table
    return f"""
        INSERT INTO {table}
            (school_id, pupil_id, date, session, code, scheme, minutes_late, source,
             recorded_at, recorded_by_id, version)
        SELECT school_id, pupil_id, date, session, code, scheme,
               CASE code WHEN 'L' THEN 1 + minute_pick % 29 WHEN 'U' THEN 30 + minute_pick % 80 END,
               '{source}', recorded_at, NULL, 1
        FROM (
            SELECT p.school_id, p.pupil_id, s.date, s.session, p.scheme, s.recorded_at,
                   ({h_ses} >> 48) & 1023 AS minute_pick,
                   CASE
                       WHEN s.day_no BETWEEN p.run_start AND p.run_end THEN p.run_code
                       WHEN s.day_no BETWEEN p.hol_start AND p.hol_end THEN 'G'
                       WHEN s.date < p.x_until
                            AND ((s.sess_no = 1 AND s.date < DATE '{settle}') OR {r_ses} < 0.02)
                            THEN 'X'
                       WHEN s.date > p.x_from AND {r_day} < 0.85 THEN 'X'
                       WHEN s.disrupted AND {r_ses} < 0.3
                            THEN CASE p.scheme WHEN 'WAL_2010' THEN 'Y' ELSE 'Y2' END
                       WHEN {r_block} < p.block_rate THEN 'I'
                       WHEN {r_day} < p.day_rate THEN CASE
                           WHEN s.recent AND {r_code} < 0.6 THEN 'N'
                           WHEN {r_code} < 0.45 THEN 'I'
                           WHEN {r_code} < 0.70 THEN 'O'
                           WHEN {r_code} < 0.82 THEN 'G'
                           WHEN {r_code} < 0.90 THEN 'C'
                           WHEN {r_code} < 0.98 THEN 'M'
                           ELSE 'N' END
                       WHEN {r_ses} < p.ses_rate THEN CASE
                           WHEN {r_kind} < 0.45 THEN 'M'
                           WHEN {r_kind} < 0.75 THEN 'U'
                           WHEN s.recent OR {r_kind} < 0.85 THEN 'N'
                           ELSE 'O' END
                       WHEN {r_ses} < p.ses_rate + p.late_rate THEN 'L'
                       WHEN {r_ses} < p.ses_rate + p.late_rate + 0.004 THEN 'B'
                       WHEN s.sess_no = 0 THEN '/'
                       ELSE '\\'
                   END AS code
            FROM bench.pupil p
            JOIN bench.session s
              ON s.school_id = p.school_id AND s.date >= p.start_date AND s.date <= p.end_date
            WHERE {" AND ".join(where)}
        ) AS marks
    """  # noqa: S608 (dates, ids and names from this module, not from input)


def _marks_load(*, conninfo: str, school_ids: Sequence[int], log: Log) -> int:
    """Every school's marks to the cut-off, two schools at a time (two connections)."""
    cut_off = dt.date.fromisoformat(meta_get()["cut_off"])
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    for school_id in school_ids:
        todo.put(school_id)
    lock = threading.Lock()
    done: list[int] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            with psycopg.connect(conninfo, autocommit=True) as pg:
                _settings_apply(pg, LOAD_SETTINGS)
                while True:
                    try:
                        school_id = todo.get_nowait()
                    except queue.Empty:
                        return
                    sql_text = _marks_sql(school_id=school_id, first=None, last=cut_off)
                    rows = pg.execute(sql_text).rowcount
                    with lock:
                        done.append(rows)
                        if len(done) % 10 == 0 or len(done) == len(school_ids):
                            log(f"  marks: {len(done)}/{len(school_ids)} schools, {sum(done):,}")
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=load) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sum(done)


# --- Dropping and restoring the marks table's indexes and foreign keys --------------------------


def _mark_ddl_save() -> dict[str, list[list[str]]]:
    """The definitions of the marks table's indexes, keys and foreign keys (both directions)."""
    table = AttendanceMark._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'f') ORDER BY conname
            """,
            [table],
        )
        own = [list(row) for row in cursor.fetchall()]
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
            WHERE confrelid = %s::regclass AND conrelid <> confrelid AND contype = 'f'
            ORDER BY 1, 2
            """,
            [table],
        )
        incoming = [list(row) for row in cursor.fetchall()]
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
            WHERE i.indrelid = %s::regclass AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c
                WHERE c.conrelid = i.indrelid AND c.conindid = i.indexrelid
            )
            ORDER BY 1
            """,
            [table],
        )
        indexes = [list(row) for row in cursor.fetchall()]
    return {"own": own, "incoming": incoming, "indexes": indexes}


def _mark_ddl_drop(saved: dict[str, list[list[str]]]) -> None:
    table = sql.Identifier(AttendanceMark._meta.db_table)
    statements = [
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.SQL(other), sql.Identifier(name)
        )  # ``other`` is regclass text: already quoted where it needs to be
        for other, name, _ in saved["incoming"]
    ]
    own = sorted(saved["own"], key=lambda c: c[1] != "f")  # foreign keys before keys
    statements += [
        sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(table, sql.Identifier(name))
        for name, _, _ in own
    ]
    statements += [sql.SQL("DROP INDEX {}").format(sql.SQL(name)) for name, _ in saved["indexes"]]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement.as_string(cursor.cursor))


def _mark_ddl_restore(saved: dict[str, list[list[str]]], *, conninfo: str, log: Log) -> None:
    table = sql.Identifier(AttendanceMark._meta.db_table)
    statements: list[sql.SQL | sql.Composed] = []
    for name, kind, definition in sorted(saved["own"], key=lambda c: c[1] == "f"):
        if kind != "f":
            statements.append(
                sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
                    table, sql.Identifier(name), sql.SQL(definition)
                )
            )
    statements += [sql.SQL(definition) for _, definition in saved["indexes"]]
    statements += [
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            table, sql.Identifier(name), sql.SQL(definition)
        )
        for name, kind, definition in saved["own"]
        if kind == "f"
    ]
    statements += [
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.SQL(other), sql.Identifier(name), sql.SQL(definition)
        )
        for other, name, definition in saved["incoming"]
    ]
    with psycopg.connect(conninfo, autocommit=True) as pg:
        _settings_apply(pg, LOAD_SETTINGS)
        for statement in statements:
            began = time.perf_counter()
            pg.execute(statement)
            text = statement.as_string(pg)
            log(f"    {time.perf_counter() - began:5.0f} s  {text[:110]}")


# --- Helpers ------------------------------------------------------------------------------------


def _bench_tables_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE SCHEMA IF NOT EXISTS bench;
            DROP TABLE IF EXISTS bench.meta, bench.session, bench.pupil;
            CREATE TABLE bench.meta (key text PRIMARY KEY, value text NOT NULL);
            CREATE TABLE bench.session (
                school_id bigint NOT NULL, date date NOT NULL, session varchar(2) NOT NULL,
                sess_no smallint NOT NULL, day_no integer NOT NULL,
                recorded_at timestamptz NOT NULL, recent boolean NOT NULL,
                disrupted boolean NOT NULL,
                PRIMARY KEY (school_id, date, session)
            );
            CREATE TABLE bench.pupil (
                pupil_id bigint PRIMARY KEY, school_id bigint NOT NULL, scheme text NOT NULL,
                start_date date NOT NULL, end_date date NOT NULL, x_until date, x_from date,
                block_rate float8 NOT NULL, day_rate float8 NOT NULL, ses_rate float8 NOT NULL,
                late_rate float8 NOT NULL, run_start integer, run_end integer, run_code text,
                hol_start integer, hol_end integer
            );
            CREATE INDEX ON bench.pupil (school_id);
            """
        )


def _meta_set(**values: object) -> None:
    with connection.cursor() as cursor:
        for key, value in values.items():
            cursor.execute(
                "INSERT INTO bench.meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                [key, str(value)],
            )


def _copy(table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.SQL(table), names)
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as pg_copy:
        for row in rows:
            pg_copy.write_row(row)


def _settings_apply(pg: psycopg.Connection[tuple[object, ...]], settings: dict[str, str]) -> None:
    for name, value in settings.items():
        pg.execute(
            sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value)),
            prepare=False,
        )
