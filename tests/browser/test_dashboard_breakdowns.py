"""The dashboard's breakdowns in a browser: a head goes from the dashboard's headline to the
breakdowns, opens the pupils behind a number, comes back, switches to the DfE-comparable
figures, and the page fits a tablet; a tutor reads their forms (axe runs on every page)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from interventions.recompute import school_recompute
from schools.scoping import school_scope
from tests.browser.test_registers import sign_in
from tests.interventions.test_recompute import D, put_marks, school_days
from tests.registers.conftest import build_register_world


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_head_clicks_from_a_headline_to_the_pupils_and_back(
    live_server, browser_page, monkeypatch
):
    rw = build_register_world(size=3)
    steady, truant, other = rw.pupils
    with school_scope(rw.school):
        put_marks(rw, steady, school_days(D(2024, 9, 2), D(2024, 10, 4)))
        put_marks(rw, truant, school_days(D(2024, 9, 2), D(2024, 9, 27)), code="U")
        put_marks(rw, truant, school_days(D(2024, 9, 30), D(2024, 10, 4)))
        put_marks(rw, other, school_days(D(2024, 9, 2), D(2024, 10, 4)))
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2024, 10, 4))
    page = browser_page
    sign_in(page, live_server.url, rw.head.user.username)
    slug = {"school_slug": rw.school.slug}
    page.goto(live_server.url + reverse("interventions:dashboard", kwargs=slug))
    # The headline's persistent-absence count opens its pupils; back returns to the headline.
    page.locator("dd").filter(has_text="of 3").first.get_by_role("link", name="1").click()
    expect(page.get_by_role("heading", name="Pupils behind the figure")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=truant.legal_surname)).to_be_visible()
    page.go_back()
    expect(page.get_by_role("heading", name="Attendance dashboard")).to_be_visible()
    page.get_by_role("link", name="Breakdowns by year group").click()
    expect(page.get_by_role("heading", name="Attendance breakdowns")).to_be_visible()
    codes = page.get_by_role("table", name="Sessions by code")
    codes.get_by_role("row").filter(has_text="U").get_by_role("link").click()
    expect(page.get_by_role("row").filter(has_text=truant.legal_surname)).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=steady.legal_surname)).to_have_count(0)
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page.get_by_role("heading", name="Attendance dashboard")).to_be_visible()
    page.go_back()
    page.go_back()
    expect(page.get_by_role("heading", name="Attendance breakdowns")).to_be_visible()
    page.get_by_role("link", name="Show DfE-comparable figures").click()
    expect(page.get_by_text("DfE-comparable figures", exact=True)).to_be_visible()
    # A tablet: no sideways scroll of the page itself (wide tables scroll in their wrapper).
    page.set_viewport_size({"width": 820, "height": 1000})
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    page.emulate_media(media="print")
    expect(page.get_by_role("table", name="By form")).to_be_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_tutor_reads_their_forms_and_a_pupils_year(live_server, browser_page, monkeypatch):
    rw = build_register_world(size=2)
    steady, truant = rw.pupils  # the truant's last two weeks are U: their row goes down
    with school_scope(rw.school):
        put_marks(rw, steady, school_days(D(2024, 9, 2), D(2024, 10, 4)))
        put_marks(rw, truant, school_days(D(2024, 9, 2), D(2024, 9, 20)))
        put_marks(rw, truant, school_days(D(2024, 9, 23), D(2024, 10, 4)), code="U")
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2024, 10, 4))
    page = browser_page
    sign_in(page, live_server.url, rw.tutor.user.username)
    page.get_by_role("link", name="My forms").click()
    expect(page.get_by_role("heading", name="My forms' attendance")).to_be_visible()
    form = page.get_by_role("table", name="Form 9A")
    falling = form.get_by_role("row").filter(has_text="down")
    expect(falling).to_have_count(1)
    falling.get_by_role("link").click()
    expect(page.get_by_role("img", name="Attendance so far, week by week")).to_be_visible()
    expect(page.get_by_role("heading", name="Marks this year")).to_be_visible()
