"""Reads of attendance results, shared by commands, views and the API."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import operator
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal, cast, get_args

from django.db.models import (
    Aggregate,
    Count,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from interventions import rules
from interventions.engine import STATE_FIELDS, EngineRules, EnrolmentState, compute
from interventions.models import (
    AttendanceBand,
    AttendanceEvent,
    AttendanceRules,
    EnrolmentAttendance,
)
from schools.calendar import academic_year_end, academic_year_start
from schools.models import (
    AcademicYear,
    Enrolment,
    FormGroup,
    FormPlacement,
    Gender,
    Pupil,
    School,
    SenStatus,
    Trust,
    YearGroup,
)
from schools.scoping import schools_scope
from schools.selectors import academic_year_for, school_calendar_get


@dataclass(frozen=True)
class SchoolRules:
    """The rules the engine applies for one school (spec/regulations.md §5.2, §6.2)."""

    pn_rule: rules.PenaltyNoticeRule
    illness_rule: rules.IllnessRule

    def as_fields(self) -> dict[str, object]:
        """The same rules as ``AttendanceRules`` field values (its form's initial data)."""
        return {
            "pn_enabled": self.pn_rule.enabled,
            "pn_sessions": self.pn_rule.sessions,
            "pn_school_weeks": self.pn_rule.school_weeks,
            "pn_include_n": self.pn_rule.include_n,
            "illness_days": self.illness_rule.days,
            "illness_mode": self.illness_rule.mode,
        }


def attendance_rules_get(*, school: School) -> SchoolRules:
    """``school``'s penalty-notice and illness rules: its ``AttendanceRules`` row, or without one
    its jurisdiction's defaults (England's national threshold; none in Wales)."""
    stored = AttendanceRules.objects.filter(school=school).first()
    if stored is None:
        return SchoolRules(
            pn_rule=rules.default_pn_rule(school.jurisdiction),
            illness_rule=rules.ILLNESS_RULE_DEFAULT,
        )
    return SchoolRules(
        pn_rule=rules.PenaltyNoticeRule(
            enabled=stored.pn_enabled,
            sessions=stored.pn_sessions,
            school_weeks=stored.pn_school_weeks,
            include_n=stored.pn_include_n,
        ),
        illness_rule=rules.IllnessRule(
            days=stored.illness_days,
            mode=cast("rules.IllnessMode", stored.illness_mode),
        ),
    )


def school_bands_get(*, school: School) -> tuple[rules.Band, ...]:
    """``school``'s own bands from the highest bound down, or the plain DfE default (§4.1) if
    it has defined none. Bounds are exact: a stored ``Decimal`` becomes a ``Fraction``."""
    stored = AttendanceBand.objects.filter(school=school).order_by("position")
    bands = tuple(
        rules.Band(
            name=band.name,
            lower_bound=Fraction(band.lower_bound),
            inclusive=band.inclusive,
            meaning=band.meaning,
            colour=band.colour,
            pk=band.pk,
        )
        for band in stored
    )
    return bands or rules.DFE_DEFAULT


def engine_rules_get(*, school: School) -> EngineRules:
    """Everything the engine applies for ``school``: its LA rules and its bands."""
    la_rules = attendance_rules_get(school=school)
    return EngineRules(
        pn=la_rules.pn_rule, illness=la_rules.illness_rule, bands=school_bands_get(school=school)
    )


def academic_period_for(*, school: School, on: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the academic year containing ``on``: the school's own
    ``AcademicYear`` when it has one, else the calendar's rule (``_default_academic_period``)."""
    year = academic_year_for(school=school, on=on)
    if year is not None:
        return year.start_date, year.end_date
    return _default_academic_period(on)


def _default_academic_period(on: dt.date) -> tuple[dt.date, dt.date]:
    """The academic year around ``on`` by the calendar's rule (1 August to 31 July, as the
    calendar import records years), for a school without that year on record."""
    start = academic_year_start(on)
    return start, academic_year_end(start)


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


# --- Aggregates: school, form, year group, pupil group, trust (§4.1 "Aggregation", §4.2) -----

GroupBy = Literal[
    "school",
    "form",
    "year",
    "fsm",
    "sen_status",
    "gender",
    "ethnicity",
    "eal",
    "looked_after",
    "child_in_need",
    "pupil_premium",
]
GROUP_BYS: tuple[GroupBy, ...] = get_args(GroupBy)
# The pupil groups of spec/product.md "Dashboards": each a field of ``Pupil``.
PUPIL_GROUPS: tuple[GroupBy, ...] = GROUP_BYS[3:]
GROUP_BY_LABELS: dict[GroupBy, Promise] = {
    "school": _("Whole school"),
    "form": _("Form"),
    "year": _("Year group"),
    "fsm": _("Free school meals"),
    "sen_status": _("SEND status"),
    "gender": _("Gender"),
    "ethnicity": _("Ethnicity"),
    "eal": _("English as an additional language"),
    "looked_after": _("Looked after"),
    "child_in_need": _("Child in need"),
    "pupil_premium": _("Pupil premium"),
}
_YES_NO_LABELS: dict[GroupBy, tuple[str, str]] = {
    "fsm": ("Free school meals", "Not free school meals"),
    "eal": ("EAL", "Not EAL"),
    "looked_after": ("Looked after", "Not looked after"),
    "child_in_need": ("Child in need", "Not child in need"),
    "pupil_premium": ("Pupil premium", "Not pupil premium"),
}
NO_GROUP = ""  # the key of "no form on the as-of date", "ethnicity not recorded"

Source = Literal["stored", "computed"]


@dataclass(frozen=True)
class AttendanceTotals(rules.SessionRates):
    """Enrolments' sessions summed (§4.1 "Aggregation": never percentages averaged).

    The §4.1 rates come from the summed sessions (``rules.SessionRates``). The PA and SA
    rates divide the flagged enrolments by the enrolments with a possible session, as
    ``reference.aggregate`` does (the DfE leaves out enrolments with none). Every rate is an
    exact ``Fraction`` percentage, ``None`` when its denominator is 0; ``rules.pct1`` is
    for display only. The stored path sums in SQL and the computed path in Python
    (``of_state``), over these same fields, and both read the rates from here.
    """

    enrolments: int
    enrolments_with_possible: int
    possible_sessions: int
    present_sessions: int
    aea_sessions: int
    authorised_sessions: int
    unauthorised_sessions: int
    not_counted_sessions: int
    late_sessions: int
    pa_enrolments: int
    sa_enrolments: int

    @property
    def absence_sessions(self) -> int:
        return self.authorised_sessions + self.unauthorised_sessions

    @property
    def pa_rate(self) -> Fraction | None:
        return rules.percentage(self.pa_enrolments, self.enrolments_with_possible)

    @property
    def sa_rate(self) -> Fraction | None:
        return rules.percentage(self.sa_enrolments, self.enrolments_with_possible)

    def __add__(self, other: AttendanceTotals) -> AttendanceTotals:
        return AttendanceTotals(
            **{name: getattr(self, name) + getattr(other, name) for name in TOTAL_FIELDS}
        )

    @classmethod
    def of_state(cls, state: EnrolmentState) -> AttendanceTotals:
        """One enrolment's contribution: what the SQL aggregates add up for one row."""
        return cls(
            enrolments=1,
            enrolments_with_possible=int(state.possible_sessions > 0),
            possible_sessions=state.possible_sessions,
            present_sessions=state.present_sessions,
            aea_sessions=state.aea_sessions,
            authorised_sessions=state.authorised_sessions,
            unauthorised_sessions=state.unauthorised_sessions,
            not_counted_sessions=state.not_counted_sessions,
            late_sessions=state.late_sessions,
            pa_enrolments=int(state.persistent_absence),
            sa_enrolments=int(state.severe_absence),
        )

    @classmethod
    def of_states(cls, states: Iterable[EnrolmentState]) -> AttendanceTotals:
        return sum((cls.of_state(s) for s in states), ZERO_TOTALS)


TOTAL_FIELDS = tuple(f.name for f in dataclasses.fields(AttendanceTotals))
ZERO_TOTALS = AttendanceTotals(**dict.fromkeys(TOTAL_FIELDS, 0))


_SQL_PREFIX = "total_"  # an annotation may not reuse a field's name (possible_sessions)


def _sql_totals() -> dict[str, Aggregate]:
    """``AttendanceTotals``' fields as SQL aggregates over ``EnrolmentAttendance`` rows (each
    named with ``_SQL_PREFIX``): the same sums as ``AttendanceTotals.of_state`` added up (a
    test holds the two paths equal)."""
    counts: dict[str, Aggregate] = {
        "enrolments": Count("pk"),
        "enrolments_with_possible": Count("pk", filter=Q(possible_sessions__gt=0)),
        "pa_enrolments": Count("pk", filter=Q(persistent_absence=True)),
        "sa_enrolments": Count("pk", filter=Q(severe_absence=True)),
    }
    # The session counts are stored under the same names as the totals' fields.
    aggregates = {name: counts.get(name) or Sum(name) for name in TOTAL_FIELDS}
    return {_SQL_PREFIX + name: aggregate for name, aggregate in aggregates.items()}


def _totals_from_row(row: Mapping[str, Any]) -> AttendanceTotals:
    # SUM over no rows is NULL; a group always has rows, but a trust school may have none.
    return AttendanceTotals(
        **{name: int(row.get(_SQL_PREFIX + name) or 0) for name in TOTAL_FIELDS}
    )


@dataclass(frozen=True)
class GroupTotals:
    """One group's totals: ``key`` is the form or year group id, the pupil field's value
    ("true"/"false" for yes/no fields) or ``NO_GROUP``; ``label`` says it in words."""

    key: str
    label: str
    totals: AttendanceTotals


@dataclass(frozen=True)
class AttendanceBreakdown:
    group_by: GroupBy
    groups: tuple[GroupTotals, ...]

    @property
    def label(self) -> str:
        return str(GROUP_BY_LABELS[self.group_by])  # in the active language


@dataclass(frozen=True)
class AttendanceAggregate:
    """A school's attendance in total and split by each ``group_by`` asked for.

    ``source`` is "stored" (the nightly results, summed in SQL) or "computed" (from the marks
    for any period, summed in Python). ``as_of`` is the stored results' latest as-of date
    (``earliest_as_of`` their earliest: an incremental run may have moved some pupils on) or
    the computed as-of date; ``computed_at`` the newest stored result's time (``None`` when
    computed now). ``total`` sums every enrolment counted.
    """

    source: Source
    dfe_comparable: bool
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date | None
    earliest_as_of: dt.date | None
    computed_at: dt.datetime | None
    total: AttendanceTotals
    breakdowns: tuple[AttendanceBreakdown, ...]

    def breakdown(self, group_by: GroupBy) -> AttendanceBreakdown:
        for breakdown in self.breakdowns:
            if breakdown.group_by == group_by:
                return breakdown
        raise KeyError(group_by)


def _group_key(value: object) -> str:
    if value is None or value == "":
        return NO_GROUP
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _group_labels(
    *, school: School, group_by: GroupBy, keys: Collection[str]
) -> dict[str, tuple[tuple[object, ...], str]]:
    """``keys`` of one grouping → (sort key, label). One query for forms and year groups,
    none for the pupil fields."""
    labels: dict[str, tuple[tuple[object, ...], str]] = {}
    ids = [int(key) for key in keys if key != NO_GROUP] if group_by in ("form", "year") else []
    if group_by == "form":
        forms = FormGroup.objects.filter(school=school, pk__in=ids).select_related("year_group")
        for form in forms:
            labels[str(form.pk)] = ((0, form.year_group.sort_order, form.name), form.name)
        labels[NO_GROUP] = ((1,), "No form on the as-of date")
    elif group_by == "year":
        for year_group in YearGroup.objects.filter(school=school, pk__in=ids):
            labels[str(year_group.pk)] = ((0, year_group.sort_order), year_group.name)
        labels[NO_GROUP] = ((1,), "No form on the as-of date")
    elif group_by == "school":
        labels = dict.fromkeys(keys, ((0,), school.name))
    elif group_by in _YES_NO_LABELS:
        yes, no = _YES_NO_LABELS[group_by]
        labels = {"true": ((0,), yes), "false": ((1,), no)}
    elif group_by == "sen_status":
        labels = {
            value: ((index,), str(label)) for index, (value, label) in enumerate(SenStatus.choices)
        }
    elif group_by == "gender":
        labels = {
            value: ((index,), str(label)) for index, (value, label) in enumerate(Gender.choices)
        }
    elif group_by == "ethnicity":
        labels = {key: ((0, key), key) for key in keys}
        labels[NO_GROUP] = ((1,), "Not recorded")
    # A key without a label (a form since deleted, a retired code) still shows, last.
    return {key: labels.get(key, ((2, key), key)) for key in keys}


def _breakdown(
    *, school: School, group_by: GroupBy, sums: Mapping[str, AttendanceTotals]
) -> AttendanceBreakdown:
    labels = _group_labels(school=school, group_by=group_by, keys=list(sums))
    ordered = sorted(sums, key=lambda key: labels[key][0])
    return AttendanceBreakdown(
        group_by=group_by,
        groups=tuple(GroupTotals(key=k, label=labels[k][1], totals=sums[k]) for k in ordered),
    )


def _placement_at_as_of(field: str) -> Subquery:
    """The ``field`` of the form placement of the row's pupil on the row's ``as_of``."""
    placements = (
        FormPlacement.objects.filter(
            school=OuterRef("school"), pupil=OuterRef("pupil"), start_date__lte=OuterRef("as_of")
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=OuterRef("as_of")))
        .order_by("-start_date", "-pk")
        .values(field)[:1]
    )
    return Subquery(placements)


def _stored_group_expression(group_by: GroupBy) -> Any:
    if group_by == "school":
        return F("school_id")
    if group_by == "form":
        return _placement_at_as_of("form_id")
    if group_by == "year":
        return _placement_at_as_of("form__year_group_id")
    return F(f"pupil__{group_by}")


def _academic_period_or_default(
    years: Mapping[int, tuple[dt.date, dt.date]], school_id: int, on: dt.date
) -> tuple[dt.date, dt.date]:
    if school_id in years:
        return years[school_id]
    return _default_academic_period(on)


def school_attendance_stored(
    *, school: School, on: dt.date, group_by: Sequence[GroupBy] = GROUP_BYS
) -> AttendanceAggregate:
    """``school``'s stored results (``EnrolmentAttendance``) for the academic year containing
    ``on``, summed in SQL, in total and per ``group_by``.

    Per form and per year group: the pupil's form placement on each result's ``as_of`` (a
    pupil with none is in the ``NO_GROUP`` row); per pupil group: the pupil's field now.
    A fixed number of queries whatever the roll: the academic year, one grouped query per
    grouping ("school" costs none when another grouping is asked for: it is their total),
    and one for the names of the forms and of the year groups. No stored results give empty
    groups and zero totals (``as_of`` ``None``). Call inside ``school_scope(school)``.
    """
    period_start, period_end = academic_period_for(school=school, on=on)
    rows = EnrolmentAttendance.objects.filter(school=school, period_start=period_start).order_by()
    queried: list[GroupBy] = [g for g in group_by if g != "school"] or ["school"]
    breakdowns: dict[GroupBy, AttendanceBreakdown] = {}
    total, stamps = ZERO_TOTALS, None
    for grouping in queried:
        grouped = (
            rows.annotate(group=_stored_group_expression(grouping))
            .values("group")
            .annotate(
                **_sql_totals(),
                earliest=Min("as_of"),
                latest=Max("as_of"),
                computed=Max("computed_at"),
            )
        )
        sums: dict[str, AttendanceTotals] = {}
        latest: list[tuple[dt.date, dt.date, dt.datetime]] = []
        for row in grouped:
            key = _group_key(row["group"])
            # Two raw values with one key (NULL and "" for ethnicity) are one group.
            sums[key] = sums.get(key, ZERO_TOTALS) + _totals_from_row(row)
            latest.append((row["earliest"], row["latest"], row["computed"]))
        breakdowns[grouping] = _breakdown(school=school, group_by=grouping, sums=sums)
        if stamps is None:
            total = sum(sums.values(), ZERO_TOTALS)
            stamps = latest
    if "school" in group_by and "school" not in breakdowns:
        breakdowns["school"] = _breakdown(
            school=school,
            group_by="school",
            sums={str(school.pk): total} if total.enrolments else {},
        )
    return AttendanceAggregate(
        source="stored",
        dfe_comparable=False,
        period_start=period_start,
        period_end=period_end,
        as_of=max((s[1] for s in stamps or ()), default=None),
        earliest_as_of=min((s[0] for s in stamps or ()), default=None),
        computed_at=max((s[2] for s in stamps or ()), default=None),
        total=total,
        breakdowns=tuple(breakdowns[g] for g in group_by if g in breakdowns),
    )


def _computed_states(
    *,
    school: School,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    dfe_comparable: bool,
    dates_of_birth: Mapping[int, dt.date],
) -> list[EnrolmentState]:
    if not dfe_comparable:
        results = enrolment_results(
            school=school, period_start=period_start, period_end=period_end, as_of=as_of
        )
        return [r.state for r in results]
    year = rules.dfe_academic_year(period_start=period_start, period_end=period_end, as_of=as_of)
    ages = {
        pk: rules.dfe_cohort_age(date_of_birth=born, academic_year=year)
        for pk, born in dates_of_birth.items()
    }
    fifteen = [pk for pk, age in ages.items() if age == rules.DFE_OLDEST]
    younger = [
        pk
        for pk, born in dates_of_birth.items()
        if rules.in_dfe_cohort(date_of_birth=born, academic_year=year)
        and ages[pk] != rules.DFE_OLDEST
    ]
    states: list[EnrolmentState] = []
    if younger:
        results = enrolment_results(
            school=school,
            period_start=period_start,
            period_end=period_end,
            as_of=as_of,
            pupil_ids=younger,
        )
        states += [r.state for r in results]
    if fifteen:
        second_half = rules.dfe_summer_second_half_start(
            calendar=school_calendar_get(school=school), academic_year=year
        )
        cut_end = min(period_end, second_half - dt.timedelta(days=1))
        if cut_end >= period_start:
            results = enrolment_results(
                school=school,
                period_start=period_start,
                period_end=cut_end,
                as_of=as_of,
                pupil_ids=fifteen,
            )
            states += [r.state for r in results]
        # An enrolment of the period whose every session was removed (it starts after the
        # cut, or the period lies wholly after it) is still an enrolment of the cohort, with
        # no possible session, as in ``reference.aggregate``.
        counted = {s.enrolment_id for s in states}
        overlapping = (
            Enrolment.objects.filter(
                school=school, pupil_id__in=fifteen, start_date__lte=period_end
            )
            .filter(Q(leaving_date__isnull=True) | Q(leaving_date__gte=period_start))
            .values_list("pk", "pupil_id")
        )
        states += [
            EnrolmentState(
                enrolment_id=pk,
                pupil_id=pupil_id,
                period_start=period_start,
                period_end=cut_end,
                as_of=as_of,
            )
            for pk, pupil_id in overlapping
            if pk not in counted
        ]
    return states


def school_attendance_computed(
    *,
    school: School,
    period_start: dt.date,
    period_end: dt.date,
    as_of: dt.date,
    group_by: Sequence[GroupBy] = GROUP_BYS,
    dfe_comparable: bool = False,
) -> AttendanceAggregate:
    """``school``'s attendance over any period as of ``as_of``, computed now from the marks
    (``enrolment_results``), summed in Python, in total and per ``group_by``. Per form and
    year group: the pupil's form placement on ``as_of``; per pupil group: the field now.

    **DfE-comparable mode** (``dfe_comparable``, spec/regulations.md §4.2): only pupils aged
    5 to 15 on the 31 August that starts the academic year (``dfe_academic_year``) are
    counted; the others are left out entirely, enrolments included. For pupils aged 15 then,
    the sessions from the start of the second half of that year's summer term
    (``rules.dfe_summer_second_half_start``, from the school's calendar) to 31 August are
    removed: they are computed with ``period_end`` cut to the day before, and an enrolment
    left with no day at all counts as an enrolment with no possible session (as
    ``reference.aggregate`` does). Their PA and SA flags are those of the cut period.

    Queries: the engine's (a fixed number, ``interventions.engine.compute``) once, or twice in
    DfE mode, plus the pupils' fields, their placements on ``as_of`` and the group names.
    ValueError if ``period_end`` is before ``period_start``. Call inside
    ``school_scope(school)``.
    """
    if period_end < period_start:
        raise ValueError("period_end is before period_start.")
    pupils = {
        row["pk"]: row
        for row in Pupil.objects.filter(school=school).values("pk", "date_of_birth", *PUPIL_GROUPS)
    }
    states = _computed_states(
        school=school,
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
        dfe_comparable=dfe_comparable,
        dates_of_birth={pk: row["date_of_birth"] for pk, row in pupils.items()},
    )
    placements: dict[int, tuple[int, int]] = {}
    if {"form", "year"} & set(group_by):
        on_as_of = (
            FormPlacement.objects.filter(school=school, start_date__lte=as_of)
            .filter(Q(end_date__isnull=True) | Q(end_date__gte=as_of))
            .order_by("start_date", "pk")  # the latest placement wins, as in the stored path
            .values_list("pupil_id", "form_id", "form__year_group_id")
        )
        placements = {pupil_id: (form_id, year_id) for pupil_id, form_id, year_id in on_as_of}

    def raw_group(grouping: GroupBy, state: EnrolmentState) -> object:
        if grouping == "school":
            return school.pk
        if grouping in ("form", "year"):
            placed = placements.get(state.pupil_id)
            return None if placed is None else placed[0 if grouping == "form" else 1]
        return pupils[state.pupil_id][grouping]

    breakdowns = []
    for grouping in group_by:
        sums: dict[str, AttendanceTotals] = {}
        for state in states:
            key = _group_key(raw_group(grouping, state))
            sums[key] = sums.get(key, ZERO_TOTALS) + AttendanceTotals.of_state(state)
        breakdowns.append(_breakdown(school=school, group_by=grouping, sums=sums))
    return AttendanceAggregate(
        source="computed",
        dfe_comparable=dfe_comparable,
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
        earliest_as_of=as_of,
        computed_at=None,
        total=AttendanceTotals.of_states(states),
        breakdowns=tuple(breakdowns),
    )


def attendance_period_for(
    *,
    school: School,
    period_start: dt.date | None,
    period_end: dt.date | None,
    as_of: dt.date,
) -> tuple[dt.date, dt.date]:
    """The period a request means: the dates given, and for a missing end the bound of the
    academic year containing ``as_of`` (``academic_period_for``)."""
    if period_start is not None and period_end is not None:
        return period_start, period_end
    year_start, year_end = academic_period_for(school=school, on=as_of)
    return period_start or year_start, period_end or year_end


@dataclass(frozen=True)
class SchoolAttendanceTotals:
    """One school of a trust: its current academic year's stored results, summed."""

    school: School
    period_start: dt.date
    period_end: dt.date
    as_of: dt.date | None
    computed_at: dt.datetime | None
    totals: AttendanceTotals


@dataclass(frozen=True)
class TrustAttendance:
    schools: tuple[SchoolAttendanceTotals, ...]
    total: AttendanceTotals


def trust_attendance_stored(*, trust: Trust, on: dt.date) -> TrustAttendance:
    """The stored results of each active school of ``trust`` for its academic year containing
    ``on`` (each school's own year, so the periods may differ), summed in SQL, and the trust's
    total (sessions and enrolments summed across schools; rates from the sums). Three queries
    whatever the number of schools and pupils: the schools, their academic years, one grouped
    sum. Reads across the trust's schools and only those (TEN-04)."""
    schools = list(School.objects.filter(trust=trust, is_active=True).order_by("name"))
    school_ids = [school.pk for school in schools]
    if not schools:
        return TrustAttendance(schools=(), total=ZERO_TOTALS)
    # Cross-school by design (a trust page compares its schools): every query below filters
    # by these schools' ids, and runs in their scope, so a forgotten filter stays in the trust.
    with schools_scope(schools):
        years = {
            school_id: (start, end)
            for school_id, start, end in AcademicYear.objects.filter(
                school_id__in=school_ids, start_date__lte=on, end_date__gte=on
            ).values_list("school_id", "start_date", "end_date")
        }
        periods = {pk: _academic_period_or_default(years, pk, on) for pk in school_ids}
        this_year = functools.reduce(
            operator.or_,
            (Q(school_id=pk, period_start=start) for pk, (start, _end) in periods.items()),
        )
        rows = {
            row["school_id"]: row
            for row in EnrolmentAttendance.objects.filter(school_id__in=school_ids)
            .filter(this_year)
            .order_by()
            .values("school_id")
            .annotate(**_sql_totals(), latest=Max("as_of"), computed=Max("computed_at"))
        }
    per_school = tuple(
        SchoolAttendanceTotals(
            school=school,
            period_start=periods[school.pk][0],
            period_end=periods[school.pk][1],
            as_of=rows.get(school.pk, {}).get("latest"),
            computed_at=rows.get(school.pk, {}).get("computed"),
            totals=_totals_from_row(rows.get(school.pk, {})),
        )
        for school in schools
    )
    return TrustAttendance(
        schools=per_school, total=sum((s.totals for s in per_school), ZERO_TOTALS)
    )


# --- One pupil: stored or computed results, and the event ledger -----------------------------


@dataclass(frozen=True)
class PupilAttendance:
    """One enrolment's result for the pupil page: ``computed_at`` is the stored result's
    stamp (``None`` when computed now); ``band`` the school's band it names, with colour and
    meaning (``None`` without one, or when the band has been removed since: ``state.band_name``
    still says what it was)."""

    state: EnrolmentState
    computed_at: dt.datetime | None
    band: rules.Band | None
    enrolment_start: dt.date
    enrolment_leaving: dt.date | None


def _band_of(state: EnrolmentState, bands: Sequence[rules.Band]) -> rules.Band | None:
    for band in bands:
        if state.band_id is not None and band.pk == state.band_id:
            return band
    if state.band_id is None:  # the DfE default's bands are not stored: matched by name
        for band in bands:
            if band.pk is None and band.name == state.band_name:
                return band
    return None


def _pupil_results(
    *, school: School, pupil: Pupil, states: Sequence[EnrolmentState], stamps: Mapping[int, Any]
) -> list[PupilAttendance]:
    bands = school_bands_get(school=school)
    enrolments = {
        pk: (start, leaving)
        for pk, start, leaving in Enrolment.objects.filter(school=school, pupil=pupil).values_list(
            "pk", "start_date", "leaving_date"
        )
    }
    results = [
        PupilAttendance(
            state=state,
            computed_at=stamps.get(state.enrolment_id),
            band=_band_of(state, bands),
            enrolment_start=enrolments[state.enrolment_id][0],
            enrolment_leaving=enrolments[state.enrolment_id][1],
        )
        for state in states
    ]
    return sorted(results, key=lambda r: r.enrolment_start, reverse=True)


def pupil_attendance_stored(*, school: School, pupil: Pupil, on: dt.date) -> list[PupilAttendance]:
    """``pupil``'s stored results for the academic year containing ``on``, one per enrolment
    (usually one), newest enrolment first; empty before the first recompute. The caller has
    checked that the user may see the pupil."""
    period_start, _end = academic_period_for(school=school, on=on)
    rows = list(
        EnrolmentAttendance.objects.filter(
            school=school, pupil=pupil, period_start=period_start
        ).values(*STATE_FIELDS, "computed_at")
    )
    stamps = {row["enrolment_id"]: row.pop("computed_at") for row in rows}
    states = [EnrolmentState(**row) for row in rows]
    return _pupil_results(school=school, pupil=pupil, states=states, stamps=stamps)


def pupil_attendance_computed(
    *, school: School, pupil: Pupil, period_start: dt.date, period_end: dt.date, as_of: dt.date
) -> list[PupilAttendance]:
    """``pupil``'s results over any period as of ``as_of``, computed now from the marks with
    the school's current rules and bands (``enrolment_results``), one per enrolment
    overlapping the period. ValueError if ``period_end`` is before ``period_start``."""
    results = enrolment_results(
        school=school,
        period_start=period_start,
        period_end=period_end,
        as_of=as_of,
        pupil_ids=[pupil.pk],
    )
    return _pupil_results(school=school, pupil=pupil, states=[r.state for r in results], stamps={})


def attendance_events(
    *,
    school: School,
    pupil_ids: Collection[int] | QuerySet[Pupil] | None = None,
    kind: str | None = None,
    since: dt.date | None = None,
) -> QuerySet[AttendanceEvent]:
    """The event ledger of ``school``, newest first (by the day it happened, then as written),
    optionally of some pupils (ids, or a queryset of pupils: the ones a user may see), of one
    ``kind`` and from ``since`` on."""
    events = AttendanceEvent.objects.filter(school=school)
    if pupil_ids is not None:
        if isinstance(pupil_ids, QuerySet):
            events = events.filter(pupil_id__in=pupil_ids.values("pk"))
        else:
            events = events.filter(pupil_id__in=list(pupil_ids))
    if kind:
        events = events.filter(kind=kind)
    if since is not None:
        events = events.filter(occurred_on__gte=since)
    return events.order_by("-occurred_on", "-pk")
