"""Throttles for the public account pages (AUTH-04, AUTH-06).

Password reset: each address and each email may ask for at most
``settings.PASSWORD_RESET_RATE_LIMIT`` reset emails an hour. Past the limit the view shows the
same "check your email" page and sends nothing, so the response never says whether the
account exists or whether the limit was hit. With the cache (Redis) down the count cannot be
kept, and the limit fails closed: no reset email until it is back (the page is the same), so an
outage cannot be used to flood someone's inbox."""

from __future__ import annotations

import hashlib
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from attendance_app.cache import CacheUnavailable

_WINDOW_SECONDS = 60 * 60


def _hit(key: str) -> int:
    """Count one request against ``key`` in the current window; return the new count."""
    cache.add(key, 0, _WINDOW_SECONDS)
    try:
        return cache.incr(key)
    except CacheUnavailable:
        return settings.PASSWORD_RESET_RATE_LIMIT + 1  # fails closed (see above)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, _WINDOW_SECONDS)
        return 1


def password_reset_allowed(*, address: str, email: str) -> bool:
    limit = settings.PASSWORD_RESET_RATE_LIMIT
    email_digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    by_address = _hit(f"pwreset:ip:{address}")
    by_email = _hit(f"pwreset:email:{email_digest}")
    return by_address <= limit and by_email <= limit


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        # The same client address axes uses (honours DJANGO_PROXY_COUNT behind a proxy), so
        # the limit is per visitor, not one shared limit for the proxy's address.
        address = get_client_ip_address(self.request) or ""
        if not password_reset_allowed(address=address, email=form.cleaned_data["email"]):
            return HttpResponseRedirect(self.get_success_url())
        return super().form_valid(form)


class LoginThrottleBackend(AxesStandaloneBackend):  # type: ignore[misc]
    """django-axes' lockout check (AUTH-04), keyed on username and address together.

    Every HTTP sign-in (the login form, DRF) passes the request and is throttled. A call to
    ``authenticate()`` without one comes from no client at all (the test client's
    ``login()``, a shell), so there is no address to throttle and axes is skipped rather than
    raising."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return
        super().authenticate(request, username, password, **kwargs)
