"""A parent reports an absence with the day / month / year boxes and then sees their child's
days missed and calendar, in English and in Welsh, at 820 px (axe checks every page). The
report journey's keystrokes are counted and printed (issue 9: "a parent journey timed by
keystrokes")."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from playwright.sync_api import Page, expect

from schools.models import UserPreference
from tests import factories as f
from tests.interventions.attendance_world import add_marks

LONDON = zoneinfo.ZoneInfo("Europe/London")
TABLET = {"width": 820, "height": 1180}
WORDS = {
    "en-gb": {
        "report": "Report an absence",
        "first": "First day of absence",
        "day": "Day",
        "month": "Month",
        "year": "Year",
        "send": "Send the report",
        "days_missed": "Days missed",
        "lead": "This school year",
        "legend": "What the codes mean",
    },
    "cy": {
        "report": "Rhoi gwybod am absenoldeb",
        "first": "Diwrnod cyntaf yr absenoldeb",
        "day": "Diwrnod",
        "month": "Mis",
        "year": "Blwyddyn",
        "send": "Anfon yr adroddiad",
        "days_missed": "Diwrnodau a gollwyd",
        "lead": "Eleni yn yr ysgol",
        "legend": "Beth mae\u2019r codau\u2019n ei olygu",
    },
}


class Keys:
    """Counts what a keyboard user would press: each character typed, each Tab, Space and
    Enter."""

    def __init__(self, page: Page) -> None:
        self.page, self.count = page, 0

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.count += len(text)

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
        self.count += times


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("browser_page", [TABLET], indirect=True, ids=["820"])
@pytest.mark.parametrize("language", ["en-gb", "cy"])
def test_parent_reports_with_day_month_year_and_sees_the_calendar(
    live_server, browser_page, monkeypatch, language
):
    words = WORDS[language]
    today = timezone.localdate()
    day = today + dt.timedelta(days=7 - today.weekday() if today.weekday() >= 5 else 0)
    monkeypatch.setattr(
        timezone, "now", lambda: dt.datetime.combine(day, dt.time(7, 30), tzinfo=LONDON)
    )
    with scopes_disabled():
        school = f.SchoolFactory(jurisdiction="wales", welsh_medium=True)
        year = f.AcademicYearFactory(
            school=school, start_date=dt.date(day.year if day.month >= 8 else day.year - 1, 8, 1)
        )
        f.TermFactory(
            academic_year=year,
            start_date=day - dt.timedelta(days=21),
            end_date=day + dt.timedelta(days=21),
        )
        form = f.FormGroupFactory(school=school, academic_year=year)
        child = f.PupilFactory(school=school)
        f.EnrolmentFactory(pupil=child, start_date=day - dt.timedelta(days=400))
        f.FormPlacementFactory(pupil=child, form=form, start_date=day - dt.timedelta(days=30))
        parent = f.ParentLinkFactory(pupil=child).user
    # the week before: present all week but for an illness on the Wednesday
    monday = day - dt.timedelta(days=day.weekday() + 7)
    week = [monday + dt.timedelta(days=n) for n in range(5)]
    add_marks(school, child, [(d, "AM") for d in week if d.weekday() != 2], "/")
    add_marks(school, child, [(d, "PM") for d in week if d.weekday() != 2], "\\")
    add_marks(school, child, [(week[2], "AM"), (week[2], "PM")], "I")
    with scopes_disabled():
        if language == "en-gb":  # otherwise the Welsh-medium school's default: Welsh
            UserPreference.objects.update_or_create(user=parent, defaults={"language": "en-gb"})
    page = browser_page
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Email or username").fill(parent.username)
    page.get_by_label("Password", exact=True).fill(f.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # when: the parent opens the report form and, by keyboard, changes the day boxes to the
    # next day and picks the reason, then sends it
    page.get_by_role("link", name=words["report"], exact=True).first.click()
    expect(page.locator("html")).to_have_attribute("lang", re.compile("^" + language[:2]))
    first = page.get_by_role("group", name=words["first"])
    expect(first.get_by_label(words["day"], exact=True)).to_have_value(str(day.day))
    keys = Keys(page)
    first.get_by_label(words["day"], exact=True).focus()
    keys.press("Control+a")
    keys.type(str(day.day))
    keys.press("Tab")
    keys.type(str(day.month))  # fills over the selection Tab makes
    keys.press("Tab")
    keys.type(str(day.year))
    reason = page.locator("input[name=reason]").first
    reason.focus()
    keys.press("Space")
    page.get_by_role("button", name=words["send"]).focus()
    keys.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(f"/s/{school.slug}/my-requests/") + "$"))
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    print(f"\n[{language}] report journey keystrokes after the form opened: {keys.count}")  # noqa: T201

    # then: from home, the child's days missed: the lead sentence, then the calendar and legend
    page.goto(live_server.url + reverse("schools:home", kwargs={"school_slug": school.slug}))
    page.get_by_role("link", name=re.compile("^" + words["days_missed"])).first.click()
    expect(page.get_by_role("heading", name=words["days_missed"], level=1)).to_be_visible()
    expect(page.get_by_text(re.compile("^" + words["lead"]))).to_contain_text("(2 ")
    expect(page.get_by_text(re.compile("^" + words["lead"]))).to_be_visible()
    expect(page.get_by_text(words["legend"])).to_be_visible()
    expect(page.locator(".app-cal__day--today")).to_have_count(1)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], f"scrolls sideways at 820 px: {width}"
