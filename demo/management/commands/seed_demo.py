"""``manage.py seed_demo [--scale F]``: create (or complete) the demo trust and its registers and
marks, print its logins."""

from __future__ import annotations

import datetime as dt
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from demo.blueprints import DEMO_PASSWORD, TRUST_SLUG
from demo.cases import seed_demo_cases
from demo.marks import MarksSummary, seed_demo_marks
from demo.queues import open_item_counts, seed_demo_queues
from demo.trust import DemoSummary, seed_demo_trust
from interventions.recompute import school_recompute
from registers.selectors import register_clock
from schools.models import School
from schools.scoping import school_scope


class Command(BaseCommand):
    help = (
        "Create the Northfield demo trust (three schools, about 2,500 pupils) or add whatever "
        "part of it is missing, then print the demo logins. Safe to run again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Multiply the pupil numbers (default 1.0; e.g. 0.1 for a quick, small trust).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_SEED_ALLOWED:
            # The demo accounts share a published password: never create them in production.
            raise CommandError(
                "Demo data is disabled in these settings (DJANGO_ALLOW_DEMO_SEED is not set)."
            )
        scale: float = options["scale"]
        if not scale > 0:
            raise CommandError("--scale must be a positive number.")
        # One reading of the clock: today picks the academic years, and now decides whether
        # today's registers have closed yet (the seed itself never reads the clock).
        now = timezone.localtime()
        started = time.perf_counter()
        summary = seed_demo_trust(today=now.date(), scale=scale)
        elapsed = time.perf_counter() - started
        self._report(summary, elapsed)
        # With the demo clock on (local settings), marks stop where the registers' pretend time
        # is, so the demo day's registers are left for the newcomer to take at any hour.
        now = self._register_time(now)
        started = time.perf_counter()
        marks = seed_demo_marks(today=now.date(), scale=scale, now=now, scripted=True)
        self._report_marks(marks, time.perf_counter() - started)
        self._recompute(today=now.date())
        self._escalation(marks, now=now)

    def _register_time(self, now: dt.datetime) -> dt.datetime:
        """``now``, or the earliest demo-clock time of the demo schools (README "Demo at any
        hour"), which then leaves every demo tutor's register on that day untaken."""
        if not settings.DEMO_CLOCK:
            return now
        clocks = []
        for school in School.objects.filter(trust__slug=TRUST_SLUG):
            with school_scope(school):
                clocks.append(register_clock(school=school, now=now))
        if not clocks:
            return now
        shifted = min(clocks)
        if shifted.astimezone(now.tzinfo) != now:
            self.stdout.write(
                f"Demo clock: registers behave as on {shifted:%A %d %B} at {shifted:%H:%M}; "
                "that day's registers are left for you to take (DEMO_CLOCK=0 turns it off)."
            )
        return timezone.localtime(shifted)

    def _recompute(self, *, today: dt.date) -> None:
        """The engine's stored results and events for this year, as the nightly run leaves
        them (the seed writes marks in bulk, bypassing the per-save recompute)."""
        started = time.perf_counter()
        enrolments = events = 0
        for school in School.objects.filter(trust__slug=TRUST_SLUG).order_by("slug"):
            with school_scope(school):
                run = school_recompute(school=school, as_of=today)
            enrolments, events = enrolments + run.enrolments, events + run.events
        self.stdout.write(
            self.style.SUCCESS(
                f"Attendance results: {enrolments:,} enrolments recomputed as of {today}, "
                f"{events:,} new events, in {time.perf_counter() - started:.1f} s."
            )
        )

    def _escalation(self, marks: MarksSummary, *, now: dt.datetime) -> None:
        """The queues and cases of each school's demo day (its last day with marks), built
        through the queue and casework services (demo.queues, demo.cases)."""
        started = time.perf_counter()
        last_days = {s.slug: s.last_session[0] for s in marks.schools if s.last_session}
        queues = seed_demo_queues(last_days=last_days, now=now)
        cases = seed_demo_cases(last_days=last_days, now=now)
        items = open_item_counts()  # after the cases' decisions closed old thresholds
        summary = ", ".join(
            f"{q.slug} {items.get(q.slug, 0):,} open items and {cases.get(q.slug, 0)} open cases "
            f"on {q.demo_day:%a %d %b}"
            for q in queues
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Queues and cases: {summary}, in {time.perf_counter() - started:.1f} s."
            )
        )

    def _report(self, summary: DemoSummary, elapsed: float) -> None:
        write = self.stdout.write
        created = (
            f"{summary.rows_created:,} rows created"
            if summary.rows_created
            else "already complete, nothing created"
        )
        write(self.style.SUCCESS(f"{summary.trust}: {created} in {elapsed:.1f} s."))
        write("")
        write(
            _table(
                (
                    "School",
                    "Jurisdiction",
                    "On roll today",
                    "Pupils incl. leavers",
                    "Forms",
                    "Staff",
                ),
                [
                    (
                        s.name,
                        s.jurisdiction,
                        f"{s.pupils_on_roll:,}",
                        f"{s.pupils_total:,}",
                        str(s.forms),
                        str(s.staff),
                    )
                    for s in summary.schools
                ],
                right_aligned={2, 3, 4, 5},
            )
        )
        write(f"Total on roll today: {summary.pupils_on_roll:,}")
        write("")
        write(self.style.MIGRATE_HEADING(f"Demo logins (every password is {DEMO_PASSWORD!r})"))
        write(
            _table(
                ("Role", "School", "Username", "Password", "Notes"),
                [
                    (
                        str(login.role.label),
                        login.school,
                        login.username,
                        login.password,
                        login.detail,
                    )
                    for login in summary.logins
                ],
            )
        )

    def _report_marks(self, marks: MarksSummary, elapsed: float) -> None:
        last = marks.last_session
        through = f"through {last[0]:%a %d %b %Y} {last[1]}" if last else "no sessions yet"
        if marks.rows_created:
            done = (
                f"{marks.marks_created:,} marks, {marks.registers_written:,} registers and "
                f"{marks.amendments_created:,} amendments written in {elapsed:.1f} s, {through}"
            )
        else:
            done = f"already up to date {through} (checked in {elapsed:.1f} s)"
        self.stdout.write(
            self.style.SUCCESS(f"Registers and marks: {done}")
            + f"; {marks.open_n:,} N marks to resolve, {marks.not_taken} registers not taken."
        )


def _table(
    header: tuple[str, ...], rows: list[tuple[str, ...]], right_aligned: set[int] | None = None
) -> str:
    """A plain-text table that reads well in a terminal and in CI logs."""
    right = right_aligned or set()
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])
