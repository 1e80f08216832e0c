# ruff: noqa: RUF001  (Welsh uses the typographic apostrophe)
"""The register at tablet width (issue 9): a tutor takes a register at 820 px with taps only
and with the keyboard only, in English and in Welsh; no sideways scrolling and the save bar
stays in view. axe-core checks every page (browser_page)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from registers.models import AttendanceMark
from schools.models import UserPreference
from tests.factories import DEMO_PASSWORD
from tests.registers.conftest import MONDAY, build_register_world

TABLET = {"width": 820, "height": 1180}
LONDON = zoneinfo.ZoneInfo("Europe/London")
WORDS = {
    "en-gb": {
        "mark": "Mark for {}",
        "minutes": "Minutes late for {}",
        "save": "Save register",
        "saved": "Register saved and complete.",
        "count": "4 of 4 marked",
    },
    "cy": {
        "mark": "Marc i {}",
        "minutes": "Munudau’n hwyr i {}",
        "save": "Cadw’r gofrestr",
        "saved": "Mae’r gofrestr wedi’i chadw ac yn gyflawn.",
        "count": "4 o 4 wedi’u marcio",
    },
}


def _open_register(page: Page, live_server, monkeypatch, language: str):
    rw = build_register_world(size=4)
    with scopes_disabled():
        UserPreference.objects.update_or_create(user=rw.tutor.user, defaults={"language": language})
    moment = dt.datetime.combine(MONDAY, dt.time(8, 45), tzinfo=LONDON)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Email or username").fill(rw.tutor.user.username)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy" if language == "cy" else "en-GB")
    url = reverse(
        "registers:take",
        kwargs={
            "school_slug": rw.school.slug,
            "form_id": rw.form.pk,
            "date": MONDAY.isoformat(),
            "session": "AM",
        },
    )
    page.goto(live_server.url + url)
    return rw


def _fits_and_save_bar_in_view(page: Page, save: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= 820")
    button = page.get_by_role("button", name=save)
    box = button.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= TABLET["height"]


def _marks():
    with scopes_disabled():
        return {m.pupil_id: (m.code, m.minutes_late) for m in AttendanceMark.objects.all()}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("browser_page", [TABLET], indirect=True, ids=["820"])
@pytest.mark.parametrize("language", ["en-gb", "cy"])
def test_tutor_takes_a_register_with_taps_only_at_tablet_width(
    live_server, browser_page, monkeypatch, language
):
    page, words = browser_page, WORDS[language]
    rw = _open_register(page, live_server, monkeypatch, language)
    first, second, third, fourth = rw.pupils_in_order()
    _fits_and_save_bar_in_view(page, words["save"])

    for pupil, code in ((first, "/"), (second, "N"), (third, "L"), (fourth, "I")):
        tap = page.locator(f"#pupil-{pupil.pk} .code-tap[data-code='{code}']")
        box = tap.bounding_box()
        assert box is not None
        assert min(box["width"], box["height"]) >= 44
        tap.click()
        expect(tap).to_have_attribute("aria-pressed", "true")
        if code == "L":  # late: the minutes take focus, as with the keyboard
            minutes = page.get_by_label(words["minutes"].format(third.display_name))
            expect(minutes).to_be_focused()
            minutes.fill("7")
    expect(page.locator("[data-marked-count]")).to_have_text(words["count"])
    page.get_by_role("button", name=words["save"]).click()

    expect(page.get_by_role("status")).to_contain_text(words["saved"])
    assert _marks() == {
        first.pk: ("/", None),
        second.pk: ("N", None),
        third.pk: ("L", 7),
        fourth.pk: ("I", None),
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("browser_page", [TABLET], indirect=True, ids=["820"])
@pytest.mark.parametrize("language", ["en-gb", "cy"])
def test_tutor_takes_a_register_with_the_keyboard_only_at_tablet_width(
    live_server, browser_page, monkeypatch, language
):
    page, words = browser_page, WORDS[language]
    rw = _open_register(page, live_server, monkeypatch, language)
    first, second, third, fourth = rw.pupils_in_order()
    expect(page.get_by_label(words["mark"].format(first.display_name))).to_be_focused()
    page.keyboard.press("/")
    page.keyboard.press("n")
    page.keyboard.press("l")
    expect(page.get_by_label(words["minutes"].format(third.display_name))).to_be_focused()
    page.keyboard.type("12")
    page.keyboard.press("Enter")
    page.keyboard.press("i")
    _fits_and_save_bar_in_view(page, words["save"])
    page.keyboard.press("Control+Enter")

    expect(page.get_by_role("status")).to_contain_text(words["saved"])
    assert _marks() == {
        first.pk: ("/", None),
        second.pk: ("N", None),
        third.pk: ("L", 12),
        fourth.pk: ("I", None),
    }
