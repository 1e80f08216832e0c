from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from schools.models import Role, School, register_window_errors
from schools.services import school_update_settings
from tests.factories import SchoolFactory, StaffMembershipFactory

t = dt.time
TOO_LONG_AM = "The morning register may stay open for at most 30 minutes."
TOO_LONG_PM = "The afternoon register may stay open for at most 30 minutes."
BACKWARDS_AM = "The morning register must close after it opens."
BACKWARDS_PM = "The afternoon register must close after it opens."
DIFFERENT = "The morning and afternoon registers must stay open for the same time."


@pytest.mark.parametrize(
    ("am", "pm", "expected"),
    [
        ((t(8, 40), t(9, 10)), (t(13, 0), t(13, 30)), []),  # exactly 30 minutes
        ((t(8, 50), t(9, 5)), (t(13, 15), t(13, 30)), []),  # 15 and 15
        ((t(8, 40), t(9, 11)), (t(13, 0), t(13, 31)), [TOO_LONG_AM, TOO_LONG_PM]),  # 31
        ((t(8, 40), t(9, 11)), (t(13, 0), t(13, 30)), [TOO_LONG_AM, DIFFERENT]),
        ((t(8, 40), t(9, 10)), (t(13, 0), t(13, 25)), [DIFFERENT]),  # AM 30, PM 25
        ((t(9, 10), t(8, 40)), (t(13, 0), t(13, 30)), [BACKWARDS_AM, DIFFERENT]),
        ((t(8, 40), t(9, 10)), (t(13, 30), t(13, 0)), [BACKWARDS_PM, DIFFERENT]),
        ((t(8, 40), t(8, 40)), (t(13, 0), t(13, 0)), [BACKWARDS_AM, BACKWARDS_PM]),  # 0 min
        ((t(8, 0), t(10, 0)), (t(13, 0), t(15, 0)), [TOO_LONG_AM, TOO_LONG_PM]),
    ],
)
def test_register_window_errors(am, pm, expected):
    errors = register_window_errors(
        am_opens=am[0], am_closes=am[1], pm_opens=pm[0], pm_closes=pm[1]
    )

    assert [message for messages in errors.values() for message in messages] == expected


# --- the service ----------------------------------------------------------------------------


@pytest.fixture
def school() -> School:
    return SchoolFactory()


def _times(school: School) -> tuple[dt.time, ...]:
    fresh = School.objects.get(pk=school.pk)
    return (
        fresh.am_register_opens,
        fresh.am_register_closes,
        fresh.pm_register_opens,
        fresh.pm_register_closes,
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "changes",
    [
        {"am_register_closes": t(9, 15), "pm_register_closes": t(13, 35)},  # 35 minutes each
        {"am_register_closes": t(9, 5)},  # AM 25, PM 30
        {"pm_register_opens": t(13, 40)},  # PM closes before it opens
    ],
)
def test_school_update_settings_rejects_a_bad_window_and_saves_nothing(school, changes):
    before = _times(school)

    with pytest.raises(ValidationError):
        school_update_settings(school=school, attendance_target=Decimal("90.0"), **changes)

    assert _times(school) == before
    assert School.objects.get(pk=school.pk).attendance_target == Decimal("96.0")


@pytest.mark.django_db
def test_school_update_settings_saves_a_good_window(school):
    school_update_settings(
        school=school,
        attendance_target=Decimal("95.5"),
        am_register_opens=t(8, 30),
        am_register_closes=t(9, 0),
        pm_register_opens=t(13, 10),
        pm_register_closes=t(13, 40),
    )

    fresh = School.objects.get(pk=school.pk)
    assert _times(school) == (t(8, 30), t(9, 0), t(13, 10), t(13, 40))
    assert fresh.attendance_target == Decimal("95.5")


@pytest.mark.django_db
def test_school_update_settings_refuses_fields_that_are_not_settings(school):
    with pytest.raises(ValidationError):
        school_update_settings(school=school, name="Renamed", slug="renamed")

    fresh = School.objects.get(pk=school.pk)
    assert (fresh.name, fresh.slug) == (school.name, school.slug)


@pytest.mark.django_db
@pytest.mark.parametrize("target", [Decimal("-1"), Decimal("100.1")])
def test_school_update_settings_rejects_a_target_that_is_not_a_percentage(school, target):
    with pytest.raises(ValidationError):
        school_update_settings(school=school, attendance_target=target)

    assert School.objects.get(pk=school.pk).attendance_target == Decimal("96.0")


# --- the settings page ----------------------------------------------------------------------


@pytest.fixture
def head_client(client, school):
    client.force_login(StaffMembershipFactory(school=school, role=Role.HEADTEACHER).user)
    return client


def _settings_url(school: School) -> str:
    return reverse("schools:settings", kwargs={"school_slug": school.slug})


def _form_data(**overrides: str) -> dict[str, str]:
    data = {
        "attendance_target": "96.0",
        "am_register_opens": "08:40",
        "am_register_closes": "09:10",
        "am_session_ends": "12:00",
        "pm_register_opens": "13:00",
        "pm_register_closes": "13:30",
        "pm_session_ends": "15:20",
    }
    return data | overrides


@pytest.mark.django_db
def test_settings_page_shows_the_schools_settings(head_client, school):
    response = head_client.get(_settings_url(school))

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="am_register_closes"' in body
    assert 'value="09:10"' in body


@pytest.mark.django_db
def test_settings_page_refuses_a_35_minute_window_and_saves_nothing(head_client, school):
    before = _times(school)

    response = head_client.post(
        _settings_url(school),
        _form_data(am_register_closes="09:15", pm_register_closes="13:35", attendance_target="90"),
    )

    assert response.status_code == 200
    body = response.content.decode()
    assert TOO_LONG_AM in body
    assert TOO_LONG_PM in body
    assert _times(school) == before
    assert School.objects.get(pk=school.pk).attendance_target == Decimal("96.0")


@pytest.mark.django_db
def test_settings_page_saves_a_valid_window_and_redirects(head_client, school):
    response = head_client.post(
        _settings_url(school),
        _form_data(
            attendance_target="93.5",
            am_register_opens="08:45",
            am_register_closes="09:05",
            pm_register_opens="13:10",
            pm_register_closes="13:30",
        ),
    )

    assert response.status_code == 302
    assert response["Location"] == _settings_url(school)
    assert _times(school) == (t(8, 45), t(9, 5), t(13, 10), t(13, 30))
    assert School.objects.get(pk=school.pk).attendance_target == Decimal("93.5")
    assert "Settings saved." in head_client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("overrides", "messages"),
    [
        (
            {"am_register_closes": "09:15", "pm_register_closes": "13:35"},
            [TOO_LONG_AM, TOO_LONG_PM],
        ),
        ({"am_register_closes": "08:30"}, [BACKWARDS_AM, DIFFERENT]),
    ],
)
@pytest.mark.django_db
def test_settings_page_shows_each_problem_once_in_plain_words(
    head_client, school, overrides, messages
):
    body = head_client.post(_settings_url(school), _form_data(**overrides)).content.decode()

    for message in messages:
        assert body.count(message) == 1, message
    assert "Constraint" not in body
