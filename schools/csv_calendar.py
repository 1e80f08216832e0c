"""Checking a calendar CSV (``manage.py import_calendar``) against the school's calendar.

Columns: ``start_date,end_date,kind`` and optionally ``session``. ``kind`` is ``term`` (the
weekdays from start to end are school days) or ``closure`` (removes those days, or only the
``AM`` or ``PM`` session of each, from a term). ``calendar_plan`` reads the school's terms and
closures once, checks every row and returns what to create and change; it writes nothing
(``schools.services.calendar_import`` applies the plan).

Rules chosen for the import (see the README's "CSV import and export"):
- a term lies within one academic year (1 August to 31 July); academic years are created as
  needed, so one file may span several years;
- a term is identified by its start date: the same start with another end date updates the
  term's end; a term that overlaps another one (in the file or already recorded) is an error;
- a new term is named from its start month: August to December "Autumn", January to March
  "Spring", April to July "Summer", with the calendar year ("Autumn 2024"); a second term of
  the same season in one academic year gets " (2)", and so on;
- a closure must lie inside one term (already recorded or in the same file) and include at
  least one weekday, so a closure that would remove no session (a typing slip into the
  holidays or onto a weekend) is an error rather than silently doing nothing;
- a closure is identified by its dates and session: an identical one is left alone. Imported
  closures have kind "other" and the description "Imported";
- the import only adds and changes: terms and closures missing from the file are kept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schools.calendar import academic_year_end, academic_year_name, academic_year_start
from schools.csv_io import DATE_HELP, CsvRow, CsvTable, ImportCounts, RowErrors, parse_date
from schools.models import AcademicYear, Closure, ClosureKind, School, SessionChoice, Term

REQUIRED = ("start_date", "end_date", "kind")
OPTIONAL = ("session",)
IMPORTED_DESCRIPTION = "Imported"


@dataclass
class CalendarPlan:
    """What importing the file will do. Model instances are unsaved (new) or changed."""

    new_years: list[AcademicYear] = field(default_factory=list)
    new_terms: list[Term] = field(default_factory=list)
    changed_terms: list[Term] = field(default_factory=list)
    new_closures: list[Closure] = field(default_factory=list)
    terms: ImportCounts = field(default_factory=ImportCounts)
    closures: ImportCounts = field(default_factory=ImportCounts)


@dataclass(frozen=True)
class _Span:
    end: dt.date
    label: str
    line: int  # 0 for a term already recorded


@dataclass(frozen=True)
class _Row:
    line: int
    start: dt.date
    end: dt.date
    kind: str
    session: str


def season(start: dt.date) -> str:
    """The season a term starting on ``start`` is named after."""
    if start.month >= 8:
        return "Autumn"
    return "Spring" if start.month <= 3 else "Summer"


def calendar_plan(*, school: School, table: CsvTable) -> CalendarPlan:
    """Check every row of a calendar file against the school's calendar; say what to write.

    Raises ``CsvInvalid`` with every problem found. Must run inside ``school_scope(school)``.
    """
    errors = RowErrors(table)
    rows = [row for raw in table.rows if (row := _parse(raw, errors)) is not None]

    years = {y.start_date: y for y in AcademicYear.objects.filter(school=school)}
    existing = {t.start_date: t for t in Term.objects.filter(school=school)}
    closure_keys = set(
        Closure.objects.filter(school=school).values_list("start_date", "end_date", "session")
    )
    plan = CalendarPlan()

    # Terms first, so a closure may sit in a term from the same file. A file term with the
    # start date of a recorded term replaces it (a changed end date).
    spans = {
        start: _Span(term.end_date, f"the recorded term {term}", 0)
        for start, term in existing.items()
    }
    file_terms: list[_Row] = []
    for row in (row for row in rows if row.kind == "term"):
        earlier = spans.get(row.start)
        if earlier is not None and earlier.line:
            errors.add(
                row.line,
                "start_date",
                f"repeats the term starting {row.start} on line {earlier.line}",
            )
            continue
        spans[row.start] = _Span(row.end, f"the term on line {row.line}", row.line)
        file_terms.append(row)
    for row in file_terms:
        for start, other in spans.items():
            overlaps = start != row.start and start <= row.end and row.start <= other.end
            # Two file terms that overlap are reported once, on the later line.
            if overlaps and other.line < row.line:
                errors.add(row.line, "start_date", f"this term overlaps {other.label}")
                break

    for row in rows:
        if row.kind == "closure":
            _check_closure(row, spans, errors)

    errors.raise_if_any()

    names = {(t.academic_year_id, t.name) for t in existing.values()}
    for row in file_terms:
        term = existing.get(row.start)
        if term is not None:
            if term.end_date == row.end:
                plan.terms.unchanged += 1
            else:
                term.end_date = row.end
                plan.changed_terms.append(term)
                plan.terms.updated += 1
            continue
        year = _year_for(school, row.start, years, plan)
        name = _term_name(row.start, year, names)
        plan.new_terms.append(
            Term(
                school=school, academic_year=year, name=name, start_date=row.start, end_date=row.end
            )
        )
        plan.terms.created += 1

    for row in rows:
        if row.kind != "closure":
            continue
        key = (row.start, row.end, row.session)
        if key in closure_keys:
            plan.closures.unchanged += 1
            continue
        closure_keys.add(key)  # a row repeated in the file is imported once
        plan.new_closures.append(
            Closure(
                school=school,
                start_date=row.start,
                end_date=row.end,
                session=row.session,
                kind=ClosureKind.OTHER,
                description=IMPORTED_DESCRIPTION,
            )
        )
        plan.closures.created += 1
    return plan


def _parse(row: CsvRow, errors: RowErrors) -> _Row | None:
    before = len(errors)
    start = parse_date(row.get("start_date"))
    if start is None:
        errors.add(row, "start_date", f"{row.get('start_date')!r} is not a date; {DATE_HELP}")
    end = parse_date(row.get("end_date"))
    if end is None:
        errors.add(row, "end_date", f"{row.get('end_date')!r} is not a date; {DATE_HELP}")
    kind = row.get("kind").lower()
    if kind not in ("term", "closure"):
        errors.add(row, "kind", f"{row.get('kind')!r} is not a kind; use term or closure")
    session = row.get("session").upper()
    if session not in ("", *SessionChoice.values):
        errors.add(
            row, "session", f"{row.get('session')!r} is not a session; use AM, PM or leave it empty"
        )
    elif session and kind == "term":
        errors.add(row, "session", "a term has no session; leave it empty")
    if start is not None and end is not None:
        if end < start:
            errors.add(row, "end_date", "the end date is before the start date")
        elif kind == "term" and academic_year_start(start) != academic_year_start(end):
            errors.add(
                row,
                "end_date",
                "a term must lie within one academic year (1 August to 31 July); "
                f"this one starts in {academic_year_name(academic_year_start(start))} "
                f"and ends in {academic_year_name(academic_year_start(end))}",
            )
    if len(errors) > before or start is None or end is None:
        return None
    return _Row(row.line, start, end, kind, session)


def _check_closure(row: _Row, spans: dict[dt.date, _Span], errors: RowErrors) -> None:
    inside = any(start <= row.start and row.end <= span.end for start, span in spans.items())
    if not inside:
        errors.add(
            row.line,
            "start_date",
            f"a closure must lie inside one term; {row.start} to {row.end} does not "
            "(import the term first, or in the same file)",
        )
        return
    days = (row.end - row.start).days + 1
    if days < 7 and all((row.start + dt.timedelta(days=n)).weekday() >= 5 for n in range(days)):
        errors.add(row.line, "start_date", "this closure falls on a weekend: it removes no session")


def _year_for(
    school: School, day: dt.date, years: dict[dt.date, AcademicYear], plan: CalendarPlan
) -> AcademicYear:
    start = academic_year_start(day)
    year = years.get(start)
    if year is None:
        year = AcademicYear(
            school=school,
            name=academic_year_name(start),
            start_date=start,
            end_date=academic_year_end(start),
        )
        years[start] = year
        plan.new_years.append(year)
    return year


def _term_name(start: dt.date, year: AcademicYear, names: set[tuple[int, str]]) -> str:
    # Unsaved years have no pk yet; key them by start date instead, which is unique too.
    year_key = year.pk if year.pk is not None else -year.start_date.toordinal()
    base = f"{season(start)} {start.year}"
    name, n = base, 1
    while (year_key, name) in names:
        n += 1
        name = f"{base} ({n})"
    names.add((year_key, name))
    return name
