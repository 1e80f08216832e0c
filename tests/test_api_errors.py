"""Every error under /api/ answers JSON ``{"detail": …}`` (WEB-08), including the ones Django
answers before a DRF view runs: an unknown school, a URL with no route, a crash."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from registers.models import MarkChange
from schools.models import Role
from schools.scoping import school_scope

pytestmark = pytest.mark.django_db


def assert_json_error(response, status):
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(response.json()["detail"], str)


def test_an_unknown_school_and_another_schools_slug_are_the_same_json_404(world, client_for):
    client = client_for(world.a1.users[Role.ATTENDANCE_OFFICER])

    unknown = client.get("/api/v1/s/no-such-school/pupils/")
    other = client.get(f"/api/v1/s/{world.b1.school.slug}/pupils/")

    assert_json_error(unknown, 404)
    assert_json_error(other, 404)
    assert unknown.json() == other.json()


@pytest.mark.parametrize(
    "path", ["/api/", "/api/nope/", "/api/v1/", "/api/v1/nope/", "/api/v1/s/{slug}/nope/"]
)
def test_a_url_with_no_route_under_api_is_a_json_404(world, client_for, path):
    client = client_for(world.a1.users[Role.ATTENDANCE_OFFICER])

    response = client.get(path.format(slug=world.a1.school.slug))

    assert_json_error(response, 404)
    assert response.json()["detail"] == "Not found."


def test_a_url_with_no_route_outside_the_api_keeps_the_html_page(world, client_for):
    response = client_for(world.a1.users[Role.ATTENDANCE_OFFICER]).get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_missing_object_and_a_refused_role_are_json_404s(world, client_for):
    slug = world.a1.school.slug
    officer = client_for(world.a1.users[Role.ATTENDANCE_OFFICER])
    tutor = client_for(world.a1.users[Role.FORM_TUTOR])

    assert_json_error(officer.get(f"/api/v1/s/{slug}/pupils/999999999/"), 404)
    assert_json_error(tutor.get(f"/api/v1/s/{slug}/la-returns/"), 404)


def test_a_method_the_route_does_not_take_is_a_json_405(world, client_for):
    url = reverse("api:pupil-list", kwargs={"school_slug": world.a1.school.slug})

    response = client_for(world.a1.users[Role.ATTENDANCE_OFFICER]).put(url)

    assert_json_error(response, 405)


def test_signed_out_is_a_json_403_not_a_redirect_to_the_login_page(world):
    url = reverse("api:pupil-list", kwargs={"school_slug": world.a1.school.slug})

    assert_json_error(Client().get(url), 403)
    assert_json_error(Client().get("/api/v1/nope/"), 404)


def test_a_post_without_the_csrf_token_is_a_json_403_and_changes_nothing(world):
    school_world = world.a1
    client = Client(enforce_csrf_checks=True)
    client.force_login(school_world.users[Role.ATTENDANCE_OFFICER])
    url = reverse("api:mark-amend", kwargs={"school_slug": school_world.school.slug})
    payload = {
        "pupil": school_world.pupils[0].pk,
        "date": "2024-09-09",
        "session": "AM",
        "code": "M",
        "reason": "Parent phoned",
    }

    response = client.post(url, payload, content_type="application/json")

    assert_json_error(response, 403)
    assert "CSRF" in response.json()["detail"]
    with school_scope(school_world.school):
        assert not MarkChange.objects.exists()


def test_a_crash_under_api_is_a_json_500(world, monkeypatch):
    from schools import api

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(api.PupilListApi, "get", crash)
    client = Client(raise_request_exception=False)
    client.force_login(world.a1.users[Role.ATTENDANCE_OFFICER])

    response = client.get(reverse("api:pupil-list", kwargs={"school_slug": world.a1.school.slug}))

    assert_json_error(response, 500)
    assert "boom" not in response.content.decode()


def test_marks_with_the_last_day_before_the_first_are_a_json_400(world, client_for):
    url = reverse(
        "api:pupil-marks",
        kwargs={"school_slug": world.a1.school.slug, "pupil_id": world.a1.pupils[0].pk},
    )
    client = client_for(world.a1.users[Role.ATTENDANCE_OFFICER])

    backwards = client.get(url, {"from": "2024-09-30", "to": "2024-09-01"})
    one_day = client.get(url, {"from": "2024-09-30", "to": "2024-09-30"})

    assert_json_error(backwards, 400)
    assert one_day.status_code == 200


def test_the_schema_states_the_reason_length_and_documents_the_errors(world, client_for):
    from registers.services.marks import REASON_MAX_LENGTH, REASON_MIN_LENGTH

    schema = client_for(world.a1.users[Role.ATTENDANCE_OFFICER]).get(
        reverse("api-schema"), {"format": "json"}
    )
    document = schema.json()
    reason = document["components"]["schemas"]["MarkAmendInput"]["properties"]["reason"]
    amend = document["paths"]["/api/v1/s/{school_slug}/marks/amend/"]["post"]

    assert (reason["minLength"], reason["maxLength"]) == (REASON_MIN_LENGTH, REASON_MAX_LENGTH)
    assert {"400", "403", "404", "409"} <= set(amend["responses"])


def test_a_summary_whose_period_ends_before_it_starts_is_a_json_400_the_schema_states(
    world, client_for
):
    client = client_for(world.a1.users[Role.ATTENDANCE_OFFICER])
    url = reverse("api:attendance-summary", kwargs={"school_slug": world.a1.school.slug})

    backwards = client.get(url, {"from": "2024-09-30", "to": "2024-09-01"})
    schema = client.get(reverse("api-schema"), {"format": "json"}).json()

    # A serializer's own refusal keeps DRF's shape, {field: [messages]}, which the schema allows.
    assert backwards.status_code == 400
    assert backwards.json() == {"to": ["The end of the period is before its start."]}
    summary = schema["paths"]["/api/v1/s/{school_slug}/attendance/summary/"]["get"]
    to = next(p for p in summary["parameters"] if p["name"] == "to")
    assert "on or after `from`" in to["description"]
    assert "400" in summary["responses"]
