"""``manage.py create_school --slug SLUG --name NAME --urn URN --jurisdiction england|wales
[--la-code N] [--trust SLUG]``: create a school, or confirm it exists as described."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from schools.models import Jurisdiction
from schools.services import school_provision

# ValidationError keys from school_provision → the option the user typed.
OPTION_FOR = {
    "slug": "--slug",
    "name": "--name",
    "urn": "--urn",
    "jurisdiction": "--jurisdiction",
    "la_code": "--la-code",
    "trust": "--trust",
}


class Command(BaseCommand):
    help = (
        "Create a school (and its trust, by slug, if it does not exist yet). Safe to run again: "
        "the same arguments report 'unchanged'."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--slug", required=True, help="The school's address: /s/<slug>/.")
        parser.add_argument("--name", required=True)
        parser.add_argument("--urn", required=True, help="The six-digit unique reference number.")
        parser.add_argument("--jurisdiction", required=True, choices=Jurisdiction.values)
        parser.add_argument("--la-code", help="The three-digit local authority code.")
        parser.add_argument(
            "--trust", metavar="SLUG", help="The trust's slug; created if it does not exist."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = school_provision(
                slug=options["slug"],
                name=options["name"],
                urn=options["urn"],
                jurisdiction=options["jurisdiction"],
                la_code=options["la_code"],
                trust_slug=options["trust"],
            )
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                for message in messages:
                    self.stderr.write(f"{OPTION_FOR.get(key, key)}: {message}")
            raise CommandError("The school was not created or changed.") from exc
        school = result.school
        if result.trust_created:
            self.stdout.write(f"Trust {options['trust']}: created")
        self.stdout.write(f"School {school.slug} ({school.name}): {result.outcome}")
