"""Brute force and enumeration (AUTH-04, AUTH-06): login throttled per username+address,
password reset rate limited with the same response whether or not the account exists, and
no open redirect through ``next``."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.core.cache import cache
from django.test import Client

from tests.factories import DEMO_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

IP1, IP2 = "198.51.100.1", "198.51.100.2"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _login(username: str, password: str, ip: str):
    return Client(REMOTE_ADDR=ip).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def _normalised(response, username: str) -> str:
    body = response.content.decode().replace(username, "USERNAME")
    return re.sub(r"[A-Za-z0-9]{64}", "CSRF", body)


def _lock(username: str, ip: str) -> None:
    for _ in range(5):
        _login(username, "wrong-password", ip)


def test_failures_lock_that_user_at_that_address_only():
    x, y = UserFactory(), UserFactory()
    _lock(x.username, IP1)
    locked = _login(x.username, DEMO_PASSWORD, IP1)
    assert locked.status_code == 429
    assert "_auth_user_id" not in locked.client.session
    # The real user elsewhere, and another user from the attacker's address, still get in.
    assert _login(x.username, DEMO_PASSWORD, IP2).status_code == 302
    assert _login(y.username, DEMO_PASSWORD, IP1).status_code == 302


def test_the_lock_clears_after_the_cool_off():
    x = UserFactory()
    _lock(x.username, IP1)
    assert _login(x.username, DEMO_PASSWORD, IP1).status_code == 429
    AccessAttempt.objects.update(attempt_time=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=16))
    assert _login(x.username, DEMO_PASSWORD, IP1).status_code == 302


def test_an_administrator_can_unlock_at_once():
    from axes.utils import reset

    x = UserFactory()
    _lock(x.username, IP1)
    reset(username=x.username)
    assert _login(x.username, DEMO_PASSWORD, IP1).status_code == 302


def test_an_unknown_username_is_locked_just_like_a_real_one():
    """AUTH-06: the lockout never says whether the account exists."""
    real = UserFactory()
    _lock(real.username, IP1)
    _lock("nobody@example.org", IP1)
    a = _login(real.username, "wrong-password", IP1)
    b = _login("nobody@example.org", "wrong-password", IP1)
    assert a.status_code == b.status_code == 429
    assert _normalised(a, real.username) == _normalised(b, "nobody@example.org")


def test_login_failure_is_the_same_for_a_real_and_an_unknown_account():
    real = UserFactory()
    a = _login(real.username, "wrong-password", IP1)
    b = _login("nobody@example.org", "wrong-password", IP2)
    assert a.status_code == b.status_code == 200
    # The form echoes what was typed; apart from that and the CSRF token they are identical.
    assert _normalised(a, real.username) == _normalised(b, "nobody@example.org")


def _reset(email: str, ip: str = IP1):
    return Client(REMOTE_ADDR=ip).post("/accounts/password_reset/", {"email": email})


def test_password_reset_sends_at_most_the_limit_then_the_same_page():
    """Today 10 requests send 10 emails; now 5, and the 6th to 10th look identical."""
    user = UserFactory()
    responses = [_reset(user.email) for _ in range(10)]
    assert len(mail.outbox) == 5
    assert {(r.status_code, r.headers["Location"]) for r in responses} == {
        (302, "/accounts/password_reset/done/")
    }


def test_password_reset_is_limited_per_account_across_addresses():
    user = UserFactory()
    for n in range(10):
        _reset(user.email, ip=f"203.0.113.{n}")
    assert len(mail.outbox) == 5


def test_password_reset_is_limited_per_address_across_accounts():
    users = UserFactory.create_batch(7)
    for user in users:
        _reset(user.email, ip=IP2)
    assert len(mail.outbox) == 5


def test_password_reset_answers_alike_for_a_real_and_an_unknown_email():
    user = UserFactory()
    a = _reset(user.email, ip=IP1)
    b = _reset("nobody@example.org", ip=IP2)
    assert (a.status_code, a.headers["Location"]) == (b.status_code, b.headers["Location"])
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "target", ["https://elsewhere.example", "//elsewhere.example", "/\\elsewhere.example"]
)
def test_login_never_redirects_off_site(target):
    user = UserFactory()
    response = Client().post(
        f"/accounts/login/?next={target}",
        {"username": user.username, "password": DEMO_PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(
    "target", ["https://elsewhere.example", "//elsewhere.example", "/\\elsewhere.example"]
)
def test_set_language_never_redirects_off_site(target, client):
    response = client.post("/i18n/set-language/", {"language": "cy", "next": target})
    assert response.status_code == 302
    assert "elsewhere" not in response.headers["Location"]
    response = client.post("/i18n/set-language/", {"language": "cy"}, HTTP_REFERER=f"{target}/page")
    assert "elsewhere" not in response.headers["Location"]
