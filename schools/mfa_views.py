"""The second sign-in step (schools/mfa.py): enrol an authenticator app, then verify."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp_webauthn.models import WebAuthnCredential

from schools import account_security, mfa
from schools.redirects import safe_next_url

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "spellcheck": "false", "inputmode": "text"}
        ),
    )


class ReplaceAppForm(CodeForm):
    end_other_sessions = forms.BooleanField(
        label=gettext_lazy("Sign out my other sessions"), required=False, initial=True
    )


def _locked_response(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/mfa_locked.html", status=429)


@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Scan the QR code, type a code to confirm, then see the recovery codes once."""
    user: User = request.user  # type: ignore[assignment]
    next_url = safe_next_url(request, reverse("home"))
    replacing = mfa.confirmed_totp_device(user) is not None
    # Re-enrolling replaces the factor: only someone who has passed it in this session, and
    # proved who they are again just now (SESS-04), may.
    if replacing and not user.is_verified():  # type: ignore[attr-defined]
        return HttpResponseRedirect(f"{reverse('mfa_verify')}?{urlencode({'next': next_url})}")
    if replacing and not account_security.reauth_is_recent(request):
        back = f"{reverse('mfa_enrol')}?{urlencode({'next': next_url})}"
        return HttpResponseRedirect(account_security.reauth_url(back))
    if mfa.verify_locked(user):
        return _locked_response(request)
    device = mfa.pending_totp_device(user)
    form = (ReplaceAppForm if replacing else CodeForm)(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = mfa.confirm_enrolment(request, device, form.cleaned_data["code"])
        if codes is not None:
            if form.cleaned_data.get("end_other_sessions"):
                account_security.sessions_end_others(request, reason="app_replaced")
            return render(
                request,
                "registration/mfa_recovery_codes.html",
                {"codes": codes, "next": next_url},
            )
        if mfa.verify_locked(user):
            return _locked_response(request)
        form.add_error("code", _("That code is not right. Check the time on your phone."))
    return render(
        request,
        "registration/mfa_enrol.html",
        {
            "form": form,
            "qr_svg": mfa.qr_svg(device),
            "secret": _grouped(device.config_url.split("secret=")[1].split("&")[0]),
            "next": next_url,
            "replacing": replacing,
        },
    )


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """A code from the authenticator app, or one recovery code."""
    user: User = request.user  # type: ignore[assignment]
    next_url = safe_next_url(request, reverse("home"))
    if mfa.confirmed_totp_device(user) is None:
        return HttpResponseRedirect(f"{reverse('mfa_enrol')}?{urlencode({'next': next_url})}")
    if mfa.verify_locked(user):
        return _locked_response(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if mfa.verify(request, form.cleaned_data["code"]):
            return HttpResponseRedirect(next_url)
        if mfa.verify_locked(user):
            return _locked_response(request)
        form.add_error("code", _("That code is not right, or it has been used already."))
    has_passkey = WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()
    return render(
        request,
        "registration/mfa_verify.html",
        {"form": form, "next": next_url, "has_passkey": has_passkey},
    )
