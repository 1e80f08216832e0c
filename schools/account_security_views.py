"""The "Account security" page of every signed-in user (security SESS-04): change the
password, replace the authenticator app, new recovery codes, sign out other sessions. Each
change needs a recent re-authentication (schools/account_security.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.forms import SetPasswordForm
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp_webauthn.models import WebAuthnCredential

from schools import account_security, mfa, passkeys
from schools.audit import audit_record
from schools.audit_models import AuditAction
from schools.mfa_views import CodeForm
from schools.redirects import safe_next_url

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class ReauthForm(CodeForm):
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    field_order = ["password", "code"]

    def __init__(self, *args: object, needs_code: bool, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if not needs_code:
            del self.fields["code"]


class EndOtherSessionsForm(forms.Form):
    end_other_sessions = forms.BooleanField(
        label=gettext_lazy("Sign out my other sessions"), required=False, initial=True
    )


@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    return render(
        request,
        "registration/account_security.html",
        {
            "has_app": mfa.confirmed_totp_device(user) is not None,
            "codes_left": mfa.recovery_codes_left(user),
            "passkeys": passkeys.passkeys_of(user),
            "reauth_recent": account_security.reauth_is_recent(request),
            "reauth_minutes": account_security.reauth_minutes(),
            "end_form": EndOtherSessionsForm(),
        },
    )


@require_http_methods(["GET", "POST"])
def reauth(request: HttpRequest) -> HttpResponse:
    """Type the password again, and a code when the account has an authenticator app."""
    user: User = request.user  # type: ignore[assignment]
    next_url = safe_next_url(request, reverse("account-security"))
    needs_code = mfa.confirmed_totp_device(user) is not None
    if needs_code and mfa.verify_locked(user):
        return render(request, "registration/mfa_locked.html", status=429)
    form = ReauthForm(request.POST or None, needs_code=needs_code)
    if request.method == "POST" and form.is_valid():
        # authenticate(), not check_password(): the sign-in's throttle (django-axes) counts
        # wrong passwords here too, so this page cannot be used to guess a password.
        checked = authenticate(
            request, username=user.get_username(), password=form.cleaned_data["password"]
        )
        # A wrong password is audited as a failed sign-in (Django's signal), a wrong code as a
        # failed second step (mfa.verify): one event each.
        if checked is None or checked.pk != user.pk:
            form.add_error("password", _("That password is not right."))
        elif needs_code and not mfa.verify(request, form.cleaned_data["code"]):
            if mfa.verify_locked(user):
                return render(request, "registration/mfa_locked.html", status=429)
            form.add_error("code", _("That code is not right, or it has been used already."))
        else:
            account_security.reauth_complete(request)
            return HttpResponseRedirect(next_url)
    return render(
        request,
        "registration/account_reauth.html",
        {"form": form, "next": next_url, "reauth_minutes": account_security.reauth_minutes()},
    )


@require_http_methods(["GET", "POST"])
@account_security.reauth_required
def password_change(request: HttpRequest) -> HttpResponse:
    """A new password. This session goes on under a new id; every other session ends (Django
    ends them anyway once the password hash changes: the generation says so explicitly)."""
    user: User = request.user  # type: ignore[assignment]
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, user)  # keeps this session, with a new id
        audit_record(action=AuditAction.PASSWORD_CHANGE, request=request, outcome="ok")
        account_security.sessions_end_others(request, reason="password")
        messages.success(request, _("Your password has been changed."))
        return HttpResponseRedirect(reverse("account-security"))
    return render(request, "registration/account_password.html", {"form": form})


@require_POST
@account_security.reauth_required
def recovery_codes_replace(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    if mfa.confirmed_totp_device(user) is None:
        return HttpResponseRedirect(reverse("mfa_enrol"))
    codes = mfa.recovery_codes_replace(user)
    audit_record(action=AuditAction.MFA_CHANGE, request=request, outcome="codes_replaced")
    form = EndOtherSessionsForm(request.POST)
    if form.is_valid() and form.cleaned_data["end_other_sessions"]:
        account_security.sessions_end_others(request, reason="codes_replaced")
    return render(
        request,
        "registration/mfa_recovery_codes.html",
        {"codes": codes, "next": reverse("account-security")},
    )


@require_POST
def sessions_end(request: HttpRequest) -> HttpResponse:
    # No re-authentication: ending sessions takes nothing away from the account's owner, and
    # someone who has just lost a phone should be able to do it at once.
    account_security.sessions_end_others(request)
    messages.success(request, _("Your other sessions have been signed out."))
    return HttpResponseRedirect(reverse("account-security"))


@require_POST
@account_security.reauth_required
def passkey_remove(request: HttpRequest) -> HttpResponse:
    # The id comes in the form, not the URL: a passkey belongs to a user, not to a school, and
    # only the user's own may be removed. Another user's id answers 404, as a missing one does.
    passkey_id = request.POST.get("passkey_id", "")
    if not passkey_id.isdigit():
        raise Http404
    passkey = get_object_or_404(WebAuthnCredential, pk=int(passkey_id), user=request.user)
    passkey.delete()
    audit_record(action=AuditAction.MFA_CHANGE, request=request, outcome="passkey_removed")
    messages.success(request, _("The passkey has been removed."))
    return HttpResponseRedirect(reverse("account-security"))
