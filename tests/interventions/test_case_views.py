"""The casework pages: who sees and works what, and a request through each page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from interventions import casework
from interventions.models import Case, CaseAction, LAReturn
from schools.models import Role
from schools.scoping import school_scope
from tests import factories as f
from tests.registers.conftest import build_register_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    rw = build_register_world(size=2)
    with school_scope(rw.school):
        case = casework.case_open_or_advance(
            school=rw.school, pupil=rw.pupils[0], by=rw.officer, reason="Concern"
        )
    return rw, case


def test_officer_works_a_case_through_the_page(setup, client):
    rw, case = setup
    client.force_login(rw.officer.user)
    url = reverse(
        "interventions:case-detail", kwargs={"school_slug": rw.school.slug, "case_id": case.pk}
    )
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "action": "action-add",
            "kind": "meeting",
            "summary": "Parent meeting",
            "due_on": "2024-09-20",
            "attendees": "Mum, HoY",
            "barriers": "Anxiety",
            "agreed": "Soft start",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        action = CaseAction.objects.get(case=case)
    assert action.details == {
        "attendees": "Mum, HoY",
        "barriers": "Anxiety",
        "agreed": "Soft start",
    }
    listing = client.get(reverse("interventions:case-list", kwargs={"school_slug": rw.school.slug}))
    assert rw.pupils[0].legal_surname in listing.content.decode()


def test_tutor_reads_open_cases_of_their_form_but_cannot_post(world, client):
    ws = world.a1
    with scopes_disabled():
        case = Case.objects.get(school=ws.school)
    client.force_login(ws.users[Role.FORM_TUTOR])
    url = reverse(
        "interventions:case-detail", kwargs={"school_slug": ws.school.slug, "case_id": case.pk}
    )
    page = client.get(url)
    assert page.status_code == 200
    assert "Add an action" not in page.content.decode()
    assert client.post(url, {"action": "close", "outcome": "x"}).status_code == 404
    with scopes_disabled():
        case.refresh_from_db()
    assert case.closed_at is None


def test_parents_see_no_casework(setup, client):
    rw, case = setup
    with scopes_disabled():
        parent = f.ParentLinkFactory(pupil=rw.pupils[0])
    client.force_login(parent.user)
    url = reverse(
        "interventions:case-detail", kwargs={"school_slug": rw.school.slug, "case_id": case.pk}
    )
    assert client.get(url).status_code == 404
    assert (
        client.get(
            reverse("interventions:case-list", kwargs={"school_slug": rw.school.slug})
        ).status_code
        == 404
    )


def test_returns_csv_per_kind(setup, client):
    rw, _case = setup
    with scopes_disabled():
        enrolment = rw.pupils[1].enrolments.get()
        LAReturn.objects.create(
            school=rw.school,
            pupil=rw.pupils[1],
            enrolment=enrolment,
            kind="ten_day",
            episode="event:x",
            triggered_on=dt.date(2024, 9, 27),
            due_on=dt.date(2024, 10, 4),
            snapshot={"upn": rw.pupils[1].upn, "legal_surname": "Snap"},
            raised_at=dt.datetime(2024, 9, 27, 18, tzinfo=dt.UTC),
        )
    client.force_login(rw.officer.user)
    url = reverse("interventions:la-returns", kwargs={"school_slug": rw.school.slug})
    assert client.get(url).status_code == 200
    response = client.get(url, {"kind": "ten_day", "format": "csv"})
    body = response.content.decode()
    assert response["Content-Type"].startswith("text/csv")
    assert "Snap" in body
    assert rw.pupils[1].upn in body


def test_only_the_head_signs_off(setup, client):
    rw, case = setup
    with scopes_disabled():
        parent = f.ContactFactory(pupil=rw.pupils[0])
    with school_scope(rw.school):
        request = casework.penalty_notice_request_prepare(
            school=rw.school, case=case, parent=parent, by=rw.officer, on=dt.date(2024, 10, 1)
        )
    url = reverse(
        "interventions:case-detail", kwargs={"school_slug": rw.school.slug, "case_id": case.pk}
    )
    client.force_login(rw.officer.user)
    assert client.post(url, {"action": "pn-sign-off", "request_id": request.pk}).status_code == 404
    client.force_login(rw.head.user)
    assert client.post(url, {"action": "pn-sign-off", "request_id": request.pk}).status_code == 302
    with scopes_disabled():
        request.refresh_from_db()
    assert request.signed_off_by == rw.head
    assert rw.head.role == Role.HEADTEACHER
