"""The school dashboard's breakdowns (issue 12 item 1): by year group and form, by code and
category, the day-of-week by session pattern of absence, and the pupils near a boundary; and
the pupils behind each of their numbers (the drill-down's ``measure`` and ``group``).

Everything but the day-of-week pattern reads ``interventions.WeeklySummary``; the pattern
needs the weekday, which the weekly rows do not keep, so it reads the marks in one grouped
query (by date, session and code: its rows grow with the calendar, not the roll). Rates are
sessions summed then divided; flags and boundaries are decided on integers or exact
fractions (``rules``), never on rounded rates. A fixed number of queries whatever the roll.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from django.db import connection
from django.db.models import Q, Sum

from interventions import engine
from interventions.dashboard_dfe import DfeScope, dfe_scope
from interventions.dashboards import _SUMS, PUPIL_GROUPS, Totals
from interventions.models import WeeklySummary
from interventions.rules import (
    RATE_CHANGE_SCHOOL_WEEKS,
    Band,
    band_for,
    in_mentoring_band,
    percentage,
    persistent_absence,
    severe_absence,
)
from interventions.selectors import academic_period_for, school_bands_get
from registers.codes import CodeDefinition, StatCategory
from registers.models import AttendanceMark
from schools.calendar import SchoolCalendar
from schools.models import Enrolment, FormGroup, FormPlacement, Pupil, School, StaffMembership
from schools.selectors import forms_for_tutor, school_calendar_get

# "Within one session-week" of a boundary: the sessions of one more school week (five days,
# morning and afternoon), all missed (towards persistent absence or a lower band) or all
# attended (towards a higher band).
SESSIONS_PER_WEEK = 10
WEEKDAYS = range(5)  # Monday to Friday
SESSIONS = ("AM", "PM")
CATEGORIES = tuple(StatCategory)
MEASURES = ("all", "persistent", "severe", "near-persistent", "near-band")
PLACEMENT_GROUPS = ("year", "form")
DETAILED = ("code", "slot", "category")  # measures with a detail: "code:U", "slot:0-AM", …


@dataclass
class PupilFigures:
    """One enrolment's year to date, with what the drill-downs filter on."""

    enrolment_id: int
    pupil_id: int
    name: str
    possible: int
    attendance: int
    absence: int
    groups: dict[str, str]  # "fsm" -> "True", "year" -> "12", "form" -> "40", …
    codes: Counter[str] = field(default_factory=Counter)
    near_persistent: bool = False
    band: Band | None = None
    near_band: Band | None = None  # the band one session-week away, up or down

    @property
    def persistent(self) -> bool:
        return persistent_absence(absence=self.absence, possible=self.possible)

    @property
    def severe(self) -> bool:
        return severe_absence(absence=self.absence, possible=self.possible)


@dataclass(frozen=True)
class Place:
    key: str  # the year group's or form's id, as the drill-down's group value
    label: str
    order: tuple[int, str]


@dataclass(frozen=True)
class CodeRow:
    code: str
    definition: CodeDefinition | None
    sessions: int
    pupils: int


@dataclass(frozen=True)
class Slot:
    weekday: int  # 0 = Monday
    session: str
    absence: int
    possible: int

    @property
    def key(self) -> str:
        return f"{self.weekday}-{self.session}"


@dataclass
class Breakdowns:
    period_start: dt.date
    period_end: dt.date
    pupils: list[PupilFigures]
    years: list[tuple[Place, Totals]]
    forms: list[tuple[Place, Totals]]
    codes: list[CodeRow]
    categories: dict[str, int]
    possible: int
    pattern: list[Slot]


def near_persistent(*, absence: int, possible: int) -> bool:
    """Not persistently absent yet, but would be after missing every session of one more
    week (§4.1 on integers: 10 x missed >= possible)."""
    if not possible or persistent_absence(absence=absence, possible=possible):
        return False  # no session counted yet: no figure to be near
    return persistent_absence(
        absence=absence + SESSIONS_PER_WEEK, possible=possible + SESSIONS_PER_WEEK
    )


def band_within_a_week(
    *, attendance: int, possible: int, bands: tuple[Band, ...]
) -> tuple[Band | None, Band | None]:
    """The pupil's band now and the other band one session-week would put them in: missing
    all its sessions if that crosses down, else attending all of them if that crosses up;
    ``None`` when neither crosses (or no possible session). Exact fractions throughout."""
    if not possible:
        return None, None
    now = band_for(Fraction(100 * attendance, possible), bands)
    later = possible + SESSIONS_PER_WEEK
    down = band_for(Fraction(100 * attendance, later), bands)
    if down != now:
        return now, down
    up = band_for(Fraction(100 * (attendance + SESSIONS_PER_WEEK), later), bands)
    return now, (up if up != now else None)


