"""The school dashboard in a browser: a head sees the figures, the chart with its table, and
drills into the pupils behind a number (axe runs on every page visited)."""

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
def test_a_head_reads_the_dashboard_and_drills_into_persistent_absence(
    live_server, browser_page, monkeypatch
):
    rw = build_register_world(size=3)
    steady, truant, _ = rw.pupils
    with school_scope(rw.school):
        put_marks(rw, steady, school_days(D(2024, 9, 2), D(2024, 10, 4)))
        put_marks(rw, truant, school_days(D(2024, 9, 2), D(2024, 9, 27)), code="U")
        put_marks(rw, truant, school_days(D(2024, 9, 30), D(2024, 10, 4)))
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2024, 10, 4))
    page = browser_page
    sign_in(page, live_server.url, rw.head.user.username)
    page.goto(
        live_server.url + reverse("interventions:dashboard", kwargs={"school_slug": rw.school.slug})
    )
    expect(page.get_by_role("heading", name="Attendance dashboard")).to_be_visible()
    expect(page.get_by_role("img", name="Weekly attendance: this year")).to_be_visible()
    page.set_viewport_size({"width": 820, "height": 1000})
    page.get_by_role("link", name="1", exact=True).first.click()
    expect(page.get_by_role("heading", name="Pupils behind the figure")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=truant.legal_surname)).to_be_visible()
