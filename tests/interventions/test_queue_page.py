"""The work queues page: the forms that claim, snooze, close and decide an item, posted
without JavaScript; refusals shown under the error summary; other schools' items are 404."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_scopes import scopes_disabled

from interventions import casework
from interventions.models import (
    ContactAttempt,
    ItemState,
    LAReturn,
    PnDecision,
    QueueItem,
    QueueItemChange,
    QueueKind,
    ReturnKind,
)
from interventions.queues import queue_counts, queue_counts_now_and_waiting, queues_refresh
from registers.models import AttendanceMark, MarkChange, Register
from schools.models import Contact, Enrolment, Role
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.test_recompute import put_marks
from tests.registers.conftest import RegisterWorld, build_register_world

pytestmark = pytest.mark.django_db

D = dt.date


def make_item(rw: RegisterWorld, kind: str = QueueKind.UNRESOLVED_N, **fields) -> QueueItem:
    with scopes_disabled():
        return QueueItem.objects.create(
            school=rw.school,
            kind=kind,
            pupil=fields.pop("pupil", rw.pupils[0]),
            key=fields.pop("key", "2024-09-11-AM"),
            since=D(2024, 9, 11),
            opened_at=timezone.now(),
            **fields,
        )


@pytest.fixture
def rw() -> RegisterWorld:
    return build_register_world(size=2)


def url(rw: RegisterWorld, queue: str = "unresolved-n") -> str:
    return f"/s/{rw.school.slug}/queues/?queue={queue}"


def reload(item: QueueItem) -> QueueItem:
    with scopes_disabled():
        item.refresh_from_db()
    return item


def test_each_item_carries_its_forms(rw, client):
    make_item(rw)
    client.force_login(rw.officer.user)
    page = client.get(url(rw)).content.decode()
    for action in ("claim", "snooze", "close"):
        assert f'name="action" value="{action}"' in page
    assert 'value="decide"' not in page  # only a threshold takes a decision
    assert 'name="until_day"' in page  # the snooze date as day / month / year boxes


def test_assign_to_me_or_to_a_colleague(rw, client):
    item = make_item(rw)
    client.force_login(rw.officer.user)
    assert (
        client.post(url(rw), {"item": item.pk, "action": "claim", "claimant": "me"}).status_code
        == 302
    )
    assert reload(item).claimed_by == rw.officer
    response = client.post(
        url(rw), {"item": item.pk, "action": "claim", "claimant": str(rw.head.pk)}
    )
    assert response.status_code == 302
    assert reload(item).claimed_by == rw.head
    # A tutor does not work the queues: not offered, and refused if posted.
    refused = client.post(
        url(rw), {"item": item.pk, "action": "claim", "claimant": str(rw.tutor.pk)}
    )
    assert refused.status_code == 400
    assert "govuk-error-summary" in refused.content.decode()
    assert reload(item).claimed_by == rw.head


def test_snooze_needs_a_later_date_and_a_reason(rw, client):
    item = make_item(rw)
    client.force_login(rw.officer.user)
    past = {"until_day": "1", "until_month": "9", "until_year": "2020", "reason": "x"}
    refused = client.post(url(rw), {"item": item.pk, "action": "snooze", **past})
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "Snooze to a date after today." in body
    assert "govuk-error-summary" in body
    no_reason = {"until_day": "1", "until_month": "9", "until_year": "2099"}
    refused = client.post(url(rw), {"item": item.pk, "action": "snooze", **no_reason})
    assert refused.status_code == 400
    assert f'href="#id_q{item.pk}_snooze_reason"' in refused.content.decode()
    assert reload(item).snoozed_until is None
    ok = client.post(url(rw), {"item": item.pk, "action": "snooze", **no_reason, "reason": "SW"})
    assert ok.status_code == 302
    assert (reload(item).snoozed_until, item.snooze_reason) == (D(2099, 9, 1), "SW")


def test_close_with_an_outcome(rw, client):
    item = make_item(rw)
    client.force_login(rw.officer.user)
    refused = client.post(url(rw), {"item": item.pk, "action": "close", "outcome": ""})
    assert refused.status_code == 400
    assert reload(item).state == ItemState.OPEN
    done = client.post(
        url(rw), {"item": item.pk, "action": "close", "outcome": "Spoke to mum", "note": "ok"}
    )
    assert done.status_code == 302
    assert (reload(item).state, item.outcome, item.outcome_note) == (
        ItemState.CLOSED,
        "Spoke to mum",
        "ok",
    )
    assert item.closed_by == rw.officer
    page = client.get(url(rw)).content.decode()
    assert f'id="item-{item.pk}"' not in page


def test_a_threshold_takes_a_decision_and_no_action_needs_a_reason(rw, client):
    item = make_item(rw, kind=QueueKind.PN_THRESHOLD_MET, key="e-1")
    other = make_item(rw, key="2024-09-12-AM")
    client.force_login(rw.officer.user)
    page = client.get(url(rw, "pn-threshold")).content.decode()
    assert 'value="decide"' in page
    refused = client.post(
        url(rw, "pn-threshold"), {"item": item.pk, "action": "decide", "decision": "no-action"}
    )
    assert refused.status_code == 400
    assert "Give the reason for taking no action." in refused.content.decode()
    assert reload(item).decision == ""
    decided = client.post(
        url(rw, "pn-threshold"),
        {"item": item.pk, "action": "decide", "decision": "no-action", "reason": "Bereavement"},
    )
    assert decided.status_code == 302
    assert (reload(item).decision, item.decision_reason, item.state) == (
        PnDecision.NO_ACTION,
        "Bereavement",
        ItemState.CLOSED,
    )
    # An item that takes no decision: as if it did not exist.
    assert (
        client.post(url(rw), {"item": other.pk, "action": "decide", "decision": "no-action"})
    ).status_code == 404


def test_another_schools_item_is_404_and_unchanged(rw, client):
    other_school = build_register_world(size=1)
    theirs = make_item(other_school, pupil=other_school.pupils[0])
    client.force_login(rw.officer.user)
    for data in (
        {"action": "claim", "claimant": "me"},
        {"action": "close", "outcome": "Cross-school close"},
        {"action": "snooze", "until": "2099-01-01", "reason": "x"},
    ):
        assert client.post(url(rw), {"item": theirs.pk, **data}).status_code == 404
    assert (reload(theirs).state, theirs.claimed_by, theirs.snoozed_until) == (
        ItemState.OPEN,
        None,
        None,
    )
    with scopes_disabled():
        assert not QueueItemChange.objects.filter(item=theirs).exists()
    # Another school's colleague cannot be assigned either.
    mine = make_item(rw)
    refused = client.post(
        url(rw), {"item": mine.pk, "action": "claim", "claimant": str(other_school.officer.pk)}
    )
    assert refused.status_code == 400
    assert reload(mine).claimed_by is None


DAY = D(2024, 9, 11)


def first_day_item(rw: RegisterWorld) -> QueueItem:
    """Pupil 0 marked N this morning, on a child protection plan, 3 days absent, with two
    contacts (the second called first)."""
    pupil = rw.pupils[0]
    with scopes_disabled():
        put_marks(rw, pupil, [DAY], code="N")
        f.ContactFactory(
            pupil=pupil, full_name="Zara Later", priority=2, mobile_phone="07700 900002"
        )
        f.ContactFactory(pupil=pupil, full_name="Amy First", priority=1, home_phone="01632 960001")
    return make_item(
        rw,
        kind=QueueKind.FIRST_DAY_AM,
        key=f"{DAY.isoformat()}-AM",
        session_date=DAY,
        session="AM",
        details={
            "tier": 1,
            "tier_reason": "child_protection_plan",
            "days_absent": 3,
            "persistently_absent": False,
            "alert": "social-worker",
        },
    )


def test_a_first_day_item_shows_contacts_in_order_days_and_the_tiers_reason(rw, client):
    first_day_item(rw)
    client.force_login(rw.officer.user)
    page = client.get(url(rw, "first-day")).content.decode()
    assert page.index("Amy First") < page.index("Zara Later")
    assert 'href="tel:01632 960001"' in page
    assert "07700 900002" in page
    assert "Tier 1; 3 day(s) absent" in page
    assert "Child protection plan" in page
    assert "tell the social worker today" in page
    assert 'value="call"' in page


def test_a_call_with_a_reason_writes_its_code_through_the_amendment_path(rw, client):
    item = first_day_item(rw)
    with scopes_disabled():
        amy = Contact.objects.get(full_name="Amy First")
    client.force_login(rw.officer.user)
    call = {"item": item.pk, "action": "call", "method": "phone", "contact": str(amy.pk)}
    # A reason without a code cannot be recorded on the register.
    refused = client.post(
        url(rw, "first-day"),
        {**call, "outcome": "reached", "reason": "other", "write_code": "on"},
    )
    assert refused.status_code == 400
    assert "Choose a reason that has a code to record it." in refused.content.decode()
    done = client.post(
        url(rw, "first-day"),
        {
            **call,
            "outcome": "reached",
            "reason": "illness",
            "reason_given": "fever",
            "write_code": "on",
            "note": "Back Monday",
        },
    )
    assert done.status_code == 302
    with scopes_disabled():
        attempt = ContactAttempt.objects.get(item=item)
        change = MarkChange.objects.get(pupil=rw.pupils[0])
        mark = AttendanceMark.objects.get(pupil=rw.pupils[0], date=DAY, session="AM")
    assert (attempt.contact, attempt.code_written, attempt.note) == (amy, "I", "Back Monday")
    assert (change.original_code, change.new_code) == ("N", "I")
    assert change.reason == "First-day call: Illness: fever"
    assert mark.code == "I"
    page = client.get(url(rw, "first-day")).content.decode()
    assert "Illness: fever" in page


def test_a_call_without_a_code_leaves_the_mark(rw, client):
    item = first_day_item(rw)
    client.force_login(rw.officer.user)
    done = client.post(
        url(rw, "first-day"),
        {"item": item.pk, "action": "call", "method": "phone", "outcome": "no-answer"},
    )
    assert done.status_code == 302
    with scopes_disabled():
        assert ContactAttempt.objects.get(item=item).contact is None
        assert AttendanceMark.objects.get(pupil=rw.pupils[0], date=DAY, session="AM").code == "N"
        assert not MarkChange.objects.exists()


def test_the_case_page_logs_calls_in_its_contact_log(rw, client):
    with school_scope(rw.school):
        case = casework.case_open_or_advance(
            school=rw.school, pupil=rw.pupils[0], by=rw.officer, reason="Concern"
        )
        mum = f.ContactFactory(pupil=rw.pupils[0], full_name="Mum Case")
    client.force_login(rw.officer.user)
    case_url = f"/s/{rw.school.slug}/cases/{case.pk}/"
    assert 'name="write_code"' not in client.get(case_url).content.decode()
    response = client.post(
        case_url,
        {
            "action": "call",
            "method": "home-visit",
            "contact": str(mum.pk),
            "outcome": "reached",
            "reason": "medical",
            "note": "Dentist",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        attempt = ContactAttempt.objects.get(case=case)
    assert (attempt.contact, attempt.reason_given, attempt.code_written) == (
        mum,
        "Medical or dental appointment",
        "",
    )
    page = client.get(case_url).content.decode()
    assert "Dentist" in page
    # Another pupil's contact is not offered, and refused if posted.
    with scopes_disabled():
        other = f.ContactFactory(pupil=rw.pupils[1])
    client.post(
        case_url, {"action": "call", "method": "phone", "outcome": "reached", "contact": other.pk}
    )
    with scopes_disabled():
        assert ContactAttempt.objects.filter(case=case).count() == 1


def test_a_register_still_incomplete_10_minutes_after_close_is_queued_until_taken(
    rw, client, tmp_path
):
    with scopes_disabled():
        f.FormGroupFactory(school=rw.school, academic_year=rw.form.academic_year, name="9Z")
    with school_scope(rw.school):  # 9A's AM register closes at 09:10; 9Z has nobody
        assert queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 19)) == 0
        assert queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 20)) == 1
        assert queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 21)) == 0
        item = QueueItem.objects.get(kind=QueueKind.REGISTER_NOT_TAKEN)
        assert (item.form, item.session, item.pupil) == (rw.form, "AM", None)
    client.force_login(rw.officer.user)
    page = client.get(url(rw, "registers-not-taken")).content.decode()
    assert f'id="item-{item.pk}"' in page
    assert "9A" in page
    out = tmp_path / "q.csv"
    call_command(
        "export_queue",
        *("--school", rw.school.slug, "--queue", "registers-not-taken"),
        *("--date", DAY.isoformat(), "--output", str(out)),
    )
    assert list(csv.reader(out.open())) == [
        ["rank", "upn", "item", "since", "due"],
        ["1", "9A", "register-not-taken", "2024-09-11", "2024-09-11"],
    ]
    with school_scope(rw.school):
        Register.objects.create(
            school=rw.school, form=rw.form, date=DAY, session="AM", taken_at=rw.at(DAY, 9, 30)
        )
        assert queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 31)) == 1
        item.refresh_from_db()
        assert (item.state, item.outcome) == (ItemState.CLOSED, "resolved")
        # The afternoon's register, not taken either, joins later.
        queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 13, 40))
        assert list(
            QueueItem.objects.filter(state=ItemState.OPEN).values_list("kind", "session")
        ) == [(QueueKind.REGISTER_NOT_TAKEN, "PM")]


def test_overdue_case_actions_have_their_own_tab(rw, client):
    with school_scope(rw.school):
        case = casework.case_open_or_advance(
            school=rw.school, pupil=rw.pupils[1], by=rw.officer, reason="Concern"
        )
        late = casework.case_action_add(
            school=rw.school,
            case=case,
            by=rw.officer,
            kind="call",
            summary="Ring dad",
            due_on=D(2024, 9, 20),
        )
        casework.case_action_add(
            school=rw.school,
            case=case,
            by=rw.officer,
            kind="call",
            summary="Ring later",
            due_on=D(2099, 9, 20),
        )
    client.force_login(rw.officer.user)
    page = client.get(url(rw, "overdue-actions")).content.decode()
    assert f'id="action-{late.pk}"' in page
    assert "Ring dad" in page
    assert "Ring later" not in page
    assert f"/cases/{case.pk}/" in page


def test_the_navigation_counts_open_items_in_one_query(rw, client, django_assert_num_queries):
    make_item(rw)
    make_item(rw, kind=QueueKind.PN_THRESHOLD_MET, key="e-1")
    make_item(rw, key="closed", state=ItemState.CLOSED)
    with school_scope(rw.school), django_assert_num_queries(1):
        counts = queue_counts(school=rw.school, items=QueueItem.objects.filter(school=rw.school))
    assert (counts["unresolved-n"], counts["pn-threshold"], counts["first-day"]) == (1, 1, 0)
    client.force_login(rw.officer.user)
    page = client.get(f"/s/{rw.school.slug}/").content.decode()
    assert '<span class="tag" id="nav-queue-count">2<' in page
    client.force_login(rw.tutor.user)
    assert "nav-queue-count" not in client.get(f"/s/{rw.school.slug}/").content.decode()


QUEUE_PAGE_QUERIES = 12  # the open and the snoozed counts are one aggregate (it was 13)


def test_the_queues_page_takes_a_bounded_number_of_queries(
    rw, client, django_assert_max_num_queries
):
    make_item(rw)
    make_item(rw, key="w", snoozed_until=D(2099, 9, 1), snooze_reason="SW visit")
    make_item(rw, kind=QueueKind.PN_THRESHOLD_MET, key="e-1")
    client.force_login(rw.officer.user)
    client.get(url(rw))  # the session and the caches settle
    with django_assert_max_num_queries(QUEUE_PAGE_QUERIES):
        page = client.get(url(rw)).content.decode()
    assert "1 snoozed item waits until its date." in page
    assert '<span class="tag" id="nav-queue-count">2<' in page


def test_the_open_and_snoozed_counts_come_from_one_query(rw, django_assert_num_queries):
    make_item(rw)
    make_item(rw, key="w", snoozed_until=D(2099, 9, 1), snooze_reason="SW visit")
    make_item(rw, key="c", snoozed_until=D(2099, 9, 1), state=ItemState.CLOSED)
    with school_scope(rw.school), django_assert_num_queries(1):
        now, waiting = queue_counts_now_and_waiting(school=rw.school)
    assert (now["unresolved-n"], waiting["unresolved-n"]) == (1, 1)
    with school_scope(rw.school):
        assert queue_counts(school=rw.school) == now
        assert queue_counts(school=rw.school, snoozed=True) == waiting


QUEUE_TEMPLATES = [
    "interventions/queues/page.html",
    "interventions/queues/_item_forms.html",
    "interventions/queues/_contacts.html",
    "interventions/queues/_call_fields.html",
    "interventions/cases/detail.html",
]
QUEUE_PYTHON = [
    "interventions/forms.py",
    "interventions/views/queues.py",
    "interventions/queues.py",
    "interventions/models/queues.py",
    "interventions/queue_rules.py",
]


def queue_msgids() -> set[str]:
    from pathlib import Path

    from babel.messages.extract import extract_from_file
    from django.conf import settings
    from django.utils.translation.template import templatize

    from tests.test_i18n import _gettext_calls

    root = Path(settings.BASE_DIR)
    msgids: set[str] = set()
    for name in QUEUE_TEMPLATES:
        path = root / "templates" / name
        msgids.update(_gettext_calls(templatize(path.read_text(), origin=str(path))))
    keywords = {"_": None, "gettext": None, "gettext_lazy": None}
    for name in QUEUE_PYTHON:
        for _line, message, _c, _ctx in extract_from_file(
            "python", str(root / name), keywords=keywords
        ):
            msgids.add(message if isinstance(message, str) else message[0])
    return msgids


def test_every_string_of_the_queue_pages_has_its_welsh():
    from tests.test_i18n import _catalogue
    from tests.test_i18n_interventions import _app_catalogue

    catalogue = {**_catalogue(), **_app_catalogue()}
    msgids = queue_msgids()
    assert len(msgids) > 40
    assert sorted(m for m in msgids if not catalogue.get(m)) == []


# --- Pastoral leads: their year groups only --------------------------------------------------


@pytest.fixture
def year_world():
    """A school this academic year with a pupil in 9A (Year 9) and one in 10A (Year 10), an
    open item and a case for each, a register not taken for each form, and a pastoral lead."""
    today = timezone.localdate()
    start = D(today.year if today.month >= 8 else today.year - 1, 8, 1)
    with scopes_disabled():
        school = f.SchoolFactory()
        year = f.AcademicYearFactory(school=school, start_date=start)
        officer = f.StaffMembershipFactory(school=school, role=Role.ATTENDANCE_OFFICER)
        lead = f.StaffMembershipFactory(school=school, role=Role.PASTORAL_LEAD)
        pupils, forms = [], []
        for nc_year, name in (("9", "9A"), ("10", "10A")):
            group = f.YearGroupFactory(school=school, nc_year=nc_year)
            form = f.FormGroupFactory(
                school=school, academic_year=year, year_group=group, name=name
            )
            pupil = f.PupilFactory(school=school, legal_surname=f"Pupil{name}")
            f.EnrolmentFactory(pupil=pupil, start_date=start)
            f.FormPlacementFactory(pupil=pupil, form=form, start_date=start)
            pupils.append(pupil)
            forms.append(form)
    items = []
    cases = []
    with school_scope(school):
        for pupil, form in zip(pupils, forms, strict=True):
            items.append(
                QueueItem.objects.create(
                    school=school,
                    kind=QueueKind.UNRESOLVED_N,
                    pupil=pupil,
                    key="k",
                    since=today,
                    opened_at=timezone.now(),
                )
            )
            QueueItem.objects.create(
                school=school,
                kind=QueueKind.REGISTER_NOT_TAKEN,
                form=form,
                key="k",
                since=today,
                opened_at=timezone.now(),
            )
            cases.append(
                casework.case_open_or_advance(school=school, pupil=pupil, by=officer, reason="x")
            )
    return school, lead, pupils, items, cases


def test_a_pastoral_lead_without_year_groups_sees_nothing(year_world, client):
    school, lead, pupils, items, cases = year_world
    client.force_login(lead.user)
    page = client.get(f"/s/{school.slug}/queues/?queue=unresolved-n").content.decode()
    assert "Nothing in this queue." in page
    assert "nav-queue-count" not in page
    assert client.get(f"/s/{school.slug}/cases/{cases[0].pk}/").status_code == 404
    assert client.get(f"/s/{school.slug}/pupils/{pupils[0].pk}/").status_code == 404
    close = {"item": items[0].pk, "action": "close", "outcome": "x"}
    assert client.post(f"/s/{school.slug}/queues/", close).status_code == 404
    assert reload(items[0]).state == ItemState.OPEN


def test_a_pastoral_lead_sees_their_year_groups_only(year_world, client):
    school, lead, pupils, items, cases = year_world
    out = io.StringIO()
    call_command(
        "staff_year_groups",
        *("--school", school.slug, "--user", lead.user.username, "--set", "Year 9"),
        stdout=out,
    )
    assert "Year 9" in out.getvalue()
    client.force_login(lead.user)
    page = client.get(f"/s/{school.slug}/queues/?queue=unresolved-n").content.decode()
    assert f'id="item-{items[0].pk}"' in page
    assert f'id="item-{items[1].pk}"' not in page
    forms_page = client.get(f"/s/{school.slug}/queues/?queue=registers-not-taken")
    assert "9A" in forms_page.content.decode()
    assert "10A" not in forms_page.content.decode()
    assert '<span class="tag" id="nav-queue-count">2<' in page  # 9's pupil item and 9A's form
    assert client.get(f"/s/{school.slug}/cases/{cases[0].pk}/").status_code == 200
    assert client.get(f"/s/{school.slug}/cases/{cases[1].pk}/").status_code == 404
    assert pupils[1].legal_surname not in client.get(f"/s/{school.slug}/cases/").content.decode()
    assert client.get(f"/s/{school.slug}/pupils/{pupils[1].pk}/").status_code == 404
    assert client.get(f"/s/{school.slug}/pupils/{pupils[0].pk}/").status_code == 200
    close = {"item": items[1].pk, "action": "close", "outcome": "x"}
    assert client.post(f"/s/{school.slug}/queues/", close).status_code == 404
    assert reload(items[1]).state == ItemState.OPEN
    # Clearing them: none again.
    call_command(
        "staff_year_groups",
        *("--school", school.slug, "--user", lead.user.username, "--clear"),
        stdout=out,
    )
    page = client.get(f"/s/{school.slug}/queues/?queue=unresolved-n").content.decode()
    assert f'id="item-{items[0].pk}"' not in page


def test_staff_year_groups_refuses_unknown_year_groups_and_people(year_world):
    school, lead, *_ = year_world
    with pytest.raises(CommandError, match="No such year group"):
        call_command(
            "staff_year_groups",
            *("--school", school.slug, "--user", lead.user.username, "--set", "Year 13"),
            stdout=io.StringIO(),
        )
    with pytest.raises(CommandError, match="not on the staff"):
        call_command(
            "staff_year_groups",
            *("--school", school.slug, "--user", "nobody", "--set", "9"),
            stdout=io.StringIO(),
        )


def test_snoozed_items_wait_off_the_counts_and_the_list_until_their_day(rw, client):
    today = rw.school.local_time().date()
    waiting = make_item(rw, key="w", snoozed_until=D(2099, 9, 1), snooze_reason="SW visit")
    due_today = make_item(rw, key="t", snoozed_until=today, snooze_reason="Ring back")
    expired = make_item(rw, key="e", snoozed_until=D(2020, 9, 1), snooze_reason="Old")
    with school_scope(rw.school):
        rows = QueueItem.objects.filter(school=rw.school)
        assert queue_counts(school=rw.school, items=rows)["unresolved-n"] == 2
        assert queue_counts(school=rw.school, items=rows, snoozed=True)["unresolved-n"] == 1
    client.force_login(rw.officer.user)
    page = client.get(url(rw)).content.decode()
    assert f'id="item-{due_today.pk}"' in page
    assert f'id="item-{expired.pk}"' in page
    assert f'id="item-{waiting.pk}"' not in page
    assert "1 snoozed item waits until its date." in page
    assert '<span class="tag" id="nav-queue-count">2<' in page
    shown = client.get(url(rw) + "&snoozed=1").content.decode()
    assert f'id="item-{waiting.pk}"' in shown
    assert f'id="item-{due_today.pk}"' not in shown
    assert "Snoozed until 1 Sep 2099: SW visit" in shown


def test_the_api_shows_a_pastoral_lead_their_year_groups_items_only(year_world, client):
    school, lead, _pupils, items, _cases = year_world
    call_command(
        "staff_year_groups",
        *("--school", school.slug, "--user", lead.user.username, "--set", "Year 9"),
        stdout=io.StringIO(),
    )
    client.force_login(lead.user)
    api = f"/api/v1/s/{school.slug}"
    listed = client.get(f"{api}/queue-items/?queue=unresolved-n").json()
    assert [row["id"] for row in listed] == [items[0].pk]
    counts = {row["queue"]: row["count"] for row in client.get(f"{api}/queues/").json()}
    assert (counts["unresolved-n"], counts["registers-not-taken"]) == (1, 1)
    assert client.get(f"{api}/queue-items/{items[1].pk}/").status_code == 404
    closed = client.post(
        f"{api}/queue-items/{items[1].pk}/close/", {"outcome": "x"}, content_type="application/json"
    )
    assert closed.status_code == 404
    assert reload(items[1]).state == ItemState.OPEN


def test_a_pastoral_lead_sees_la_returns_of_their_year_groups_only(year_world, client):
    school, lead, pupils, _items, _cases = year_world
    call_command(
        "staff_year_groups",
        *("--school", school.slug, "--user", lead.user.username, "--set", "Year 9"),
        stdout=io.StringIO(),
    )
    with school_scope(school):
        returns = [
            LAReturn.objects.create(
                school=school,
                pupil=pupil,
                enrolment=Enrolment.objects.get(pupil=pupil),
                kind=ReturnKind.TEN_DAY,
                episode="e",
                triggered_on=D(2099, 1, 1),
                due_on=D(2099, 1, 1),
                raised_at=timezone.now(),
            )
            for pupil in pupils
        ]
    client.force_login(lead.user)
    page = client.get(f"/s/{school.slug}/la-returns/").content.decode()
    assert pupils[0].legal_surname in page
    assert pupils[1].legal_surname not in page
    listed = client.get(f"/api/v1/s/{school.slug}/la-returns/").json()
    assert [row["id"] for row in listed] == [returns[0].pk]
    sent = client.post(
        f"/api/v1/s/{school.slug}/la-returns/{returns[1].pk}/sent/",
        {"how": "portal"},
        content_type="application/json",
    )
    assert sent.status_code == 404
    with school_scope(school):
        assert LAReturn.objects.get(pk=returns[1].pk).sent_at is None