def _name(row: dict[str, Any]) -> str:
    forename = row["pupil__preferred_forename"] or row["pupil__legal_forename"]
    return f"{row['pupil__legal_surname']}, {forename}"


def school_breakdowns(*, school: School, on: dt.date, dfe: bool = False) -> Breakdowns:
    """The breakdowns of the academic year containing ``on`` (with ``dfe``, only what the
    DfE counts). Queries: the per-enrolment sums, the weekly code counts, the placements on
    ``on``, the bands, the calendar and the grouped marks, whatever the roll. Call inside
    ``school_scope(school)``."""
    period_start, period_end = academic_period_for(school=school, on=on)
    calendar = school_calendar_get(school=school)
    scope = (
        dfe_scope(calendar=calendar, period_start=period_start, period_end=period_end, on=on)
        if dfe
        else None
    )
    summaries = WeeklySummary.objects.filter(
        scope.summaries_q() if scope else Q(), school=school, period_start=period_start
    )
    rows = list(
        summaries.values(
            "enrolment_id",
            "pupil_id",
            "pupil__legal_surname",
            "pupil__legal_forename",
            "pupil__preferred_forename",
            *(f"pupil__{name}" for _, name in PUPIL_GROUPS),
        )
        .annotate(**{name: Sum(name) for name in _SUMS})
        .order_by("enrolment_id")
    )
    placements = _placements(school=school, on=on)
    bands = school_bands_get(school=school)
    pupils: dict[int, PupilFigures] = {}
    years: dict[str, tuple[Place, Totals]] = {}
    forms: dict[str, tuple[Place, Totals]] = {}
    for row in rows:
        possible = row["possible_sessions"] or 0
        attendance = (row["present_sessions"] or 0) + (row["aea_sessions"] or 0)
        absence = (row["authorised_sessions"] or 0) + (row["unauthorised_sessions"] or 0)
        groups = {key: str(row[f"pupil__{name}"]) for key, name in PUPIL_GROUPS}
        year, form = placements.get(row["pupil_id"], (None, None))
        groups["year"] = year.key if year else ""
        groups["form"] = form.key if form else ""
        band, near = band_within_a_week(attendance=attendance, possible=possible, bands=bands)
        pupils[row["enrolment_id"]] = PupilFigures(
            enrolment_id=row["enrolment_id"],
            pupil_id=row["pupil_id"],
            name=_name(row),
            possible=possible,
            attendance=attendance,
            absence=absence,
            groups=groups,
            near_persistent=near_persistent(absence=absence, possible=possible),
            band=band,
            near_band=near,
        )
        for place, into in ((year, years), (form, forms)):
            if place is not None:
                into.setdefault(place.key, (place, Totals()))[1].add(row)
    codes = _codes(school=school, summaries=summaries, pupils=pupils)
    categories = {str(c): 0 for c in CATEGORIES}
    for code_row in codes:
        if code_row.definition is not None:
            categories[str(code_row.definition.category)] += code_row.sessions
    return Breakdowns(
        period_start=period_start,
        period_end=period_end,
        pupils=sorted(pupils.values(), key=lambda p: (p.name, p.enrolment_id)),
        years=sorted(years.values(), key=lambda item: item[0].order),
        forms=sorted(forms.values(), key=lambda item: item[0].order),
        codes=codes,
        categories=categories,
        possible=sum(p.possible for p in pupils.values()),
        pattern=_pattern(
            school=school,
            calendar=calendar,
            first=period_start,
            last=min(period_end, on),
            scope=scope,
        ),
    )


