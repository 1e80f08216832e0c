"""``manage.py demo_mfa_code EMAIL``: development only. Gives a demo account a TOTP device
with its documented key (``schools.mfa.demo_key_hex``) and prints the current code, so the
demo accounts get through the second sign-in step without a phone."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from schools.mfa import DEMO_DEVICE_NAME, demo_key_hex


class Command(BaseCommand):
    help = "Development only: print the current MFA code of a demo account."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_mfa_code runs only with DEBUG on (development).")
        user = get_user_model().objects.filter(username__iexact=options["email"]).first()
        if user is None:
            raise CommandError(f"No user {options['email']!r}.")
        device = TOTPDevice.objects.filter(user=user, name=DEMO_DEVICE_NAME).first()
        if device is None:
            TOTPDevice.objects.filter(user=user).delete()
            device = TOTPDevice.objects.create(
                user=user, name=DEMO_DEVICE_NAME, key=demo_key_hex(user.username), confirmed=True
            )
        code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
        self.stdout.write(str(code).zfill(device.digits))
