"""The Northfield demo trust: three fictional but realistic schools to try the product with.

``seed_demo_trust()`` creates one trust with an English secondary (modelled on seed 002), an
English primary (seeds 001 and 003) and a Welsh 3-19 school (seed 000). Each school gets two
academic years of calendar (terms, half-terms, INSET days, bank holidays), year groups, forms
with their tutors, pupils with enrolments, form placements and contacts, one demo login per
role, and attendance bands from one of the seed policies (``band_preset``).

How it stays fast, repeatable and safe to re-run:
- Everything is *planned* in pure Python first, from ``random.Random`` instances seeded with
  fixed strings (one per school and purpose), so the same inputs always give the same rows.
- The plan depends on the academic year that contains ``today``, never on the day itself, so
  every run within one academic year plans exactly the same rows.
- Rows are then written with ``bulk_create``, skipping any whose natural key (trust slug,
  school slug, username, (school, UPN), ...) already exists. A second run creates nothing; an
  interrupted run is completed rather than duplicated. Existing rows are never changed, except
  that demo logins get the demo password back, so the printed logins always work.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, TypeVar

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import models, transaction
from django.urls import reverse
from django_scopes import scopes_disabled

from interventions.models import AttendanceBand
from interventions.services import bands_install_preset
from schools import demo_data as data
from schools.calendar import (
    ClosedRange,
    DateRange,
    SchoolCalendar,
    Session,
    academic_year_end,
    academic_year_name,
    academic_year_start,
)
from schools.models import (
    NC_YEAR_ORDER,
    AcademicYear,
    Closure,
    ClosureKind,
    Contact,
    DeletionGround,
    Enrolment,
    FormGroup,
    FormPlacement,
    FormTutor,
    Gender,
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
    Term,
    Trust,
    TrustMembership,
    YearGroup,
)
from schools.upn import upn_error, upn_make

DEMO_PASSWORD = "attendance-demo"
TRUST_NAME = "Northfield Learning Trust"
TRUST_SLUG = "northfield"

_SEED = "northfield-demo-v1"  # change it to plan a different (but still repeatable) trust
# A fixed salt gives the demo password the same hash on every run, so a re-run can see that a
# login already has it without hashing once per user. 24 characters from [a-z0-9] carry the
# 128 bits of salt entropy Django's hashers ask for, so they never re-hash it at sign-in.
_DEMO_SALT = "northfielddemotrust2026x"
# Staff other than the demo logins cannot sign in: "!" marks a password as unusable. It is a
# constant rather than Django's random unusable value so that repeated plans stay identical.
_NO_SIGN_IN = "!northfield-demo-staff-cannot-sign-in"
_BATCH = 500

_M = TypeVar("_M", bound=models.Model)

# --- The result ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    school: str  # the school's name, or the trust's for the trust-wide logins
    username: str
    password: str
    home_path: str  # where this login lands after signing in
    detail: str = ""


@dataclass(frozen=True)
class DemoSchool:
    name: str
    slug: str
    jurisdiction: str
    pupils_on_roll: int  # on the admission register on ``today``
    pupils_total: int  # including last year's leavers
    forms: int  # this academic year
    staff: int


@dataclass(frozen=True)
class DemoSummary:
    trust: str
    logins: list[DemoLogin]
    schools: list[DemoSchool]
    created: dict[str, int]  # rows created by this run, by model label

    @property
    def pupils_on_roll(self) -> int:
        return sum(school.pupils_on_roll for school in self.schools)

    @property
    def rows_created(self) -> int:
        return sum(self.created.values())


# --- Calendar rules (pure) ------------------------------------------------------------------


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday of ``year`` in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def bank_holidays(year: int) -> dict[dt.date, str]:
    """The regular England and Wales bank holidays in calendar ``year``, with their names.

    Weekend New Year's, Christmas and Boxing Days move to the following weekdays, as the
    proclamations do. One-off holidays (jubilees, coronations) are not included.
    """
    easter = easter_sunday(year)
    holidays = {
        _next_weekday(dt.date(year, 1, 1)): "New Year's Day",
        easter - dt.timedelta(days=2): "Good Friday",
        easter + dt.timedelta(days=1): "Easter Monday",
        _weekday_on_or_after(dt.date(year, 5, 1), 0): "Early May bank holiday",
        _weekday_on_or_before(dt.date(year, 5, 31), 0): "Spring bank holiday",
        _weekday_on_or_before(dt.date(year, 8, 31), 0): "Summer bank holiday",
    }
    christmas, boxing = dt.date(year, 12, 25), dt.date(year, 12, 26)
    if christmas.weekday() == 5:  # Saturday: Monday and Tuesday
        christmas, boxing = christmas + dt.timedelta(days=2), christmas + dt.timedelta(days=3)
    elif christmas.weekday() == 6:  # Sunday: Boxing Day is Monday, Christmas moves to Tuesday
        christmas = christmas + dt.timedelta(days=2)
    elif christmas.weekday() == 4:  # Friday: Boxing Day moves to Monday
        boxing = dt.date(year, 12, 28)
    holidays[christmas] = "Christmas Day"
    holidays[boxing] = "Boxing Day"
    return holidays


def _weekday_on_or_after(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


def _weekday_on_or_before(day: dt.date, weekday: int) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - weekday) % 7)


def _next_weekday(day: dt.date) -> dt.date:
    return day if day.weekday() < 5 else _weekday_on_or_after(day, 0)


def _term_start(day: dt.date) -> dt.date:
    """First weekday on or after ``day``; a term does not start on a lone Friday."""
    return _weekday_on_or_after(day, 0) if day.weekday() >= 4 else day


InsetAnchor = Literal[
    "autumn_first",
    "autumn_second",
    "before_october_half_term",
    "spring_first",
    "before_february_half_term",
    "summer_first",
    "after_may_half_term",
    "summer_last",
]


@dataclass(frozen=True)
class CalendarRules:
    """How one school's local authority lays out its year, as far as the demo needs.

    England: the Easter holiday is Holy Week and Easter week. Wales: from Good Friday for two
    weeks after Easter Monday. Half-terms are the weeks of the last Monday of October, the
    third Monday of February and the spring bank holiday (last Monday of May) everywhere.
    """

    easter_holiday: Literal["holy_week", "from_good_friday"]
    summer_term_ends: int  # day of July (moved back to the Friday at a weekend)
    inset_days: tuple[InsetAnchor, ...]
    welsh: bool = False  # describe terms and closures in English and Welsh


@dataclass(frozen=True)
class TermDates:
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class ClosureDates:
    start: dt.date
    end: dt.date
    kind: ClosureKind
    description: str
    session: str = ""  # "" for the whole day, else "AM" or "PM"


@dataclass(frozen=True)
class YearCalendar:
    """One academic year (1 August to 31 July) of one school's terms and closures."""

    start_year: int
    terms: tuple[TermDates, ...]
    closures: tuple[ClosureDates, ...]

    @property
    def name(self) -> str:
        return academic_year_name(self.start_date)

    @property
    def start_date(self) -> dt.date:
        return dt.date(self.start_year, 8, 1)

    @property
    def end_date(self) -> dt.date:
        return academic_year_end(self.start_date)

    @functools.cached_property
    def school_calendar(self) -> SchoolCalendar:
        return SchoolCalendar(
            terms=[DateRange(term.start, term.end) for term in self.terms],
            closures=[
                ClosedRange(c.start, c.end, Session(c.session) if c.session else None)
                for c in self.closures
            ],
        )

    @property
    def first_school_day(self) -> dt.date:
        first = self.school_calendar.first_day
        assert first is not None  # every planned year has terms
        return first

    @property
    def last_school_day(self) -> dt.date:
        last = self.school_calendar.last_day
        assert last is not None
        return last

    def first_school_day_after_half_term(self, month: int) -> dt.date:
        """The day pupils come back from the half-term that starts in ``month``."""
        half_term = next(
            c for c in self.closures if c.kind == ClosureKind.HALF_TERM and c.start.month == month
        )
        day = self.school_calendar.nth_school_day_after(half_term.end, 1)
        assert day is not None
        return day


