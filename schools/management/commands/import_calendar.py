"""``manage.py import_calendar --school SLUG FILE``: terms and closures from a CSV file.

Columns ``start_date,end_date,kind`` (``term`` or ``closure``) and optionally ``session``
(``AM``, ``PM`` or empty for the whole day). The rules are in ``schools.csv_calendar``.
"""

from __future__ import annotations

from schools import csv_calendar
from schools.csv_io import CsvTable
from schools.management.csv_command import CsvImportCommand
from schools.models import School
from schools.services import calendar_import


class Command(CsvImportCommand):
    help = (
        "Import a school's terms and closures from CSV (start_date,end_date,kind[,session]). "
        "Checks the whole file first and imports nothing if any row is wrong; safe to re-run."
    )
    required_columns = csv_calendar.REQUIRED
    optional_columns = csv_calendar.OPTIONAL

    def run(self, *, school: School, table: CsvTable) -> None:
        plan = calendar_import(
            school=school, plan=csv_calendar.calendar_plan(school=school, table=table)
        )
        self.stdout.write(f"Academic years: created {len(plan.new_years)}")
        self.stdout.write(f"Terms: {plan.terms}")
        self.stdout.write(f"Closures: {plan.closures}")
