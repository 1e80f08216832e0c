from __future__ import annotations

import csv
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django_scopes import scopes_disabled

from interventions.models import (
    Case,
    ContactMethod,
    ContactOutcome,
    ItemState,
    PnDecision,
    Queue,
    QueueItem,
    QueueItemChange,
    QueueKind,
)
from interventions.queues import (
    contact_attempt_record,
    queue_counts,
    queue_item_claim,
    queue_item_close,
    queue_item_decide,
    queue_item_snooze,
    queue_items,
    queues_refresh,
)
from interventions.recompute import school_recompute
from interventions.tasks import attendance_recompute_school_task
from registers.models import MarkChange
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.test_recompute import put_marks, school_days
from tests.registers.conftest import RegisterWorld, build_register_world

pytestmark = pytest.mark.django_db

D = dt.date
DAY = D(2024, 9, 11)  # a Wednesday


@pytest.fixture
def rw() -> RegisterWorld:
    """Five pupils present from 2 Sep, then N this morning for four of them: a pupil on a
    child protection plan, one looked after, two with no flags (one absent since Monday)."""
    world = build_register_world(size=5)
    with scopes_disabled():
        cpp, lac, plain_b, plain_a, present = world.pupils
        cpp.child_protection_plan = True
        cpp.legal_surname = "Zephyr"
        cpp.save()
        lac.looked_after = True
        lac.save()
        plain_a.legal_surname, plain_b.legal_surname = "Able", "Baker"
        plain_a.save()
        plain_b.save()
    with school_scope(world.school):
        put_marks(world, present, school_days(D(2024, 9, 2), DAY))
        for pupil in (cpp, lac, plain_a):
            put_marks(world, pupil, school_days(D(2024, 9, 2), D(2024, 9, 10)))
        put_marks(world, plain_b, school_days(D(2024, 9, 2), D(2024, 9, 6)))
        put_marks(world, plain_b, school_days(D(2024, 9, 9), D(2024, 9, 10)), code="N")
        for pupil in (cpp, lac, plain_a, plain_b):
            put_marks(world, pupil, [DAY], code="N")
    return world


def first_day(rw: RegisterWorld) -> list[QueueItem]:
    return queue_items(school=rw.school, queue=Queue.FIRST_DAY)


def test_first_day_items_appear_once_the_register_closes_ranked_by_tier(rw):
    cpp, lac, plain_b, plain_a, _present = rw.pupils
    with school_scope(rw.school):
        queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 0))
        assert first_day(rw) == []
        queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 11))
        items = first_day(rw)
        # Both sessions' marks are N, but only the AM register has closed.
        assert [(i.pupil, i.kind) for i in items] == [
            (cpp, QueueKind.FIRST_DAY_AM),
            (lac, QueueKind.FIRST_DAY_AM),
            (plain_b, QueueKind.FIRST_DAY_AM),  # three days of N before Able's one
            (plain_a, QueueKind.FIRST_DAY_AM),
        ]
        assert items[0].details["tier_reason"] == "child_protection_plan"
        assert items[2].details["days_absent"] == 3
        assert items[2].details["alert"] == "home-visit"
        assert items[3].details["alert"] == ""
        # Refreshing again changes nothing.
        assert queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 12)) == 0
        assert queue_counts(school=rw.school)[Queue.FIRST_DAY] == 4


def test_a_reason_given_on_a_call_is_written_through_the_audited_path_and_resolves(rw):
    _cpp, lac, *_ = rw.pupils
    with school_scope(rw.school):
        queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 11))
        item = QueueItem.objects.get(pupil=lac, kind=QueueKind.FIRST_DAY_AM)
        contact = f.ContactFactory(pupil=lac, school=rw.school)
        attempt = contact_attempt_record(
            school=rw.school,
            pupil=lac,
            item=item,
            contact=contact,
            method=ContactMethod.PHONE,
            outcome=ContactOutcome.REACHED,
            reason_given="Ill with a fever",
            code="I",
            by=rw.officer,
            now=rw.at(DAY, 9, 30),
        )
        assert attempt.code_written == "I"
        change = MarkChange.objects.get(pupil=lac)
        assert (change.original_code, change.new_code) == ("N", "I")
        assert change.reason == "First-day call: Ill with a fever"
        queues_refresh(school=rw.school, as_of=DAY, pupil_ids=[lac.pk], now=rw.at(DAY, 9, 31))
        item.refresh_from_db()
        assert (item.state, item.outcome) == (ItemState.CLOSED, "resolved")
        assert lac not in [i.pupil for i in first_day(rw)]
        with pytest.raises(ValidationError):
            contact_attempt_record(
                school=rw.school,
                pupil=lac,
                item=item,
                method=ContactMethod.PHONE,
                outcome=ContactOutcome.NO_ANSWER,
                code="I",
                by=rw.officer,
            )


def test_claim_snooze_close_are_logged_and_nothing_is_deleted(rw):
    with school_scope(rw.school):
        queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 11))
        item = first_day(rw)[0]
        queue_item_claim(school=rw.school, item=item, by=rw.officer, now=rw.at(DAY, 9, 50))
        queue_item_snooze(
            school=rw.school,
            item=item,
            until=D(2024, 9, 13),
            reason="Social worker visiting",
            by=rw.officer,
            now=rw.at(DAY, 10),
        )
        with pytest.raises(ValidationError):
            queue_item_snooze(
                school=rw.school,
                item=item,
                until=DAY,
                reason="x",
                by=rw.officer,
                now=rw.at(DAY, 10),
            )
        queue_item_close(
            school=rw.school,
            item=item,
            outcome="Home visit done",
            by=rw.officer,
            now=rw.at(DAY, 11),
        )
        item.refresh_from_db()
        assert item.claimed_by == rw.officer
        assert item.state == ItemState.CLOSED
        assert list(QueueItemChange.objects.filter(item=item).values_list("action", flat=True)) == [
            "claim",
            "snooze",
            "close",
        ]
        with pytest.raises(ValidationError):
            queue_item_close(school=rw.school, item=item, outcome="again", by=rw.tutor)