def _bilingual(english: str, welsh: str, rules: CalendarRules) -> str:
    return f"{english} / {welsh}" if rules.welsh else english


@functools.cache
def year_calendar(rules: CalendarRules, start_year: int) -> YearCalendar:
    """The terms and closures of the academic year starting 1 August ``start_year``.

    Pure and cached. About 190 school days a year: three terms, three half-term weeks, the
    early May bank holiday when it falls in term, five INSET days and one planned afternoon
    closure (an early finish on the last day before Christmas).
    """
    y = start_year
    easter = easter_sunday(y + 1)
    december_20 = dt.date(y, 12, 20)
    autumn_end = (
        december_20
        if december_20.weekday() in (2, 3)  # a Wednesday or Thursday: finish that day
        else _weekday_on_or_before(december_20, 4)
    )
    if rules.easter_holiday == "holy_week":
        spring_end = easter - dt.timedelta(days=9)  # the Friday before Palm Sunday
        summer_start = easter + dt.timedelta(days=8)  # the Monday after Easter week
    else:
        spring_end = easter - dt.timedelta(days=3)  # the Thursday before Good Friday
        summer_start = easter + dt.timedelta(days=15)  # two weeks after Easter Monday
    summer_end = dt.date(y + 1, 7, rules.summer_term_ends)
    if summer_end.weekday() >= 5:
        summer_end = _weekday_on_or_before(summer_end, 4)
    terms = (
        TermDates(
            _bilingual(f"Autumn {y}", "Tymor yr Hydref", rules),
            _term_start(dt.date(y, 9, 1)),
            autumn_end,
        ),
        TermDates(
            _bilingual(f"Spring {y + 1}", "Tymor y Gwanwyn", rules),
            _term_start(dt.date(y + 1, 1, 4)),
            spring_end,
        ),
        TermDates(_bilingual(f"Summer {y + 1}", "Tymor yr Haf", rules), summer_start, summer_end),
    )
    autumn, spring, summer = terms
    # The school days before any closure: weekdays in term, as schools.calendar counts them.
    in_term = SchoolCalendar(terms=[DateRange(t.start, t.end) for t in terms]).is_school_day

    closures: list[ClosureDates] = []
    closed: set[dt.date] = set()

    def close(
        start: dt.date, end: dt.date, kind: ClosureKind, description: str, session: str = ""
    ) -> None:
        closures.append(ClosureDates(start, end, kind, description, session))
        if not session:
            closed.update(d for d in DateRange(start, end).days())

    half_terms = (
        (_weekday_on_or_before(dt.date(y, 10, 31), 0), "October", "Hydref"),
        (_weekday_on_or_after(dt.date(y + 1, 2, 15), 0), "February", "Chwefror"),
        (_weekday_on_or_before(dt.date(y + 1, 5, 31), 0), "May", "Mai"),
    )
    for monday, english, welsh in half_terms:
        close(
            monday,
            monday + dt.timedelta(days=4),
            ClosureKind.HALF_TERM,
            _bilingual(f"{english} half-term", f"Hanner tymor {welsh}", rules),
        )
    for calendar_year in (y, y + 1):
        for day, holiday in sorted(bank_holidays(calendar_year).items()):
            if in_term(day) and day not in closed:
                close(
                    day,
                    day,
                    ClosureKind.BANK_HOLIDAY,
                    _bilingual(holiday, "Gŵyl y banc", rules),
                )

    anchors: dict[InsetAnchor, tuple[dt.date, int]] = {  # date, and which way to move it
        "autumn_first": (autumn.start, 1),
        "autumn_second": (autumn.start + dt.timedelta(days=1), 1),
        "before_october_half_term": (half_terms[0][0] - dt.timedelta(days=3), -1),
        "spring_first": (spring.start, 1),
        "before_february_half_term": (half_terms[1][0] - dt.timedelta(days=3), -1),
        "summer_first": (summer.start, 1),
        "after_may_half_term": (half_terms[2][0] + dt.timedelta(days=7), 1),
        "summer_last": (summer.end, -1),
    }
    for anchor in rules.inset_days:
        day, step = anchors[anchor]
        # Slide off weekends, bank holidays and other INSET days, staying in term.
        while not in_term(day) or day in closed:
            day += dt.timedelta(days=step)
        close(day, day, ClosureKind.INSET, _bilingual("INSET day", "Diwrnod HMS", rules))

    last_autumn_day = autumn.end
    while last_autumn_day in closed or not in_term(last_autumn_day):
        last_autumn_day -= dt.timedelta(days=1)
    close(
        last_autumn_day,
        last_autumn_day,
        ClosureKind.PLANNED,
        _bilingual(
            "Christmas early finish: school closes at lunchtime",
            "Gorffen yn gynnar dros y Nadolig",
            rules,
        ),
        session=Session.PM.value,
    )
    closures.sort(key=lambda c: (c.start, c.session))
    return YearCalendar(start_year=y, terms=terms, closures=tuple(closures))


# --- The three schools ----------------------------------------------------------------------


@dataclass(frozen=True)
class YearSpec:
    nc_year: NCYear
    forms: tuple[str, ...]
    pupils: int  # on roll at scale 1.0


@dataclass(frozen=True)
class Locality:
    name: str
    town: str
    outward: str  # the postcode's first half, e.g. "MK42"
    sectors: str  # digits the second half may start with


@dataclass(frozen=True)
class SchoolBlueprint:
    slug: str
    name: str
    urn: str
    la_code: str
    estab: str  # DfE establishment number, used in the UPNs this school allocates
    jurisdiction: Jurisdiction
    phase: Phase
    welsh_language: bool
    attendance_target: Decimal
    band_preset: str  # a key of interventions.services.BAND_PRESETS: the policy's own bands
    am_register: tuple[dt.time, dt.time]
    am_session_ends: dt.time
    pm_register: tuple[dt.time, dt.time]
    pm_session_ends: dt.time
    years: tuple[YearSpec, ...]
    # NC year -> share of that year's pupils who joined there from another school (an
    # all-through school's Year 7 intake, a sixth form's external students).
    external_entry: Mapping[NCYear, float]
    # Up to this NC year forms keep their teacher each year (primary classes); above it the
    # tutor moves up with the form (secondary), and the top year's tutors take the new intake.
    class_teachers_up_to: NCYear | None
    calendar: CalendarRules
    demo_tutor_form: str
    dual_registered: tuple[tuple[NCYear, Registration], ...]
    top_year_leaving: tuple[DeletionGround, str]
    feeder_estabs: tuple[str, ...]  # primaries in the same LA whose UPNs arrive at Year 7
    nearby_las: tuple[str, ...]  # where in-year movers come from
    council_address: str  # children's services, for social workers' contact rows
    localities: tuple[Locality, ...]
    streets: tuple[str, ...]
    ethnicity: tuple[tuple[str, float], ...]
    fsm_rate: float
    welsh_names: float  # share of White British families with Welsh names
    job_titles: Mapping[Role, str]


def _letters(nc_year: NCYear, count: int) -> tuple[str, ...]:
    return tuple(f"{nc_year.value}{letter}" for letter in "ABCDEFGH"[:count])


