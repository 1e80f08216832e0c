"""A school year with all three terms for the attendance results tests (aggregates, pages,
API): build_register_world's CAL-A autumn and spring terms plus a summer term with a May
half-term, so the second half of the summer term starts on Monday 2 June 2025 (§4.2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from django_scopes import scopes_disabled

from registers.codes import code_lookup
from registers.models import AttendanceMark
from schools import models
from schools.scoping import school_scope
from schools.selectors import school_calendar_get
from tests import factories as f
from tests.registers.conftest import RegisterWorld, build_register_world

D = dt.date
YEAR_START, YEAR_END = D(2024, 8, 1), D(2025, 7, 31)  # build_register_world's AcademicYear
SUMMER_SECOND_HALF = D(2025, 6, 2)
RECORDED_AT = dt.datetime(2024, 9, 1, 12, 0, tzinfo=dt.UTC)
ON_ROLL_SINCE = D(2020, 9, 1)


def build_year_world(size: int = 0, **school: Any) -> RegisterWorld:
    """``build_register_world`` with a summer term (22 Apr - 18 Jul 2025, half-term 26-30 May)."""
    rw = build_register_world(size=size, **school)
    with scopes_disabled():
        year = models.AcademicYear.objects.get(school=rw.school)
        f.TermFactory(
            academic_year=year, name="Summer", start_date=D(2025, 4, 22), end_date=D(2025, 7, 18)
        )
        f.ClosureFactory(school=rw.school, start_date=D(2025, 5, 26), end_date=D(2025, 5, 30))
    return rw


def sessions(school: models.School, first: dt.date, last: dt.date) -> list[tuple[dt.date, str]]:
    """The school's calendar sessions from ``first`` to ``last``, in order."""
    with scopes_disabled():
        calendar = school_calendar_get(school=school)
    return [(day, session.value) for day, session in calendar.sessions_between(first, last)]


def add_marks(
    school: models.School, pupil: models.Pupil, slots: Iterable[tuple[dt.date, str]], code: str
) -> int:
    """One ``code`` mark per (date, session) slot; returns how many."""
    marks = []
    for day, session in slots:
        definition = code_lookup(jurisdiction=school.jurisdiction, code=code, on=day)
        assert definition is not None, code
        marks.append(
            AttendanceMark(
                school=school,
                pupil=pupil,
                date=day,
                session=session,
                code=code,
                scheme=definition.scheme.value,
                source="import",
                recorded_at=RECORDED_AT,
            )
        )
    with school_scope(school):
        AttendanceMark.objects.bulk_create(marks)
    return len(marks)


def add_pupil(
    rw: RegisterWorld,
    *,
    form: models.FormGroup | None = None,
    start: dt.date = ON_ROLL_SINCE,
    **fields: object,
) -> models.Pupil:
    """A pupil on roll from ``start``, placed in ``form`` (the world's form by default)."""
    with scopes_disabled():
        pupil = f.PupilFactory(school=rw.school, **fields)
        f.EnrolmentFactory(pupil=pupil, start_date=start)
        f.FormPlacementFactory(pupil=pupil, form=form or rw.form, start_date=D(2024, 9, 1))
    return pupil


def mark_pattern(
    school: models.School,
    pupil: models.Pupil,
    slots: Sequence[tuple[dt.date, str]],
    codes: dict[str, int],
    rest: str = "/",
) -> None:
    """Mark ``slots`` in order: so many of each code in ``codes`` first, ``rest`` after."""
    position = 0
    for code, count in codes.items():
        add_marks(school, pupil, slots[position : position + count], code)
        position += count
    add_marks(school, pupil, slots[position:], rest)
