"""The attendance results API: a pupil's result, the school summary by group, the event ledger
(shapes, roles, another school's ids) and a schema that stays valid."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from interventions.models import AttendanceEvent
from interventions.recompute import school_recompute
from interventions.rules import EventKind
from schools import models
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.attendance_world import (
    D,
    add_marks,
    add_pupil,
    build_year_world,
    mark_pattern,
    sessions,
)
from tests.registers.conftest import RegisterWorld

pytestmark = pytest.mark.django_db

AS_OF = D(2025, 5, 5)
TOTAL_KEYS = {
    "enrolments",
    "enrolments_with_possible",
    "possible_sessions",
    "present_sessions",
    "aea_sessions",
    "authorised_sessions",
    "unauthorised_sessions",
    "not_counted_sessions",
    "late_sessions",
    "pa_enrolments",
    "sa_enrolments",
    "attendance_rate",
    "overall_absence_rate",
    "authorised_rate",
    "unauthorised_rate",
    "pa_rate",
    "sa_rate",
}


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: AS_OF)


@pytest.fixture
def school() -> RegisterWorld:
    """``ours`` in the tutor's 9A: 300 sessions, 30 O first, FSM. ``theirs`` in 9Z: 300 present."""
    rw = build_year_world()
    year = sessions(rw.school, D(2024, 9, 2), AS_OF)
    ours = add_pupil(rw, fsm=True, sen_status="K")
    mark_pattern(rw.school, ours, year, {"O": 30})
    with scopes_disabled():
        other_form = f.FormGroupFactory(
            school=rw.school, academic_year=rw.form.academic_year, name="9Z"
        )
    theirs = add_pupil(rw, form=other_form)
    add_marks(rw.school, theirs, year, "/")
    rw.pupils = [ours, theirs]
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)
    return rw


def api(name: str, rw: RegisterWorld, **kwargs: object) -> str:
    return reverse(f"api:{name}", kwargs={"school_slug": rw.school.slug, **kwargs})


# --- GET pupils/<id>/attendance/ ----------------------------------------------------------------


def test_a_pupils_stored_result(school, client_for):
    ours = school.pupils[0]
    response = client_for(school.tutor.user).get(api("pupil-attendance", school, pupil_id=ours.pk))

    assert response.status_code == 200
    body = response.json()
    assert body["pupil"] == ours.pk
    assert body["mode"] == "stored"
    (result,) = body["results"]
    assert result["as_of"] == "2025-05-05"
    assert result["computed_at"] is not None
    assert result["possible_sessions"] == 300
    assert result["present_sessions"] == 270
    assert result["unauthorised_sessions"] == 30
    assert result["attendance_rate"] == "90.0"
    assert result["overall_absence_rate"] == "10.0"
    assert result["unauthorised_rate"] == "10.0"
    assert result["persistent_absence"] is True
    assert result["severe_absence"] is False
    assert result["band_name"] == "Persistent absence (90% or below)"  # the DfE default
    assert result["band"]["name"] == result["band_name"]
    assert result["code_counts"] == {"/": 270, "O": 30}
    assert result["pn_threshold_met_on"] == "2024-09-06"
    assert result["pn_threshold_met_session"] == "PM"
    assert result["pn_window_provisional"] is False
    assert result["rate_change_4_weeks"] is not None
    assert result["enrolment_start"] == "2020-09-01"


def test_a_pupils_result_for_a_period_is_computed_now(school, client_for):
    ours = school.pupils[0]
    url = api("pupil-attendance", school, pupil_id=ours.pk)
    response = client_for(school.officer.user).get(
        url, {"from": "2024-09-02", "to": "2024-09-13", "as_of": "2024-09-13"}
    )

    body = response.json()
    assert body["mode"] == "computed"
    (result,) = body["results"]
    assert result["computed_at"] is None
    assert result["possible_sessions"] == 20
    assert result["attendance_rate"] == "0.0"
    assert result["severe_absence"] is True

    bad = client_for(school.officer.user).get(url, {"from": "2024-09-13", "to": "2024-09-02"})
    assert bad.status_code == 400
    assert client_for(school.officer.user).get(url, {"as_of": "soon"}).status_code == 400


def test_a_tutor_gets_404_for_another_forms_pupil_and_a_parent_for_any(school, client_for):
    theirs = school.pupils[1]
    url = api("pupil-attendance", school, pupil_id=theirs.pk)
    assert client_for(school.tutor.user).get(url).status_code == 404
    assert client_for(school.head.user).get(url).status_code == 200
    with scopes_disabled():
        parent = f.ParentLinkFactory(pupil=theirs).user
    assert client_for(parent).get(url).status_code == 404


def test_another_schools_pupil_is_404(school, client_for):
    elsewhere = build_year_world()
    foreign = add_pupil(elsewhere)
    response = client_for(school.head.user).get(
        api("pupil-attendance", school, pupil_id=foreign.pk)
    )
    missing = client_for(school.head.user).get(api("pupil-attendance", school, pupil_id=10**9 + 7))
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()


def test_signing_in_is_required(school, client):
    response = client.get(api("pupil-attendance", school, pupil_id=school.pupils[0].pk))
    assert response.status_code in (401, 403)


# --- GET attendance/summary/ ----------------------------------------------------------------------


