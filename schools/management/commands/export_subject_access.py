"""``manage.py export_subject_access --school SLUG --upn UPN --output FILE``: everything the
school holds about one pupil, as the zip the administrator's page gives (GDPR-02)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from schools.models import Pupil, School
from schools.scoping import school_scope
from schools.subject_access import subject_access_archive


class Command(BaseCommand):
    help = "Write the subject-access archive of one pupil (a zip of JSON files and documents)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--school", required=True, metavar="SLUG")
        parser.add_argument("--upn", required=True)
        parser.add_argument("--output", required=True, type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        school = School.objects.filter(slug=options["school"]).first()
        if school is None:
            raise CommandError(f"No school {options['school']!r}.")
        with school_scope(school):
            pupil = Pupil.objects.filter(school=school, upn=options["upn"].upper()).first()
            if pupil is None:
                raise CommandError(f"No pupil with UPN {options['upn']!r} at {school.slug}.")
            archive = subject_access_archive(school=school, pupil=pupil)
        options["output"].write_bytes(archive)
        self.stdout.write(f"{options['output']}: {len(archive):,} bytes")
