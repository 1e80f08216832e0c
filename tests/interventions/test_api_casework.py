"""The casework API: queues and their items, contact attempts, cases, actions, NTIs, penalty
notices and LA returns. Another school's ids (404, nothing changed), who may do what, a
request through each service, bounded queries on the lists, and a schema that validates."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from interventions.models import (
    Case,
    CaseAction,
    CaseStage,
    CaseStageChange,
    ContactAttempt,
    ItemState,
    LAReturn,
    NoticeToImprove,
    PenaltyNotice,
    PenaltyNoticeRequest,
    QueueItem,
    QueueKind,
    RequestStatus,
    ReturnKind,
)
from schools.models import Enrolment, Role
from tests.conftest import TODAY, SchoolWorld, World
from tests.test_tenancy import SAMPLE_KWARGS, _snapshot

pytestmark = pytest.mark.django_db

# Every casework endpoint, the method(s) it answers, and a body that would act if accepted.
TOMORROW = (TODAY + dt.timedelta(days=1)).isoformat()
ENDPOINTS: dict[str, dict[str, dict[str, Any] | None]] = {
    "api:queues": {"get": None},
    "api:queue-items": {"get": None},
    "api:queue-item-claim": {"post": {}},
    "api:queue-item-snooze": {"post": {"until": TOMORROW, "reason": "Away"}},
    "api:queue-item-close": {"post": {"outcome": "done"}},
    "api:queue-item-decide": {"post": {"decision": "no-action", "reason": "Leave granted"}},
    "api:queue-item-contacts": {"get": None, "post": {"method": "phone", "outcome": "no-answer"}},
    "api:cases": {"get": None},
    "api:case-detail": {"get": None},
    "api:case-stage": {"post": {"reason": "Next step"}},
    "api:case-close": {"post": {"outcome": "Improved"}},
    "api:case-actions": {
        "get": None,
        "post": {"kind": "call", "summary": "Ring", "due_on": TODAY.isoformat()},
    },
    "api:case-action": {"get": None, "patch": {"summary": "Ring twice"}},
    "api:case-action-done": {"post": {"done_on": TODAY.isoformat(), "outcome": "Reached"}},
    "api:case-contacts": {"get": None, "post": {"method": "phone", "outcome": "no-answer"}},
    "api:case-ntis": {"get": None},
    "api:nti-outcome": {"post": {"improved": True, "note": "Better"}},
    "api:case-pn-requests": {"get": None},
    "api:pn-request-sign-off": {"post": {}},
    "api:pupil-penalty-notices": {"get": None},
    "api:penalty-notice-status": {"post": {"status": "withdrawn"}},
    "api:la-returns": {"get": None},
    "api:la-return-sent": {"post": {"how": "LA portal"}},
    "api:la-return-enquiries": {"post": {"enquiries": "Home visit with the LA's officer"}},
}
# A list's queries: session, user, the school and the access (the middleware), then the
# list's own few; never one per row (the tests make several rows).
MAX_LIST_QUERIES = 10
SCHOOL_ONLY = {"api:queues", "api:queue-items", "api:cases", "api:la-returns"}
ID_ENDPOINTS = [name for name in ENDPOINTS if name not in SCHOOL_ONLY]


def url(name: str, ws: SchoolWorld, **kwargs: object) -> str:
    return reverse(name, kwargs=SAMPLE_KWARGS[name](ws) | kwargs)


def post(client: Any, address: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(address, json.dumps(body or {}), content_type="application/json")


def send(client: Any, method: str, address: str, body: dict[str, Any] | None) -> Any:
    if method == "get":
        return client.get(address)
    return getattr(client, method)(address, json.dumps(body or {}), content_type="application/json")


def user(ws: SchoolWorld, role: Role) -> Any:
    return ws.users[role]


def test_every_casework_endpoint_is_listed_here():
    listed = set(ENDPOINTS)
    casework = {
        name
        for name in SAMPLE_KWARGS
        if name.startswith("api:")
        and name.split(":")[1].startswith(
            ("queue", "case", "nti", "pn-", "pupil-penalty", "penalty", "la-return")
        )
    }
    assert casework == listed


# --- another school's ids: 404 and nothing changed ------------------------------------------


@pytest.mark.parametrize("name", ID_ENDPOINTS)
def test_b1_ids_under_a1s_slug_are_404_and_change_nothing(world: World, client_for, name):
    # The head may sign off; the officer works everything else: both have the capability,
    # so only the lookup within the school stands between them and B1's rows.
    role = Role.HEADTEACHER if name == "api:pn-request-sign-off" else Role.ATTENDANCE_OFFICER
    client = client_for(user(world.a1, role))
    address = url(name, world.b1, school_slug=world.a1.school.slug)
    before = _snapshot(world.b1.school)

    for method, body in ENDPOINTS[name].items():
        response = send(client, method, address, body)
        assert response.status_code == 404, (method, response.content)
    for method in ("put", "patch", "delete"):
        assert getattr(client, method)(address).status_code == 404, method
    assert _snapshot(world.b1.school) == before


@pytest.mark.parametrize("name", list(ENDPOINTS))
def test_b1s_slug_is_404_for_a1_staff(world: World, client_for, name):
    client = client_for(user(world.a1, Role.HEADTEACHER))
    address = url(name, world.b1)
    before = _snapshot(world.b1.school)
    for method, body in ENDPOINTS[name].items():
        response = send(client, method, address, body)
        assert response.status_code == 404, method
    assert _snapshot(world.b1.school) == before


@pytest.mark.parametrize("name", ID_ENDPOINTS)
def test_the_same_endpoints_act_on_a1s_own_ids(world: World, client_for, name):
    # The bodies above are real: for A1's own objects they get past the lookup (a 200/201,
    # or a 400 from the service), so the 404s above come from the school, not the body.
    role = Role.HEADTEACHER if name == "api:pn-request-sign-off" else Role.ATTENDANCE_OFFICER
    client = client_for(user(world.a1, role))
    address = url(name, world.a1)
    for method, body in ENDPOINTS[name].items():
        response = send(client, method, address, body)
        assert response.status_code in (200, 201, 400), (name, method, response.content)


# --- roles ----------------------------------------------------------------------------------

WORK_ONLY = [
    name
    for name in ENDPOINTS
    if name
    not in {
        "api:cases",
        "api:case-detail",
        "api:case-action",
        "api:case-actions",
        "api:case-contacts",
        "api:case-ntis",
        "api:case-pn-requests",
    }
]


@pytest.mark.parametrize("role", [Role.FORM_TUTOR, Role.PARENT])
def test_tutors_and_parents_get_404_on_the_work_endpoints(world: World, client_for, role):
    client = client_for(user(world.a1, role))
    before = _snapshot(world.a1.school)
    outcomes = {}
    for name in WORK_ONLY:
        address = url(name, world.a1)
        for method, body in ENDPOINTS[name].items():
            response = send(client, method, address, body)
            outcomes[f"{method} {name}"] = response.status_code
    assert set(outcomes.values()) == {404}, outcomes
    assert _snapshot(world.a1.school) == before


def test_a_tutor_reads_their_forms_open_case_but_changes_nothing(world: World, client_for):
    client = client_for(user(world.a1, Role.FORM_TUTOR))
    before = _snapshot(world.a1.school)
    detail = client.get(url("api:case-detail", world.a1))
    assert detail.status_code == 200
    assert detail.json()["case"]["pupil"] == world.a1.pupils[0].pk
    assert client.get(url("api:cases", world.a1)).json()[0]["pupil"] == world.a1.pupils[0].pk
    for name in ("api:cases", "api:case-actions", "api:case-contacts", "api:case-pn-requests"):
        assert post(client, url(name, world.a1), {"reason": "x"}).status_code == 404, name
    assert client.get(url("api:case-action", world.a1)).status_code == 200
    changed = send(client, "patch", url("api:case-action", world.a1), {"summary": "x"})
    assert changed.status_code == 404
    assert _snapshot(world.a1.school) == before


def test_a_parent_sees_no_cases(world: World, client_for):
    client = client_for(user(world.a1, Role.PARENT))
    assert client.get(url("api:cases", world.a1)).status_code == 404
    assert client.get(url("api:case-detail", world.a1)).status_code == 404


def test_anonymous_requests_are_refused(world: World, client):
    assert client.get(url("api:queues", world.a1)).status_code == 403
    assert post(client, url("api:case-close", world.a1), {"outcome": "x"}).status_code == 403


def test_only_the_head_signs_off_a_request(world: World, client_for):
    ws = world.a1
    address = url("api:pn-request-sign-off", ws)
    assert post(client_for(user(ws, Role.ATTENDANCE_OFFICER)), address).status_code == 404
    response = post(client_for(user(ws, Role.HEADTEACHER)), address)
    assert response.status_code == 200
    assert response.json()["status"] == RequestStatus.SIGNED_OFF
    with scopes_disabled():
        assert PenaltyNoticeRequest.objects.get(school=ws.school).signed_off_at is not None
    # signed off once: a second sign-off is the service's 400
    again = post(client_for(user(ws, Role.HEADTEACHER)), address)
    assert again.status_code == 400
    assert again.json()["detail"] == "This request is not waiting for sign-off."


# --- queues ---------------------------------------------------------------------------------


def _second_stage(ws: SchoolWorld) -> None:
    """The world's school has one stage (the case factory's); give it a next one."""
    with scopes_disabled():
        CaseStage.objects.create(school=ws.school, position=1, name="Monitor")


def _first_day(ws: SchoolWorld, pupil_index: int, tier: int, days: int) -> QueueItem:
    with scopes_disabled():
        return QueueItem.objects.create(
            school=ws.school,
            kind=QueueKind.FIRST_DAY_AM,
            pupil=ws.pupils[pupil_index],
            key=f"{TODAY.isoformat()}-AM",
            since=TODAY,
            session_date=TODAY,
            session="AM",
            details={"tier": tier, "tier_reason": "why", "days_absent": days, "alert": ""},
            opened_at=timezone.now(),
        )


def test_a_queue_lists_its_items_in_the_page_order_with_why_tier_and_due(
    world: World, client_for, django_assert_max_num_queries
):
    ws = world.a1
    later = _first_day(ws, 0, tier=5, days=1)
    first = _first_day(ws, 1, tier=1, days=1)
    second = _first_day(ws, 2, tier=5, days=3)
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    address = url("api:queue-items", ws)

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        response = client.get(address, {"queue": "first-day"})

    assert response.status_code == 200
    rows = response.json()
    assert [(r["rank"], r["id"]) for r in rows] == [(1, first.pk), (2, second.pk), (3, later.pk)]
    assert rows[0]["tier"] == 1
    assert rows[0]["why"] == "First-day call (morning)"
    assert rows[0]["upn"] == ws.pupils[1].upn
    threshold = client.get(address, {"queue": "pn-threshold"}).json()
    assert [r["kind"] for r in threshold] == ["pn-threshold-met"]
    assert threshold[0]["due"] is None
    assert client.get(address, {"queue": "nonsense"}).status_code == 400
    counts = {r["queue"]: r["count"] for r in client.get(url("api:queues", ws)).json()}
    assert counts["first-day"] == 3
    assert counts["pn-threshold"] == 1


def test_the_queue_list_takes_a_fixed_number_of_queries(
    world: World, client_for, django_assert_max_num_queries
):
    ws = world.a1
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    for index in range(3):
        _first_day(ws, index, tier=5, days=index)
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        assert len(client.get(url("api:queue-items", ws)).json()) == 3


def _item(ws: SchoolWorld) -> QueueItem:
    with scopes_disabled():
        return QueueItem.objects.get(school=ws.school, kind=QueueKind.PN_THRESHOLD_MET)


def test_claim_snooze_and_close_an_item(world: World, client_for):
    ws = world.a1
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    claimed = post(client, url("api:queue-item-claim", ws)).json()
    assert claimed["claimed_by"] != ""
    snoozed = post(client, url("api:queue-item-snooze", ws), {"until": TOMORROW, "reason": "Away"})
    assert snoozed.json()["snoozed_until"] == TOMORROW
    today = post(
        client, url("api:queue-item-snooze", ws), {"until": TODAY.isoformat(), "reason": "x"}
    )
    assert today.status_code == 400
    assert today.json()["detail"] == "Snooze to a date after today."
    closed = post(client, url("api:queue-item-close", ws), {"outcome": "spoke to mum"})
    assert closed.json()["state"] == ItemState.CLOSED
    assert _item(ws).outcome == "spoke to mum"


def test_deciding_support_first_opens_or_advances_the_case(world: World, client_for):
    ws = world.a1
    _second_stage(ws)
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    refused = post(client, url("api:queue-item-decide", ws), {"decision": "no-action"})
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Give the reason for taking no action."

    response = post(client, url("api:queue-item-decide", ws), {"decision": "support-first"})

    assert response.status_code == 200
    assert response.json()["decision"] == "support-first"
    with scopes_disabled():
        case = Case.objects.get(school=ws.school, closed_at__isnull=True)
        assert case.pupil_id == ws.pupils[0].pk
        (change,) = CaseStageChange.objects.filter(case=case)  # advanced a stage
        assert change.to_stage.name == "Monitor"
    assert _item(ws).reference == f"case-{case.pk}"


def test_log_and_list_contact_attempts_on_an_item_and_a_case(
    world: World, client_for, django_assert_max_num_queries
):
    ws = world.a1
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    contact = ws.contacts[0]
    body = {"method": "phone", "outcome": "voicemail", "contact": contact.pk, "note": "Left msg"}

    created = post(client, url("api:queue-item-contacts", ws), body)
    assert created.status_code == 201
    assert created.json()["contact_name"] == contact.full_name
    on_case = post(client, url("api:case-contacts", ws), body | {"outcome": "reached"})
    assert on_case.status_code == 201

    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        listed = client.get(url("api:queue-item-contacts", ws)).json()
    assert [row["outcome"] for row in listed] == ["voicemail"]
    assert [row["outcome"] for row in client.get(url("api:case-contacts", ws)).json()] == [
        "reached"
    ]
    # another pupil's contact is not this pupil's: 400 like an unknown id (TEN-03), nothing logged
    other = post(client, url("api:queue-item-contacts", ws), body | {"contact": ws.contacts[1].pk})
    assert other.status_code == 400
    assert list(other.json()["fields"]) == ["contact"]
    with scopes_disabled():
        assert ContactAttempt.objects.filter(school=ws.school).count() == 2


# --- cases ----------------------------------------------------------------------------------


def test_open_a_case_move_its_stage_add_and_complete_actions_and_close_it(world: World, client_for):
    ws = world.a1
    _second_stage(ws)
    client = client_for(user(ws, Role.PASTORAL_LEAD))
    opened = post(
        client, url("api:cases", ws), {"pupil": ws.pupils[1].pk, "reason": "Falling attendance"}
    )
    assert opened.status_code == 201
    case_id = opened.json()["id"]
    stage_zero = opened.json()["stage"]["position"]

    moved = post(client, url("api:case-stage", ws, case_id=case_id), {"reason": "Meeting held"})
    assert moved.json()["stage"]["position"] == stage_zero + 1

    action = post(
        client,
        url("api:case-actions", ws, case_id=case_id),
        {
            "kind": "meeting",
            "summary": "Parent meeting",
            "due_on": TODAY.isoformat(),
            "details": {"attendees": "Mum, HoY", "barriers": "Anxiety"},
        },
    )
    assert action.status_code == 201
    referral = post(
        client,
        url("api:case-actions", ws, case_id=case_id),
        {"kind": "referral", "summary": "Early help", "due_on": TODAY.isoformat()},
    )
    assert referral.status_code == 400
    assert referral.json()["detail"] == "Say who the referral is to."

    done = post(
        client,
        url("api:case-action-done", ws, case_id=case_id, action_id=action.json()["id"]),
        {"done_on": TODAY.isoformat(), "outcome": "Soft start agreed"},
    )
    assert done.json()["done_on"] == TODAY.isoformat()

    detail = client.get(url("api:case-detail", ws, case_id=case_id)).json()
    assert [c["reason"] for c in detail["stage_changes"]] == ["Falling attendance", "Meeting held"]
    assert detail["actions"][0]["details"]["attendees"] == "Mum, HoY"

    closed = post(client, url("api:case-close", ws, case_id=case_id), {"outcome": "Improved"})
    assert closed.json()["is_open"] is False
    # a closed case's stage is history
    assert (
        post(client, url("api:case-stage", ws, case_id=case_id), {"reason": "x"}).status_code == 404
    )


def test_change_an_actions_due_date_owner_and_referral_status(world: World, client_for):
    ws = world.a1
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    address = url("api:case-action", ws)
    later = (TODAY + dt.timedelta(days=7)).isoformat()
    response = send(client, "patch", address, {"due_on": later, "summary": "Ring again"})
    assert response.status_code == 200
    assert (response.json()["due_on"], response.json()["summary"]) == (later, "Ring again")
    refused = send(client, "patch", address, {"referral_status": "accepted"})
    assert refused.status_code == 400
    assert refused.json()["detail"] == "Only a referral has a status."
    with scopes_disabled():
        action = CaseAction.objects.get(school=ws.school)
    assert (action.due_on.isoformat(), action.referral_status) == (later, "")


def test_another_cases_action_is_404(world: World, client_for):
    ws = world.a1
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    opened = post(client, url("api:cases", ws), {"pupil": ws.pupils[1].pk, "reason": "x"})
    with scopes_disabled():
        action = CaseAction.objects.get(school=ws.school)
    address = url("api:case-action-done", ws, case_id=opened.json()["id"], action_id=action.pk)
    response = post(client, address, {"done_on": TODAY.isoformat(), "outcome": "x"})
    assert response.status_code == 404
    with scopes_disabled():
        assert CaseAction.objects.get(pk=action.pk).done_on is None


def test_the_case_list_takes_a_fixed_number_of_queries(
    world: World, client_for, django_assert_max_num_queries
):
    ws = world.a1
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    for pupil in ws.pupils[1:]:
        post(client, url("api:cases", ws), {"pupil": pupil.pk, "reason": "x"})
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        assert len(client.get(url("api:cases", ws)).json()) == 3


# --- NTIs, penalty notices, returns ---------------------------------------------------------


def test_an_nti_outside_15_to_30_school_days_is_refused(world: World, client_for):
    ws = world.a1
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    body = {
        "attendance_record": "a",
        "benefits_and_duty": "b",
        "support_so_far": "c",
        "further_support": "d",
        "warning": "e",
        "improvement_period": "f",
        "sufficient_improvement": "g",
        "early_issue_grounds": "h",
        "period_start": TODAY.isoformat(),
        "school_days": 10,
        "criteria_rate": "90",
    }
    response = post(client, url("api:case-ntis", ws), body)
    assert response.status_code == 400
    assert "between 15 and 30 school days" in response.json()["detail"]
    with scopes_disabled():
        assert NoticeToImprove.objects.filter(school=ws.school).count() == 1


def test_an_ended_ntis_outcome_is_recorded(world: World, client_for):
    ws = world.a1
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    listed = client.get(url("api:case-ntis", ws)).json()
    assert listed[0]["ended"] is True
    response = post(client, url("api:nti-outcome", ws), {"improved": False, "note": "No change"})
    assert response.status_code == 200
    assert response.json()["outcome_improved"] is False


def test_prepare_sign_off_and_issue_a_penalty_notice_then_read_the_ledger(
    world: World, client_for, django_assert_max_num_queries
):
    ws = world.a1
    officer = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    prepared = post(officer, url("api:case-pn-requests", ws), {"parent": ws.contacts[0].pk})
    assert prepared.status_code == 201
    assert prepared.json()["evidence"]["pupil"]["upn"] == ws.pupils[0].upn
    with scopes_disabled():
        notice = PenaltyNotice.objects.get(request_id=prepared.json()["id"])
    status_url = url("api:penalty-notice-status", ws, notice_id=notice.pk)
    unsigned = post(officer, status_url, {"status": "issued", "issued_on": TODAY.isoformat()})
    assert unsigned.status_code == 400
    assert unsigned.json()["detail"] == "The headteacher must sign off the request first."

    head = client_for(user(ws, Role.HEADTEACHER))
    sign_off = url("api:pn-request-sign-off", ws, request_id=prepared.json()["id"])
    assert post(head, sign_off).status_code == 200
    issued_on = TODAY - dt.timedelta(days=10)
    received_on = TODAY - dt.timedelta(days=8)
    issued = post(
        officer,
        status_url,
        {
            "status": "received",
            "issued_on": issued_on.isoformat(),
            "received_on": received_on.isoformat(),
        },
    )
    assert issued.status_code == 400  # requested → received skips issued
    issued = post(officer, status_url, {"status": "issued", "issued_on": issued_on.isoformat()})
    assert issued.status_code == 200
    received = post(
        officer, status_url, {"status": "received", "received_on": received_on.isoformat()}
    )
    body = received.json()
    # TC-15: a first notice, £80 within 21 days of receipt (receipt day is day 1), £160 by 28
    assert (body["sequence"], body["reduced_amount"], body["full_amount"]) == (1, 8000, 16000)
    assert body["reduced_due_by"] == (received_on + dt.timedelta(days=20)).isoformat()
    assert body["full_due_by"] == (received_on + dt.timedelta(days=27)).isoformat()

    with django_assert_max_num_queries(12):
        ledger = officer.get(url("api:pupil-penalty-notices", ws)).json()
    (parent,) = [row for row in ledger if row["parent"] == ws.contacts[0].pk]
    assert [n["status"] for n in parent["notices"]] == ["received", "requested"]
    assert parent["next_notice"]["sequence"] == 2


def test_la_returns_list_and_mark_sent(world: World, client_for, django_assert_max_num_queries):
    ws = world.a1
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    with django_assert_max_num_queries(MAX_LIST_QUERIES):
        listed = client.get(url("api:la-returns", ws), {"kind": "ten_day", "sent": "false"})
    assert [row["episode"] for row in listed.json()] == ["world"]
    refused = post(client, url("api:la-return-sent", ws), {"how": "  "})
    assert refused.status_code == 400
    sent = post(client, url("api:la-return-sent", ws), {"how": "LA portal"})
    assert sent.json()["sent_how"] == "LA portal"
    with scopes_disabled():
        assert LAReturn.objects.get(school=ws.school, episode="world").sent_at is not None
    assert client.get(url("api:la-returns", ws), {"sent": "false"}).json() == []


def test_a_ground_i_enquirys_joint_enquiries_through_the_api(world: World, client_for):
    ws = world.a1
    with scopes_disabled():
        enquiry = LAReturn.objects.create(
            school=ws.school,
            pupil=ws.pupils[0],
            enrolment=Enrolment.objects.filter(pupil=ws.pupils[0]).earliest("pk"),
            kind=ReturnKind.GROUND_I,
            episode="gone",
            triggered_on=TODAY,
            due_on=TODAY,
            raised_at=timezone.now(),
        )
    client = client_for(user(ws, Role.ATTENDANCE_OFFICER))
    address = url("api:la-return-enquiries", ws, return_id=enquiry.pk)
    assert post(client, address, {"enquiries": " "}).status_code == 400
    recorded = post(client, address, {"enquiries": "Visited with the LA's CME officer"})
    assert recorded.status_code == 200
    assert recorded.json()["joint_enquiries"] == "Visited with the LA's CME officer"
    assert recorded.json()["joint_enquiries_recorded_at"] is not None
    # A ten-day return takes none: refused by the service, nothing written.
    ten_day = url("api:la-return-enquiries", ws)
    assert post(client, ten_day, {"enquiries": "x"}).status_code == 400
    with scopes_disabled():
        assert LAReturn.objects.get(school=ws.school, episode="world").joint_enquiries == ""


# --- the schema -----------------------------------------------------------------------------


def test_the_schema_documents_the_casework_api_and_validates(tmp_path: Path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    schema = (tmp_path / "schema.yml").read_text()
    for path in (
        "/api/v1/s/{school_slug}/queue-items/{item_id}/decide/",
        "/api/v1/s/{school_slug}/cases/{case_id}/actions/{action_id}/done/",
        "/api/v1/s/{school_slug}/pn-requests/{request_id}/sign-off/",
        "/api/v1/s/{school_slug}/la-returns/",
    ):
        assert path in schema
    assert "ErrorOutput" in schema
