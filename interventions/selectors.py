"""Reads of attendance results, shared by commands, views and the API."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from typing import cast

from interventions import reference
from interventions.models import AttendanceBand, AttendanceRules
from registers.models import AttendanceMark
from schools.models import Enrolment, School
from schools.selectors import school_calendar_get


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


@dataclass(frozen=True)
class EnrolmentResult:
    enrolment: Enrolment
    summary: reference.AttendanceSummary


def enrolment_summaries(
    *, school: School, period_start: dt.date, period_end: dt.date, as_of: dt.date
) -> list[EnrolmentResult]:
    """Every enrolment of ``school`` overlapping the period, summarised by the reference
    engine (interventions.reference) as of ``as_of``, ordered by UPN then start date.

    Three queries (enrolments with pupils, marks, and the calendar's two) whatever the roll.
    The penalty-notice window looks back from ``as_of`` across terms and years, so the marks
    are read from each enrolment's start. The school's local authority rule is the
    jurisdiction's default (England: G, O, U; Wales: not evaluated) until schools configure it.
    """
    calendar = school_calendar_get(school=school)
    enrolments = list(
        Enrolment.objects.filter(school=school, start_date__lte=period_end)
        .exclude(leaving_date__lt=period_start)
        .select_related("pupil")
        .order_by("pupil__upn", "start_date")
    )
    if not enrolments:
        return []
    marks: dict[int, list[reference.MarkIn]] = defaultdict(list)
    earliest = min(e.start_date for e in enrolments)
    for pupil_id, day, session, code, minutes in (
        AttendanceMark.objects.filter(
            school=school,
            pupil_id__in={e.pupil_id for e in enrolments},
            date__gte=earliest,
            date__lte=max(as_of, period_end),
        )
        .order_by()
        .values_list("pupil_id", "date", "session", "code", "minutes_late")
    ):
        # session is AM or PM: the column's choices say so, the type checker cannot.
        marks[pupil_id].append(
            reference.MarkIn(day, cast("reference.SessionName", session), code, minutes)
        )
    pn_rule = reference.default_pn_rule(school.jurisdiction)
    return [
        EnrolmentResult(
            enrolment=enrolment,
            summary=reference.summarise(
                marks=[
                    m
                    for m in marks.get(enrolment.pupil_id, [])
                    if m.date >= enrolment.start_date
                    and (enrolment.leaving_date is None or m.date <= enrolment.leaving_date)
                ],
                calendar=calendar,
                jurisdiction=school.jurisdiction,
                enrolment=reference.Enrolment(enrolment.start_date, enrolment.leaving_date),
                period_start=period_start,
                period_end=period_end,
                as_of=as_of,
                pn_rule=pn_rule,
                date_of_birth=enrolment.pupil.date_of_birth,
            ),
        )
        for enrolment in enrolments
    ]
