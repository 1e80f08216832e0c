"""``manage.py apply_retention [--dry-run] [--school SLUG]``: apply the retention rules
(``registers.retention``: the register's, casework's, notices', letters'; then the audit
trail's, which is every school's at once and so is skipped with ``--school``) now, or with
``--dry-run`` print what they would remove."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from registers.retention import apply_retention
from schools.models import School
from schools.retention import audit_retention


class Command(BaseCommand):
    help = (
        "Apply the retention rules (register entries 6 years; free text of reports, casework, "
        "notices and letters; the audit trail); --dry-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="remove nothing, only print")
        parser.add_argument("--school", help="one school's slug (default: every school)")

    def handle(self, *args: Any, **options: Any) -> None:
        schools = School.objects.order_by("pk")
        if options["school"]:
            schools = schools.filter(slug=options["school"])
            if not schools.exists():
                raise CommandError(f"No school with the slug {options['school']!r}.")
        dry_run: bool = options["dry_run"]
        verb = "Would remove" if dry_run else "Removed"
        now = timezone.now()
        for school in schools:
            removals = apply_retention(school, now=now, dry_run=dry_run)
            if not removals:
                self.stdout.write(f"{school.slug}: nothing has reached the end of its retention.")
            for removal in removals:
                self.stdout.write(f"{school.slug}: {verb} {removal.describe()}")
        if not options["school"]:
            audit = audit_retention(now=now, dry_run=dry_run)
            if audit is None:
                self.stdout.write("audit trail: nothing has reached the end of its retention.")
            else:
                self.stdout.write(f"audit trail: {verb} {audit.describe()}")
