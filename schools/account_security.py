"""A signed-in user's own account security (security SESS-04, LOG-01): recent
re-authentication before any change, and "sign out my other sessions".

Re-authentication: ``reauth_complete`` stamps the session when the user has just typed their
password (and, with an authenticator app, a code); ``reauth_required`` sends any change older
than ``settings.ACCOUNT_REAUTH_SECONDS`` back through that step.

Other sessions: each account has a generation number (``SessionGeneration``); every session
stores the number current when it signed in. ``sessions_end_others`` raises the number and
gives the current session the new one, so every other session holds an older number and
``SessionGenerationMiddleware`` ends it on its next request, whatever the session backend.
The number is read from the cache (set at sign-in and on every change), the database only on
a miss, so the check costs no query on an ordinary request."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_in
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from schools.audit import audit_record
from schools.audit_models import AuditAction
from schools.models import SessionGeneration

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REAUTH_SESSION_KEY = "account_reauth_at"
GENERATION_SESSION_KEY = "account_session_generation"
_CACHE_SECONDS = 60 * 60 * 24


def _cache_key(user_pk: int) -> str:
    return f"account:session-generation:{user_pk}"


def session_generation(user_pk: int) -> int:
    """The account's current generation: the cache, else the database (then cached)."""
    value = cache.get(_cache_key(user_pk))
    if value is None:
        value = (
            SessionGeneration.objects.filter(user_id=user_pk)
            .values_list("generation", flat=True)
            .first()
        ) or 0
        cache.set(_cache_key(user_pk), value, _CACHE_SECONDS)
    return int(value)


def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[GENERATION_SESSION_KEY] = session_generation(user.pk)


def signals_connect() -> None:
    user_logged_in.connect(_on_login, dispatch_uid="account_session_generation")


def sessions_end_others(request: HttpRequest, *, reason: str = "requested") -> int:
    """End every other session of the signed-in user; this one goes on. Writes one audit
    event. Returns the new generation."""
    user: User = request.user  # type: ignore[assignment]
    # Above both the stored and the cached number, so no session holds it even if the cache
    # kept a number the database has lost (a restore, a rolled-back write).
    cached = int(cache.get(_cache_key(user.pk)) or 0)
    with transaction.atomic():
        row, _ = SessionGeneration.objects.select_for_update().get_or_create(user=user)
        generation = max(row.generation, cached) + 1
        row.generation = generation
        row.save(update_fields=["generation"])
    # After the write, so a reader that missed the cache meanwhile read the new number too.
    cache.set(_cache_key(user.pk), generation, _CACHE_SECONDS)
    request.session[GENERATION_SESSION_KEY] = generation
    audit_record(action=AuditAction.SESSIONS_ENDED, request=request, outcome=reason)
    return generation


class SessionGenerationMiddleware:
    """Ends a session whose account has since signed out its other sessions: the session is
    flushed and the request goes on as anonymous, so pages redirect to sign-in
    (LoginRequiredMiddleware) and the API answers 403, as after Django's own password check."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            held = request.session.get(GENERATION_SESSION_KEY, 0)
            if held < session_generation(user.pk):
                request.session.flush()
                request.user = AnonymousUser()
        return self.get_response(request)


# --- Recent re-authentication (SESS-04) -------------------------------------------------------


def reauth_is_recent(request: HttpRequest) -> bool:
    at = request.session.get(REAUTH_SESSION_KEY)
    if at is None:
        return False
    age = timezone.now().timestamp() - float(at)
    return 0 <= age <= int(settings.ACCOUNT_REAUTH_SECONDS)


def reauth_minutes() -> int:
    return max(1, int(settings.ACCOUNT_REAUTH_SECONDS) // 60)


def reauth_complete(request: HttpRequest) -> None:
    """The user has just proved who they are again: a new session id (SESS-02), then the
    stamp that ``reauth_required`` reads."""
    request.session.cycle_key()
    request.session[REAUTH_SESSION_KEY] = timezone.now().timestamp()
    audit_record(action=AuditAction.REAUTH, request=request, outcome="ok")


def reauth_url(next_url: str) -> str:
    return f"{reverse('account-reauth')}?{urlencode({'next': next_url})}"


def reauth_required(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Send the request through the re-authentication step first unless the user passed it
    within ``ACCOUNT_REAUTH_SECONDS``. A GET comes back to itself; a POST (its form data is
    not replayed) to the account security page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not reauth_is_recent(request):
            back = (
                request.get_full_path() if request.method == "GET" else reverse("account-security")
            )
            return HttpResponseRedirect(reauth_url(back))
        return view(request, *args, **kwargs)

    return wrapped