def _placements(*, school: School, on: dt.date) -> dict[int, tuple[Place, Place]]:
    """Each pupil's year group and form on ``on`` (the latest placement wins, as in
    ``selectors``). One query."""
    found = (
        FormPlacement.objects.filter(school=school, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .order_by("start_date", "pk")
        .values_list(
            "pupil_id",
            "form_id",
            "form__name",
            "form__year_group_id",
            "form__year_group__name",
            "form__year_group__sort_order",
        )
    )
    return {
        pupil_id: (
            Place(str(year_id), year_name, (year_order, year_name)),
            Place(str(form_id), form_name, (year_order, form_name)),
        )
        for pupil_id, form_id, form_name, year_id, year_name, year_order in found
    }


def _codes(*, school: School, summaries: Any, pupils: dict[int, PupilFigures]) -> list[CodeRow]:
    """Sessions per code (and each pupil's), summed from the weekly rows' ``code_counts`` by
    the database (decoding every row's JSON in Python cost most of the page); a code's
    meaning is the one in force in the latest week it was used (``engine._meaning``)."""
    inner, params = summaries.values("pk").query.sql_with_params()
    if connection.vendor == "postgresql":
        each, value = "jsonb_each_text(ws.code_counts) AS j", "CAST(j.value AS integer)"
    else:
        each, value = "json_each(ws.code_counts) AS j", "j.value"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ws.enrolment_id, j.key, SUM({value}), MAX(ws.week_start)
            FROM {WeeklySummary._meta.db_table} ws, {each}
            WHERE ws.id IN ({inner})
            GROUP BY ws.enrolment_id, j.key
            """,  # noqa: S608 (table name, fixed fragments and the ORM's own subquery)
            params,
        )
        rows = cursor.fetchall()
    sessions: Counter[str] = Counter()
    latest: dict[str, dt.date] = {}
    for enrolment_id, code, count, week_start in rows:
        sessions[code] += count
        week = _as_date(week_start)
        latest[code] = max(latest.get(code, week), week)
        figures = pupils.get(enrolment_id)
        if figures is not None:
            figures.codes[code] += count
    definitions = {
        code: engine._meaning(school.jurisdiction, code, week) for code, week in latest.items()
    }
    holders = Counter(code for p in pupils.values() for code in p.codes)
    order = {category: i for i, category in enumerate(CATEGORIES)}
    return sorted(
        (
            CodeRow(code, definitions[code], count, holders[code])
            for code, count in sessions.items()
        ),
        key=lambda r: (order.get(r.definition.category, 9) if r.definition else 9, r.code),
    )


def _marks_sql(
    *,
    school: School,
    calendar: SchoolCalendar,
    first: dt.date,
    last: dt.date,
    scope: DfeScope | None,
    select: str,
    extra: str = "",
    extra_params: list[Any] | None = None,
) -> list[tuple[Any, ...]]:
    """Marks on the calendar's sessions from ``first`` to ``last`` within an enrolment (the
    engine's counted range), optionally in the DfE scope, grouped by ``select`` plus code."""
    if last < first:
        return []
    sessions_sql, sessions_params = engine._sessions_sql(calendar, first, last)
    if not sessions_sql:
        return []
    scope_sql, scope_params = "", list[Any]()
    if scope is not None:
        scope_sql = (
            " AND p.date_of_birth >= %s AND p.date_of_birth <= %s"
            " AND NOT (p.date_of_birth <= %s AND m.date >= %s)"
        )
        scope_params = [scope.born_from, scope.born_to, scope.fifteen_born_to, scope.second_half]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT {select}, m.code, COUNT(*)
            FROM {AttendanceMark._meta.db_table} m
            JOIN {Enrolment._meta.db_table} e
              ON e.pupil_id = m.pupil_id AND e.school_id = m.school_id
             AND m.date >= e.start_date
             AND (e.leaving_date IS NULL OR m.date <= e.leaving_date)
            JOIN {Pupil._meta.db_table} p ON p.id = m.pupil_id
            WHERE m.school_id = %s AND m.date >= %s AND m.date <= %s AND ({sessions_sql})
              {scope_sql} {extra}
            GROUP BY {select}, m.code
            """,  # noqa: S608 (only table names, fixed fragments and placeholders)
            [school.pk, first, last, *sessions_params, *scope_params, *(extra_params or [])],
        )
        return list(cursor.fetchall())


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _pattern(
    *,
    school: School,
    calendar: SchoolCalendar,
    first: dt.date,
    last: dt.date,
    scope: DfeScope | None,
) -> list[Slot]:
    """Absence and possible sessions per weekday and session (Mon AM … Fri PM)."""
    absence: Counter[tuple[int, str]] = Counter()
    possible: Counter[tuple[int, str]] = Counter()
    rows = _marks_sql(
        school=school,
        calendar=calendar,
        first=first,
        last=last,
        scope=scope,
        select="m.date, m.session",
    )
    for day, session, code, count in rows:
        date = _as_date(day)
        definition = engine._meaning(school.jurisdiction, code, date)
        if definition is None or definition.category not in engine.POSSIBLE:
            continue
        possible[date.weekday(), session] += count
        if definition.is_absence:
            absence[date.weekday(), session] += count
    return [
        Slot(weekday, session, absence[weekday, session], possible[weekday, session])
        for weekday in WEEKDAYS
        for session in SESSIONS
    ]


def slot_absences(
    *, school: School, on: dt.date, weekday: int, session: str, dfe: bool = False
) -> dict[int, int]:
    """Sessions missed per pupil on ``weekday``'s ``session`` this academic year: the
    pupils behind one cell of the pattern."""
    period_start, period_end = academic_period_for(school=school, on=on)
    calendar = school_calendar_get(school=school)
    last = min(period_end, on)
    days = [
        period_start + dt.timedelta(days=n)
        for n in range((last - period_start).days + 1)
        if (period_start + dt.timedelta(days=n)).weekday() == weekday
    ]
    if not days:
        return {}
    scope = (
        dfe_scope(calendar=calendar, period_start=period_start, period_end=period_end, on=on)
        if dfe
        else None
    )
    rows = _marks_sql(
        school=school,
        calendar=calendar,
        first=period_start,
        last=last,
        scope=scope,
        select="m.pupil_id, m.date",
        extra=f"AND m.session = %s AND m.date IN ({', '.join(['%s'] * len(days))})",
        extra_params=[session, *days],
    )
    missed: Counter[int] = Counter()
    for pupil_id, day, code, count in rows:
        definition = engine._meaning(school.jurisdiction, code, _as_date(day))
        if definition is not None and definition.is_absence:
            missed[pupil_id] += count
    return dict(missed)


def codes_in_category(board: Breakdowns, category: str) -> set[str]:
    """The codes counted this year whose meaning falls in ``category``."""
    return {r.code for r in board.codes if r.definition and r.definition.category == category}


def pupils_behind(
    board: Breakdowns,
    *,
    measure: str,
    group: str,
    slot_missed: dict[int, int] | None = None,
) -> list[PupilFigures] | None:
    """The enrolments behind one number: ``measure`` is one of ``MEASURES``, ``code:<code>``,
    ``category:<StatCategory>`` or ``slot:<weekday>-<AM|PM>`` (then ``slot_missed`` from ``slot_absences``); ``group``
    is empty or ``<key>:<value>`` of a pupil group, ``year:<id>`` or ``form:<id>``. ``None``
    for a measure or group that does not exist."""
    key, _sep, value = group.partition(":")
    known_groups = {k for k, _ in PUPIL_GROUPS} | set(PLACEMENT_GROUPS)
    if group and key not in known_groups:
        return None
    kind, _sep, detail = measure.partition(":")
    if kind not in (*MEASURES, *DETAILED) or (kind in DETAILED) != bool(detail):
        return None
    if kind == "category" and detail not in {str(c) for c in CATEGORIES}:
        return None
    in_category = codes_in_category(board, detail)
    chosen = []
    for pupil in board.pupils:
        if group and pupil.groups.get(key) != value:
            continue
        if kind == "persistent" and not pupil.persistent:
            continue
        if kind == "severe" and not pupil.severe:
            continue
        if kind == "near-persistent" and not pupil.near_persistent:
            continue
        if kind == "near-band" and pupil.near_band is None:
            continue
        if kind == "code" and not pupil.codes.get(detail):
            continue
        if kind == "category" and not any(pupil.codes.get(c) for c in in_category):
            continue
        if kind == "slot" and not (slot_missed or {}).get(pupil.pupil_id):
            continue
        chosen.append(pupil)
    return chosen


def parse_slot(detail: str) -> tuple[int, str] | None:
    """``"0-AM"`` → (0, "AM"); ``None`` unless a weekday 0 to 4 and AM or PM."""
    weekday, _sep, session = detail.partition("-")
    if weekday not in {str(d) for d in WEEKDAYS} or session not in SESSIONS:
        return None
    return int(weekday), session


@dataclass(frozen=True)
class RunningPoint:
    """The year to date at the end of one school week: sessions summed so far."""

    week_start: dt.date
    possible: int
    attendance: int

    @property
    def rate(self) -> Fraction | None:
        return percentage(self.attendance, self.possible)


def pupil_running_line(*, school: School, pupil: Pupil, on: dt.date) -> list[RunningPoint]:
    """``pupil``'s running attendance this academic year, one point per school week (weeks
    with a possible session), from the weekly summaries of all their enrolments. One query.
    Call inside ``school_scope(school)``."""
    period_start, _end = academic_period_for(school=school, on=on)
    weeks = (
        WeeklySummary.objects.filter(school=school, pupil=pupil, period_start=period_start)
        .values("week_start")
        .annotate(
            possible=Sum("possible_sessions"),
            present=Sum("present_sessions"),
            aea=Sum("aea_sessions"),
        )
        .order_by("week_start")
    )
    points: list[RunningPoint] = []
    possible = attendance = 0
    for week in weeks:
        if not week["possible"]:
            continue
        possible += week["possible"]
        attendance += (week["present"] or 0) + (week["aea"] or 0)
        points.append(RunningPoint(week["week_start"], possible, attendance))
    return points


# The tutor view's change: the last RATE_CHANGE_SCHOOL_WEEKS school weeks against the weeks
# of the year before them (rates of sessions summed in each stretch).
RECENT_WEEKS = RATE_CHANGE_SCHOOL_WEEKS


@dataclass(frozen=True)
class TutorPupil:
    pupil_id: int
    name: str
    possible: int
    attendance: int
    band: Band | None
    recent: Fraction | None  # the last four school weeks
    before: Fraction | None  # the weeks before them

    @property
    def rate(self) -> Fraction | None:
        return percentage(self.attendance, self.possible)

    @property
    def change(self) -> Fraction | None:
        """Percentage points, positive when improving; ``None`` without both stretches."""
        if self.recent is None or self.before is None:
            return None
        return self.recent - self.before

    @property
    def mentoring(self) -> bool:
        return in_mentoring_band(self.rate)


@dataclass(frozen=True)
class TutorForm:
    form: FormGroup
    pupils: list[TutorPupil]


def tutor_forms_attendance(
    *, school: School, membership: StaffMembership | None, on: dt.date
) -> list[TutorForm]:
    """The forms ``membership`` tutors on ``on`` with each pupil placed in them then: the
    year's rate and band, and the change of the last four school weeks against the weeks
    before, from the weekly summaries. Four queries whatever the forms' size (forms,
    placements, summaries, bands). Call inside ``school_scope(school)``."""
    if membership is None:
        return []
    forms = list(forms_for_tutor(school=school, membership=membership, on=on).order_by("name"))
    if not forms:
        return []
    placed = list(
        FormPlacement.objects.filter(school=school, form__in=forms, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .values_list(
            "form_id",
            "pupil_id",
            "pupil__legal_surname",
            "pupil__legal_forename",
            "pupil__preferred_forename",
        )
    )
    period_start, _end = academic_period_for(school=school, on=on)
    weekly = (
        WeeklySummary.objects.filter(
            school=school, period_start=period_start, pupil_id__in=[p[1] for p in placed]
        )
        .values("pupil_id", "week_start")
        .annotate(
            possible=Sum("possible_sessions"),
            present=Sum("present_sessions"),
            aea=Sum("aea_sessions"),
        )
        .order_by("week_start")
    )
    weeks_of: dict[int, list[tuple[dt.date, int, int]]] = {}
    school_weeks: set[dt.date] = set()
    for row in weekly:
        if row["possible"]:
            attended = (row["present"] or 0) + (row["aea"] or 0)
            weeks_of.setdefault(row["pupil_id"], []).append(
                (row["week_start"], row["possible"], attended)
            )
            school_weeks.add(row["week_start"])
    ordered = sorted(school_weeks)
    # Fewer school weeks than the stretch: all of them are recent, none before (no change).
    recent_from = ordered[-min(RECENT_WEEKS, len(ordered))] if ordered else on
    bands = school_bands_get(school=school)
    by_form: dict[int, list[TutorPupil]] = {form.pk: [] for form in forms}
    for form_id, pupil_id, surname, forename, preferred in placed:
        weeks = weeks_of.get(pupil_id, [])
        recent = [w for w in weeks if w[0] >= recent_from]
        before = [w for w in weeks if w[0] < recent_from]
        possible = sum(w[1] for w in weeks)
        attendance = sum(w[2] for w in weeks)
        by_form[form_id].append(
            TutorPupil(
                pupil_id=pupil_id,
                name=f"{surname}, {preferred or forename}",
                possible=possible,
                attendance=attendance,
                band=band_for(percentage(attendance, possible), bands),
                recent=percentage(sum(w[2] for w in recent), sum(w[1] for w in recent)),
                before=percentage(sum(w[2] for w in before), sum(w[1] for w in before)),
            )
        )
    return [
        TutorForm(form, sorted(by_form[form.pk], key=lambda p: (p.name, p.pupil_id)))
        for form in forms
    ]
