from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from registers.models import AttendanceMark, MarkChange
from tests.factories import DEMO_PASSWORD
from tests.registers.conftest import MONDAY, build_register_world

LONDON = zoneinfo.ZoneInfo("Europe/London")


def freeze(monkeypatch, day: dt.date, hour: int, minute: int) -> None:
    """The live server runs in this process, so patching Django's clock moves its clock too."""
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=LONDON)
    monkeypatch.setattr(timezone, "now", lambda: moment)


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(base + reverse("login"))
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password", exact=True).fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def take_url(rw) -> str:
    return reverse(
        "registers:take",
        kwargs={
            "school_slug": rw.school.slug,
            "form_id": rw.form.pk,
            "date": MONDAY.isoformat(),
            "session": "AM",
        },
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_tutor_takes_a_register_with_the_keyboard_only(live_server, browser_page, monkeypatch):
    rw = build_register_world(size=4)
    first, second, third, fourth = rw.pupils_in_order()
    freeze(monkeypatch, MONDAY, 8, 45)
    page = browser_page
    sign_in(page, live_server.url, rw.tutor.user.username)

    page.goto(live_server.url + take_url(rw))
    expect(page.get_by_label(f"Mark for {first.display_name}")).to_be_focused()
    page.keyboard.press("/")  # present, moves on
    page.keyboard.press("n")  # no reason yet, moves on
    page.keyboard.press("l")  # late: focus goes to the minutes
    expect(page.get_by_label(f"Minutes late for {third.display_name}")).to_be_focused()
    page.keyboard.type("12")
    page.keyboard.press("Enter")  # on to the next pupil
    expect(page.get_by_label(f"Mark for {fourth.display_name}")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("i")
    page.keyboard.press("Control+Enter")

    expect(page.get_by_role("status")).to_contain_text("Register saved and complete.")
    with scopes_disabled():
        marks = {m.pupil_id: (m.code, m.minutes_late) for m in AttendanceMark.objects.all()}
    assert marks == {
        first.pk: ("/", None),
        second.pk: ("N", None),
        third.pk: ("L", 12),
        fourth.pk: ("I", None),
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_officer_amends_a_closed_mark_with_a_reason_and_sees_the_history(
    live_server, browser_page, monkeypatch
):
    rw = build_register_world(size=3)
    pupil = rw.pupils_in_order()[0]
    freeze(monkeypatch, MONDAY, 8, 45)
    page = browser_page
    sign_in(page, live_server.url, rw.tutor.user.username)
    page.goto(live_server.url + take_url(rw))
    page.keyboard.press("n")
    page.get_by_role("button", name="All present").click()
    page.get_by_role("button", name="Save register").click()
    expect(page.get_by_role("status")).to_contain_text("Register saved and complete.")
    page.get_by_role("button", name="Sign out").click()

    freeze(monkeypatch, MONDAY + dt.timedelta(days=1), 10, 0)  # the register has closed
    sign_in(page, live_server.url, rw.officer.user.username)
    page.goto(live_server.url + take_url(rw))
    expect(page.get_by_text("Closed.")).to_be_visible()
    page.get_by_role("link", name=re.compile(f"Amend {re.escape(pupil.display_name)}")).click()
    page.get_by_label("New code").select_option("I")
    page.get_by_label("Reason for the amendment").fill("Mother phoned: chickenpox")
    page.get_by_role("button", name="Amend the mark").click()

    expect(page.get_by_text(f"Mark for {pupil} on Mon 09 Sep AM amended.")).to_be_visible()
    marks_url = reverse(
        "registers:pupil-marks", kwargs={"school_slug": rw.school.slug, "pupil_id": pupil.pk}
    )
    page.goto(live_server.url + marks_url)
    history = page.get_by_role("table").filter(has_text="Mother phoned: chickenpox")
    expect(history).to_contain_text(rw.officer.user.get_full_name())
    expect(history).to_contain_text("Attendance Officer")
    with scopes_disabled():
        change = MarkChange.objects.get()
    assert (change.original_code, change.new_code, change.reason) == (
        "N",
        "I",
        "Mother phoned: chickenpox",
    )
