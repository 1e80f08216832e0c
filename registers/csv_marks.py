"""Marks as CSV: checking an import file (``manage.py import_marks``) and writing an export
(``manage.py export_marks``) in the same columns, so an export imports back unchanged.

Columns: ``upn,date,session,code`` and optionally ``minutes_late``; ``date`` is ISO and
``session`` is ``AM`` or ``PM``. The checker loads the school's pupils, enrolments and calendar
once (a fixed number of queries, whatever the file's length) and runs every row through
``registers.services.marks.mark_validate`` (the same rules as a register: a school session, except
``#``; the code set of the session's date and the school's jurisdiction; age rules; ``Z`` only
before the starting day, any other code only while on roll). ``marks_plan`` returns the writes of
a table in memory; ``marks_import_stream`` (``manage.py import_marks``) reads, checks and writes a
file in batches inside one transaction, so memory stays flat however long the file is and
whatever its order (``marks_write`` looks up only each batch's own pupils and dates).

A historic ``K`` (before 19 August 2024, England) is a third-party "mark not received", not a
code: the row is skipped and counted as a missing mark (spec/regulations.md §1.4).
"""

from __future__ import annotations

import csv
import datetime as dt
from array import array
from dataclasses import dataclass, field
from typing import TextIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from interventions.tasks import recompute_after_commit
from registers.codes import historic_missing
from registers.models import AttendanceMark
from registers.services.marks import MarkWrite, mark_validate, marks_import
from schools.csv_io import DATE_HELP, CsvRow, CsvStream, CsvTable, RowErrors, parse_date
from schools.models import Enrolment, Pupil, School, SessionChoice
from schools.selectors import school_calendar_get
from schools.upn import upn_error

REQUIRED = ("upn", "date", "session", "code")
OPTIONAL = ("minutes_late",)
COLUMNS = (*REQUIRED, *OPTIONAL)
SESSIONS = frozenset(SessionChoice.values)  # read once: ``.values`` is rebuilt on every access


# Rows checked and then written per ``marks_write`` call: large enough that the per-call queries
# do not dominate, small enough that a batch's objects are a few MB whatever the file's length.
BATCH_SIZE = 5000


@dataclass
class MarksPlan:
    writes: list[MarkWrite] = field(default_factory=list)
    missing_historic_k: int = 0


@dataclass
class MarksImported:
    created: int = 0
    changed: int = 0
    unchanged: int = 0
    missing_historic_k: int = 0


class _SeenSessions:
    """The line on which each (pupil, date, session) first appeared, for the "also on line N"
    error: one array of line numbers per pupil and calendar year (4 bytes a session), so it
    grows with pupils and years, not with the rows of the file."""

    def __init__(self) -> None:
        self._lines: dict[tuple[int, int], array[int]] = {}

    def first_line(self, key: tuple[int, dt.date, str], line: int) -> int | None:
        """The earlier line of ``key``, or ``None`` (and remember ``line``) if it is new."""
        pupil_id, day, session = key
        year = self._lines.get((pupil_id, day.year))
        if year is None:
            year = self._lines[(pupil_id, day.year)] = array("I", bytes(4 * 366 * 2))
        slot = (day.timetuple().tm_yday - 1) * 2 + (session == "PM")
        if year[slot]:
            return year[slot]
        year[slot] = line
        return None


