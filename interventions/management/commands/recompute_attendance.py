"""``manage.py recompute_attendance [--school SLUG] [--as-of DATE]``: the nightly full recompute
of one school (or every active school), now, in this process. ``--as-of`` defaults to today in
each school's own time zone."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from interventions.recompute import school_recompute
from schools.models import School
from schools.scoping import school_scope


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{value!r} is not an ISO date (YYYY-MM-DD).") from exc


class Command(BaseCommand):
    help = "Recompute stored attendance results and events for a school (or all schools)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--school", help="the school's slug (default: every active school)")
        parser.add_argument("--as-of", dest="as_of", type=iso_date, help="default: today")

    def handle(self, *args: Any, **options: Any) -> None:
        schools = School.objects.filter(is_active=True).order_by("slug")
        if options["school"]:
            schools = School.objects.filter(slug=options["school"])
            if not schools.exists():
                raise CommandError(f"No school with the slug {options['school']!r}.")
        for school in schools:
            as_of = options["as_of"] or school.local_time().date()
            with school_scope(school):
                run = school_recompute(school=school, as_of=as_of)
            seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else 0
            self.stdout.write(
                f"{school.slug}: {run.enrolments} enrolments as of {as_of}, "
                f"{run.events} new events, {seconds:.1f} s"
            )
