from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from registers.models import AttendanceMark, MarkChange
from tests.registers.conftest import MONDAY, build_register_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw(db):
    return build_register_world(size=3)


def register_url(rw, session="AM"):
    return reverse(
        "api:register",
        kwargs={
            "school_slug": rw.school.slug,
            "form_id": rw.form.pk,
            "date": MONDAY.isoformat(),
            "session": session,
        },
    )


def body(rw, code="/", version=0, overrides=None):
    return {
        "marks": [
            {"pupil": p.pk, "code": (overrides or {}).get(p.pk, code), "version": version}
            for p in rw.pupils
        ]
    }


@pytest.fixture
def at_845(rw, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: rw.at(MONDAY, 8, 45))


def test_get_register_lists_the_roll_with_versions(rw, client_for, at_845):
    response = client_for(rw.tutor.user).get(register_url(rw))

    data = response.json()
    assert response.status_code == 200
    assert data["phase"] == "open"
    assert {row["pupil"] for row in data["rows"]} == {p.pk for p in rw.pupils}
    assert {row["version"] for row in data["rows"]} == {0}


def test_post_register_saves_every_mark(rw, client_for, at_845):
    response = client_for(rw.tutor.user).post(
        register_url(rw), body(rw), content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json()["missing"] == 0
    assert {(m["pupil"], m["code"], m["version"]) for m in response.json()["marks"]} == {
        (p.pk, "/", 1) for p in rw.pupils
    }
    with scopes_disabled():
        assert AttendanceMark.objects.filter(code="/").count() == 3


def test_post_register_with_a_stale_version_is_a_409_naming_the_pupil(rw, client_for, at_845):
    client = client_for(rw.tutor.user)
    client.post(register_url(rw), body(rw), content_type="application/json")
    pupil = rw.pupils[0]
    client.post(
        register_url(rw),
        {"marks": [{"pupil": pupil.pk, "code": "I", "version": 1}]},
        content_type="application/json",
    )

    response = client.post(register_url(rw), body(rw, "N", 1), content_type="application/json")

    assert response.status_code == 409
    assert set(response.json()["conflicts"]) == {str(pupil.pk)}
    assert response.json()["conflicts"][str(pupil.pk)]["code"] == "I"


def test_post_register_with_an_invalid_code_is_a_400_and_saves_nothing(rw, client_for, at_845):
    response = client_for(rw.tutor.user).post(
        register_url(rw),
        body(rw, overrides={rw.pupils[1].pk: "H"}),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert str(rw.pupils[1].pk) in response.json()["errors"]
    with scopes_disabled():
        assert AttendanceMark.objects.count() == 0


def test_amend_requires_a_reason_and_records_history(rw, client_for, at_845):
    client_for(rw.tutor.user).post(register_url(rw), body(rw), content_type="application/json")
    officer = client_for(rw.officer.user)
    url = reverse("api:mark-amend", kwargs={"school_slug": rw.school.slug})
    payload = {"pupil": rw.pupils[0].pk, "date": MONDAY.isoformat(), "session": "AM", "code": "M"}

    missing = officer.post(url, payload, content_type="application/json")
    done = officer.post(
        url, {**payload, "reason": "Dentist letter"}, content_type="application/json"
    )

    assert missing.status_code == 400
    assert done.status_code == 200
    assert done.json()["code"] == "M"
    with scopes_disabled():
        assert MarkChange.objects.get().reason == "Dentist letter"


def test_tutor_cannot_amend_through_the_api(rw, client_for):
    url = reverse("api:mark-amend", kwargs={"school_slug": rw.school.slug})
    payload = {
        "pupil": rw.pupils[0].pk,
        "date": MONDAY.isoformat(),
        "session": "AM",
        "code": "M",
        "reason": "x y z",
    }

    assert (
        client_for(rw.tutor.user).post(url, payload, content_type="application/json").status_code
        == 404
    )


def test_pupil_list_is_paginated_and_only_this_school(rw, client_for, world):
    response = client_for(rw.officer.user).get(
        reverse("api:pupil-list", kwargs={"school_slug": rw.school.slug})
    )

    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {p.pk for p in rw.pupils}


def test_marks_between_two_dates(rw, client_for, at_845):
    client_for(rw.tutor.user).post(register_url(rw), body(rw), content_type="application/json")
    url = reverse(
        "api:pupil-marks", kwargs={"school_slug": rw.school.slug, "pupil_id": rw.pupils[0].pk}
    )

    response = client_for(rw.officer.user).get(url, {"from": "2024-09-01", "to": "2024-09-30"})

    assert [(m["date"], m["session"], m["code"]) for m in response.json()] == [
        ("2024-09-09", "AM", "/")
    ]


def test_openapi_schema_needs_sign_in_and_describes_the_register(rw, client, client_for):
    anonymous = client.get(reverse("api-schema"))
    schema = client_for(rw.officer.user).get(reverse("api-schema"), {"format": "json"})

    assert anonymous.status_code in (302, 401, 403)
    assert schema.status_code == 200
    assert "/api/v1/s/{school_slug}/registers/{form_id}/{date}/{session}/" in schema.json()["paths"]


def test_the_hand_built_save_response_matches_the_documented_serializer(rw, client_for, at_845):
    from registers.api import MarkOutputSerializer

    response = client_for(rw.tutor.user).post(
        register_url(rw), body(rw), content_type="application/json"
    )

    with scopes_disabled():
        expected = [
            dict(MarkOutputSerializer(m).data) for m in AttendanceMark.objects.order_by("pupil_id")
        ]
    got = sorted(response.json()["marks"], key=lambda m: m["pupil"])
    assert [{**m, "recorded_at": m["recorded_at"][:19]} for m in got] == [
        {**m, "recorded_at": m["recorded_at"][:19]} for m in expected
    ]
