"""The pupil attendance page, the school summary and the trust page: who may open them, what
they show (stored, or computed for a period), and a fixed number of queries."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from interventions import services
from interventions.models import AttendanceEvent
from interventions.recompute import school_recompute
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


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    # The world's school year is 2024/25, whatever the real date is.
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: AS_OF)


@pytest.fixture
def school() -> RegisterWorld:
    """Form 9A (the tutor's) with ``ours``: 300 sessions, 30 O from the first day (90.0%: PA,
    band D of seed 002); form 9Z with ``theirs``, always present."""
    rw = build_year_world()
    with school_scope(rw.school):
        services.bands_install_preset(school=rw.school, preset="seed_002")
    year = sessions(rw.school, D(2024, 9, 2), AS_OF)
    ours = add_pupil(rw, legal_forename="Ada", legal_surname="Ours")
    mark_pattern(rw.school, ours, year, {"O": 30})
    with scopes_disabled():
        other_form = f.FormGroupFactory(
            school=rw.school, academic_year=rw.form.academic_year, name="9Z"
        )
    theirs = add_pupil(rw, form=other_form, legal_forename="Bea", legal_surname="Theirs")
    add_marks(rw.school, theirs, year, "/")
    rw.pupils = [ours, theirs]
    return rw


def recompute(rw: RegisterWorld) -> None:
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)


def user(rw: RegisterWorld, role: models.Role) -> object:
    if role == models.Role.FORM_TUTOR:
        return rw.tutor.user
    if role == models.Role.ATTENDANCE_OFFICER:
        return rw.officer.user
    if role == models.Role.HEADTEACHER:
        return rw.head.user
    with scopes_disabled():
        return f.StaffMembershipFactory(school=rw.school, role=role).user


def pupil_url(rw: RegisterWorld, pupil: models.Pupil, **query: str) -> str:
    url = reverse(
        "interventions:pupil-attendance",
        kwargs={"school_slug": rw.school.slug, "pupil_id": pupil.pk},
    )
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def text(response: object) -> str:
    body = response.content.decode()  # type: ignore[attr-defined]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


# --- The pupil page -----------------------------------------------------------------------------

PUPIL_ACCESS = {
    models.Role.FORM_TUTOR: {"ours": 200, "theirs": 404},
    models.Role.ATTENDANCE_OFFICER: {"ours": 200, "theirs": 200},
    # Year groups only (tests/interventions/test_queue_page.py); none assigned here.
    models.Role.PASTORAL_LEAD: {"ours": 404, "theirs": 404},
    models.Role.HEADTEACHER: {"ours": 200, "theirs": 200},
    models.Role.SCHOOL_ADMIN: {"ours": 200, "theirs": 200},
}


def test_staff_see_the_pupils_they_may_see_and_tutors_only_their_forms(school, client_for):
    ours, theirs = school.pupils
    found = {
        role: {
            "ours": client_for(user(school, role)).get(pupil_url(school, ours)).status_code,
            "theirs": client_for(user(school, role)).get(pupil_url(school, theirs)).status_code,
        }
        for role in PUPIL_ACCESS
    }
    assert found == PUPIL_ACCESS


def test_a_parent_gets_404_even_for_their_own_child(school, client_for):
    ours = school.pupils[0]
    with scopes_disabled():
        parent = f.ParentLinkFactory(pupil=ours).user
    response = client_for(parent).get(pupil_url(school, ours))
    assert response.status_code == 404
    assert ours.display_name not in response.content.decode()


def test_another_schools_pupil_is_404_like_a_missing_one(school, client_for):
    elsewhere = build_year_world()
    foreign = add_pupil(elsewhere, legal_surname="Foreign")
    head = client_for(school.head.user)
    foreign_page = head.get(pupil_url(school, foreign))
    assert foreign_page.status_code == 404
    assert "Foreign" not in foreign_page.content.decode()


def test_without_a_stored_result_the_page_says_so(school, client_for):
    response = client_for(school.officer.user).get(pupil_url(school, school.pupils[0]))
    assert response.status_code == 200
    assert "No stored result yet for this academic year" in text(response)
    assert "No events yet" in text(response)


def test_the_stored_result_with_band_flags_and_events(school, client_for):
    recompute(school)
    ours = school.pupils[0]

    response = client_for(school.tutor.user).get(pupil_url(school, ours))

    page = text(response)
    assert response.status_code == 200
    assert "Stored result for this academic year" in page
    assert "As of 5 May 2025" in page
    assert "Computed at" in page
    assert "Attendance 90.0%" in page
    assert "Absence 10.0% (0.0% authorised, 10.0% unauthorised)" in page
    # Seed 002's band D: exactly 90% is "At Risk", shown with its colour.
    assert "At Risk" in page
    assert 'fill="#ea580c"' in response.content.decode()  # the swatch: an SVG rect
    assert "Persistent absence (10% or more missed) Yes" in page
    assert "Severe absence (50% or more missed) No" in page
    # Possible, present, AEA, authorised, unauthorised, not counted, late.
    assert "300 270 0 0 30 0 0" in page
    assert "Penalty-notice threshold met 6 September 2024 PM" in page
    assert "O 30" in page
    result = response.context["results"][0]
    assert result.state.possible_sessions == 300
    assert result.state.rate_change_4_weeks is not None
    events = list(response.context["events"])
    assert events
    assert [e.occurred_on for e in events] == sorted((e.occurred_on for e in events), reverse=True)
    with scopes_disabled():
        assert {e.pk for e in events} == set(
            AttendanceEvent.objects.filter(pupil=ours).values_list("pk", flat=True)
        )
    assert "Penalty-notice threshold met" in page


def test_a_period_is_computed_on_the_fly_and_says_so(school, client_for):
    recompute(school)
    ours = school.pupils[0]
    client = client_for(school.officer.user)

    # 2-13 Sep: 20 sessions, the first 20 of the 30 O.
    response = client.get(pupil_url(school, ours, **{"from": "2024-09-02", "to": "2024-09-13"}))

    page = text(response)
    assert response.status_code == 200
    assert "Computed now from the marks for 2 September 2024 to 13 September 2024" in page
    state = response.context["results"][0].state
    assert (state.possible_sessions, state.unauthorised_sessions) == (20, 20)
    assert state.severe_absence
    assert "Attendance 0.0%" in page

    only_as_of = client.get(pupil_url(school, ours, as_of="2024-09-13"))
    assert "Computed now" in text(only_as_of)
    assert only_as_of.context["results"][0].state.possible_sessions == 20


def test_the_period_is_asked_as_day_month_year_boxes_and_means_the_same(school, client_for):
    recompute(school)
    ours = school.pupils[0]
    client = client_for(school.officer.user)

    boxes = client.get(
        pupil_url(
            school,
            ours,
            from_day="2", from_month="9", from_year="2024", to_day="13", to_month="9",
            to_year="2024",
        )
    )  # fmt: skip
    iso = client.get(pupil_url(school, ours, **{"from": "2024-09-02", "to": "2024-09-13"}))

    assert boxes.context["results"][0].state == iso.context["results"][0].state
    body = boxes.content.decode()
    assert 'type="date"' not in body
    assert 'name="from_day"' in body
    assert 'name="to_year"' in body
    june_31 = client.get(pupil_url(school, ours, to_day="31", to_month="6", to_year="2025"))
    assert "Date must be a real date" in text(june_31)


def test_a_bad_period_is_refused_and_the_stored_result_shown(school, client_for):
    recompute(school)
    client = client_for(school.officer.user)
    backwards = client.get(
        pupil_url(school, school.pupils[0], **{"from": "2024-09-13", "to": "2024-09-02"})
    )
    assert backwards.status_code == 400
    assert "The end of the period is before its start." in text(backwards)
    assert "Stored result for this academic year" in text(backwards)

    too_long = client.get(pupil_url(school, school.pupils[0], **{"from": "2015-09-01"}))
    assert too_long.status_code == 400
    assert "at most five years" in text(too_long)


def test_the_marks_page_links_to_the_attendance_page(school, client_for):
    ours = school.pupils[0]
    marks_url = reverse(
        "registers:pupil-marks", kwargs={"school_slug": school.school.slug, "pupil_id": ours.pk}
    )
    body = client_for(school.tutor.user).get(marks_url).content.decode()
    assert pupil_url(school, ours) in body


# --- The school summary -------------------------------------------------------------------------


def summary_url(rw: RegisterWorld, **query: str) -> str:
    url = reverse("interventions:attendance-summary", kwargs={"school_slug": rw.school.slug})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


SUMMARY_ACCESS = {
    models.Role.FORM_TUTOR: 404,
    models.Role.ATTENDANCE_OFFICER: 200,
    models.Role.PASTORAL_LEAD: 200,
    models.Role.HEADTEACHER: 200,
    models.Role.SCHOOL_ADMIN: 200,
}


def test_the_summary_is_for_staff_who_see_the_whole_school(school, client_for):
    found = {
        role: client_for(user(school, role)).get(summary_url(school)).status_code
        for role in SUMMARY_ACCESS
    }
    assert found == SUMMARY_ACCESS
    with scopes_disabled():
        parent = f.ParentLinkFactory(pupil=school.pupils[0]).user
    assert client_for(parent).get(summary_url(school)).status_code == 404


def test_the_summary_shows_totals_and_groups(school, client_for):
    recompute(school)
    response = client_for(school.head.user).get(summary_url(school))

    page = text(response)
    assert response.status_code == 200
    assert "Stored results for the academic year" in page
    # 600 possible, 570 present: 95.0%; PA 1 of 2 enrolments.
    assert "Whole school 2 600 95.0 5.0 0.0 5.0 50.0 (1 of 2) 0.0 (0 of 2)" in page
    assert "9A 1 300 90.0 10.0" in page
    assert "9Z 1 300 100.0 0.0" in page
    for group in ("Form", "Year group", "Free school meals", "SEND status", "Ethnicity"):
        assert f"By group: {group}" in page


def test_the_summary_without_stored_results_says_so(school, client_for):
    page = text(client_for(school.head.user).get(summary_url(school)))
    assert "No stored results for this academic year yet" in page


def test_the_dfe_toggle_computes_the_dfe_cohort(school, client_for):
    theirs = school.pupils[1]
    with scopes_disabled():
        models.Pupil.objects.filter(pk=theirs.pk).update(date_of_birth=D(2008, 1, 1))  # 16
    response = client_for(school.head.user).get(summary_url(school, dfe="on"))

    assert response.status_code == 200
    assert "DfE-comparable:" in text(response)
    aggregate = response.context["aggregate"]
    assert aggregate.dfe_comparable
    assert aggregate.total.enrolments == 1
    assert aggregate.total.possible_sessions == 300


# The figures' 13 (tests/interventions/test_aggregates.py) and the request's own: session,
# user, school, access, the header's places and the office's counts (the inbox's, the leave
# requests' and the open queue items', one query each), and the session's second-factor device
# (django-otp, schools/mfa.py).
SUMMARY_PAGE_QUERIES = 22


def test_the_summary_page_takes_the_same_queries_for_5_and_30_pupils(
    client_for, django_assert_max_num_queries
):
    used = []
    for size in (5, 30):
        rw = build_year_world()
        for _ in range(size):
            pupil = add_pupil(rw)
            add_marks(rw.school, pupil, sessions(rw.school, D(2024, 9, 2), D(2024, 9, 6)), "/")
        recompute(rw)
        client = client_for(rw.head.user)
        client.get(summary_url(rw))  # warm the session
        with (
            CaptureQueriesContext(connection) as queries,
            django_assert_max_num_queries(SUMMARY_PAGE_QUERIES),
        ):
            response = client.get(summary_url(rw))
        assert response.context["aggregate"].total.enrolments == size
        used.append(len(queries.captured_queries))
    assert used[0] == used[1]


# --- The trust page -----------------------------------------------------------------------------


def test_trust_leaders_see_each_school_and_the_trust_total(school, client_for):
    recompute(school)
    trust = school.school.trust
    second = build_year_world(trust=trust)
    with scopes_disabled():
        leader = f.TrustMembershipFactory(trust=trust).user
    url = reverse("interventions:trust-attendance", kwargs={"trust_slug": trust.slug})

    response = client_for(leader).get(url)

    page = text(response)
    assert response.status_code == 200
    assert f"{school.school.name} 5 May 2025 2 600 95.0" in page
    assert f"{second.school.name} no stored results yet 0 0" in page
    assert "Trust 2 600 95.0" in page
    assert client_for(school.head.user).get(url).status_code == 404


def test_the_summary_downloads_as_csv_with_the_pages_figures(school, client_for):
    recompute(school)
    response = client_for(school.head.user).get(summary_url(school, format="csv"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Grouped by", "Group", "Enrolments", "Possible sessions"]
    # the same figures as the page (test_the_summary_shows_totals_and_groups)
    assert rows[1][0] == "Whole school"
    assert rows[1][2:9] == ["2", "600", "95.0", "5.0", "0.0", "5.0", "50.0"]
    assert ["Form", "9A", "1", "300", "90.0", "10.0"] in [row[:6] for row in rows]


def test_the_summary_links_its_csv_with_the_same_query(school, client_for):
    response = client_for(school.head.user).get(summary_url(school, dfe="on"))
    assert 'href="?dfe=on&amp;format=csv"' in response.content.decode()
    csv_response = client_for(school.head.user).get(summary_url(school, dfe="on", format="csv"))
    assert csv_response["Content-Type"].startswith("text/csv")


def test_the_summary_renders_in_welsh(school, client_for):
    recompute(school)
    head = school.head.user
    with scopes_disabled():
        models.UserPreference.objects.update_or_create(user=head, defaults={"language": "cy"})
    response = client_for(head).get(summary_url(school))

    page = text(response)
    assert response.status_code == 200
    assert "Crynodeb presenoldeb" in page
    assert "Canlyniadau wedi'u cadw" in page
    assert "Yn ôl grŵp: Dosbarth" in page
    assert "Yr ysgol gyfan 2 600 95.0 5.0 0.0 5.0 50.0 (1 o 2)" in page
    assert "Presenoldeb %" in page
    assert "%%" not in page


def test_the_pupil_page_leads_with_days_and_sessions_missed(school, client_for):
    recompute(school)
    page = text(client_for(school.tutor.user).get(pupil_url(school, school.pupils[0])))
    # 300 possible sessions, 30 unauthorised absences: then the percentages
    assert "Missed 15 days (30 sessions) of 150 days Attendance 90.0%" in page


def test_the_pupil_page_renders_in_welsh(school, client_for):
    recompute(school)
    tutor = school.tutor.user
    with scopes_disabled():
        models.UserPreference.objects.update_or_create(user=tutor, defaults={"language": "cy"})
    page = text(client_for(tutor).get(pupil_url(school, school.pupils[0])))
    assert "Wedi colli 15 diwrnod (30 sesiwn) o 150 diwrnod Presenoldeb 90.0%" in page
    assert "Absenoldeb parhaus (wedi colli 10% neu fwy) Ydy" in page
    assert "Trothwy hysbysiad cosb wedi'i gyrraedd" in page  # the event kind's label too
