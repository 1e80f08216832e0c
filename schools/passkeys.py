"""Passkeys (WebAuthn) as an extra second factor, from django-otp-webauthn (security AUTH-01,
SESS-04). The library does the WebAuthn ceremonies and ships the browser script (served from
our static files; its configuration is a JSON data block, so no inline script under the CSP).
These subclasses add our rules:

- a passkey is a second factor only: no passwordless sign-in
  (``OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False``), and the authenticator app stays the
  required fallback (``MFAGateMiddleware`` still enrols TOTP first);
- adding a passkey needs a recent re-authentication, as any change on the account security
  page does, and is audited;
- using one at the verify step rotates the session id (SESS-02), clears the failure count,
  is audited, and a failure counts towards the verify step's lock like a wrong code."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext_lazy
from django_otp_webauthn import exceptions
from django_otp_webauthn.models import WebAuthnCredential
from django_otp_webauthn.views import (
    BeginCredentialAuthenticationView,
    BeginCredentialRegistrationView,
    CompleteCredentialAuthenticationView,
    CompleteCredentialRegistrationView,
)

from schools import account_security, mfa
from schools.audit import audit_record
from schools.audit_models import AuditAction


class ReauthRequired(exceptions.OTPWebAuthnApiError):  # type: ignore[misc]
    status_code = 403
    default_code = "reauth_required"
    default_detail = gettext_lazy("Confirm it is you first, then add the passkey.")


class VerifyLocked(exceptions.OTPWebAuthnApiError):  # type: ignore[misc]
    status_code = 429
    default_code = "locked"
    default_detail = gettext_lazy("Too many wrong attempts. Try again in 15 minutes.")


class _NeedsRecentReauth:
    request: Any

    def check_can_register(self) -> None:
        if not account_security.reauth_is_recent(self.request):
            raise ReauthRequired()


class PasskeyRegistrationBegin(_NeedsRecentReauth, BeginCredentialRegistrationView):  # type: ignore[misc]
    pass


class PasskeyRegistrationComplete(_NeedsRecentReauth, CompleteCredentialRegistrationView):  # type: ignore[misc]
    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().post(*args, **kwargs)
        audit_record(action=AuditAction.MFA_CHANGE, request=self.request, outcome="passkey_added")
        return response


class _LockedLikeTheCodes:
    request: Any

    def check_can_authenticate(self) -> None:
        # Second factor only: someone who has typed the password, and is not locked out.
        if not self.request.user.is_authenticated:
            raise exceptions.PasswordlessLoginDisabled()
        if mfa.verify_locked(self.request.user):
            raise VerifyLocked()


class PasskeyAuthenticationBegin(_LockedLikeTheCodes, BeginCredentialAuthenticationView):  # type: ignore[misc]
    pass


class PasskeyAuthenticationComplete(_LockedLikeTheCodes, CompleteCredentialAuthenticationView):  # type: ignore[misc]
    def complete_auth(self, device: WebAuthnCredential) -> None:
        mfa.complete_second_step(self.request, device)

    def handle_exception(self, exc: Exception) -> HttpResponse:
        if self.request.user.is_authenticated and not isinstance(exc, VerifyLocked):
            mfa.record_failure(self.request)
        return super().handle_exception(exc)  # type: ignore[no-any-return]


def passkeys_of(user: Any) -> list[WebAuthnCredential]:
    return list(WebAuthnCredential.objects.filter(user=user, confirmed=True).order_by("pk"))
