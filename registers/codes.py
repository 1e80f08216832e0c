"""The national attendance codes as data: one table per jurisdiction and period (pure Python).

Every later rule (register validation, statistics, penalty-notice and continuous-absence
counts, imports) asks this module what a code means on a session's date for a school's
jurisdiction; nothing else hard-codes a code's category. Source: spec/regulations.md §1.2 (England
from 19 Aug 2024), §1.4 (England 2006 Regulations, for historic sessions) and §2.1 (Wales 2010).

A definition holds for ``valid_from`` to ``valid_to`` inclusive. The scheme of a mark is decided
by the session's date, never by the date it was imported, and an old mark is never re-read
with a newer meaning (§1.4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

ENGLAND_2024_FROM = dt.date(2024, 8, 19)
ENGLAND_2006_FROM = dt.date(2006, 9, 1)
WALES_2010_FROM = dt.date(2010, 9, 1)
OPEN_END = dt.date(9999, 12, 31)


class StatCategory(StrEnum):
    PRESENT = "present"
    AEA = "aea"  # approved educational activity: counts as attendance
    AUTHORISED = "authorised"
    UNAUTHORISED = "unauthorised"
    NOT_COUNTED = "not_counted"  # not a possible session


class CodeScheme(StrEnum):
    ENG_2006 = "ENG_2006"
    ENG_2024 = "ENG_2024"
    WAL_2010 = "WAL_2010"


class AgeRule(StrEnum):
    ANY = "any"
    CSA_ONLY = "csa_only"  # only for pupils of compulsory school age (C2)
    NON_CSA_ONLY = "non_csa_only"  # only for pupils below or above it (X, from 2024)


class PenaltyNotice(StrEnum):
    NO = "no"
    YES = "yes"
    SCHOOL_CHOICE = "school_choice"  # N: counted only where the school's LA counts it (§5.2)


@dataclass(frozen=True)
class CodeDefinition:
    code: str
    meaning: StrOrPromise  # gettext_lazy: shown in the reader's language
    category: StatCategory
    scheme: CodeScheme
    valid_from: dt.date
    valid_to: dt.date = OPEN_END
    penalty_notice: PenaltyNotice = PenaltyNotice.NO
    continues_deletion_ground_i: bool = False  # G, N, O keep the 20-day ground running (§6.1)
    counts_ten_day_return: bool = False  # G, N, O, U: 10 continuous school days (§6.2)
    age_rule: AgeRule = AgeRule.ANY
    session: str | None = None  # "AM" for "/", "PM" for "\": the statutory tables say so
    records_minutes_late: bool = False

    @property
    def is_absence(self) -> bool:
        return self.category in (StatCategory.AUTHORISED, StatCategory.UNAUTHORISED)


def _table(
    scheme: CodeScheme,
    valid_from: dt.date,
    valid_to: dt.date,
    rows: Sequence[tuple[str, StrOrPromise, StatCategory, dict[str, object]]],
) -> list[CodeDefinition]:
    return [
        CodeDefinition(
            code=code,
            meaning=meaning,
            category=category,
            scheme=scheme,
            valid_from=valid_from,
            valid_to=valid_to,
            **extra,  # type: ignore[arg-type]
        )
        for code, meaning, category, extra in rows
    ]


P, AEA, AU, UN, NC = (
    StatCategory.PRESENT,
    StatCategory.AEA,
    StatCategory.AUTHORISED,
    StatCategory.UNAUTHORISED,
    StatCategory.NOT_COUNTED,
)
_AM: dict[str, object] = {"session": "AM"}
_PM: dict[str, object] = {"session": "PM"}
_LATE: dict[str, object] = {"records_minutes_late": True}
_UNAUTH_FULL: dict[str, object] = {
    "penalty_notice": PenaltyNotice.YES,
    "continues_deletion_ground_i": True,
    "counts_ten_day_return": True,
}

# §1.2: England, sessions from 19 August 2024 (SI 2024/208 regulation 10).
ENGLAND_2024 = _table(
    CodeScheme.ENG_2024,
    ENGLAND_2024_FROM,
    OPEN_END,
    [
        ("/", _("Present (morning)"), P, _AM),
        ("\\", _("Present (afternoon)"), P, _PM),
        ("L", _("Late, arrived before the register closed"), P, _LATE),
        ("K", _("Attending education arranged by the local authority"), AEA, {}),
        ("V", _("Educational visit or trip"), AEA, {}),
        ("P", _("Approved sporting activity"), AEA, {}),
        ("W", _("Work experience"), AEA, {}),
        ("B", _("Other approved educational activity"), AEA, {}),
        ("D", _("Dual registered: attending another school"), NC, {}),
        ("C1", _("Leave: regulated performance or employment abroad"), AU, {}),
        ("M", _("Leave: medical or dental appointment"), AU, {}),
        ("J1", _("Leave: interview for employment or education"), AU, {}),
        ("S", _("Leave: study for a public examination"), AU, {}),
        (
            "X",
            _("Non-compulsory school age, not required to attend"),
            NC,
            {"age_rule": AgeRule.NON_CSA_ONLY},
        ),
        ("C2", _("Leave: temporary part-time timetable"), AU, {"age_rule": AgeRule.CSA_ONLY}),
        ("C", _("Leave: exceptional circumstances"), AU, {}),
        ("T", _("Parent travelling for occupational purposes"), AU, {}),
        ("R", _("Religious observance"), AU, {}),
        ("I", _("Illness (not medical or dental appointment)"), AU, {}),
        ("E", _("Suspended or excluded, no alternative provision"), AU, {}),
        ("Q", _("Unable to attend: lack of access arrangements"), NC, {}),
        ("Y1", _("Unable to attend: transport not available"), NC, {}),
        ("Y2", _("Unable to attend: widespread travel disruption"), NC, {}),
        ("Y3", _("Unable to attend: part of the premises out of use"), NC, {}),
        ("Y4", _("Unable to attend: whole school site unexpectedly closed"), NC, {}),
        ("Y5", _("Unable to attend: criminal justice detention"), NC, {}),
        ("Y6", _("Unable to attend: public health guidance or law"), NC, {}),
        ("Y7", _("Unable to attend: any other unavoidable cause"), NC, {}),
        ("G", _("Holiday not authorised"), UN, _UNAUTH_FULL),
        (
            "N",
            _("Reason not yet established"),
            UN,
            {**_UNAUTH_FULL, "penalty_notice": PenaltyNotice.SCHOOL_CHOICE},
        ),
        ("O", _("Absent in other or unknown circumstances"), UN, _UNAUTH_FULL),
        (
            "U",
            _("Arrived after the register closed"),
            UN,
            {"penalty_notice": PenaltyNotice.YES, "counts_ten_day_return": True, **_LATE},
        ),
        ("Z", _("Prospective pupil not yet on roll"), NC, {}),
        ("#", _("Planned whole-school closure"), NC, {}),
    ],
)

# §1.4: England, sessions before 19 August 2024 (2006 Regulations), for historic imports.
# K was not a DfE code then: an imported historic K is a missing mark (``historic_missing``).
_ENGLAND_2006_ROWS: list[tuple[str, StrOrPromise, StatCategory, dict[str, object]]] = [
    ("/", _("Present (morning)"), P, _AM),
    ("\\", _("Present (afternoon)"), P, _PM),
    ("L", _("Late, before registers closed"), P, _LATE),
    ("B", _("Educated off site"), AEA, {}),
    ("J", _("At an interview (counted as attendance before 2024)"), AEA, {}),
    ("P", _("Approved sporting activity"), AEA, {}),
    ("V", _("Educational visit or trip"), AEA, {}),
    ("W", _("Work experience"), AEA, {}),
    ("C", _("Other authorised circumstances"), AU, {}),
    ("E", _("Excluded, no alternative provision"), AU, {}),
    ("H", _("Agreed family holiday"), AU, {}),
    ("I", _("Illness"), AU, {}),
    ("M", _("Medical or dental appointment"), AU, {}),
    ("R", _("Religious observance"), AU, {}),
    ("S", _("Study leave"), AU, {}),
    ("T", _("Gypsy, Roma and Traveller absence"), AU, {}),
    ("G", _("Holiday not agreed"), UN, _UNAUTH_FULL),
    (
        "N",
        _("No reason yet provided"),
        UN,
        {**_UNAUTH_FULL, "penalty_notice": PenaltyNotice.SCHOOL_CHOICE},
    ),
    ("O", _("Unauthorised absence"), UN, _UNAUTH_FULL),
    (
        "U",
        _("Arrived after registers closed"),
        UN,
        {"penalty_notice": PenaltyNotice.YES, "counts_ten_day_return": True, **_LATE},
    ),
    ("X", _("Non-compulsory school age absence"), NC, {}),
    ("Y", _("Unable to attend: exceptional circumstances"), NC, {}),
    ("Z", _("Pupil not yet on roll"), NC, {}),
    ("#", _("Planned whole or partial school closure"), NC, {}),
]
ENGLAND_2006 = [
    *_table(
        CodeScheme.ENG_2006,
        ENGLAND_2006_FROM,
        ENGLAND_2024_FROM - dt.timedelta(days=1),
        _ENGLAND_2006_ROWS,
    ),
    # D counted as attendance until August 2011, and as nothing since (§1.4).
    *_table(
        CodeScheme.ENG_2006,
        ENGLAND_2006_FROM,
        dt.date(2011, 8, 31),
        [("D", _("Dual registered"), AEA, {})],
    ),
    *_table(
        CodeScheme.ENG_2006,
        dt.date(2011, 9, 1),
        ENGLAND_2024_FROM - dt.timedelta(days=1),
        [("D", _("Dual registered"), NC, {})],
    ),
    # F, agreed extended family holiday, was withdrawn in September 2013.
    *_table(
        CodeScheme.ENG_2006,
        ENGLAND_2006_FROM,
        dt.date(2013, 8, 31),
        [("F", _("Agreed extended family holiday"), AU, {})],
    ),
]

# §2.1: Wales, the 2010 code family. [U] in the spec: D is taken as not counted (as England
# since 2011) and F as authorised; confirm both against the Welsh Government's code guidance.
# Wales has no national penalty-notice rule, so no code counts towards one here (§2).
WALES_2010 = _table(
    CodeScheme.WAL_2010,
    WALES_2010_FROM,
    OPEN_END,
    [
        ("/", _("Present (morning)"), P, _AM),
        ("\\", _("Present (afternoon)"), P, _PM),
        ("L", _("Late, before the register closed"), P, _LATE),
        ("B", _("Educated off site"), AEA, {}),
        ("J", _("At an interview"), AEA, {}),
        ("P", _("Approved sporting activity"), AEA, {}),
        ("V", _("Educational visit or trip"), AEA, {}),
        ("W", _("Work experience"), AEA, {}),
        ("D", _("Dual registered: attending another school"), NC, {}),
        ("C", _("Other authorised circumstances"), AU, {}),
        ("E", _("Excluded, no alternative provision"), AU, {}),
        ("F", _("Agreed extended holiday (exceptional circumstances)"), AU, {}),
        ("H", _("Holiday leave granted (up to 10 school days a year)"), AU, {}),
        ("I", _("Illness"), AU, {}),
        ("M", _("Medical or dental appointment"), AU, {}),
        ("R", _("Religious observance"), AU, {}),
        ("S", _("Study leave"), AU, {}),
        ("T", _("Traveller absence"), AU, {}),
        (
            "G",
            _("Holiday not agreed"),
            UN,
            {"continues_deletion_ground_i": True, "counts_ten_day_return": True},
        ),
        (
            "N",
            _("No reason yet provided"),
            UN,
            {"continues_deletion_ground_i": True, "counts_ten_day_return": True},
        ),
        (
            "O",
            _("Unauthorised absence"),
            UN,
            {"continues_deletion_ground_i": True, "counts_ten_day_return": True},
        ),
        ("U", _("Arrived after the register closed"), UN, {"counts_ten_day_return": True, **_LATE}),
        ("X", _("Non-compulsory school age, not required to attend"), NC, {}),
        ("Y", _("Unable to attend: enforced closure or exceptional circumstances"), NC, {}),
        ("Z", _("Pupil not yet on roll"), NC, {}),
        ("#", _("School closed to pupils"), NC, {}),
    ],
)

_BY_JURISDICTION: dict[str, list[CodeDefinition]] = {
    "england": [*ENGLAND_2006, *ENGLAND_2024],
    "wales": WALES_2010,
}


def code_lookup(*, jurisdiction: str, code: str, on: dt.date) -> CodeDefinition | None:
    """What ``code`` means for a session on ``on`` in ``jurisdiction``; ``None`` if it is not
    a valid code there and then (e.g. ``C2`` in Wales, ``H`` in England after 18 Aug 2024)."""
    for definition in _BY_JURISDICTION[jurisdiction]:
        if definition.code == code and definition.valid_from <= on <= definition.valid_to:
            return definition
    return None


def codes_in_force(*, jurisdiction: str, on: dt.date) -> list[CodeDefinition]:
    """Every code a register for a session on ``on`` may use, in the statutory table's order."""
    return [d for d in _BY_JURISDICTION[jurisdiction] if d.valid_from <= on <= d.valid_to]


