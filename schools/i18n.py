"""Which language a request is served in (issue 9, Welsh).

The language comes from the user's account, then from an explicit choice in this browser
(the switcher's cookie, for people not signed in), then from the school's default (Welsh for the
parents of a Welsh-medium school), then English. It is never guessed from the browser's
``Accept-Language`` header, which Django's own ``LocaleMiddleware`` would read.

What the account says is read once per session and kept in the session, so a page view costs
no query for it; ``language_remember`` refreshes it when the user changes it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django_scopes import scopes_disabled

from schools.models import ParentLink, UserPreference

SESSION_KEY = "account_language"  # {"chosen": "cy" | "", "default": "cy" | ""}
SUPPORTED = {code for code, _name in settings.LANGUAGES}


def account_language(*, user: Any) -> dict[str, str]:
    """The account's chosen language ("" for none) and its default: Welsh for a parent of a
    pupil at a Welsh-medium school."""
    chosen = (
        UserPreference.objects.filter(user_id=user.pk).values_list("language", flat=True).first()
    )
    with scopes_disabled():  # the user's own links, across their schools
        welsh_parent = ParentLink.objects.filter(
            user_id=user.pk, school__welsh_medium=True
        ).exists()
    return {"chosen": chosen or "", "default": "cy" if welsh_parent else ""}


def language_remember(request: HttpRequest, *, chosen: str) -> None:
    """Keep a just-saved choice in the session so the next page uses it."""
    stored = dict(request.session.get(SESSION_KEY) or {})
    stored["chosen"] = chosen
    stored.setdefault("default", "")
    request.session[SESSION_KEY] = stored


def language_for_request(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    account: dict[str, str] = {}
    if user is not None and user.is_authenticated:
        account = request.session.get(SESSION_KEY) or {}
        if not account:
            account = account_language(user=user)
            request.session[SESSION_KEY] = account
    if account.get("chosen") in SUPPORTED:
        return account["chosen"]
    cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if cookie in SUPPORTED:
        return cookie
    if account.get("default") in SUPPORTED:
        return account["default"]
    return settings.LANGUAGE_CODE


class PreferredLanguageMiddleware(LocaleMiddleware):
    """Django's ``LocaleMiddleware`` (Content-Language, Vary) with our choice of language in
    place of its Accept-Language guess. Goes after ``AuthenticationMiddleware``."""

    def process_request(self, request: HttpRequest) -> None:
        translation.activate(language_for_request(request))
        request.LANGUAGE_CODE = translation.get_language()
