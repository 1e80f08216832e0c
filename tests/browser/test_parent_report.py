from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from schools.models import Role
from tests import factories as f

LONDON = zoneinfo.ZoneInfo("Europe/London")


def sign_in(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url + reverse("login"))
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password", exact=True).fill(f.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_parent_reports_illness_and_the_tutor_sees_it_on_the_register(
    live_server, browser_page, monkeypatch
):
    # given: a school whose term runs around today; on a weekend, the report and the register
    # are for the next weekday. The clock (shared with the live server's thread) is frozen at
    # 08:45 that day, while the morning register is open, so the code input is editable.
    today = timezone.localdate()
    day = today + dt.timedelta(days=7 - today.weekday() if today.weekday() >= 5 else 0)
    monkeypatch.setattr(
        timezone, "now", lambda: dt.datetime.combine(day, dt.time(8, 45), tzinfo=LONDON)
    )
    with scopes_disabled():
        school = f.SchoolFactory()
        year = f.AcademicYearFactory(
            school=school, start_date=dt.date(day.year if day.month >= 8 else day.year - 1, 8, 1)
        )
        f.TermFactory(
            academic_year=year,
            start_date=day - dt.timedelta(days=21),
            end_date=day + dt.timedelta(days=21),
        )
        form = f.FormGroupFactory(school=school, academic_year=year)
        tutor = f.StaffMembershipFactory(school=school, role=Role.FORM_TUTOR)
        f.FormTutorFactory(form=form, membership=tutor)
        child, classmate = f.PupilFactory(school=school), f.PupilFactory(school=school)
        for pupil in (child, classmate):
            f.EnrolmentFactory(pupil=pupil, start_date=day - dt.timedelta(days=400))
            f.FormPlacementFactory(pupil=pupil, form=form, start_date=day - dt.timedelta(days=30))
        parent = f.ParentLinkFactory(pupil=child).user
    page = browser_page

    # when: the parent signs in and reports an illness for today from the header's link
    sign_in(page, live_server.url, parent.username)
    page.get_by_role("link", name="Report an absence", exact=True).first.click()
    expect(page.get_by_role("heading", name="Report an absence")).to_be_visible()
    expect(page.get_by_label(child.display_name)).to_be_checked()
    first_day = page.get_by_role("group", name="First day of absence")
    expect(first_day.get_by_label("Day")).to_have_value(str(day.day))
    expect(first_day.get_by_label("Month")).to_have_value(str(day.month))
    expect(first_day.get_by_label("Year")).to_have_value(str(day.year))
    page.get_by_label("Illness").check()
    page.get_by_role("button", name="Send the report").click()

    # then: their requests page confirms it is waiting for the office
    expect(page).to_have_url(re.compile(re.escape(f"/s/{school.slug}/my-requests/") + "$"))
    expect(page.get_by_text("The school has your report")).to_be_visible()
    expect(page.get_by_role("cell", name="Waiting for the office")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    # when: the tutor signs in and opens this morning's register for the child's form
    sign_in(page, live_server.url, tutor.user.username)
    page.get_by_role("link", name="Registers", exact=True).click()
    page.get_by_role("link", name=form.name, exact=True).click()

    # then: the child's row carries the parent's report and I is already in the code input
    row = page.locator(f"#pupil-{child.pk}")
    expect(row.get_by_text("Parent reported: illness")).to_be_visible()
    expect(page.get_by_label(f"Mark for {child.display_name}")).to_have_value("I")
    expect(page.get_by_label(f"Mark for {classmate.display_name}")).to_have_value("")