_BEDFORD = (
    Locality("Kempston", "Bedford", "MK42", "789"),
    Locality("Queens Park", "Bedford", "MK40", "34"),
    Locality("Brickhill", "Bedford", "MK41", "78"),
    Locality("Goldington", "Bedford", "MK41", "09"),
    Locality("Bromham", "Bedford", "MK43", "8"),
    Locality("Putnoe", "Bedford", "MK41", "8"),
)
_BEDFORD_COUNCIL = "Children's Services\nCivic Offices\nMarket Square\nBedford\nMK40 1AA"
_ABERGAVENNY = (
    Locality("Abergavenny", "Monmouthshire", "NP7", "5679"),
    Locality("Llanfoist", "Abergavenny", "NP7", "9"),
    Locality("Gilwern", "Abergavenny", "NP7", "0"),
    Locality("Govilon", "Abergavenny", "NP7", "9"),
    Locality("Crickhowell", "Powys", "NP8", "1"),
)

KINGSMEAD = SchoolBlueprint(
    slug="kingsmead",
    name="Kingsmead High School",
    urn="149287",
    la_code="822",
    estab="4127",
    jurisdiction=Jurisdiction.ENGLAND,
    phase=Phase.SECONDARY,
    welsh_language=False,
    attendance_target=Decimal("95.0"),
    band_preset="seed_002",  # Bedford High's bands A to G
    # Seed 002: students arrive by 8.25, the register is taken at 8.30; PM at period 4.
    am_register=(dt.time(8, 30), dt.time(8, 50)),
    am_session_ends=dt.time(12, 25),
    pm_register=(dt.time(13, 20), dt.time(13, 40)),
    pm_session_ends=dt.time(15, 0),
    years=(
        *(
            YearSpec(nc, _letters(nc, 6), 190)
            for nc in (NCYear.Y7, NCYear.Y8, NCYear.Y9, NCYear.Y10, NCYear.Y11)
        ),
        YearSpec(NCYear.Y12, _letters(NCYear.Y12, 4), 108),
        YearSpec(NCYear.Y13, _letters(NCYear.Y13, 4), 96),
    ),
    external_entry={NCYear.Y12: 0.2},
    class_teachers_up_to=None,
    calendar=CalendarRules(
        easter_holiday="holy_week",
        summer_term_ends=21,
        inset_days=("autumn_first", "autumn_second", "spring_first", "summer_first", "summer_last"),
    ),
    demo_tutor_form="9B",
    dual_registered=((NCYear.Y10, Registration.MAIN),),
    top_year_leaving=(DeletionGround.NON_CSA, "Completed Year 13."),
    feeder_estabs=("2153", "2160", "2218", "2231", "2247", "3302", "3315"),
    nearby_las=("823", "825", "826", "873"),
    council_address=_BEDFORD_COUNCIL,
    localities=_BEDFORD,
    streets=data.STREETS_ENGLAND,
    ethnicity=data.ETHNICITY_ENGLAND,
    fsm_rate=0.24,
    welsh_names=0.0,
    job_titles={
        Role.ATTENDANCE_OFFICER: "Attendance Officer",
        Role.PASTORAL_LEAD: "Assistant Headteacher (Pastoral)",
        Role.HEADTEACHER: "Headteacher",
        Role.SCHOOL_ADMIN: "Data Manager",
    },
)

OAKFIELD = SchoolBlueprint(
    slug="oakfield",
    name="Oakfield Primary Academy",
    urn="148563",
    la_code="822",
    estab="2139",
    jurisdiction=Jurisdiction.ENGLAND,
    phase=Phase.PRIMARY,
    welsh_language=False,
    attendance_target=Decimal("96.0"),
    band_preset="seed_004",  # the staged approach: above 97%, concern levels 1 and 2
    # Seed 001: registers are taken at 8.50 and close at 9.20; the afternoon mirrors it.
    am_register=(dt.time(8, 50), dt.time(9, 20)),
    am_session_ends=dt.time(12, 0),
    pm_register=(dt.time(13, 0), dt.time(13, 30)),
    pm_session_ends=dt.time(15, 20),
    years=tuple(
        YearSpec(nc, (f"{label} {first}", f"{label} {second}"), 60)
        for nc, label, first, second in (
            (NCYear.R, "Reception", "Rowan", "Willow"),
            (NCYear.Y1, "Year 1", "Hazel", "Holly"),
            (NCYear.Y2, "Year 2", "Birch", "Beech"),
            (NCYear.Y3, "Year 3", "Oak", "Ash"),
            (NCYear.Y4, "Year 4", "Elm", "Maple"),
            (NCYear.Y5, "Year 5", "Cedar", "Larch"),
            (NCYear.Y6, "Year 6", "Pine", "Yew"),
        )
    ),
    external_entry={},
    class_teachers_up_to=NCYear.Y6,
    calendar=CalendarRules(
        easter_holiday="holy_week",
        summer_term_ends=22,
        inset_days=(
            "autumn_first",
            "autumn_second",
            "before_october_half_term",
            "spring_first",
            "summer_last",
        ),
    ),
    demo_tutor_form="Year 3 Oak",
    dual_registered=((NCYear.Y5, Registration.SUBSIDIARY),),
    top_year_leaving=(DeletionGround.A, "Moved on to secondary school for Year 7."),
    feeder_estabs=("2153", "2160", "2218", "2231"),
    nearby_las=("823", "825", "826", "873"),
    council_address=_BEDFORD_COUNCIL,
    localities=_BEDFORD,
    streets=data.STREETS_ENGLAND,
    ethnicity=data.ETHNICITY_ENGLAND,
    fsm_rate=0.24,
    welsh_names=0.0,
    job_titles={
        Role.ATTENDANCE_OFFICER: "Attendance and Welfare Officer",
        Role.PASTORAL_LEAD: "Deputy Headteacher (Inclusion)",
        Role.HEADTEACHER: "Headteacher",
        Role.SCHOOL_ADMIN: "School Business Manager",
    },
)

BRO_DERWEN = SchoolBlueprint(
    slug="bro-derwen",
    name="Ysgol Bro Derwen",
    urn="402871",
    la_code="679",  # Monmouthshire (Welsh LA codes run 660-681)
    estab="4062",
    jurisdiction=Jurisdiction.WALES,
    phase=Phase.ALL_THROUGH,
    welsh_language=True,
    attendance_target=Decimal("96.0"),
    band_preset="seed_000",  # King Henry VIII's tiers (a Welsh school)
    # Seed 000: the register is open for 20 minutes from the start of the school day.
    am_register=(dt.time(8, 40), dt.time(9, 0)),
    am_session_ends=dt.time(12, 20),
    pm_register=(dt.time(13, 15), dt.time(13, 35)),
    pm_session_ends=dt.time(15, 10),
    years=(
        YearSpec(NCYear.N2, ("Nursery Bedw",), 24),
        *(
            YearSpec(nc, (f"{label} {tree}",), 30)
            for nc, label, tree in (
                (NCYear.R, "Reception", "Celyn"),
                (NCYear.Y1, "Year 1", "Collen"),
                (NCYear.Y2, "Year 2", "Derw"),
                (NCYear.Y3, "Year 3", "Ffawydd"),
                (NCYear.Y4, "Year 4", "Helyg"),
                (NCYear.Y5, "Year 5", "Onnen"),
                (NCYear.Y6, "Year 6", "Ywen"),
            )
        ),
        *(
            YearSpec(nc, _letters(nc, 4), 118)
            for nc in (NCYear.Y7, NCYear.Y8, NCYear.Y9, NCYear.Y10, NCYear.Y11)
        ),
        YearSpec(NCYear.Y12, _letters(NCYear.Y12, 3), 68),
        YearSpec(NCYear.Y13, _letters(NCYear.Y13, 3), 60),
    ),
    # Most of Year 7 arrives from the partner primaries; a few join the sixth form.
    external_entry={NCYear.R: 0.2, NCYear.Y7: 0.75, NCYear.Y12: 0.15},
    class_teachers_up_to=NCYear.Y6,
    calendar=CalendarRules(
        easter_holiday="from_good_friday",
        summer_term_ends=20,
        inset_days=(
            "autumn_first",
            "autumn_second",
            "spring_first",
            "before_february_half_term",
            "summer_first",
        ),
        welsh=True,
    ),
    demo_tutor_form="8B",
    dual_registered=((NCYear.Y9, Registration.MAIN),),
    top_year_leaving=(DeletionGround.NON_CSA, "Completed Year 13."),
    feeder_estabs=("2041", "2057", "2063", "2118", "3324"),
    nearby_las=("666", "677", "678", "680", "884"),
    council_address="Children's Services\nCounty Hall\nRhadyr\nUsk\nNP15 1AA",
    localities=_ABERGAVENNY,
    streets=data.STREETS_WALES,
    ethnicity=data.ETHNICITY_WALES,
    fsm_rate=0.20,
    welsh_names=0.55,
    job_titles={
        Role.ATTENDANCE_OFFICER: "Attendance Officer",
        Role.PASTORAL_LEAD: "Assistant Headteacher (Wellbeing)",
        Role.HEADTEACHER: "Headteacher",
        Role.SCHOOL_ADMIN: "Data Manager",
    },
)

