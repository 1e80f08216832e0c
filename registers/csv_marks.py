"""Marks as CSV: checking an import file (``manage.py import_marks``) and writing an export
(``manage.py export_marks``) in the same columns, so an export imports back unchanged.

Columns: ``upn,date,session,code`` and optionally ``minutes_late``; ``date`` is ISO and
``session`` is ``AM`` or ``PM``. ``marks_plan`` loads the school's pupils, enrolments and
calendar once (a fixed number of queries, whatever the file's length), runs every row through
``registers.services.marks.mark_validate`` (the same rules as a register: a school session, except
``#``; the code set of the session's date and the school's jurisdiction; age rules; ``Z`` only
before the starting day, any other code only while on roll) and returns the writes for one
``marks_write`` call (``registers.services.marks.marks_import``).

A historic ``K`` (before 19 August 2024, England) is a third-party "mark not received", not a
code: the row is skipped and counted as a missing mark (spec/regulations.md §1.4).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from typing import TextIO

from django.core.exceptions import ValidationError

from registers.codes import historic_missing
from registers.models import AttendanceMark
from registers.services.marks import MarkWrite, mark_validate
from schools.csv_io import DATE_HELP, CsvRow, CsvTable, RowErrors, parse_date
from schools.models import Enrolment, Pupil, School, SessionChoice
from schools.selectors import school_calendar_get
from schools.upn import upn_error

REQUIRED = ("upn", "date", "session", "code")
OPTIONAL = ("minutes_late",)
COLUMNS = (*REQUIRED, *OPTIONAL)
SESSIONS = frozenset(SessionChoice.values)  # read once: ``.values`` is rebuilt on every access


@dataclass
class MarksPlan:
    writes: list[MarkWrite] = field(default_factory=list)
    missing_historic_k: int = 0


def marks_plan(*, school: School, table: CsvTable) -> MarksPlan:
    """Check every row of a marks file; return the validated writes.

    Raises ``CsvInvalid`` with every problem found, each on its line and column (a rule that
    concerns the code for this pupil and date, such as ``X`` for a pupil of compulsory school
    age or a mark outside the enrolment, is reported on ``code``). Must run inside
    ``school_scope(school)``.
    """
    errors = RowErrors(table)
    pupils = {p.upn: p for p in Pupil.objects.filter(school=school)}
    enrolments: dict[int, list[Enrolment]] = {}
    for enrolment in Enrolment.objects.filter(school=school):
        enrolments.setdefault(enrolment.pupil_id, []).append(enrolment)
    calendar = school_calendar_get(school=school)
    plan = MarksPlan()
    first_line: dict[tuple[str, dt.date, str], int] = {}
    for row in table.rows:
        write = _parse(row, pupils, errors)
        if write is None:
            continue
        key = (write.pupil.upn, write.date, write.session)
        if key in first_line:
            errors.add(
                row,
                "session",
                f"this pupil's {write.session} mark on {write.date} is also on line {first_line[key]}",
            )
            continue
        first_line[key] = row.line
        if historic_missing(jurisdiction=school.jurisdiction, code=write.code, on=write.date):
            plan.missing_historic_k += 1
            continue
        if write.code != "#" and not calendar.is_session(write.date, write.session):
            # Say which value is wrong: the whole day, or just this half of it.
            column = "session" if calendar.is_school_day(write.date) else "date"
            errors.add(
                row, column, f"{write.date:%a %d %b %Y} {write.session} is not a school session"
            )
            continue
        pupil_enrolments = enrolments.get(write.pupil.pk, [])
        try:
            plan.writes.append(
                mark_validate(
                    school=school, write=write, calendar=calendar, enrolments=pupil_enrolments
                )
            )
        except ValidationError as exc:
            column = _column_at_fault(exc)
            for message in exc.messages:
                errors.add(row, column, message)
    errors.raise_if_any()
    return plan


def _parse(row: CsvRow, pupils: dict[str, Pupil], errors: RowErrors) -> MarkWrite | None:
    before = len(errors)
    upn = row.get("upn").upper()
    pupil = pupils.get(upn)
    if pupil is None:
        errors.add(row, "upn", upn_error(upn) or f"no pupil with UPN {upn} at this school")
    day = parse_date(row.get("date"))
    if day is None:
        errors.add(row, "date", f"{row.get('date')!r} is not a date; {DATE_HELP}")
    session = row.get("session").upper()
    if session not in SESSIONS:
        errors.add(row, "session", f"{row.get('session')!r} is not a session; use AM or PM")
    code = row.get("code").upper()
    if not code:
        errors.add(row, "code", "required")
    late = row.get("minutes_late")
    minutes: int | None = None
    if late.isascii() and late.isdigit():
        minutes = int(late)
    elif late:
        errors.add(row, "minutes_late", f"{late!r} is not a whole number of minutes")
    if len(errors) > before or pupil is None or day is None:
        return None
    return MarkWrite(pupil, day, session, code, minutes)


def _column_at_fault(error: ValidationError) -> str:
    """``minutes_late`` when ``mark_validate`` says the minutes are what is wrong (its
    ``code="minutes_late"`` errors), else ``code``: the rule stays in one place."""
    if all(item.code == "minutes_late" for item in error.error_list):
        return "minutes_late"
    return "code"


def marks_export(*, school: School, start: dt.date, end: dt.date, out: TextIO) -> int:
    """Write the school's marks from ``start`` to ``end`` (inclusive) to ``out`` as CSV in the
    import's columns, sorted by UPN, date and session (AM before PM); return the row count.

    Streams from the database, so a whole school's year does not sit in memory. Must run inside
    ``school_scope(school)``.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows = (
        AttendanceMark.objects.filter(school=school, date__gte=start, date__lte=end)
        .order_by("pupil__upn", "date", "session")  # "AM" sorts before "PM"
        .values_list("pupil__upn", "date", "session", "code", "minutes_late")
    )
    count = 0
    for upn, day, session, code, minutes in rows.iterator(chunk_size=5000):
        writer.writerow([upn, day.isoformat(), session, code, "" if minutes is None else minutes])
        count += 1
    return count
