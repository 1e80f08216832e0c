"""``manage.py export_attendance --school SLUG --from DATE --to DATE [--as-of DATE] --output FILE``:
one row per enrolment with its sessions, rates (1 dp), persistent and severe absence, and the
penalty-notice threshold (issue 4's interface; rates are computed exactly, shown rounded)."""

from __future__ import annotations

import csv
import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from interventions.reference import pct1
from interventions.selectors import enrolment_summaries
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


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not an ISO date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = "Export each enrolment's attendance summary for a period as CSV."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--school", required=True, help="the school's slug")
        parser.add_argument("--from", dest="start", required=True, type=_date)
        parser.add_argument("--to", dest="end", required=True, type=_date)
        parser.add_argument(
            "--as-of", dest="as_of", type=_date, help="defaults to --to: the PN window ends here"
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
            results = enrolment_summaries(
                school=school, period_start=start, period_end=end, as_of=as_of
            )
        with open(options["output"], "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            for result in results:
                s = result.summary
                met = s.pn_threshold_met_on
                writer.writerow(
                    [
                        result.enrolment.pupil.upn,
                        s.possible_sessions,
                        s.present_sessions,
                        s.aea_sessions,
                        s.authorised_sessions,
                        s.unauthorised_sessions,
                        "" if s.attendance_rate is None else pct1(s.attendance_rate),
                        "" if s.overall_absence_rate is None else pct1(s.overall_absence_rate),
                        "true" if s.persistent_absence else "false",
                        "true" if s.severe_absence else "false",
                        met[0].isoformat() if met else "",
                        "" if s.pn_window_count is None else s.pn_window_count,
                    ]
                )
        self.stdout.write(f"Wrote {len(results)} enrolments to {options['output']}.")
