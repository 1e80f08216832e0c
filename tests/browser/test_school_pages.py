"""The schools pages and the bands page in a browser (issue 9): the head opens the school
settings, the attendance bands and local-authority rules (installing a preset), a form and a
pupil; the trust leader the trust's home page; in English and in Welsh. axe-core runs on every
page (browser_page), and the band swatches need no style attribute (the CSP forbids them)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tests.browser.test_accessibility import DESKTOP, PASSWORD, TABLET, no_horizontal_scroll
from tests.browser.test_staff_pages import sign_in
from tests.registers.conftest import build_register_world


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("browser_page", [DESKTOP, TABLET], indirect=True, ids=["1366", "820"])
def test_the_head_uses_the_school_pages_in_english_and_welsh(live_server, browser_page):
    rw = build_register_world(size=3)
    with scopes_disabled():
        head = rw.head.user
        head.set_password(PASSWORD)
        head.save()
        pupil = rw.pupils_in_order()[0]
    slug = rw.school.slug
    base = live_server.url
    page = browser_page

    sign_in(page, base, head)
    page.goto(base + reverse("schools:settings", kwargs={"school_slug": slug}))
    expect(page.get_by_role("heading", level=1)).to_have_text("School settings")
    expect(page.get_by_label("Morning register opens")).to_be_visible()
    assert no_horizontal_scroll(page)

    page.get_by_role("link", name="Attendance bands and local-authority rules").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Attendance bands")
    page.get_by_label("Seed 002").check()
    page.get_by_role("button", name="Use this preset").click()
    expect(page.get_by_text("Bands set from the preset")).to_be_visible()
    expect(page.locator('#current-bands rect[fill="#15803d"]')).to_have_count(1)
    assert page.locator("[style]").count() == 0
    assert no_horizontal_scroll(page)  # the bands tables scroll inside their own wrapper

    page.goto(
        base + reverse("schools:form-detail", kwargs={"school_slug": slug, "form_id": rw.form.pk})
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(rw.form.name)
    assert no_horizontal_scroll(page)
    page.goto(
        base + reverse("schools:pupil-detail", kwargs={"school_slug": slug, "pupil_id": pupil.pk})
    )
    expect(page.get_by_text("Legal name")).to_be_visible()
    assert no_horizontal_scroll(page)

    page.get_by_role("button", name="Cymraeg").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_text("Enw cyfreithiol")).to_be_visible()
    page.goto(base + reverse("interventions:attendance-settings", kwargs={"school_slug": slug}))
    expect(page.get_by_role("heading", level=2, name="Bandiau presenoldeb")).to_be_visible()
    page.goto(base + reverse("schools:settings", kwargs={"school_slug": slug}))
    expect(page.get_by_label("Cofrestr y bore yn agor")).to_be_visible()
