"""Where to send a user after a form: the one check every ``next`` goes through."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next_url(request: HttpRequest, fallback: str) -> str:
    """The ``next`` the request carries (POST first, then the query string) when it points at
    this site, else ``fallback``. A ``next`` of another host, another scheme, or a
    scheme-relative ``//elsewhere`` is an open redirect and is ignored (security checklist)."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback
