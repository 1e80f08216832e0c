"""``manage.py import_marks --school SLUG FILE``: attendance marks from CSV.

Columns ``upn,date,session,code`` and optionally ``minutes_late``. The file is read, checked with
the register's own rules and written in batches inside one transaction
(``registers.csv_marks.marks_import_stream``), so memory stays flat as the file grows, a wrong
row anywhere imports nothing, and changed marks get their amendment history.
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from registers import csv_marks
from registers.services.marks import MarkConflictError
from schools.csv_io import CsvStream
from schools.management.csv_command import CsvImportCommand
from schools.models import School
from schools.scoping import school_scope


class Command(CsvImportCommand):
    help = (
        "Import attendance marks from CSV (upn,date,session,code[,minutes_late]). Checks the "
        "whole file and imports nothing if any row is wrong; safe to re-run."
    )
    required_columns = csv_marks.REQUIRED
    optional_columns = csv_marks.OPTIONAL

    def import_file(self, *, school: School, path: Path) -> None:
        with path.open("rb") as source, school_scope(school):
            stream = CsvStream(
                source,
                name=path.name,
                required=self.required_columns,
                optional=self.optional_columns,
            )
            try:
                result = csv_marks.marks_import_stream(school=school, stream=stream)
            except MarkConflictError as exc:
                # Someone recorded one of these marks between the check and the write; the
                # import rolled back, and a second run will see (and amend) that mark.
                raise CommandError(
                    "Marks were recorded while the file was imported; nothing was imported. "
                    "Run the import again."
                ) from exc
        self.stdout.write(
            f"Marks: created {result.created}, updated {result.changed}, "
            f"unchanged {result.unchanged}; missing (historic K): {result.missing_historic_k}"
        )
