"""``manage.py staff_year_groups --school SLUG --user USERNAME [--set "Year 7" "8" ...]
[--clear]``: show, set or clear the year groups a member of staff (a pastoral lead) looks
after. Pastoral leads see the queue items, cases and pupils of these year groups only."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from schools.models import School, StaffMembership, StaffYearGroup
from schools.scoping import school_scope
from schools.staff_scope import staff_year_groups_set, year_groups_find


class Command(BaseCommand):
    help = "Show, set or clear the year groups a member of staff (a pastoral lead) looks after."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--school", required=True, help="the school's slug")
        parser.add_argument("--user", required=True, help="the staff member's username or email")
        parser.add_argument(
            "--set", nargs="+", metavar="YEAR_GROUP", help='year groups by name or NC year ("7")'
        )
        parser.add_argument("--clear", action="store_true", help="remove every year group")

    def handle(self, *args: Any, **options: Any) -> None:
        school = School.objects.filter(slug=options["school"]).first()
        if school is None:
            raise CommandError(f"No school with the slug {options['school']!r}.")
        user_model = get_user_model()
        user = (
            user_model.objects.filter(username=options["user"]).first()
            or user_model.objects.filter(email__iexact=options["user"]).first()
        )
        with school_scope(school):
            membership = (
                StaffMembership.objects.filter(school=school, user=user).first() if user else None
            )
            if membership is None:
                raise CommandError(f"{options['user']!r} is not on the staff of {school.slug}.")
            if options["set"] is not None or options["clear"]:
                try:
                    wanted = year_groups_find(school=school, names=options["set"] or [])
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from exc
                staff_year_groups_set(school=school, membership=membership, year_groups=wanted)
            names = [
                row.year_group.name
                for row in StaffYearGroup.objects.filter(school=school, membership=membership)
                .select_related("year_group")
                .order_by("year_group__sort_order")
            ]
        self.stdout.write(f"{membership}: {', '.join(names) if names else '(no year groups)'}")
