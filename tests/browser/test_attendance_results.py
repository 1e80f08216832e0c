"""A register save reaches the engine's stored results and the event ledger, seen in a browser."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from interventions.models import AttendanceEvent, EnrolmentAttendance
from tests.browser.test_registers import freeze, sign_in, take_url
from tests.registers.conftest import MONDAY, build_register_world


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_saved_register_shows_on_the_pupils_attendance_page(
    live_server, browser_page, monkeypatch
):
    rw = build_register_world(size=3)
    absent = rw.pupils_in_order()[0]
    freeze(monkeypatch, MONDAY, 8, 45)
    page = browser_page
    sign_in(page, live_server.url, rw.tutor.user.username)
    page.goto(live_server.url + take_url(rw))
    page.keyboard.press("n")  # the first pupil: no reason yet
    page.get_by_role("button", name="All present").click()
    page.get_by_role("button", name="Save register").click()
    expect(page.get_by_role("status")).to_contain_text("Register saved and complete.")
    page.get_by_role("button", name="Sign out").click()

    # The save recomputed its pupils after it committed (eagerly, in the embedded default).
    with scopes_disabled():
        stored = EnrolmentAttendance.objects.get(pupil=absent)
        assert (stored.as_of, stored.possible_sessions, stored.unauthorised_sessions) == (
            MONDAY,
            1,
            1,
        )
        assert set(AttendanceEvent.objects.filter(pupil=absent).values_list("kind", flat=True)) == {
            "pa_started",
            "sa_started",
        }

    sign_in(page, live_server.url, rw.officer.user.username)
    page.goto(
        live_server.url
        + reverse(
            "interventions:pupil-attendance",
            kwargs={"school_slug": rw.school.slug, "pupil_id": absent.pk},
        )
    )
    expect(page.locator("#mode")).to_contain_text("Stored result")
    facts = page.locator("dl.govuk-summary-list")
    expect(facts).to_contain_text("9 September 2024")
    expect(facts).to_contain_text("0.0%")
    expect(page.locator("#events")).to_contain_text("Severe absence started")
    codes = page.get_by_role("table").filter(has_text="Sessions by code")
    expect(codes.get_by_role("row", name="N 1")).to_be_visible()
