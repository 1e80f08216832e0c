"""The parents' days-missed page: days and sessions missed first, the percentage second, the
marks as a calendar with a legend of every code shown; a parent sees only their own child."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from registers.selectors import pupil_mark_calendar
from schools.models import UserPreference
from tests import factories as f
from tests.interventions.attendance_world import add_marks
from tests.registers.conftest import MONDAY, build_register_world

pytestmark = pytest.mark.django_db
TUESDAY, WEDNESDAY = MONDAY + dt.timedelta(days=1), MONDAY + dt.timedelta(days=2)


@pytest.fixture
def world(monkeypatch):
    rw = build_register_world(size=2)
    child, other = rw.pupils[0], rw.pupils[1]
    add_marks(rw.school, child, [(MONDAY, "AM"), (TUESDAY, "PM")], "/")
    add_marks(rw.school, child, [(MONDAY, "PM")], "I")
    add_marks(rw.school, child, [(TUESDAY, "AM")], "O")
    with scopes_disabled():
        parent = f.ParentLinkFactory(pupil=child).user
    monkeypatch.setattr(timezone, "now", lambda: rw.at(WEDNESDAY, 16))
    return rw, child, other, parent


def page_url(rw, pupil) -> str:
    return reverse(
        "interventions:child-days-missed",
        kwargs={"school_slug": rw.school.slug, "pupil_id": pupil.pk},
    )


def test_a_parent_sees_days_missed_first_then_the_percentage_and_a_calendar(world, client_for):
    rw, child, _other, parent = world
    client = client_for(parent)

    body = client.get(page_url(rw, child)).content.decode()

    lead = f"This school year {child.display_name} has missed"
    assert lead in body
    assert body.index(lead) < body.index("Attendance ")
    assert "missed 1 days (2 sessions)" in body
    assert "Attendance 50.0%" in body
    assert 'class="app-cal__s app-cal__s--unauthorised"' in body  # O, with its code written
    assert "What the codes mean" in body
    assert "app-cal__day--today" in body
    assert 'type="date"' not in body


def test_the_home_page_links_to_each_childs_days_missed(world, client_for):
    rw, child, _other, parent = world
    home = client_for(parent).get(reverse("schools:home", kwargs={"school_slug": rw.school.slug}))
    assert page_url(rw, child) in home.content.decode()


def test_a_parent_gets_404_for_another_child(world, client_for):
    rw, _child, other, parent = world
    assert client_for(parent).get(page_url(rw, other)).status_code == 404


def test_the_page_is_in_welsh_for_a_parent_who_chose_welsh(world, client_for):
    rw, child, _other, parent = world
    with scopes_disabled():
        UserPreference.objects.update_or_create(user=parent, defaults={"language": "cy"})
    body = client_for(parent).get(page_url(rw, child)).content.decode()
    assert "Eleni yn yr ysgol" in body
    assert "Dim marc eto" in body  # the legend, in Welsh


def test_the_calendar_is_months_of_weeks_of_days_with_a_legend(world):
    rw, child, _other, _parent = world
    with scopes_disabled():
        calendar = pupil_mark_calendar(school=rw.school, pupil=child, today=WEDNESDAY)
    september = calendar.months[-1]
    assert september.first == dt.date(2024, 9, 1)
    assert all(len(week) == 7 for week in september.weeks)
    days = {d.day: d for week in september.weeks for d in week if d.day}
    assert (days[MONDAY].am.code, days[MONDAY].pm.code) == ("/", "I")
    assert days[TUESDAY].am.category == "unauthorised"
    assert days[WEDNESDAY].is_today
    assert days[MONDAY - dt.timedelta(days=1)].am.kind == "closed"  # a Sunday
    assert [d.code for d in calendar.legend] == ["/", "I", "O"]