class _MarksChecker:
    """Checks one row at a time against the school loaded once (pupils by UPN, enrolments,
    calendar: a fixed number of queries whatever the file's length)."""

    def __init__(self, *, school: School, errors: RowErrors) -> None:
        self.school = school
        self.errors = errors
        self.pupils = {p.upn: p for p in Pupil.objects.filter(school=school)}
        self.enrolments: dict[int, list[Enrolment]] = {}
        for enrolment in Enrolment.objects.filter(school=school):
            self.enrolments.setdefault(enrolment.pupil_id, []).append(enrolment)
        self.calendar = school_calendar_get(school=school)
        self.seen = _SeenSessions()
        self.missing_historic_k = 0

    def check(self, row: CsvRow) -> MarkWrite | None:
        """The validated write of ``row``, or ``None`` (an error recorded, or a historic K)."""
        school, errors = self.school, self.errors
        write = _parse(row, self.pupils, errors)
        if write is None:
            return None
        earlier = self.seen.first_line(write.key, row.line)
        if earlier is not None:
            errors.add(
                row,
                "session",
                f"this pupil's {write.session} mark on {write.date} is also on line {earlier}",
            )
            return None
        if historic_missing(jurisdiction=school.jurisdiction, code=write.code, on=write.date):
            self.missing_historic_k += 1
            return None
        if write.code != "#" and not self.calendar.is_session(write.date, write.session):
            # Say which value is wrong: the whole day, or just this half of it.
            column = "session" if self.calendar.is_school_day(write.date) else "date"
            errors.add(
                row, column, f"{write.date:%a %d %b %Y} {write.session} is not a school session"
            )
            return None
        try:
            return mark_validate(
                school=school,
                write=write,
                calendar=self.calendar,
                enrolments=self.enrolments.get(write.pupil.pk, []),
            )
        except ValidationError as exc:
            column = _column_at_fault(exc)
            for message in exc.messages:
                errors.add(row, column, message)
            return None


def marks_plan(*, school: School, table: CsvTable) -> MarksPlan:
    """Check every row of a marks file; return the validated writes.

    Raises ``CsvInvalid`` with every problem found, each on its line and column (a rule that
    concerns the code for this pupil and date, such as ``X`` for a pupil of compulsory school
    age or a mark outside the enrolment, is reported on ``code``). Must run inside
    ``school_scope(school)``.
    """
    checker = _MarksChecker(school=school, errors=RowErrors(table))
    plan = MarksPlan()
    for row in table.rows:
        write = checker.check(row)
        if write is not None:
            plan.writes.append(write)
    checker.errors.raise_if_any()
    plan.missing_historic_k = checker.missing_historic_k
    return plan


def marks_import_stream(
    *, school: School, stream: CsvStream, batch_size: int | None = None
) -> MarksImported:
    """Check and write a marks file row by row in bounded memory, all or nothing.

    Every row is checked as ``marks_plan`` checks it; the valid ones are written every
    ``batch_size`` rows (``marks_import``: amendment history for a changed mark) inside one
    transaction. After the first error nothing more is written but the rest of the file is
    still checked, and ``CsvInvalid`` with every error rolls the whole file back. The pupils
    are recomputed once, after the commit. Must run inside ``school_scope(school)``; raises
    ``MarkConflictError`` as ``marks_import`` does.
    """
    batch_size = batch_size or BATCH_SIZE
    errors = RowErrors(stream)
    result = MarksImported()
    pupil_ids: set[int] = set()
    changed_from: dt.date | None = None
    now = timezone.now()  # one time for the whole file, as a single write would have
    with transaction.atomic():
        checker = _MarksChecker(school=school, errors=errors)
        batch: list[MarkWrite] = []

        def flush() -> None:
            nonlocal changed_from
            written = marks_import(
                school=school, writes=batch, file_name=stream.name, now=now, recompute=False
            )
            result.created += written.created
            result.changed += written.changed
            result.unchanged += written.unchanged
            for mark in written.written:  # an unchanged mark needs no recompute
                pupil_ids.add(mark.pupil_id)
                changed_from = min(changed_from or mark.date, mark.date)
            batch.clear()

        for row in stream:
            write = checker.check(row)
            if write is None or len(errors):
                batch.clear()  # the file will be rolled back: stop writing, keep checking
                continue
            batch.append(write)
            if len(batch) >= batch_size:
                flush()
        errors.raise_if_any()
        if batch:
            flush()
        if pupil_ids and changed_from is not None:
            recompute_after_commit(
                school=school, pupil_ids=sorted(pupil_ids), changed_from=changed_from
            )
    result.missing_historic_k = checker.missing_historic_k
    return result


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
