from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

import pytest
from django_scopes import scopes_disabled

from schools import models
from tests import factories as f

MONDAY = dt.date(2024, 9, 9)  # W2 of CAL-A (spec/regulations.md §12)


@dataclass
class RegisterWorld:
    school: models.School
    form: models.FormGroup
    pupils: list[models.Pupil]
    tutor: models.StaffMembership
    officer: models.StaffMembership
    head: models.StaffMembership

    def pupils_in_order(self) -> list[models.Pupil]:
        """The pupils in register order (surname, then forename)."""
        return sorted(self.pupils, key=lambda p: (p.legal_surname, p.legal_forename, p.pk))

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        """An aware datetime at the school's local time."""
        return dt.datetime.combine(
            day, dt.time(hour, minute), tzinfo=zoneinfo.ZoneInfo("Europe/London")
        )


def build_register_world(
    size: int = 30, jurisdiction: str = "england", **school: Any
) -> RegisterWorld:
    with scopes_disabled():  # callable from test bodies, which are otherwise scoped
        return _build(size, jurisdiction, **school)


def _build(size: int, jurisdiction: str, **school: Any) -> RegisterWorld:
    school_row = f.SchoolFactory(jurisdiction=jurisdiction, **school)
    year = f.AcademicYearFactory(school=school_row, start_date=dt.date(2024, 8, 1))
    f.TermFactory(
        academic_year=year, start_date=dt.date(2024, 9, 2), end_date=dt.date(2024, 12, 20)
    )
    f.TermFactory(
        academic_year=year,
        name="Spring",
        start_date=dt.date(2025, 1, 6),
        end_date=dt.date(2025, 4, 4),
    )
    f.ClosureFactory(
        school=school_row, start_date=dt.date(2024, 10, 28), end_date=dt.date(2024, 11, 1)
    )
    form = f.FormGroupFactory(school=school_row, academic_year=year, name="9A")
    tutor = f.StaffMembershipFactory(school=school_row, role=models.Role.FORM_TUTOR)
    f.FormTutorFactory(form=form, membership=tutor)
    pupils: list[models.Pupil] = []
    for _ in range(size):
        pupil = f.PupilFactory(school=school_row, date_of_birth=dt.date(2011, 3, 14))
        f.EnrolmentFactory(pupil=pupil, start_date=dt.date(2020, 9, 1))
        f.FormPlacementFactory(pupil=pupil, form=form, start_date=dt.date(2024, 9, 1))
        pupils.append(pupil)
    return RegisterWorld(
        school=school_row,
        form=form,
        pupils=pupils,
        tutor=tutor,
        officer=f.StaffMembershipFactory(
            school=school_row, role=models.Role.ATTENDANCE_OFFICER, job_title="Attendance Officer"
        ),
        head=f.StaffMembershipFactory(school=school_row, role=models.Role.HEADTEACHER),
    )


@pytest.fixture
def rw(db: None) -> RegisterWorld:
    return build_register_world()
