"""``manage.py import_pupils --school SLUG FILE``: pupils, enrolments and forms from CSV.

Columns ``upn,forename,surname,date_of_birth,gender,year_group,form,start_date,leave_date``,
optionally ``fsm,sen,eal,looked_after,child_in_need,young_carer,ethnicity``. The rules (which
academic year a form belongs to, dated form changes) are in ``schools.csv_pupils``.
"""

from __future__ import annotations

from django.utils import timezone

from schools import csv_pupils
from schools.csv_io import CsvTable
from schools.management.csv_command import CsvImportCommand
from schools.models import School
from schools.services import pupils_import


class Command(CsvImportCommand):
    help = (
        "Import or update a school's pupils from CSV (UPN, names, dates, year group, form). "
        "Checks the whole file first and imports nothing if any row is wrong; safe to re-run. "
        "Import the calendar first: forms belong to an academic year."
    )
    required_columns = csv_pupils.REQUIRED
    optional_columns = csv_pupils.OPTIONAL

    def run(self, *, school: School, table: CsvTable) -> None:
        plan = csv_pupils.pupils_plan(school=school, table=table, today=timezone.localdate())
        plan = pupils_import(school=school, plan=plan)
        self.stdout.write(f"Pupils: {plan.pupils}")
        self.stdout.write(
            f"Year groups: created {len(plan.new_year_groups)}; "
            f"forms: created {len(plan.new_forms)}; "
            f"form placements: created {len(plan.new_placements)}, "
            f"changed {len(plan.changed_placements)}"
        )
