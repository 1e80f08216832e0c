"""The attendance-results pages in a browser (issue 9): the head opens the school summary and a
pupil's attendance, the trust leader the trust page, at 1366 and 820 px, in English and in
Welsh. axe-core runs on every page (browser_page); nothing scrolls sideways at 820 px (the
wide tables scroll inside their own labelled, focusable wrapper)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tests import factories as f
from tests.browser.test_accessibility import DESKTOP, PASSWORD, TABLET, no_horizontal_scroll
from tests.registers.conftest import build_register_world


def sign_in(page, base: str, user) -> None:
    page.goto(base + reverse("login"))
    page.get_by_label("Email or username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("browser_page", [DESKTOP, TABLET], indirect=True, ids=["1366", "820"])
def test_head_and_trust_leader_read_the_attendance_results_in_english_and_welsh(
    live_server, browser_page
):
    rw = build_register_world(size=3)
    with scopes_disabled():
        head = rw.head.user
        leader = f.TrustMembershipFactory(trust=rw.school.trust).user
        for user in (head, leader):
            user.set_password(PASSWORD)
            user.save()
    pupil = rw.pupils_in_order()[0]
    summary = reverse("interventions:attendance-summary", kwargs={"school_slug": rw.school.slug})
    pupil_page = reverse(
        "interventions:pupil-attendance",
        kwargs={"school_slug": rw.school.slug, "pupil_id": pupil.pk},
    )
    trust = reverse("interventions:trust-attendance", kwargs={"trust_slug": rw.school.trust.slug})
    page = browser_page
    base = live_server.url

    sign_in(page, base, head)
    page.goto(base + summary)
    expect(page.get_by_role("heading", level=1)).to_have_text("Attendance summary")
    expect(page.get_by_role("link", name="Download CSV of every table")).to_be_visible()
    assert no_horizontal_scroll(page)
    page.goto(base + pupil_page)
    expect(page.get_by_role("heading", level=1)).to_contain_text("attendance results")
    assert no_horizontal_scroll(page)

    page.get_by_role("button", name="Cymraeg").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("heading", level=1)).to_contain_text("canlyniadau presenoldeb")
    assert no_horizontal_scroll(page)
    page.goto(base + summary)
    expect(page.get_by_role("heading", level=1)).to_have_text("Crynodeb presenoldeb")
    assert no_horizontal_scroll(page)
    page.get_by_role("button", name="Allgofnodi").click()
    page.context.clear_cookies()  # the switcher's language cookie: the leader starts in English

    sign_in(page, base, leader)
    page.goto(base + trust)
    expect(page.get_by_role("heading", level=1)).to_have_text("Attendance across the trust")
    assert no_horizontal_scroll(page)
    page.get_by_role("button", name="Cymraeg").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Presenoldeb ar draws yr ymddiriedolaeth"
    )
    assert no_horizontal_scroll(page)