@pytest.fixture
def ledger_world() -> RegisterWorld:
    world = build_register_world(size=2)
    with school_scope(world.school):
        steady, truant = world.pupils
        put_marks(world, steady, school_days(D(2024, 9, 2), D(2024, 10, 4)))
        put_marks(world, truant, school_days(D(2024, 9, 2), D(2024, 9, 13)))
        put_marks(world, truant, school_days(D(2024, 9, 16), D(2024, 9, 27)), code="U")
        put_marks(world, truant, school_days(D(2024, 9, 30), D(2024, 10, 4)))
    return world


def test_the_recompute_opens_ledger_items_and_a_decision_closes_the_threshold(ledger_world):
    rw = ledger_world
    _steady, truant = rw.pupils
    attendance_recompute_school_task(rw.school.pk, "2024-10-04")
    with school_scope(rw.school):
        kinds = set(QueueItem.objects.filter(pupil=truant).values_list("kind", flat=True))
        assert {QueueKind.TEN_DAY_RETURN, QueueKind.PN_THRESHOLD_MET, QueueKind.PA_STARTED} <= kinds
        ten_day = QueueItem.objects.get(kind=QueueKind.TEN_DAY_RETURN)
        assert (ten_day.since, ten_day.due) == (D(2024, 9, 27), D(2024, 9, 27))
        item = QueueItem.objects.get(kind=QueueKind.PN_THRESHOLD_MET)
        with pytest.raises(ValidationError):
            queue_item_decide(
                school=rw.school, item=item, decision=PnDecision.NO_ACTION, by=rw.officer
            )
        queue_item_decide(
            school=rw.school,
            item=item,
            decision=PnDecision.SUPPORT_FIRST,
            reference="case-1",
            by=rw.officer,
        )
        item.refresh_from_db()
        assert (item.state, item.decision, item.reference) == (
            ItemState.CLOSED,
            PnDecision.SUPPORT_FIRST,
            "case-1",
        )
        # A second full run reopens nothing.
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        queues_refresh(school=rw.school, as_of=D(2024, 10, 4))
        assert QueueItem.objects.filter(kind=QueueKind.PN_THRESHOLD_MET).count() == 1


def test_export_queue_header_order_and_as_of_a_past_day(rw, tmp_path):
    cpp, lac, plain_b, plain_a, _present = rw.pupils
    with school_scope(rw.school):
        queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 11))
        item = QueueItem.objects.get(pupil=plain_a, kind=QueueKind.FIRST_DAY_AM)
        queue_item_close(
            school=rw.school,
            item=item,
            outcome="done",
            by=rw.officer,
            now=rw.at(DAY + dt.timedelta(days=1), 9),
        )
    out = tmp_path / "q.csv"
    call_command(
        "export_queue",
        "--school",
        rw.school.slug,
        "--queue",
        "first-day",
        "--date",
        DAY.isoformat(),
        "--output",
        str(out),
    )
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["rank", "upn", "item", "since", "due"]
    assert rows[1:] == [
        ["1", cpp.upn, "first-day-am", "2024-09-11", ""],
        ["2", lac.upn, "first-day-am", "2024-09-11", ""],
        ["3", plain_b.upn, "first-day-am", "2024-09-11", ""],
        ["4", plain_a.upn, "first-day-am", "2024-09-11", ""],
    ]
    call_command(
        "export_queue",
        "--school",
        rw.school.slug,
        "--queue",
        "unresolved-n",
        "--date",
        DAY.isoformat(),
        "--output",
        str(out),
    )
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["rank", "upn", "item", "since", "due"]
    # The refresh saw every N on record: Baker's two earlier ones come first (due first).
    assert [r[1] for r in rows[1:3]] == [plain_b.upn, plain_b.upn]
    assert rows[1][2:] == ["unresolved-n", "2024-09-09", "2024-09-16"]


def test_the_queue_page_lists_items_and_claims_them_for_officers_only(rw, client):
    with school_scope(rw.school):
        queues_refresh(school=rw.school, as_of=DAY, now=rw.at(DAY, 9, 11))
    url = f"/s/{rw.school.slug}/queues/"
    client.force_login(rw.tutor.user)
    assert client.get(url).status_code in (403, 404)
    client.force_login(rw.officer.user)
    page = client.get(url)
    assert page.status_code == 200
    assert rw.pupils[0].display_name in page.content.decode()
    with scopes_disabled():
        item = QueueItem.objects.get(pupil=rw.pupils[0], kind=QueueKind.FIRST_DAY_AM)
    response = client.post(f"{url}?queue=first-day", {"item": item.pk, "action": "claim"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.claimed_by == rw.officer
    assert client.post(url, {"item": 999999, "action": "claim"}).status_code == 404


def test_support_first_opens_the_pupils_case_from_the_threshold(ledger_world):
    rw = ledger_world
    _steady, truant = rw.pupils
    attendance_recompute_school_task(rw.school.pk, "2024-10-04")
    with school_scope(rw.school):
        item = QueueItem.objects.get(kind=QueueKind.PN_THRESHOLD_MET)
        queue_item_decide(
            school=rw.school, item=item, decision=PnDecision.SUPPORT_FIRST, by=rw.officer
        )
        item.refresh_from_db()
        case = Case.objects.get(pupil=truant, closed_at__isnull=True)
        assert item.reference == f"case-{case.pk}"
        assert case.trigger_event_id == item.source_event_id
