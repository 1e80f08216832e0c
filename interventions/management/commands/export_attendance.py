"""``manage.py export_attendance --school SLUG --from DATE --to DATE [--as-of DATE] --output FILE``:
one row per enrolment with its sessions, rates (1 dp), persistent and severe absence, and the
penalty-notice threshold (issue 4's interface; rates are computed exactly, shown rounded)."""

from __future__ import annotations

import csv
from argparse import ArgumentParser
from fractions import Fraction
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from interventions.management.commands.recompute_attendance import iso_date
from interventions.rules import pct1
from interventions.selectors import enrolment_results
from schools.models import School
from schools.scoping import school_scope

HEADER = [
    "upn",
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_sessions",
    "unauthorised_sessions",
    "attendance_rate",
    "overall_absence_rate",
    "persistent_absence",
    "severe_absence",
    "pn_threshold_met_on",
    "pn_window_count",
]


def _pct(rate: Fraction | None) -> str:
    return "" if rate is None else pct1(rate)


class Command(BaseCommand):
    help = "Export each enrolment's attendance summary for a period as CSV."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--school", required=True, help="the school's slug")
        parser.add_argument("--from", dest="start", required=True, type=iso_date)
        parser.add_argument("--to", dest="end", required=True, type=iso_date)
        parser.add_argument(
            "--as-of", dest="as_of", type=iso_date, help="defaults to --to: the PN window ends here"
        )
        parser.add_argument("--output", required=True, help="the CSV file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        school = School.objects.filter(slug=options["school"]).first()
        if school is None:
            raise CommandError(f"No school with the slug {options['school']!r}.")
        start, end = options["start"], options["end"]
        if end < start:
            raise CommandError("--to is before --from.")
        as_of = options["as_of"] or end
        with school_scope(school):
            results = enrolment_results(
                school=school, period_start=start, period_end=end, as_of=as_of
            )
        with open(options["output"], "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for result in results:
                s = result.state
                writer.writerow(
                    [
                        result.upn,
                        s.possible_sessions,
                        s.present_sessions,
                        s.aea_sessions,
                        s.authorised_sessions,
                        s.unauthorised_sessions,
                        _pct(s.attendance_rate),
                        _pct(s.overall_absence_rate),
                        "true" if s.persistent_absence else "false",
                        "true" if s.severe_absence else "false",
                        s.pn_threshold_met_on.isoformat() if s.pn_threshold_met_on else "",
                        "" if s.pn_window_count is None else s.pn_window_count,
                    ]
                )
        self.stdout.write(f"Wrote {len(results)} enrolments to {options['output']}.")