def test_the_stored_summary_by_form(school, client_for):
    response = client_for(school.head.user).get(
        api("attendance-summary", school), {"group_by": "form"}
    )

    assert response.status_code == 200
    body = response.json()
    assert body["mode"] == "stored"
    assert body["dfe_comparable"] is False
    assert body["group_by"] == "form"
    assert (body["period_start"], body["period_end"]) == ("2024-08-01", "2025-07-31")
    assert body["as_of"] == body["earliest_as_of"] == "2025-05-05"
    assert set(body["total"]) == TOTAL_KEYS
    assert body["total"]["possible_sessions"] == 600
    assert body["total"]["attendance_rate"] == "95.0"
    assert body["total"]["pa_rate"] == "50.0"
    groups = {g["name"]: g for g in body["groups"]}
    assert set(groups) == {"9A", "9Z"}
    assert groups["9A"]["key"] == str(school.form.pk)
    assert groups["9A"]["totals"]["attendance_rate"] == "90.0"
    assert groups["9Z"]["totals"]["pa_enrolments"] == 0


@pytest.mark.parametrize(
    ("group_by", "names"),
    [
        ("school", None),
        ("year", {"Year 9"}),
        ("fsm", {"Free school meals", "Not free school meals"}),
        ("sen_status", {"SEN support", "No special educational need"}),
        ("gender", {"Female"}),
        ("ethnicity", {"Not recorded"}),
        ("eal", {"Not EAL"}),
        ("looked_after", {"Not looked after"}),
        ("child_in_need", {"Not child in need"}),
        ("pupil_premium", {"Not pupil premium"}),
    ],
)
def test_every_grouping(school, client_for, group_by, names):
    body = (
        client_for(school.officer.user)
        .get(api("attendance-summary", school), {"group_by": group_by})
        .json()
    )
    if names is not None:
        assert {g["name"] for g in body["groups"]} == names
    assert sum(g["totals"]["possible_sessions"] for g in body["groups"]) == 600


def test_the_summary_computed_for_a_period_and_in_dfe_mode(school, client_for):
    with scopes_disabled():
        models.Pupil.objects.filter(pk=school.pupils[1].pk).update(date_of_birth=D(2008, 1, 1))
    client = client_for(school.head.user)
    url = api("attendance-summary", school)

    period = client.get(url, {"from": "2024-09-02", "to": "2024-09-13"}).json()
    assert period["mode"] == "computed"
    assert period["computed_at"] is None
    assert period["total"]["possible_sessions"] == 40
    assert period["total"]["attendance_rate"] == "50.0"

    dfe = client.get(url, {"dfe": "1", "group_by": "fsm"}).json()
    assert dfe["mode"] == "computed"
    assert dfe["dfe_comparable"] is True
    assert dfe["total"]["enrolments"] == 1  # the 16-year-old is left out
    assert [g["name"] for g in dfe["groups"]] == ["Free school meals"]


def test_the_summary_refuses_bad_input_and_tutors(school, client_for):
    url = api("attendance-summary", school)
    head = client_for(school.head.user)
    assert head.get(url, {"group_by": "shoe_size"}).status_code == 400
    assert head.get(url, {"from": "2024-09-13", "to": "2024-09-02"}).status_code == 400
    assert head.get(url, {"from": "2010-09-01", "to": "2024-09-02"}).status_code == 400
    assert client_for(school.tutor.user).get(url).status_code == 404


# --- GET attendance/events/ ---------------------------------------------------------------------


def test_the_event_ledger_newest_first_and_filtered(school, client_for):
    ours = school.pupils[0]
    client = client_for(school.officer.user)
    url = api("attendance-events", school)

    body = client.get(url).json()
    with scopes_disabled():
        expected = AttendanceEvent.objects.filter(school=school.school).count()
    assert body["count"] == expected > 0
    dates = [e["occurred_on"] for e in body["results"]]
    assert dates == sorted(dates, reverse=True)
    assert {e["pupil"] for e in body["results"]} == {ours.pk}
    assert set(body["results"][0]) == {
        "id",
        "pupil",
        "enrolment",
        "kind",
        "key",
        "occurred_on",
        "session",
        "provisional",
        "detail",
        "created_at",
    }

    met = client.get(url, {"kind": EventKind.PN_THRESHOLD_MET}).json()
    assert [(e["occurred_on"], e["session"]) for e in met["results"]] == [("2024-09-06", "PM")]
    assert met["results"][0]["detail"] == {"count": "10"}
    assert client.get(url, {"since": "2025-01-01"}).json()["count"] < expected
    assert client.get(url, {"pupil": school.pupils[1].pk}).json()["count"] == 0
    assert client.get(url, {"kind": "nonsense"}).status_code == 400


def test_a_tutor_sees_only_their_forms_events(school, client_for):
    tutor = client_for(school.tutor.user)
    assert tutor.get(api("attendance-events", school)).json()["count"] > 0
    with scopes_disabled():  # the pupil leaves the tutor's form
        models.FormPlacement.objects.filter(pupil=school.pupils[0]).delete()
    assert tutor.get(api("attendance-events", school)).json()["count"] == 0


def test_another_schools_events_are_never_listed(school, client_for):
    elsewhere = build_year_world()
    foreign = add_pupil(elsewhere)
    add_marks(
        elsewhere.school, foreign, sessions(elsewhere.school, D(2024, 9, 2), D(2024, 9, 13)), "O"
    )
    with school_scope(elsewhere.school):
        school_recompute(school=elsewhere.school, as_of=AS_OF)
    body = (
        client_for(school.head.user)
        .get(api("attendance-events", school), {"pupil": foreign.pk})
        .json()
    )
    assert body["count"] == 0


# --- The schema ---------------------------------------------------------------------------------


def test_the_openapi_schema_validates_without_warnings(tmp_path: Path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    schema = (tmp_path / "schema.yml").read_text()
    for path in (
        "/api/v1/s/{school_slug}/pupils/{pupil_id}/attendance/",
        "/api/v1/s/{school_slug}/attendance/summary/",
        "/api/v1/s/{school_slug}/attendance/events/",
    ):
        assert path in schema
