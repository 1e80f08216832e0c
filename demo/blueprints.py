"""The Northfield demo trust as data: its three schools, the demo family and the trust-wide
logins. Nothing here touches the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from demo import names
from demo.calendar import CalendarRules
from schools.models import (
    DeletionGround,
    Gender,
    Jurisdiction,
    NCYear,
    Phase,
    Registration,
    Role,
)

DEMO_PASSWORD = "attendance-demo"
TRUST_NAME = "Northfield Learning Trust"
TRUST_SLUG = "northfield"

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
    # Welsh-medium: the school's parents get the pages in Welsh unless they choose English.
    welsh_medium: bool = False


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
    streets=names.STREETS_ENGLAND,
    ethnicity=names.ETHNICITY_ENGLAND,
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
    streets=names.STREETS_ENGLAND,
    ethnicity=names.ETHNICITY_ENGLAND,
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
    welsh_medium=True,
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
    streets=names.STREETS_WALES,
    ethnicity=names.ETHNICITY_WALES,
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
PARENT = ("Rachel", "Hughes", "parent@northfield.example.org")
PARENT_PARTNER = ("Daniel", "Hughes")
FAMILY: tuple[tuple[str, NCYear, str, Gender], ...] = (
    ("oakfield", NCYear.Y1, "Poppy", Gender.FEMALE),
    ("oakfield", NCYear.Y4, "Alfie", Gender.MALE),
    ("kingsmead", NCYear.Y8, "Evie", Gender.FEMALE),
)
FAMILY_ADDRESS = "27 Linden Road\nBrickhill\nBedford\nMK41 7QT"
TRUST_LEADER = ("Amanda", "Rowe", "trust.leader@northfield.example.org")
