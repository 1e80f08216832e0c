"""Browser protections (WEB-01, WEB-02, WEB-03, SESS-03): CSP, Permissions-Policy,
Cache-Control on signed-in pages, production cookies and `check --deploy`."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import Client, override_settings

from schools.models import Role
from tests.factories import DEMO_PASSWORD
from tests.test_tenancy import ROUTES, _is_platform, _kwargs_for, _url

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _assert_browser_headers(response, url: str) -> None:
    csp = _csp(response)
    assert csp["object-src"] == ["'none'"], url
    assert csp["base-uri"] == ["'none'"], url
    assert csp["frame-ancestors"] == ["'none'"], url
    assert csp["form-action"] == ["'self'"], url
    script = csp["script-src"]
    assert "'self'" in script, url
    assert "'unsafe-inline'" not in script, url
    assert "'unsafe-eval'" not in script, url
    assert "'unsafe-inline'" not in csp["style-src"], url
    assert "style-src-attr" not in csp, url  # no style="" attributes allowed either
    assert "camera=()" in response.headers["Permissions-Policy"], url
    assert response.headers["X-Content-Type-Options"] == "nosniff", url
    assert response.headers["Referrer-Policy"] == "same-origin", url


def test_every_get_url_carries_the_browser_protections_for_a_signed_in_user(world, client_for):
    """WEB-02/03: crawl every GET URL as a signed-in head of year; every response (pages,
    API, errors alike) carries the CSP and headers, and is never stored by the browser."""
    client = client_for(world.a1.users[Role.SCHOOL_ADMIN])
    checked = 0
    for route in ROUTES:
        if _is_platform(route):
            continue
        url = _url(route, _kwargs_for(route, world.a1))
        response = client.get(url)
        _assert_browser_headers(response, url)
        assert "no-store" in response.headers["Cache-Control"], url
        checked += 1
    assert checked > 20


def test_public_pages_and_errors_carry_the_headers_too(client):
    for url in ["/accounts/login/", "/accounts/password_reset/", "/accessibility/", "/nowhere/"]:
        response = client.get(url)
        _assert_browser_headers(response, url)


def test_no_template_has_an_inline_script_or_event_handler():
    """The CSP forbids inline script, so none may be left in a template."""
    import re
    from pathlib import Path

    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        if inline_script.search(text) and "csp_nonce" not in text:
            offenders.append(str(path))
        if handler.search(text):
            offenders.append(str(path))
    assert offenders == []


def test_htmx_is_told_not_to_inject_its_indicator_style(client):
    """htmx adds an inline <style> unless configured off; the CSP would block it."""
    body = client.get("/accounts/login/").content.decode()
    assert '"includeIndicatorStyles": false' in body


def _production_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "attendance_app.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "OTP_WEBAUTHN_RP_ID": "school.example",
        "OTP_WEBAUTHN_ALLOWED_ORIGINS": "https://school.example",
    }


def test_check_deploy_passes_on_the_production_settings():
    """WEB-01: `manage.py check --deploy --fail-level WARNING` exits 0."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=_production_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_cookies_use_the_host_prefix():
    """SESS-03 in production: __Host- names, Secure, HttpOnly session, SameSite=Lax."""
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.SESSION_COOKIE_SAMESITE, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=_production_env(),
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "True",
        "Lax",
        "True",
        "True",
    ]


@override_settings(
    SESSION_COOKIE_NAME="__Host-sessionid",
    CSRF_COOKIE_NAME="__Host-csrftoken",
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
)
def test_the_login_response_sets_host_cookies_with_every_attribute(world):
    """SESS-03: parse Set-Cookie from a real login and assert every attribute."""
    client = Client()
    user = world.a1.users[Role.FORM_TUTOR]
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": DEMO_PASSWORD},
        secure=True,
    )
    assert response.status_code == 302
    session = response.cookies["__Host-sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert session["path"] == "/"
    assert not session["domain"]
