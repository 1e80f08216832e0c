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
            "due_on_day": "20",
            "due_on_month": "9",
            "due_on_year": "2024",
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


def dmy(name: str, date: dt.date) -> dict[str, str]:
    """A date posted as the DayMonthYearField's three boxes."""
    return {
        f"{name}_day": str(date.day),
        f"{name}_month": str(date.month),
        f"{name}_year": str(date.year),
    }


def test_the_case_page_asks_dates_as_day_month_year_boxes_and_posts_them(setup, client):
    rw, case = setup
    with scopes_disabled():
        parent = f.ContactFactory(pupil=rw.pupils[0])
    with school_scope(rw.school):
        pn_request = casework.penalty_notice_request_prepare(
            school=rw.school, case=case, parent=parent, by=rw.officer, on=dt.date(2024, 10, 1)
        )
        casework.penalty_notice_request_sign_off(school=rw.school, request=pn_request, by=rw.head)
        notice = pn_request.notice
    client.force_login(rw.officer.user)
    url = reverse(
        "interventions:case-detail", kwargs={"school_slug": rw.school.slug, "case_id": case.pk}
    )
    added = client.post(
        url,
        {"action": "action-add", "kind": "call", "summary": "Ring home"}
        | dmy("due_on", dt.date(2024, 9, 20)),
    )
    with scopes_disabled():
        action = CaseAction.objects.get(case=case)
    bad_date = client.post(
        url,
        {"action": "action-complete", "action_id": action.pk, "done_on_day": "31"}
        | {"done_on_month": "6", "done_on_year": "2024"},
    )
    done = client.post(
        url,
        {"action": "action-complete", "action_id": action.pk, "outcome": "Spoke to mum"}
        | dmy("done_on", dt.date(2024, 9, 19)),
    )
    issued = client.post(
        url,
        {"action": "pn-update", "notice_id": notice.pk, "status": "issued"}
        | dmy("issued_on", dt.date(2024, 10, 2)),
    )
    page = client.get(url).content.decode()

    assert added.status_code == bad_date.status_code == done.status_code == 302
    assert issued.status_code == 302
    with scopes_disabled():
        action.refresh_from_db()
        notice.refresh_from_db()
    assert (action.due_on, action.done_on) == (dt.date(2024, 9, 20), dt.date(2024, 9, 19))
    assert notice.issued_on == dt.date(2024, 10, 2)
    assert 'type="date"' not in page
    assert 'name="due_on_day"' in page
    assert 'name="period_start_year"' in page
    assert 'class="govuk-date-input"' in page
    assert f'id="id_pn{notice.pk}_issued_on_0"' in page  # one form per notice, ids unique
    bad_page = client.get(url)  # the refused completion's message, shown after the redirect
    assert bad_page.status_code == 200
