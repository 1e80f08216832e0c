"""``manage.py export_la_returns --school SLUG --kind KIND [--output FILE]``: one school's
returns of one kind as the CSV for the LA (the same rows as the returns page's download),
from each return's frozen snapshot."""

from __future__ import annotations

import csv
import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from interventions.casework import la_returns_csv_rows
from interventions.models import LAReturn, ReturnKind
from schools.models import School
from schools.scoping import school_scope


class Command(BaseCommand):
    help = "Write one school's returns to the LA of one kind as CSV."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--school", required=True, help="the school's slug")
        parser.add_argument("--kind", required=True, choices=ReturnKind.values)
        parser.add_argument("--output", help="a file to write (default: standard output)")

    def handle(self, *args: Any, **options: Any) -> None:
        school = School.objects.filter(slug=options["school"]).first()
        if school is None:
            raise CommandError(f"No school with the slug {options['school']!r}.")
        with school_scope(school):
            returns = LAReturn.objects.filter(school=school, kind=options["kind"]).select_related(
                "pupil"
            )
            header, rows = la_returns_csv_rows(returns.order_by("due_on", "pk"))
        if options["output"]:
            with open(options["output"], "w", newline="", encoding="utf-8") as handle:
                _write(handle, header, rows)
        else:
            _write(sys.stdout, header, rows)


def _write(handle: Any, header: list[str], rows: list[list[str]]) -> None:
    writer = csv.writer(handle)
    writer.writerow(header)
    writer.writerows(rows)
