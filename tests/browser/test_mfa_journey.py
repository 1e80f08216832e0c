"""Staff MFA in a real browser (AUTH-01): the password, then the real verify page with a code
computed here from the device's key (django-otp's own ``totp``), then pupil data; and a pupil
page asked for before the second step sends the browser to verify first. ``real_mfa``: the
test harness does not mark these sign-ins verified."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from tests.browser.test_accessibility import PASSWORD
from tests.registers.conftest import build_register_world

pytestmark = [pytest.mark.browser, pytest.mark.real_mfa]


def staff_with_app():
    rw = build_register_world(size=3)
    with scopes_disabled():
        head = rw.head.user
        head.set_password(PASSWORD)
        head.save()
        pupil = rw.pupils_in_order()[0]
    device = TOTPDevice.objects.create(user=head, name="Phone", confirmed=True)
    return rw.school, head, pupil, device


def code_for(device: TOTPDevice) -> str:
    device.refresh_from_db()
    return str(totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)).zfill(
        device.digits
    )


def type_password(page: Page, base: str, user, next_path: str = "") -> None:
    page.goto(base + reverse("login") + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Email or username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def type_code(page: Page, device: TOTPDevice) -> None:
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(code_for(device))
    page.get_by_role("button", name="Continue").click()


@pytest.mark.django_db(transaction=True)
def test_staff_sign_in_through_the_real_verify_page_then_see_pupil_data(live_server, browser_page):
    school, head, pupil, device = staff_with_app()
    base, page = live_server.url, browser_page

    # when: the password alone
    type_password(page, base, head)

    # then: the verify page, not the school
    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_verify"))))
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")

    # when: the app's current code
    type_code(page, device)

    # then: signed in, and a pupil page shows the pupil's record
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.goto(
        base
        + reverse("schools:pupil-detail", kwargs={"school_slug": school.slug, "pupil_id": pupil.pk})
    )
    expect(page.get_by_role("heading", level=1)).to_contain_text(pupil.display_name)
    expect(page.get_by_text("Legal name")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_a_pupil_page_before_the_second_step_sends_the_browser_to_verify(live_server, browser_page):
    school, head, pupil, device = staff_with_app()
    base, page = live_server.url, browser_page
    pupil_path = reverse(
        "schools:pupil-detail", kwargs={"school_slug": school.slug, "pupil_id": pupil.pk}
    )
    type_password(page, base, head)
    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_verify"))))

    # when: the pupil page, typed straight into the address bar
    page.goto(base + pupil_path)

    # then: verify again, with the pupil's name nowhere on the page
    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_verify")) + r"\?next="))
    expect(page.get_by_text(pupil.display_name)).to_have_count(0)
    expect(page.get_by_text("Legal name")).to_have_count(0)

    # and: once the code is typed, the browser lands on the page it asked for
    type_code(page, device)
    expect(page).to_have_url(base + pupil_path)
    expect(page.get_by_text("Legal name")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_staff_add_a_passkey_then_sign_in_with_it(live_server, browser_page, settings):
    # given: Chromium's virtual authenticator (CDP), and the live server as the allowed origin
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]
    _school, head, _pupil, device = staff_with_app()
    base, page = live_server.url, browser_page
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    type_password(page, base, head)
    type_code(page, device)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # when: they confirm it is them again and add a passkey on the account security page
    page.get_by_role("link", name="Account security").click()
    page.get_by_role("link", name="Confirm it is you to add a passkey").click()
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the same 30 s step again
    type_code(page, device)
    # The button works once django-otp-webauthn's module script has run: a click while the
    # page is still loading does nothing (the test failed that way about one run in three).
    page.wait_for_load_state("load")
    page.get_by_role("button", name="Add a passkey").click()

    # then: the page lists it (after the script's ceremony and a reload)
    expect(page.get_by_text("Passkey added")).to_be_visible(timeout=15_000)

    # when: they sign out, type the password, and use the passkey instead of a code
    page.get_by_role("button", name="Sign out").first.click()
    type_password(page, base, head)
    expect(page).to_have_url(re.compile(re.escape(reverse("mfa_verify"))))
    page.wait_for_load_state("load")  # the passkey button's script, as above
    page.get_by_role("button", name="Use a passkey").click()

    # then: signed in, past the second step
    expect(page).to_have_url(re.compile(r"/$|/s/"))
    expect(page.get_by_role("link", name="Account security")).to_be_visible()
