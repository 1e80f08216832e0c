"""``manage.py export_queue --school SLUG --queue QUEUE [--date DATE] --output FILE``: one row
per open item of the queue, in the page's order, header ``rank,upn,item,since,due`` (issue 10).
``--date`` (default today, on the school's clock) gives the queue as it stood at the end of
that day."""

from __future__ import annotations

import csv
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from interventions.management.commands.recompute_attendance import iso_date
from interventions.models import Queue
from interventions.queues import queue_items
from schools.models import School
from schools.scoping import school_scope

HEADER = ["rank", "upn", "item", "since", "due"]


class Command(BaseCommand):
    help = "Export one work queue's open items as CSV, in the order shown on screen."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--school", required=True, help="the school's slug")
        parser.add_argument("--queue", required=True, choices=Queue.values)
        parser.add_argument("--date", type=iso_date, help="the end of this day (default today)")
        parser.add_argument("--output", required=True, help="the CSV file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        school = School.objects.filter(slug=options["school"]).first()
        if school is None:
            raise CommandError(f"No school with the slug {options['school']!r}.")
        day = options["date"] or school.local_time().date()
        with school_scope(school):
            items = queue_items(school=school, queue=options["queue"], at_end_of=day)
            with open(options["output"], "w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(HEADER)
                for rank, item in enumerate(items, start=1):
                    writer.writerow(
                        [
                            rank,
                            # A register not taken is a form's: its name stands for the UPN.
                            item.pupil.upn if item.pupil else (item.form.name if item.form else ""),
                            item.kind,
                            item.since.isoformat(),
                            item.due.isoformat() if item.due else "",
                        ]
                    )
        self.stdout.write(f"{len(items)} items written to {options['output']}")
