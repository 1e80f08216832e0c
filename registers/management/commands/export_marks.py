"""``manage.py export_marks --school SLUG --from DATE --to DATE --output FILE``: marks as CSV
in the columns ``import_marks`` reads (``upn,date,session,code,minutes_late``)."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from registers.csv_marks import marks_export
from schools.csv_io import DATE_HELP, parse_date
from schools.management.csv_command import school_get
from schools.scoping import school_scope


def _date(value: str) -> dt.date:
    day = parse_date(value.strip())
    if day is None:
        raise ArgumentTypeError(f"{value!r} is not a date; {DATE_HELP}")
    return day


class Command(BaseCommand):
    help = (
        "Export a school's marks between two dates (inclusive) as CSV, sorted by UPN, date and "
        "session; the file imports back with import_marks unchanged."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--school", required=True, metavar="SLUG")
        parser.add_argument("--from", dest="start", required=True, type=_date, metavar="DATE")
        parser.add_argument("--to", dest="end", required=True, type=_date, metavar="DATE")
        parser.add_argument("--output", required=True, metavar="FILE")

    def handle(self, *args: Any, **options: Any) -> None:
        start: dt.date = options["start"]
        end: dt.date = options["end"]
        if end < start:
            raise CommandError("--to is before --from.")
        school = school_get(options["school"])
        path = Path(options["output"])
        try:
            with path.open("w", encoding="utf-8", newline="") as out, school_scope(school):
                count = marks_export(school=school, start=start, end=end, out=out)
        except OSError as exc:
            raise CommandError(f"Cannot write {path}: {exc.strerror or exc}") from exc
        self.stdout.write(f"Exported {count} marks ({start} to {end}) to {path}.")
