"""Staff MFA (AUTH-01…03, SESS-02): django-otp with one TOTP device and one static device of
recovery codes per user.

Every signed-in user with a staff or trust membership must be ``request.user.is_verified()``
(django-otp's flag for this session) before any page or API answers: ``MFAGateMiddleware``
sends them to enrol (no confirmed TOTP device yet) or to verify. Password reset and the
session cookie's lifetime ("remember me") never set the flag, so neither skips it. Parents
may enrol; the gate does not force them."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.checks import CheckMessage, Error
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from schools.audit import audit_record
from schools.audit_models import AuditAction

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"

# The pages an unverified member may still reach: the MFA steps themselves (a passkey's
# verification and its script's messages among them), sign-out, the language switcher and the
# health probe (static files are served before any of this). Adding a passkey is not open.
_OPEN_VIEW_NAMES = frozenset(
    {
        "mfa_enrol",
        "mfa_verify",
        "logout",
        "set_language",
        "health",
        "otp_webauthn:credential-authentication-begin",
        "otp_webauthn:credential-authentication-complete",
        "otp_webauthn:js-i18n-catalog",
    }
)


def mfa_required(user: User) -> bool:
    """Staff (at any school) and trust leaders must use a second factor; parents may."""
    return (
        get_user_model()
        .objects.filter(pk=user.pk)
        .filter(Q(staff_memberships__isnull=False) | Q(trust_memberships__isnull=False))
        .exists()
    )


def confirmed_totp_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def pending_totp_device(user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled: one per user, reused until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The provisioning URI as an inline SVG, drawn on the server (no script, no style)."""
    return str(segno.make(device.config_url, error="m").svg_inline(scale=4, omitsize=False))


def _failure_key(user: User) -> str:
    return f"mfa:fail:{user.pk}"


def verify_locked(user: User) -> bool:
    return int(cache.get(_failure_key(user), 0)) >= settings.MFA_FAILURE_LIMIT


def _record_failure(user: User) -> None:
    key = _failure_key(user)
    cache.add(key, 0, settings.MFA_FAILURE_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, settings.MFA_FAILURE_WINDOW_SECONDS)


def _complete(request: HttpRequest, device: Any) -> None:
    # A new session id once the second factor is done (SESS-02), then django-otp's flag.
    request.session.cycle_key()
    otp_login(request, device)
    cache.delete(_failure_key(request.user))  # type: ignore[arg-type]


def complete_second_step(request: HttpRequest, device: Any) -> None:
    """The second step passed with ``device`` (a code, a recovery code or a passkey)."""
    _complete(request, device)
    audit_record(action=AuditAction.MFA_OK, request=request, outcome=device_kind(device))


def record_failure(request: HttpRequest) -> None:
    """A wrong code or a failed passkey: counted towards the lock, and audited."""
    _record_failure(request.user)  # type: ignore[arg-type]
    audit_record(action=AuditAction.MFA_FAILED, request=request, outcome="failed")


def recovery_codes_replace(user: User) -> list[str]:
    """A new set of recovery codes for ``user`` (shown once); every earlier code stops
    working."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        recovery = StaticDevice.objects.create(user=user, name=RECOVERY_DEVICE_NAME)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
    return codes


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def confirm_enrolment(request: HttpRequest, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm the pending device with a code from the app; return the new recovery codes
    (shown once), or ``None`` if the code is wrong. The device replaces any earlier one, and
    old recovery codes are replaced too. One audit event (LOG-01 "MFA change")."""
    user: User = request.user  # type: ignore[assignment]
    if verify_locked(user):
        return None
    if not device.verify_token(token.strip().replace(" ", "")):
        _record_failure(user)
        return None
    with transaction.atomic():
        replaced, _ = TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = recovery_codes_replace(user)
    _complete(request, device)
    audit_record(
        action=AuditAction.MFA_CHANGE,
        request=request,
        outcome="app_replaced" if replaced else "app_enrolled",
    )
    return codes


def verify(request: HttpRequest, token: str) -> bool:
    """Check a TOTP code or a recovery code; a recovery code is used up (AUTH-03). django-otp
    refuses a TOTP code already used and codes outside its window; this adds the per-user
    limit on failures."""
    user: User = request.user  # type: ignore[assignment]
    if verify_locked(user):
        return False
    token = token.strip().replace(" ", "")
    devices: list[Any] = [
        *TOTPDevice.objects.filter(user=user, confirmed=True),
        *StaticDevice.objects.filter(user=user, confirmed=True),
    ]
    for device in devices:
        if device.verify_token(token):
            complete_second_step(request, device)
            return True
    record_failure(request)
    return False


def device_kind(device: Any) -> str:
    if isinstance(device, StaticDevice):
        return "recovery_code"
    return "app" if isinstance(device, TOTPDevice) else "passkey"


def reset(user: User) -> int:
    """Remove every device, passkeys too (administrators, ``manage.py mfa_reset``): the user enrols again at
    the next sign-in. Returns the number of devices removed."""
    cache.delete(_failure_key(user))
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    static, _ = StaticDevice.objects.filter(user=user).delete()
    passkeys, _ = WebAuthnCredential.objects.filter(user=user).delete()
    return int(totp) + int(static) + int(passkeys)


def _is_open(request: HttpRequest) -> bool:
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return True
    try:
        return resolve(request.path_info).view_name in _OPEN_VIEW_NAMES
    except Resolver404:
        return False


class MFAGateMiddleware:
    """After authentication: a member who has not completed the second factor in this session
    reaches only the MFA pages (enrol or verify), sign-out, the language switcher and health.
    Pages redirect there with ``next``; the API answers 403 JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            not settings.MFA_REQUIRED_FOR_STAFF
            or not user.is_authenticated
            or user.is_verified()  # type: ignore[attr-defined]  # set by OTPMiddleware
            or _is_open(request)
            or not mfa_required(user)
        ):
            return self.get_response(request)
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Complete the second sign-in step (MFA) first.")}, status=403
            )
        has_device = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        target = reverse("mfa_verify" if has_device else "mfa_enrol")
        return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")


DEMO_DEVICE_NAME = "Demo key (development only)"


def demo_key_hex(email: str) -> str:
    """The development-only TOTP key of a demo account (``manage.py demo_mfa_code``): derived
    from the email so anyone with the code can sign in as a demo user. The command refuses
    unless DEBUG, and ``demo_devices_check`` refuses such devices outside DEBUG."""
    return hashlib.sha256(f"demo-mfa:{email.lower()}".encode()).hexdigest()[:40]


def demo_devices_check(**kwargs: Any) -> list[CheckMessage]:
    """A production site must not carry a device whose key is public (the demo key)."""
    if settings.DEBUG:
        return []
    try:
        found = TOTPDevice.objects.filter(name=DEMO_DEVICE_NAME).exists()
    except DatabaseError:  # no database yet (a build step): nothing to refuse
        return []
    if not found:
        return []
    return [
        Error(
            "A TOTP device with the public demo key exists while DEBUG is off.",
            hint="Delete the demo devices (manage.py mfa_reset EMAIL) or the demo accounts.",
            id="schools.E901",
        )
    ]
