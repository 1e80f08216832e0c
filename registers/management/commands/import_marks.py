"""``manage.py import_marks --school SLUG FILE``: attendance marks from CSV.

Columns ``upn,date,session,code`` and optionally ``minutes_late``. Every row is checked with the
register's own rules (``registers.csv_marks``), then all marks are written in one
``marks_write`` call, so changed marks get their amendment history.
"""

from __future__ import annotations

from django.core.management.base import CommandError

from registers import csv_marks
from registers.services.marks import MarkConflictError, marks_import
from schools.csv_io import CsvTable
from schools.management.csv_command import CsvImportCommand
from schools.models import School


class Command(CsvImportCommand):
    help = (
        "Import attendance marks from CSV (upn,date,session,code[,minutes_late]). Checks the "
        "whole file first and imports nothing if any row is wrong; safe to re-run."
    )
    required_columns = csv_marks.REQUIRED
    optional_columns = csv_marks.OPTIONAL

    def run(self, *, school: School, table: CsvTable) -> None:
        plan = csv_marks.marks_plan(school=school, table=table)
        try:
            result = marks_import(school=school, writes=plan.writes, file_name=table.name)
        except MarkConflictError as exc:
            # Someone recorded one of these marks between the check and the write; the import
            # rolled back, and a second run will see (and amend) that mark.
            raise CommandError(
                "Marks were recorded while the file was imported; nothing was imported. "
                "Run the import again."
            ) from exc
        self.stdout.write(
            f"Marks: created {result.created}, updated {result.changed}, "
            f"unchanged {result.unchanged}; missing (historic K): {plan.missing_historic_k}"
        )
