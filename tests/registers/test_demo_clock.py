"""The demo at any hour (issue 9): with the demo clock on, a register can be taken on a
Saturday evening as if it were the last school day's morning register; off (test and
production settings), the same register is closed."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from registers import selectors
from registers.models import AttendanceMark
from registers.rules import Phase
from schools.scoping import school_scope
from tests.registers.conftest import MONDAY, build_register_world

pytestmark = pytest.mark.django_db

FRIDAY = MONDAY + dt.timedelta(days=4)
SATURDAY = MONDAY + dt.timedelta(days=5)


def _take_url(rw, day):
    return reverse(
        "registers:take",
        kwargs={
            "school_slug": rw.school.slug,
            "form_id": rw.form.pk,
            "date": day.isoformat(),
            "session": "AM",
        },
    )


def _all_present(rw):
    data: dict[str, str] = {}
    for pupil in rw.pupils:
        data |= {f"code-{pupil.pk}": "/", f"version-{pupil.pk}": "0", f"minutes-{pupil.pk}": ""}
    return data


@pytest.fixture
def world(monkeypatch):
    rw = build_register_world(size=3)
    saturday_night = rw.at(SATURDAY, 22)
    monkeypatch.setattr(timezone, "now", lambda: saturday_night)
    return rw


def test_the_demo_clock_is_off_in_test_settings(settings):
    assert settings.DEMO_CLOCK is False


def test_production_settings_never_turn_the_demo_clock_on(monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "not-a-secret-for-this-test")
    monkeypatch.setenv("OTP_WEBAUTHN_RP_ID", "school.example")
    monkeypatch.setenv("OTP_WEBAUTHN_ALLOWED_ORIGINS", "https://school.example")
    monkeypatch.setenv("DEMO_CLOCK", "1")
    production = importlib.reload(importlib.import_module("attendance_app.settings.production"))
    assert production.DEMO_CLOCK is False
    local = importlib.reload(importlib.import_module("attendance_app.settings.local"))
    assert local.DEMO_CLOCK is True


def test_on_a_saturday_night_the_demo_clock_opens_fridays_morning_register(
    world, client_for, settings
):
    settings.DEMO_CLOCK = True
    with school_scope(world.school):
        clock = selectors.register_clock(school=world.school)
    assert (clock.date(), clock.time()) == (FRIDAY, world.school.am_register_opens)

    client = client_for(world.tutor.user)
    listing = client.get(reverse("registers:list", kwargs={"school_slug": world.school.slug}))
    assert "Demo clock: registers behave as on Friday 13 September" in listing.content.decode()
    assert _take_url(world, FRIDAY) in listing.content.decode()

    response = client.post(_take_url(world, FRIDAY), _all_present(world))
    assert response.status_code == 302
    with scopes_disabled():
        assert AttendanceMark.objects.filter(date=FRIDAY).count() == len(world.pupils)


def test_without_the_demo_clock_the_same_register_is_closed(world, client_for):
    phase = selectors.register_phase_now(
        school=world.school, date=FRIDAY, session="AM", taken=False, now=timezone.now()
    )
    assert phase is Phase.LOCKED

    client_for(world.tutor.user).post(_take_url(world, FRIDAY), _all_present(world))
    with scopes_disabled():
        assert not AttendanceMark.objects.filter(date=FRIDAY).exists()


def test_during_the_school_day_the_demo_clock_keeps_the_real_time(world, settings):
    settings.DEMO_CLOCK = True
    school_time = world.at(MONDAY, 10, 30)
    with school_scope(world.school):
        assert selectors.register_clock(school=world.school, now=school_time) == school_time
        assert selectors.demo_clock_time(school=world.school, now=school_time) is None
