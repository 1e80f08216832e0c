"""Staff MFA (AUTH-01…03, SESS-02): the gate, enrolment, verify, recovery codes, throttle and
the administrators' reset. These clients sign in with a password only (``real_mfa``)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled

from schools.mfa import demo_devices_check
from tests import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.real_mfa]


@pytest.fixture(autouse=True)
def _mfa_on(settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    cache.clear()


@pytest.fixture
def staff():
    with scopes_disabled():
        return f.StaffMembershipFactory().user


def code_for(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)).zfill(
        device.digits
    )


def enrol(client) -> list[str]:
    client.get(reverse("mfa_enrol"))
    device = TOTPDevice.objects.get(confirmed=False)
    response = client.post(reverse("mfa_enrol"), {"code": code_for(device)})
    assert response.status_code == 200
    return list(response.context["codes"])


def test_staff_without_a_device_is_sent_to_enrol_and_the_api_refuses(client, staff):
    client.force_login(staff)

    page = client.get(reverse("home"))
    api = client.get("/api/v1/s/any-school/pupils/")

    assert page.status_code == 302
    assert page["Location"].startswith(reverse("mfa_enrol"))
    assert api.status_code == 403
    assert "detail" in api.json()


def test_enrolment_rotates_the_session_and_opens_the_pages(client, staff):
    client.force_login(staff)
    before = client.cookies["sessionid"].value

    codes = enrol(client)

    assert len(codes) == 10
    assert client.cookies["sessionid"].value != before
    assert not client.get(reverse("home")).get("Location", "").startswith("/accounts/mfa/")
    assert client.get("/api/v1/s/any-school/pupils/").status_code == 404  # past the gate


def test_a_new_session_is_asked_to_verify_and_a_code_works_once(client, staff):
    client.force_login(staff)
    enrol(client)
    device = TOTPDevice.objects.get(user=staff, confirmed=True)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    client.logout()
    client.force_login(staff)

    page = client.get(reverse("home"))
    assert page["Location"].startswith(reverse("mfa_verify"))
    code = code_for(device)
    assert client.post(reverse("mfa_verify"), {"code": code}).status_code == 302

    client.logout()
    client.force_login(staff)
    again = client.post(reverse("mfa_verify"), {"code": code})
    assert again.status_code == 200  # the same code is refused the second time (AUTH-03)


def test_a_recovery_code_works_once(client, staff):
    client.force_login(staff)
    codes = enrol(client)
    client.logout()
    client.force_login(staff)

    assert client.post(reverse("mfa_verify"), {"code": codes[0]}).status_code == 302
    client.logout()
    client.force_login(staff)
    assert client.post(reverse("mfa_verify"), {"code": codes[0]}).status_code == 200


def test_wrong_codes_are_throttled_even_before_a_right_one(client, staff):
    client.force_login(staff)
    codes = enrol(client)
    client.logout()
    client.force_login(staff)

    for _ in range(5):
        client.post(reverse("mfa_verify"), {"code": "000000"})
    locked = client.post(reverse("mfa_verify"), {"code": codes[1]})

    assert locked.status_code == 429
    assert client.get("/api/v1/s/any-school/pupils/").status_code == 403


def test_password_sign_in_and_remember_me_cookie_still_ask(client, staff):
    response = client.post(
        reverse("login"), {"username": staff.username, "password": f.DEMO_PASSWORD}
    )
    assert response.status_code == 302

    assert client.get(reverse("home"))["Location"].startswith(reverse("mfa_enrol"))
    assert client.get("/api/v1/s/any-school/pupils/").status_code == 403


def test_a_parent_is_not_forced(client):
    parent = f.UserFactory()
    client.force_login(parent)

    response = client.get(reverse("home"))

    assert not response.get("Location", "").startswith("/accounts/mfa/")


def test_mfa_reset_removes_the_devices(client, staff):
    client.force_login(staff)
    enrol(client)

    call_command("mfa_reset", staff.username)

    assert not TOTPDevice.objects.filter(user=staff).exists()
    assert not StaticDevice.objects.filter(user=staff).exists()
    client.logout()
    client.force_login(staff)
    assert client.get(reverse("home"))["Location"].startswith(reverse("mfa_enrol"))


def test_demo_code_gets_a_demo_account_through_in_development_only(client, staff, settings):
    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo_mfa_code", staff.username, stdout=out)
    client.force_login(staff)

    response = client.post(reverse("mfa_verify"), {"code": out.getvalue().strip()})

    assert response.status_code == 302
    assert not client.get(reverse("home")).get("Location", "").startswith("/accounts/mfa/")
    settings.DEBUG = False
    assert [m.id for m in demo_devices_check()] == ["schools.E901"]
    with pytest.raises(CommandError):
        call_command("demo_mfa_code", staff.username)


def test_after_a_password_reset_the_second_step_is_still_asked(client, staff):
    uid = urlsafe_base64_encode(force_bytes(staff.pk))
    token = default_token_generator.make_token(staff)
    link = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    form_url = client.get(link)["Location"]
    new = "a-brand-new-passphrase-42"
    done = client.post(form_url, {"new_password1": new, "new_password2": new})
    assert done.status_code == 302

    client.post(reverse("login"), {"username": staff.username, "password": new})

    assert client.get(reverse("home"))["Location"].startswith(reverse("mfa_enrol"))
    assert client.get("/api/v1/s/any-school/pupils/").status_code == 403
