"""Complete the second sign-in step for test clients (schools/mfa.py), the way django-otp
does: the session names a confirmed device of the user. Tests marked ``real_mfa`` go without
it and face the gate."""

from __future__ import annotations

from typing import Any

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

HARNESS_DEVICE = "test harness"


def harness_device(user: Any) -> TOTPDevice:
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name=HARNESS_DEVICE, defaults={"confirmed": True}
    )
    return device


def mark_session_verified(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """A ``user_logged_in`` receiver: the session names the user's harness device, which is
    what ``django_otp.login`` stores after a verified code."""
    request.session[DEVICE_ID_SESSION_KEY] = harness_device(user).persistent_id


def current_code(user: Any) -> str:
    """The device's current TOTP code, from django-otp's own functions. The device forgets
    the last step it accepted, so a test that signs in twice within 30 seconds still can."""
    device = harness_device(user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return str(value).zfill(device.digits)
