"""Reads of attendance results, shared by commands, views and the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

from interventions import reference
from interventions.engine import EngineRules, EnrolmentState, compute
from interventions.models import AttendanceBand, AttendanceRules
from schools.models import Enrolment, School
from schools.selectors import academic_year_for, school_calendar_get


@dataclass(frozen=True)
class SchoolRules:
    """The rules the engine applies for one school (spec/regulations.md §5.2, §6.2)."""

    pn_rule: reference.PenaltyNoticeRule
    illness_rule: reference.IllnessRule


def attendance_rules_get(*, school: School) -> SchoolRules:
    """``school``'s penalty-notice and illness rules: its ``AttendanceRules`` row, or without one
    its jurisdiction's defaults (England's national threshold; none in Wales)."""
    stored = AttendanceRules.objects.filter(school=school).first()
    if stored is None:
        return SchoolRules(
            pn_rule=reference.default_pn_rule(school.jurisdiction),
            illness_rule=reference.ILLNESS_RULE_DEFAULT,
        )
    return SchoolRules(
        pn_rule=reference.PenaltyNoticeRule(
            enabled=stored.pn_enabled,
            sessions=stored.pn_sessions,
            school_weeks=stored.pn_school_weeks,
            include_n=stored.pn_include_n,
        ),
        illness_rule=reference.IllnessRule(
            days=stored.illness_days,
            mode=cast("reference.IllnessMode", stored.illness_mode),
        ),
    )


def school_bands_get(*, school: School) -> tuple[reference.Band, ...]:
    """``school``'s own bands from the highest bound down, or the plain DfE default (§4.1) if
    it has defined none. Bounds are exact: a stored ``Decimal`` becomes a ``Fraction``."""
    stored = AttendanceBand.objects.filter(school=school).order_by("position")
    bands = tuple(
        reference.Band(
            name=band.name,
            lower_bound=Fraction(band.lower_bound),
            inclusive=band.inclusive,
            meaning=band.meaning,
            colour=band.colour,
            pk=band.pk,
        )
        for band in stored
    )
    return bands or reference.DFE_DEFAULT


def engine_rules_get(*, school: School) -> EngineRules:
    """Everything the engine applies for ``school``: its LA rules and its bands."""
    rules = attendance_rules_get(school=school)
    return EngineRules(
        pn=rules.pn_rule, illness=rules.illness_rule, bands=school_bands_get(school=school)
    )


def academic_period_for(*, school: School, on: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the academic year containing ``on``: the school's own
    ``AcademicYear`` when it has one, else 1 September to 31 August."""
    year = academic_year_for(school=school, on=on)
    if year is not None:
        return year.start_date, year.end_date
    start = reference.academic_year_of(on)
    return dt.date(start, 9, 1), dt.date(start + 1, 8, 31)


@dataclass(frozen=True)
class EnrolmentResult:
    upn: str
    start_date: dt.date
    state: EnrolmentState


def enrolment_results(
    *,
    school: School,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    pupil_ids: Collection[int] | None = None,
) -> list[EnrolmentResult]:
    """Every enrolment of ``school`` overlapping the period (of ``pupil_ids`` if given),
    computed from its marks by the set-based engine as of ``as_of`` with the school's rules
    and bands, ordered by UPN then start date. For any period: the stored results
    (``EnrolmentAttendance``) hold only the current academic year."""
    computed = compute(
        school=school,
        calendar=school_calendar_get(school=school),
        rules=engine_rules_get(school=school),
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
        pupil_ids=pupil_ids,
    )
    enrolments = {
        pk: (upn, start)
        for pk, upn, start in Enrolment.objects.filter(
            school=school, pk__in=[c.state.enrolment_id for c in computed]
        ).values_list("pk", "pupil__upn", "start_date")
    }
    results = [EnrolmentResult(*enrolments[c.state.enrolment_id], state=c.state) for c in computed]
    return sorted(results, key=lambda r: (r.upn, r.start_date))
