"""axe-core on the pages this wave rebuilt, in English and in Welsh, at desktop (1366 px) and
tablet (820 px) widths. The browser_page fixture fails the test on any serious or critical
violation on any page it loads."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tests.registers.conftest import build_register_world

PASSWORD = "a-browser-test-password"
DESKTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


def no_horizontal_scroll(page) -> bool:
    return bool(
        page.evaluate(
            "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("browser_page", [DESKTOP, TABLET], indirect=True, ids=["1366", "820"])
@pytest.mark.parametrize("role", ["tutor", "officer"])
def test_login_home_and_accessibility_pages_in_english_and_welsh(live_server, browser_page, role):
    rw = build_register_world(size=5)
    with scopes_disabled():
        user = getattr(rw, role).user
        user.set_password(PASSWORD)
        user.save()
    page = browser_page

    # English: the login page, then the home page once signed in
    page.goto(live_server.url + reverse("login"))
    expect(page.locator("html")).to_have_attribute("lang", "en-GB")
    assert no_horizontal_scroll(page)
    page.get_by_label("Email or username").fill(user.username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert no_horizontal_scroll(page)
    page.goto(live_server.url + reverse("accessibility"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Accessibility statement")

    # Welsh, chosen with the header's switcher and kept on the account
    page.get_by_role("button", name="Cymraeg").click()
    expect(page.locator("html")).to_have_attribute("lang", "cy")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Datganiad hygyrchedd")
    page.goto(live_server.url + reverse("home"))
    expect(page.get_by_role("button", name="Allgofnodi")).to_be_visible()
    assert no_horizontal_scroll(page)
    page.get_by_role("button", name="Allgofnodi").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Mewngofnodi")
    assert no_horizontal_scroll(page)


@pytest.mark.browser
def test_the_axe_hook_reports_a_serious_violation(live_server, chromium):
    # given: a context watched by axe, and a page with an image without alt text (critical)
    from tests.browser.axe import axe_checked_goto, axe_watch

    context = chromium.new_context()
    log = axe_watch(context)
    page = context.new_page()
    axe_checked_goto(page)
    page.route(
        "**/axe-self-test/",
        lambda route: route.fulfill(
            content_type="text/html",
            body='<!doctype html><html lang="en"><title>t</title><main><img src="x.png"></main></html>',
        ),
    )

    # when: the page is opened
    page.goto(live_server.url + "/axe-self-test/")
    context.close()

    # then: the violation is recorded, so the browser_page fixture would fail the test
    assert [v["id"] for v in log.violations] == ["image-alt"]
    assert log.checked == [live_server.url + "/axe-self-test/ [en]"]