def codes_for_session(*, jurisdiction: str, on: dt.date, session: str) -> list[CodeDefinition]:
    """``codes_in_force`` without the other session's present mark: ``/`` is the morning's,
    ``\\`` the afternoon's, so a form for one session never offers the other's."""
    other = "\\" if session == "AM" else "/"
    return [d for d in codes_in_force(jurisdiction=jurisdiction, on=on) if d.code != other]


def historic_missing(*, jurisdiction: str, code: str, on: dt.date) -> bool:
    """True for a historic mark that must import as *missing* rather than as a code: a ``K``
    before 19 Aug 2024 was a third-party "mark not received", not a DfE code (§1.4)."""
    return jurisdiction == "england" and code == "K" and on < ENGLAND_2024_FROM


def compulsory_school_age_starts(date_of_birth: dt.date) -> dt.date:
    """The first day of compulsory school age: the first prescribed day (31 Aug, 31 Dec or
    31 Mar) on or after the fifth birthday (Education Act 1996 s8; SI 1998/1607). The same
    rule applies in England and Wales."""
    fifth = _birthday(date_of_birth, 5)
    if fifth <= dt.date(fifth.year, 3, 31):
        return dt.date(fifth.year, 3, 31)
    if fifth <= dt.date(fifth.year, 8, 31):
        return dt.date(fifth.year, 8, 31)
    return dt.date(fifth.year, 12, 31)


