"""``manage.py mfa_reset EMAIL``: remove a user's second-factor devices (lost phone and lost
recovery codes). The user enrols again at the next sign-in."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from schools import mfa


class Command(BaseCommand):
    help = "Remove a user's MFA devices; they enrol again at the next sign-in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        email = options["email"]
        user = get_user_model().objects.filter(username__iexact=email).first()
        if user is None:
            user = get_user_model().objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user {email!r}.")
        removed = mfa.reset(user)
        self.stdout.write(f"Removed {removed} device(s); the user enrols again at sign-in.")
