from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from demo.blueprints import KINGSMEAD
from demo.trust import seed_demo_trust
from schools.models import Role, School, StaffMembership
from schools.scoping import school_scope
from schools.selectors import forms_for_tutor, pupils_in_form_on


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_demo_tutor_signs_in_and_sees_their_form(live_server, browser_page):
    # given: the demo trust, and what the secondary's demo tutor should see today
    today = timezone.localdate()
    summary = seed_demo_trust(today=today, scale=0.05)
    login = next(
        item
        for item in summary.logins
        if item.role == Role.FORM_TUTOR and item.school == KINGSMEAD.name
    )
    school = School.objects.get(slug=KINGSMEAD.slug)
    with school_scope(school):
        membership = StaffMembership.objects.get(school=school, user__username=login.username)
        forms = list(forms_for_tutor(school=school, membership=membership, on=today))
        pupils = [
            pupil.display_name
            for form in forms
            for pupil in pupils_in_form_on(school=school, form=form, on=today)
        ]
    assert forms
    assert pupils
    page = browser_page

    # when: they sign in on the login page by typing into the labelled fields
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Email or username").fill(login.username)
    page.get_by_label("Password", exact=True).fill(login.password)
    page.get_by_role("button", name="Sign in").click()

    # then: they land on their school's home page, which lists their form and its pupils
    expect(page).to_have_url(re.compile(re.escape(f"/s/{school.slug}/") + "$"))
    expect(page.get_by_role("heading", name="Your forms", exact=True)).to_be_visible()
    for form in forms:
        expect(page.get_by_role("link", name=form.name, exact=True)).to_be_visible()
    for name in pupils[:5]:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()

    # and: the page has a main landmark and a skip link to it, first in the tab order
    expect(page.get_by_role("main")).to_be_visible()
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_have_attribute("href", "#main")
    page.keyboard.press("Tab")
    expect(skip_link).to_be_focused()