def compulsory_school_age_ends(date_of_birth: dt.date) -> dt.date:
    """The last day of compulsory school age: the last Friday in June of the school year in
    which the pupil turns 16 (Education Act 1996 s8(3); SI 1997/1970)."""
    sixteenth = _birthday(date_of_birth, 16)
    # The school year (1 Sep to 31 Aug) in which they turn 16 ends in the June of the
    # birthday's year for January-August birthdays (so before a July or August birthday),
    # and of the next year for September-December birthdays.
    june_year = sixteenth.year if sixteenth.month <= 8 else sixteenth.year + 1
    last_of_june = dt.date(june_year, 6, 30)
    return last_of_june - dt.timedelta(days=(last_of_june.weekday() - 4) % 7)


def is_compulsory_school_age(date_of_birth: dt.date, on: dt.date) -> bool:
    return (
        compulsory_school_age_starts(date_of_birth)
        <= on
        <= compulsory_school_age_ends(date_of_birth)
    )


def age_rule_error(
    definition: CodeDefinition, *, date_of_birth: dt.date, on: dt.date
) -> str | None:
    """Why ``definition`` cannot be used for this pupil on ``on`` (TC-08), or ``None``."""
    csa = is_compulsory_school_age(date_of_birth, on)
    if definition.age_rule is AgeRule.CSA_ONLY and not csa:
        return gettext("Code %(code)s is only for pupils of compulsory school age.") % {
            "code": definition.code
        }
    if definition.age_rule is AgeRule.NON_CSA_ONLY and csa:
        return gettext("Code %(code)s is only for pupils not of compulsory school age.") % {
            "code": definition.code
        }
    return None


def _birthday(date_of_birth: dt.date, years: int) -> dt.date:
    try:
        return date_of_birth.replace(year=date_of_birth.year + years)
    except ValueError:  # born 29 February: the birthday falls on 1 March in common years
        return dt.date(date_of_birth.year + years, 3, 1)