BLUEPRINTS = (KINGSMEAD, OAKFIELD, BRO_DERWEN)

# The demo parent: two children at the primary and their older sister at the secondary.
_PARENT = ("Rachel", "Hughes", "parent@northfield.example.org")
_PARENT_PARTNER = ("Daniel", "Hughes")
_FAMILY: tuple[tuple[str, NCYear, str, Gender], ...] = (
    ("oakfield", NCYear.Y1, "Poppy", Gender.FEMALE),
    ("oakfield", NCYear.Y4, "Alfie", Gender.MALE),
    ("kingsmead", NCYear.Y8, "Evie", Gender.FEMALE),
)
_FAMILY_ADDRESS = "27 Linden Road\nBrickhill\nBedford\nMK41 7QT"
_TRUST_LEADER = ("Amanda", "Rowe", "trust.leader@northfield.example.org")


# --- The plan (pure) ------------------------------------------------------------------------


@dataclass
class ContactPlan:
    full_name: str
    relationship: Relationship
    parental_responsibility: bool
    lives_with_pupil: bool
    priority: int
    mobile_phone: str = ""
    home_phone: str = ""
    work_phone: str = ""
    email: str = ""
    address: str = ""


@dataclass
class PlacementPlan:
    start_year: int  # the academic year of the form
    form: str
    start: dt.date
    end: dt.date | None


@dataclass
class PupilPlan:
    nc_year: NCYear  # the year group of the pupil's last year at the school
    upn: str
    legal_forename: str
    legal_surname: str
    date_of_birth: dt.date
    gender: Gender
    ethnicity: str
    start_date: dt.date
    placements: list[PlacementPlan]
    contacts: list[ContactPlan] = field(default_factory=list)
    preferred_forename: str = ""
    preferred_surname: str = ""
    fsm: bool = False
    pupil_premium: bool = False
    sen_status: SenStatus = SenStatus.NONE
    eal: bool = False
    looked_after: bool = False
    child_in_need: bool = False
    child_protection_plan: bool = False
    young_carer: bool = False
    leaving_date: dt.date | None = None
    deletion_ground: str = ""
    deletion_note: str = ""
    registration: Registration = Registration.SINGLE


@dataclass
class StaffPlan:
    username: str
    first_name: str
    last_name: str
    role: Role
    job_title: str
    demo: bool  # a printed demo login, with the demo password


@dataclass
class SchoolPlan:
    blueprint: SchoolBlueprint
    calendars: tuple[YearCalendar, YearCalendar]  # last academic year, this one
    staff: list[StaffPlan]
    tutors: list[tuple[int, str, str]]  # (academic year, form name, username)
    pupils: list[PupilPlan]


@dataclass
class TrustPlan:
    schools: list[SchoolPlan]
    parent_links: list[tuple[str, str]]  # (school slug, UPN) for the demo parent


def _year_number(nc_year: NCYear) -> int:
    """Reception is 0, nursery -1 and -2, Year 7 is 7: a child's age on 31 August minus 4."""
    return NC_YEAR_ORDER[nc_year] - NC_YEAR_ORDER[NCYear.R]


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum()).lower()


def _scaled(count: int, scale: float, minimum: int) -> int:
    return max(minimum, round(count * scale))


