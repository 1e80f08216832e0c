"""The office's absence report page and the head's leave page in a real browser (axe runs on
every page visited): a refused decision shows the error summary linked to the note."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from schools.models import Role
from tests import factories as f
from tests.browser.test_parent_report import sign_in


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_office_rejects_a_report_and_the_head_reads_a_leave_request(live_server, browser_page):
    with scopes_disabled():
        school = f.SchoolFactory()
        officer = f.StaffMembershipFactory(school=school, role=Role.ATTENDANCE_OFFICER)
        head = f.StaffMembershipFactory(school=school, role=Role.HEADTEACHER)
        pupil = f.PupilFactory(school=school)
        report = f.AbsenceReportFactory(pupil=pupil)
        leave = f.LeaveRequestFactory(pupil=pupil)
    page: Page = browser_page

    sign_in(page, live_server.url, officer.user.username)
    page.goto(
        live_server.url
        + reverse(
            "absences:inbox-report", kwargs={"school_slug": school.slug, "report_id": report.pk}
        )
    )
    expect(page.get_by_role("heading", name="Absence report")).to_be_visible()
    page.get_by_role("button", name="Reject the report").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Write a note saying why the report is rejected.")
    summary.get_by_role("link").click()
    expect(page.get_by_label("Why is it rejected?")).to_be_focused()
    page.get_by_label("Why is it rejected?").fill("The pupil was in school.")
    page.get_by_role("button", name="Reject the report").click()
    expect(page).to_have_url(re.compile(re.escape(f"/s/{school.slug}/absence-inbox/") + "$"))
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, live_server.url, head.user.username)
    page.goto(
        live_server.url
        + reverse(
            "absences:leave-decide", kwargs={"school_slug": school.slug, "leave_id": leave.pk}
        )
    )
    expect(page.get_by_role("heading", name="Leave request")).to_be_visible()
    expect(page.get_by_text("Waiting for the headteacher")).to_be_visible()
    expect(page.get_by_label("Why is it refused?")).to_be_visible()