class _UpnAllocator:
    """Hands out UPN serial numbers per (LA, establishment, year of allocation), like an LA."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}

    def allocate(self, la_code: str, estab: str, year: int) -> str:
        prefix = f"{la_code}{estab}{year % 100:02d}"
        if prefix not in self._next:
            self._next[prefix] = random.Random(f"{_SEED}:upn:{prefix}").randrange(1, 300)
        serial = self._next[prefix]
        self._next[prefix] = serial + 1
        if serial > 999:
            raise RuntimeError(f"Ran out of demo UPN serials for {prefix}.")
        upn = upn_make(f"{prefix}{serial:03d}")
        error = upn_error(upn)
        if error:
            raise RuntimeError(error)
        return upn


class _SchoolPlanner:
    """Plans one school's staff and pupils for the academic year starting ``current``."""

    def __init__(self, blueprint: SchoolBlueprint, *, current: int, scale: float) -> None:
        self.bp = blueprint
        self.current = current
        self.scale = scale
        self.upns = _UpnAllocator()
        self.years = {spec.nc_year: spec for spec in blueprint.years}
        self.by_number = {_year_number(spec.nc_year): spec for spec in blueprint.years}
        self.first = _year_number(blueprint.years[0].nc_year)
        self.counts = {
            spec.nc_year: _scaled(spec.pupils, scale, minimum=len(spec.forms))
            for spec in blueprint.years
        }

    def calendar(self, start_year: int) -> YearCalendar:
        return year_calendar(self.bp.calendar, start_year)

    def rng(self, purpose: str) -> random.Random:
        # One generator per school and purpose: changing one year's size leaves the others be.
        return random.Random(f"{_SEED}:{self.bp.slug}:{purpose}")

    # --- staff -------------------------------------------------------------------------------

    def plan_staff(self) -> tuple[list[StaffPlan], list[tuple[int, str, str]]]:
        rng = self.rng("staff")
        staff: list[StaffPlan] = []
        usernames: set[str] = set()

        def person(
            role: Role, job_title: str, username: str | None = None, *, demo: bool = False
        ) -> StaffPlan:
            group = "welsh" if rng.random() < self.bp.welsh_names else "british"
            women, men = data.ADULT_FORENAMES[group]
            first = rng.choice(women if rng.random() < 0.7 else men)
            if rng.random() < 0.15:  # staff rooms are diverse too
                group = rng.choice(("indian", "south_asian", "african", "european", "caribbean"))
                first = rng.choice(rng.choice(data.FORENAMES[group]))
            last = rng.choice(data.SURNAMES[group])
            if username is None:
                stem = f"{_ascii(first)}.{_ascii(last)}"
                username, n = f"{stem}@{self.bp.slug}.example.org", 1
                while username in usernames:
                    n += 1
                    username = f"{stem}{n}@{self.bp.slug}.example.org"
            usernames.add(username)
            plan = StaffPlan(username, first, last, role, job_title, demo=demo)
            staff.append(plan)
            return plan

        for role, local in (
            (Role.ATTENDANCE_OFFICER, "officer"),
            (Role.PASTORAL_LEAD, "pastoral"),
            (Role.HEADTEACHER, "head"),
            (Role.SCHOOL_ADMIN, "admin"),
        ):
            person(role, self.bp.job_titles[role], f"{local}@{self.bp.slug}.example.org", demo=True)

        tutors: list[tuple[int, str, str]] = []
        current_tutor: dict[tuple[int, int], str] = {}  # (year number, form index) -> username
        for spec in self.bp.years:
            for index, form in enumerate(spec.forms):
                title = (
                    f"Class teacher, {form}"
                    if self._keeps_teacher(_year_number(spec.nc_year))
                    else f"Form tutor, {form}"
                )
                demo = form == self.bp.demo_tutor_form
                username = f"tutor@{self.bp.slug}.example.org" if demo else None
                plan = person(Role.FORM_TUTOR, title, username, demo=demo)
                current_tutor[(_year_number(spec.nc_year), index)] = plan.username
                tutors.append((self.current, form, plan.username))

        # Last year's forms: class teachers stayed with their year group; tutors moved up with
        # their forms, and those whose forms left took this year's intake.
        claimed: dict[tuple[int, int], str] = {}  # last year's form -> its tutor
        used: set[tuple[int, int]] = set()
        leftovers: list[tuple[int, int]] = []
        for spec in self.bp.years:
            number = _year_number(spec.nc_year)
            for index in range(len(spec.forms)):
                successor: tuple[int, int] | None = None
                if self._keeps_teacher(number):
                    successor = (number, index)
                elif (number + 1, index) in current_tutor:
                    successor = (number + 1, index)
                if successor is None or successor in used:
                    leftovers.append((number, index))
                    continue
                used.add(successor)
                claimed[(number, index)] = current_tutor[successor]
        free = [key for key in current_tutor if key not in used]
        for number, index in leftovers:
            if free:
                claimed[(number, index)] = current_tutor[free.pop(0)]
            else:
                form = self.by_number[number].forms[index]
                claimed[(number, index)] = person(Role.FORM_TUTOR, f"Form tutor, {form}").username
        for (number, index), username in claimed.items():
            tutors.append((self.current - 1, self.by_number[number].forms[index], username))
        return staff, tutors

    def _keeps_teacher(self, number: int) -> bool:
        limit = self.bp.class_teachers_up_to
        return limit is not None and number <= _year_number(limit)

    # --- pupils ------------------------------------------------------------------------------

    def plan_pupils(self) -> list[PupilPlan]:
        pupils: list[PupilPlan] = []
        for spec in self.bp.years:
            rng = self.rng(f"pupils:{spec.nc_year.value}")
            for i in range(self.counts[spec.nc_year]):
                pupils.append(self.pupil(rng, number_now=_year_number(spec.nc_year), form_index=i))
        pupils += self.plan_leavers()
        for nc_year, registration in self.bp.dual_registered:
            # Dual registration: the pupil also attends another setting (alternative
            # provision, or a special school that holds the main registration).
            candidates = [p for p in pupils if p.nc_year == nc_year and p.leaving_date is None]
            candidates[len(candidates) // 2].registration = registration
        return pupils

    def plan_leavers(self) -> list[PupilPlan]:
        last_year = self.calendar(self.current - 1)
        leavers: list[PupilPlan] = []
        top = self.bp.years[-1]
        rng = self.rng("leavers")
        ground, note = self.bp.top_year_leaving
        for i in range(self.counts[top.nc_year]):
            leavers.append(
                self.pupil(
                    rng,
                    number_now=_year_number(top.nc_year) + 1,
                    form_index=i,
                    leaving=(last_year.last_school_day, ground, note),
                )
            )
        if NCYear.Y12 in self.years:
            # Year 11 leavers who went to college or an apprenticeship instead of the sixth form.
            stayed = round(self.counts[NCYear.Y12] * (1 - self.bp.external_entry[NCYear.Y12]))
            for i in range(max(1, self.counts[NCYear.Y11] - stayed)):
                leavers.append(
                    self.pupil(
                        rng,
                        number_now=12,
                        form_index=i,
                        leaving=(
                            last_year.last_school_day,
                            DeletionGround.L,
                            "Left at the end of Year 11 for college.",
                        ),
                    )
                )
        # A handful who left during last year.
        days = last_year.school_calendar.school_days_between(
            last_year.first_school_day_after_half_term(10), dt.date(self.current, 6, 30)
        )
        reasons = (
            (DeletionGround.A, "Registered at a school in Milton Keynes after a house move."),
            (DeletionGround.G, "Family moved to Cornwall."),
            (DeletionGround.F, "Parent's letter: elective home education."),
        )
        for i in range(max(1, round(3 * self.scale))):
            spec = rng.choice(self.bp.years[1:])
            ground, note = reasons[i % len(reasons)]
            leavers.append(
                self.pupil(
                    rng,
                    number_now=_year_number(spec.nc_year),
                    form_index=i,
                    leaving=(rng.choice(days), ground, note),
                )
            )
        return leavers

    def pupil(
        self,
        rng: random.Random,
        *,
        number_now: int,
        form_index: int,
        leaving: tuple[dt.date, DeletionGround, str] | None = None,
    ) -> PupilPlan:
        """One pupil, in NC year ``number_now`` this year (or who would be, for a leaver)."""
        bp = self.bp
        last_start = self.current if leaving is None else self.current - 1
        number_last = number_now - (self.current - last_start)
        forms_last = self.by_number[number_last].forms

        # Where did they join? Walk down the school's entry points (e.g. sixth form, Year 7);
        # everyone else started in the school's first year.
        entry, from_elsewhere = self.first, self.first > 0
        for nc_year, share in sorted(
            bp.external_entry.items(), key=lambda item: -_year_number(item[0])
        ):
            number = _year_number(nc_year)
            if number <= number_last and rng.random() < share:
                entry, from_elsewhere = number, True
                break
        entry_year = self.current - (number_now - entry)
        start = self.calendar(entry_year).first_school_day
        in_year = rng.random() < 0.04
        if in_year:  # an in-year admission, on the first day back after a half-term
            join_year = rng.randint(entry_year, last_start)
            # This year's joiners came after October half-term, so most are on roll by now.
            half_term = 10 if join_year == self.current else rng.choice((10, 2))
            start = self.calendar(join_year).first_school_day_after_half_term(half_term)
            from_elsewhere = True
        if leaving is not None and start >= leaving[0]:
            start = self.calendar(entry_year).first_school_day

        # The UPN was allocated by the first school the child joined, in that school's LA.
        reception_year = self.current - number_now
        if not from_elsewhere:
            upn = self.upns.allocate(bp.la_code, bp.estab, entry_year)
        elif rng.random() < (0.5 if in_year else 0.1):
            la_code = rng.choice(bp.nearby_las)
            upn = self.upns.allocate(la_code, f"2{rng.randrange(100, 400)}", reception_year)
        else:
            upn = self.upns.allocate(bp.la_code, rng.choice(bp.feeder_estabs), reception_year)

        # Born between 1 September and 31 August of the right school year.
        born_from = dt.date(self.current - number_now - 6, 9, 1)
        born_to = dt.date(self.current - number_now - 5, 8, 31)
        dob = born_from + dt.timedelta(days=rng.randrange((born_to - born_from).days + 1))

        gender = Gender.FEMALE if rng.random() < 0.5 else Gender.MALE
        ethnicity = _weighted(rng, bp.ethnicity)
        forename_groups, surname_groups = data.ETHNICITY_NAME_GROUPS[ethnicity]
        forename_group = rng.choice(forename_groups)
        surname_group = rng.choice(surname_groups)
        if ethnicity == "WBRI" and rng.random() < bp.welsh_names:
            forename_group = "welsh"
            surname_group = "welsh" if rng.random() < 0.8 else "british"
        girls, boys = data.FORENAMES[forename_group]
        forename = rng.choice(girls if gender == Gender.FEMALE else boys)
        surname = rng.choice(data.SURNAMES[surname_group])

        placements: list[PlacementPlan] = []
        alternative = rng.randrange(1000)  # form choice when forms are reshuffled (sixth form)
        leaving_date = leaving[0] if leaving else None
        for year_start in (self.current - 1, self.current):
            calendar = self.calendar(year_start)
            number = number_now - (self.current - year_start)
            on_roll = start <= calendar.end_date and (
                leaving_date is None or leaving_date >= calendar.start_date
            )
            if not on_roll or number not in self.by_number:
                continue
            forms = self.by_number[number].forms
            index = form_index if len(forms) == len(forms_last) else alternative
            end = None if year_start == self.current else calendar.end_date
            if leaving_date is not None and (end is None or leaving_date < end):
                end = leaving_date
            placements.append(
                PlacementPlan(
                    year_start, forms[index % len(forms)], max(calendar.start_date, start), end
                )
            )

        pupil = PupilPlan(
            nc_year=self.by_number[number_last].nc_year,
            upn=upn,
            legal_forename=forename,
            legal_surname=surname,
            date_of_birth=dob,
            gender=gender,
            ethnicity=ethnicity,
            start_date=start,
            placements=placements,
        )
        if leaving is not None:
            pupil.leaving_date, ground, pupil.deletion_note = leaving
            pupil.deletion_ground = ground.value
        if forename in data.PREFERRED_FORENAMES and rng.random() < 0.4:
            pupil.preferred_forename = data.PREFERRED_FORENAMES[forename]
        step_family = rng.random() < 0.015
        if step_family:  # known by a step-parent's surname
            pupil.preferred_surname = rng.choice(data.SURNAMES[surname_group])

        # Characteristics, at roughly national rates (DfE and Welsh Government, 2024/25).
        pupil.looked_after = rng.random() < 0.01
        pupil.child_protection_plan = not pupil.looked_after and rng.random() < 0.01
        pupil.child_in_need = pupil.child_protection_plan or (
            not pupil.looked_after and rng.random() < 0.02
        )
        pupil.fsm = rng.random() < bp.fsm_rate
        # Pupil premium: FSM now or in the last six years, service children, looked after.
        pupil.pupil_premium = pupil.fsm or pupil.looked_after or rng.random() < 0.05
        sen = rng.random()
        pupil.sen_status = (
            SenStatus.EHC_PLAN
            if sen < 0.025
            else SenStatus.SUPPORT
            if sen < 0.155
            else SenStatus.NONE
        )
        pupil.eal = rng.random() < data.EAL_RATE[ethnicity]
        pupil.young_carer = number_now >= 3 and rng.random() < 0.025
        pupil.contacts = self.contacts(rng, pupil, forename_group, surname_group, step_family)
        return pupil

    def contacts(
        self,
        rng: random.Random,
        pupil: PupilPlan,
        forename_group: str,
        surname_group: str,
        step_family: bool,
    ) -> list[ContactPlan]:
        address = self.address(rng)
        home_phone = f"01632 960{rng.randrange(1000):03d}" if rng.random() < 0.35 else ""

        def adult(female: bool, surname: str) -> str:
            group = forename_group if forename_group in data.ADULT_FORENAMES else None
            if group is None:
                women, men = data.FORENAMES[forename_group]
            else:
                women, men = data.ADULT_FORENAMES[group]
            return f"{rng.choice(women if female else men)} {surname}"

        def contact(
            name: str,
            relationship: Relationship,
            *,
            responsibility: bool = True,
            lives_with: bool = True,
            at: str | None = None,
        ) -> ContactPlan:
            first, _, last = name.partition(" ")
            email = f"{_ascii(first)}.{_ascii(last)}{rng.randrange(10, 99)}@example.com"
            return ContactPlan(
                full_name=name,
                relationship=relationship,
                parental_responsibility=responsibility,
                lives_with_pupil=lives_with,
                priority=0,
                mobile_phone=f"07700 900{rng.randrange(1000):03d}",
                home_phone=home_phone if lives_with else "",
                email=email if rng.random() < 0.9 else "",
                address=address if lives_with else (at or self.address(rng)),
            )

        surname = pupil.legal_surname
        other_surname = rng.choice(data.SURNAMES[surname_group])
        found: list[ContactPlan] = []
        if pupil.looked_after:
            carer_surname = rng.choice(data.SURNAMES["british"])
            found.append(
                contact(adult(True, carer_surname), Relationship.CARER, responsibility=False)
            )
            worker = contact(
                f"{rng.choice(data.ADULT_FORENAMES['british'][0])} {rng.choice(data.SURNAMES['british'])}",
                Relationship.SOCIAL_WORKER,
                responsibility=False,
                lives_with=False,
                at=self.bp.council_address,
            )
            worker.work_phone, worker.mobile_phone = f"01632 960{rng.randrange(1000):03d}", ""
            found.append(worker)
            if rng.random() < 0.5:
                found.append(contact(adult(True, surname), Relationship.MOTHER, lives_with=False))
        else:
            first_contact = rng.random()
            mother_surname = surname if rng.random() < 0.75 else other_surname
            if first_contact < 0.82:
                found.append(contact(adult(True, mother_surname), Relationship.MOTHER))
                roll = rng.random()
                if step_family:
                    step_name = adult(False, pupil.preferred_surname or other_surname)
                    found.append(contact(step_name, Relationship.STEP_PARENT, responsibility=False))
                elif roll < 0.6:
                    found.append(contact(adult(False, surname), Relationship.FATHER))
                elif roll < 0.8:
                    found.append(
                        contact(adult(False, surname), Relationship.FATHER, lives_with=False)
                    )
            elif first_contact < 0.95:
                found.append(contact(adult(False, surname), Relationship.FATHER))
                if rng.random() < 0.6:
                    found.append(
                        contact(adult(True, mother_surname), Relationship.MOTHER, lives_with=False)
                    )
            else:  # kinship care with a grandparent under a special guardianship order
                found.append(contact(adult(True, surname), Relationship.GRANDPARENT))
            if len(found) < 3 and rng.random() < 0.3:
                found.append(
                    contact(
                        adult(rng.random() < 0.6, rng.choice((surname, other_surname))),
                        Relationship.GRANDPARENT,
                        responsibility=False,
                        lives_with=False,
                    )
                )
        for priority, planned in enumerate(found, start=1):
            planned.priority = priority
        return found

    def address(self, rng: random.Random) -> str:
        place = rng.choice(self.bp.localities)
        inward = (
            rng.choice(place.sectors)
            + rng.choice(data.POSTCODE_LETTERS)
            + rng.choice(data.POSTCODE_LETTERS)
        )
        street = f"{rng.randrange(1, 180)} {rng.choice(self.bp.streets)}"
        town = "" if place.town == place.name else f"\n{place.town}"
        return f"{street}\n{place.name}{town}\n{place.outward} {inward}"


def _weighted(rng: random.Random, weights: Sequence[tuple[str, float]]) -> str:
    return rng.choices([value for value, _ in weights], weights=[w for _, w in weights])[0]


def _plan_trust(*, today: dt.date, scale: float) -> TrustPlan:
    current = academic_year_start(today).year
    schools: list[SchoolPlan] = []
    for blueprint in BLUEPRINTS:
        planner = _SchoolPlanner(blueprint, current=current, scale=scale)
        staff, tutors = planner.plan_staff()
        schools.append(
            SchoolPlan(
                blueprint=blueprint,
                calendars=(planner.calendar(current - 1), planner.calendar(current)),
                staff=staff,
                tutors=tutors,
                pupils=planner.plan_pupils(),
            )
        )
    return TrustPlan(schools=schools, parent_links=_plan_family(schools))


def _plan_family(schools: list[SchoolPlan]) -> list[tuple[str, str]]:
    """Turn three planned pupils into the demo parent's children, and return the links."""
    by_slug = {plan.blueprint.slug: plan for plan in schools}
    links: list[tuple[str, str]] = []
    first, last, email = _PARENT
    for slug, nc_year, forename, gender in _FAMILY:
        plan = by_slug[slug]
        first_day = plan.calendars[1].first_school_day
        candidates = [p for p in plan.pupils if p.nc_year == nc_year and p.leaving_date is None]
        pupil = next(
            (
                p
                for p in candidates
                if p.start_date <= first_day
                and p.registration == Registration.SINGLE
                and not p.looked_after
            ),
            candidates[0],
        )
        pupil.legal_forename, pupil.legal_surname, pupil.gender = forename, last, gender
        pupil.preferred_forename = pupil.preferred_surname = ""
        pupil.ethnicity, pupil.eal = "WBRI", False
        pupil.child_protection_plan = pupil.child_in_need = False
        pupil.contacts = [
            ContactPlan(
                full_name=f"{first} {last}",
                relationship=Relationship.MOTHER,
                parental_responsibility=True,
                lives_with_pupil=True,
                priority=1,
                mobile_phone="07700 900461",
                home_phone="01632 960274",
                email=email,
                address=_FAMILY_ADDRESS,
            ),
            ContactPlan(
                full_name=" ".join(_PARENT_PARTNER),
                relationship=Relationship.FATHER,
                parental_responsibility=True,
                lives_with_pupil=True,
                priority=2,
                mobile_phone="07700 900833",
                home_phone="01632 960274",
                email="daniel.hughes@example.com",
                address=_FAMILY_ADDRESS,
            ),
        ]
        links.append((slug, pupil.upn))
    return links


# --- Writing --------------------------------------------------------------------------------


@transaction.atomic
def seed_demo_trust(*, today: dt.date, scale: float = 1.0) -> DemoSummary:
    """Create the Northfield demo trust, or add whatever part of it is missing.

    ``today`` picks the academic year (the previous one is seeded too); ``scale`` multiplies
    the pupil numbers (1.0 is about 2,500 pupils on roll; every form keeps at least one
    pupil). Idempotent and deterministic: rows are found by natural key and never duplicated,
    and the same academic year and scale always plan the same rows. Runs in one transaction.
    Raises ``ValueError`` for a scale that is not positive.
    """
    if not scale > 0:
        raise ValueError("scale must be a positive number")
    plan = _plan_trust(today=today, scale=scale)
    created: Counter[str] = Counter()
    with scopes_disabled():  # seeding spans three schools; every query filters by school
        trust, made = Trust.objects.get_or_create(slug=TRUST_SLUG, defaults={"name": TRUST_NAME})
        created[Trust._meta.label] += made
        users = _ensure_users(plan, created)
        _, made = TrustMembership.objects.get_or_create(trust=trust, user=users[_TRUST_LEADER[2]])
        created[TrustMembership._meta.label] += made
        schools: dict[str, School] = {}
        for school_plan in plan.schools:
            school = _ensure_school(trust, school_plan.blueprint, created)
            _ensure_bands(school, school_plan.blueprint)
            _write_school(school, school_plan, users, created)
            schools[school.slug] = school
        _write_parent_links(plan, schools, users[_PARENT[2]], created)
        return _summarise(plan, schools, today=today, created=created)


def _create_missing(
    model: type[_M],
    rows: Iterable[_M],
    *,
    school: School,
    key: Sequence[str],
    created: Counter[str],
) -> None:
    """Insert the ``rows`` whose ``key`` is not yet in the database for ``school``."""
    manager = model._default_manager
    existing = set(manager.filter(school=school).values_list(*key))
    missing: list[_M] = []
    for row in rows:
        row_key = tuple(getattr(row, name) for name in key)
        if row_key not in existing:
            existing.add(row_key)
            missing.append(row)
    manager.bulk_create(missing, batch_size=_BATCH)
    created[model._meta.label] += len(missing)


def _ensure_users(plan: TrustPlan, created: Counter[str]) -> dict[str, User]:
    demo_hash = make_password(DEMO_PASSWORD, salt=_DEMO_SALT)
    wanted: dict[str, tuple[str, str, bool]] = {
        staff.username: (staff.first_name, staff.last_name, staff.demo)
        for school in plan.schools
        for staff in school.staff
    }
    wanted[_TRUST_LEADER[2]] = (_TRUST_LEADER[0], _TRUST_LEADER[1], True)
    wanted[_PARENT[2]] = (_PARENT[0], _PARENT[1], True)
    existing = {user.username: user for user in User.objects.filter(username__in=wanted)}
    User.objects.bulk_create(
        [
            User(
                username=username,
                email=username,
                first_name=first,
                last_name=last,
                password=demo_hash if demo else _NO_SIGN_IN,
            )
            for username, (first, last, demo) in wanted.items()
            if username not in existing
        ],
        batch_size=_BATCH,
    )
    created[User._meta.label] += len(wanted) - len(existing)
    for username, user in existing.items():
        if wanted[username][2] and user.password != demo_hash:
            # The printed logins must work, so a changed demo password is put back.
            user.password = demo_hash
            user.save(update_fields=["password"])
    return {user.username: user for user in User.objects.filter(username__in=wanted)}


def _ensure_school(trust: Trust, bp: SchoolBlueprint, created: Counter[str]) -> School:
    school = School.objects.filter(slug=bp.slug).first()
    if school is not None:
        return school
    school = School(
        trust=trust,
        name=bp.name,
        slug=bp.slug,
        urn=bp.urn,
        la_code=bp.la_code,
        jurisdiction=bp.jurisdiction,
        phase=bp.phase,
        welsh_language=bp.welsh_language,
        attendance_target=bp.attendance_target,
        am_register_opens=bp.am_register[0],
        am_register_closes=bp.am_register[1],
        am_session_ends=bp.am_session_ends,
        pm_register_opens=bp.pm_register[0],
        pm_register_closes=bp.pm_register[1],
        pm_session_ends=bp.pm_session_ends,
    )
    school.full_clean()  # register windows, URN and LA code formats
    school.save()
    created[School._meta.label] += 1
    return school


def _ensure_bands(school: School, bp: SchoolBlueprint) -> None:
    # Only a school without bands gets the preset: bands changed on the settings page stay.
    if not AttendanceBand.objects.filter(school=school).exists():
        bands_install_preset(school=school, preset=bp.band_preset)


def _write_school(
    school: School, plan: SchoolPlan, users: Mapping[str, User], created: Counter[str]
) -> None:
    bp = plan.blueprint
    _create_missing(
        YearGroup,
        (
            YearGroup(
                school=school,
                nc_year=spec.nc_year,
                name="Nursery" if spec.nc_year == NCYear.N2 else spec.nc_year.label,
                sort_order=NC_YEAR_ORDER[spec.nc_year],
            )
            for spec in bp.years
        ),
        school=school,
        key=("nc_year",),
        created=created,
    )
    year_groups = dict(YearGroup.objects.filter(school=school).values_list("nc_year", "pk"))

    # The calendar.
    _create_missing(
        AcademicYear,
        (
            AcademicYear(school=school, name=c.name, start_date=c.start_date, end_date=c.end_date)
            for c in plan.calendars
        ),
        school=school,
        key=("start_date",),
        created=created,
    )
    academic_years = {
        start.year: pk
        for start, pk in AcademicYear.objects.filter(school=school).values_list("start_date", "pk")
    }
    _create_missing(
        Term,
        (
            Term(
                school=school,
                academic_year_id=academic_years[c.start_year],
                name=term.name,
                start_date=term.start,
                end_date=term.end,
            )
            for c in plan.calendars
            for term in c.terms
        ),
        school=school,
        key=("start_date",),
        created=created,
    )
    _create_missing(
        Closure,
        (
            Closure(
                school=school,
                start_date=closure.start,
                end_date=closure.end,
                session=closure.session,
                kind=closure.kind,
                description=closure.description,
            )
            for c in plan.calendars
            for closure in c.closures
        ),
        school=school,
        key=("start_date", "end_date", "session", "kind"),
        created=created,
    )

    # Forms, staff and tutors.
    _create_missing(
        FormGroup,
        (
            FormGroup(
                school=school,
                academic_year_id=academic_years[c.start_year],
                year_group_id=year_groups[spec.nc_year],
                name=form,
            )
            for c in plan.calendars
            for spec in bp.years
            for form in spec.forms
        ),
        school=school,
        key=("academic_year_id", "name"),
        created=created,
    )
    forms = {
        (academic_year_id, name): pk
        for academic_year_id, name, pk in FormGroup.objects.filter(school=school).values_list(
            "academic_year_id", "name", "pk"
        )
    }
    _create_missing(
        StaffMembership,
        (
            StaffMembership(
                school=school,
                user=users[staff.username],
                role=staff.role,
                job_title=staff.job_title,
            )
            for staff in plan.staff
        ),
        school=school,
        key=("user_id",),
        created=created,
    )
    memberships = dict(
        StaffMembership.objects.filter(school=school).values_list("user__username", "pk")
    )
    _create_missing(
        FormTutor,
        (
            FormTutor(
                school=school,
                form_id=forms[(academic_years[year], form)],
                membership_id=memberships[username],
            )
            for year, form, username in plan.tutors
        ),
        school=school,
        key=("form_id", "membership_id"),
        created=created,
    )

    # Pupils and everything hanging off them.
    _create_missing(
        Pupil,
        (
            Pupil(
                school=school,
                upn=p.upn,
                legal_forename=p.legal_forename,
                legal_surname=p.legal_surname,
                preferred_forename=p.preferred_forename,
                preferred_surname=p.preferred_surname,
                date_of_birth=p.date_of_birth,
                gender=p.gender,
                ethnicity=p.ethnicity,
                fsm=p.fsm,
                sen_status=p.sen_status,
                eal=p.eal,
                looked_after=p.looked_after,
                child_in_need=p.child_in_need,
                child_protection_plan=p.child_protection_plan,
                young_carer=p.young_carer,
                pupil_premium=p.pupil_premium,
            )
            for p in plan.pupils
        ),
        school=school,
        key=("upn",),
        created=created,
    )
    pupils = dict(Pupil.objects.filter(school=school).values_list("upn", "pk"))
    _create_missing(
        Enrolment,
        (
            Enrolment(
                school=school,
                pupil_id=pupils[p.upn],
                start_date=p.start_date,
                leaving_date=p.leaving_date,
                deletion_ground=p.deletion_ground,
                deletion_note=p.deletion_note,
                registration=p.registration,
            )
            for p in plan.pupils
        ),
        school=school,
        key=("pupil_id", "start_date"),
        created=created,
    )
    _create_missing(
        FormPlacement,
        (
            FormPlacement(
                school=school,
                pupil_id=pupils[p.upn],
                form_id=forms[(academic_years[placement.start_year], placement.form)],
                start_date=placement.start,
                end_date=placement.end,
            )
            for p in plan.pupils
            for placement in p.placements
        ),
        school=school,
        key=("pupil_id", "form_id", "start_date"),
        created=created,
    )
    _create_missing(
        Contact,
        (
            Contact(
                school=school,
                pupil_id=pupils[p.upn],
                full_name=c.full_name,
                relationship=c.relationship,
                parental_responsibility=c.parental_responsibility,
                lives_with_pupil=c.lives_with_pupil,
                priority=c.priority,
                mobile_phone=c.mobile_phone,
                home_phone=c.home_phone,
                work_phone=c.work_phone,
                email=c.email,
                address=c.address,
            )
            for p in plan.pupils
            for c in p.contacts
        ),
        school=school,
        key=("pupil_id", "priority"),
        created=created,
    )


def _write_parent_links(
    plan: TrustPlan, schools: Mapping[str, School], parent: User, created: Counter[str]
) -> None:
    for slug, upn in plan.parent_links:
        school = schools[slug]
        pupil = Pupil.objects.get(school=school, upn=upn)
        mother = Contact.objects.filter(school=school, pupil=pupil, priority=1).first()
        _create_missing(
            ParentLink,
            [ParentLink(school=school, user=parent, pupil=pupil, contact=mother)],
            school=school,
            key=("user_id", "pupil_id"),
            created=created,
        )


def _summarise(
    plan: TrustPlan, schools: Mapping[str, School], *, today: dt.date, created: Counter[str]
) -> DemoSummary:
    logins: list[DemoLogin] = []
    counts: list[DemoSchool] = []
    for school_plan in plan.schools:
        school = schools[school_plan.blueprint.slug]
        home = reverse("schools:home", kwargs={"school_slug": school.slug})
        for staff in school_plan.staff:
            if staff.demo:
                detail = (
                    f"tutor of {school_plan.blueprint.demo_tutor_form}"
                    if staff.role == Role.FORM_TUTOR
                    else ""
                )
                logins.append(
                    DemoLogin(staff.role, school.name, staff.username, DEMO_PASSWORD, home, detail)
                )
        pupils = Pupil.objects.filter(school=school)
        counts.append(
            DemoSchool(
                name=school.name,
                slug=school.slug,
                jurisdiction=school.get_jurisdiction_display(),
                pupils_on_roll=pupils.on_roll(today).count(),
                pupils_total=pupils.count(),
                forms=FormGroup.objects.filter(
                    school=school,
                    academic_year__start_date__lte=today,
                    academic_year__end_date__gte=today,
                ).count(),
                staff=StaffMembership.objects.filter(school=school).count(),
            )
        )
    role_order = list(Role)
    logins.sort(key=lambda login: (role_order.index(login.role), login.school))
    children = ", ".join(f"{forename} ({nc.label})" for _, nc, forename, _ in _FAMILY)
    logins += [
        DemoLogin(
            Role.TRUST_LEADER,
            TRUST_NAME,
            _TRUST_LEADER[2],
            DEMO_PASSWORD,
            reverse("schools:trust-home", kwargs={"trust_slug": TRUST_SLUG}),
            "every school in the trust",
        ),
        DemoLogin(
            Role.PARENT,
            f"{OAKFIELD.name}, {KINGSMEAD.name}",
            _PARENT[2],
            DEMO_PASSWORD,
            reverse("home"),
            children,
        ),
    ]
    return DemoSummary(
        trust=TRUST_NAME,
        logins=logins,
        schools=counts,
        created={label: n for label, n in sorted(created.items()) if n},
    )
