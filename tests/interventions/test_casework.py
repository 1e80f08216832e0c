"""Casework services: cases and their stages and actions, NTIs, penalty-notice requests and
the ledger (TC-15, TC-18 end to end), and returns to the LA raised from the event ledger.

The school is build_register_world's CAL-A (autumn term from Mon 2 Sep 2024, half-term
28 Oct - 1 Nov; spring term from 6 Jan 2025)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_scopes import scopes_disabled

from interventions import casework, casework_rules
from interventions.models import (
    ActionKind,
    AttendanceEvent,
    Case,
    CaseStageChange,
    LAReturn,
    PenaltyNotice,
    ReturnKind,
)
from interventions.penalty_notices import NTI_FIELDS, NoticeStatus
from interventions.recompute import school_recompute
from interventions.rules import EventKind
from schools import models
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.test_recompute import put_marks, school_days
from tests.registers.conftest import RegisterWorld, build_register_world

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def rw() -> RegisterWorld:
    return build_register_world(size=3)


def nti_contents() -> dict[str, str]:
    return {name: f"{name} text" for name in NTI_FIELDS}


@pytest.mark.parametrize("preset", sorted(casework_rules.STAGE_PRESETS))
def test_every_preset_is_an_ordered_list_of_distinct_stages(preset):
    stages = casework_rules.stage_preset(preset)
    assert len(stages) >= 3
    assert len(set(stages)) == len(stages)


def test_the_default_preset_is_the_dfe_six():
    assert casework_rules.stage_preset(casework_rules.DEFAULT_PRESET) == (
        "Expect",
        "Monitor",
        "Listen and understand",
        "Facilitate support",
        "Formalise support",
        "Enforce",
    )


def test_plan_review_defaults_to_four_weeks():
    assert casework_rules.plan_review_default(D(2024, 9, 9)) == D(2024, 10, 7)


def test_a_case_opens_at_the_first_stage_and_advances_with_history(rw):
    pupil = rw.pupils[0]
    with school_scope(rw.school):
        case = casework.case_open_or_advance(
            school=rw.school, pupil=pupil, by=rw.officer, reason="Concern raised by tutor"
        )
        assert case.stage.name == "Expect"
        assert case.trigger_kind == "person"
        again = casework.case_open_or_advance(
            school=rw.school, pupil=pupil, by=rw.officer, reason="No improvement"
        )
        assert again.pk == case.pk
        assert again.stage.name == "Monitor"
        changes = list(CaseStageChange.objects.filter(case=case).order_by("pk"))
        assert [
            (c.from_stage and c.from_stage.name, c.to_stage.name, c.reason) for c in changes
        ] == [
            (None, "Expect", "Concern raised by tutor"),
            ("Expect", "Monitor", "No improvement"),
        ]
        assert all(c.changed_by == rw.officer for c in changes)


def test_one_open_case_per_pupil_and_history_kept_after_closing(rw):
    pupil = rw.pupils[0]
    with school_scope(rw.school):
        first = casework.case_open_or_advance(
            school=rw.school, pupil=pupil, by=rw.officer, reason="r"
        )
        with pytest.raises(IntegrityError), transaction.atomic():
            Case.objects.create(
                school=rw.school,
                pupil=pupil,
                stage=first.stage,
                owner=rw.officer,
                trigger_kind="person",
                opened_at=first.opened_at,
                opened_by=rw.officer,
            )
        casework.case_close(school=rw.school, case=first, by=rw.officer, outcome="Improved")
        second = casework.case_open_or_advance(
            school=rw.school, pupil=pupil, by=rw.officer, reason="r"
        )
        assert second.pk != first.pk
        assert Case.objects.filter(pupil=pupil).count() == 2


def test_a_tutor_cannot_work_cases(rw):
    with school_scope(rw.school), pytest.raises(ValidationError):
        casework.case_open_or_advance(school=rw.school, pupil=rw.pupils[0], by=rw.tutor, reason="r")


def test_actions_referral_plan_and_overdue(rw):
    with school_scope(rw.school):
        case = casework.case_open_or_advance(
            school=rw.school, pupil=rw.pupils[0], by=rw.officer, reason="r"
        )
        with pytest.raises(ValidationError):
            casework.case_action_add(
                school=rw.school,
                case=case,
                by=rw.officer,
                kind=ActionKind.REFERRAL,
                summary="Referral",
                due_on=D(2024, 9, 20),
            )
        referral = casework.case_action_add(
            school=rw.school,
            case=case,
            by=rw.officer,
            kind=ActionKind.REFERRAL,
            summary="School nurse",
            due_on=D(2024, 9, 20),
            referral_to="school_nurse",
        )
        assert referral.referral_status == "made"
        plan = casework.case_action_add(
            school=rw.school,
            case=case,
            by=rw.officer,
            kind=ActionKind.ATTENDANCE_PLAN,
            summary="Plan",
            due_on=D(2024, 9, 16),
            details={"targets": "95% by half-term"},
        )
        assert plan.details["review_on"] == "2024-10-14"
        overdue = casework.case_actions_overdue(school=rw.school, on=D(2024, 9, 18))
        assert list(overdue) == [plan]
        casework.case_action_complete(
            school=rw.school,
            action=plan,
            by=rw.officer,
            done_on=D(2024, 9, 17),
            outcome="Agreed",
        )
        assert list(casework.case_actions_overdue(school=rw.school, on=D(2024, 9, 18))) == []


@pytest.mark.parametrize("days", [14, 31])
def test_nti_period_outside_15_to_30_school_days_is_refused(rw, days):
    with school_scope(rw.school):
        case = casework.case_open_or_advance(
            school=rw.school, pupil=rw.pupils[0], by=rw.officer, reason="r"
        )
        with pytest.raises(ValidationError):
            casework.nti_issue(
                school=rw.school,
                case=case,
                by=rw.officer,
                contents=nti_contents(),
                period_start=D(2024, 9, 2),
                school_days=days,
                criteria_rate=Decimal(95),
            )


def test_nti_needs_all_eight_contents(rw):
    contents = nti_contents()
    contents["warning"] = ""
    with school_scope(rw.school):
        case = casework.case_open_or_advance(
            school=rw.school, pupil=rw.pupils[0], by=rw.officer, reason="r"
        )
        with pytest.raises(ValidationError):
            casework.nti_issue(
                school=rw.school,
                case=case,
                by=rw.officer,
                contents=contents,
                period_start=D(2024, 9, 2),
                school_days=15,
                criteria_rate=Decimal(95),
            )


def test_nti_end_from_calendar_and_review_over_its_period(rw):
    pupil = rw.pupils[0]
    with school_scope(rw.school):
        # 15 school days from Mon 21 Oct skip half-term: Mon 21 Oct .. Fri 15 Nov.
        put_marks(rw, pupil, school_days(D(2024, 10, 21), D(2024, 11, 8)))
        put_marks(rw, pupil, school_days(D(2024, 11, 11), D(2024, 11, 15)), code="O")
        case = casework.case_open_or_advance(
            school=rw.school, pupil=pupil, by=rw.officer, reason="r"
        )
        nti = casework.nti_issue(
            school=rw.school,
            case=case,
            by=rw.officer,
            contents=nti_contents(),
            period_start=D(2024, 10, 21),
            school_days=15,
            criteria_rate=Decimal(90),
            issued_on=D(2024, 10, 18),
        )
        assert nti.period_end == D(2024, 11, 15)
        with pytest.raises(ValidationError):
            casework.nti_outcome_record(
                school=rw.school, nti=nti, by=rw.officer, improved=True, note="", on=D(2024, 11, 15)
            )
        review = casework.nti_review(school=rw.school, nti=nti, on=D(2024, 11, 18))
        assert review.ended
        assert review.rate == Decimal("66.7")  # 20 of 30 sessions
        assert review.meets_criteria is False
        casework.nti_outcome_record(
            school=rw.school,
            nti=nti,
            by=rw.officer,
            improved=False,
            note="Not enough",
            on=D(2024, 11, 18),
        )
        nti.refresh_from_db()
        assert (nti.outcome_improved, nti.outcome_rate) == (False, Decimal("66.7"))


def _issue(rw, notice, on):
    casework.penalty_notice_request_sign_off(school=rw.school, request=notice.request, by=rw.head)
    casework.penalty_notice_update(
        school=rw.school, notice=notice, by=rw.officer, status=NoticeStatus.ISSUED, issued_on=on
    )
    return casework.penalty_notice_update(
        school=rw.school, notice=notice, by=rw.officer, status=NoticeStatus.RECEIVED, received_on=on
    )


def test_tc15_end_to_end_through_the_services(rw):
    pupil = rw.pupils[0]
    with scopes_disabled():
        parent_a = f.ContactFactory(pupil=pupil, full_name="Parent A")
        parent_b = f.ContactFactory(pupil=pupil, full_name="Parent B", priority=2)
        no_pr = f.ContactFactory(pupil=pupil, parental_responsibility=False)
    with school_scope(rw.school):
        case = casework.case_open_or_advance(
            school=rw.school, pupil=pupil, by=rw.officer, reason="r"
        )
        assert set(casework.liable_parents(school=rw.school, pupil=pupil)) == {parent_a, parent_b}
        with pytest.raises(ValidationError):
            casework.penalty_notice_request_prepare(
                school=rw.school, case=case, parent=no_pr, by=rw.officer, on=D(2024, 10, 1)
            )
        request = casework.penalty_notice_request_prepare(
            school=rw.school, case=case, parent=parent_a, by=rw.officer, on=D(2024, 10, 1)
        )
        pn1 = PenaltyNotice.objects.get(request=request)
        # No issue before the head signs off; only the head signs off.
        with pytest.raises(ValidationError):
            casework.penalty_notice_update(
                school=rw.school,
                notice=pn1,
                by=rw.officer,
                status=NoticeStatus.ISSUED,
                issued_on=D(2024, 10, 1),
            )
        with pytest.raises(ValidationError):
            casework.penalty_notice_request_sign_off(
                school=rw.school, request=request, by=rw.officer
            )
        pn1.refresh_from_db()
        _issue(rw, pn1, D(2024, 10, 1))
        [row] = casework.penalty_notice_ledger(school=rw.school, pupil=pupil, parent=parent_a)
        assert row.terms is not None
        assert (row.terms.reduced_amount, row.terms.reduced_due_by) == (8000, D(2024, 10, 21))
        assert (row.terms.full_amount, row.terms.full_due_by) == (16000, D(2024, 10, 28))
        casework.penalty_notice_update(
            school=rw.school,
            notice=pn1,
            by=rw.officer,
            status=NoticeStatus.PAID,
            paid_on=D(2024, 10, 21),
        )
        [row] = casework.penalty_notice_ledger(school=rw.school, pupil=pupil, parent=parent_a)
        assert row.amount_paid_due == 8000

        request2 = casework.penalty_notice_request_prepare(
            school=rw.school, case=case, parent=parent_a, by=rw.officer, on=D(2025, 3, 10)
        )
        pn2 = PenaltyNotice.objects.get(request=request2)
        assert pn2.sequence == 2
        _issue(rw, pn2, D(2025, 3, 10))
        rows = casework.penalty_notice_ledger(school=rw.school, pupil=pupil, parent=parent_a)
        terms2 = rows[1].terms
        assert terms2 is not None
        assert (terms2.reduced_amount, terms2.full_amount, terms2.full_due_by) == (
            None,
            16000,
            D(2025, 4, 6),
        )
        with pytest.raises(ValidationError, match="alternative action"):
            casework.penalty_notice_request_prepare(
                school=rw.school, case=case, parent=parent_a, by=rw.officer, on=D(2026, 2, 2)
            )
        request_b = casework.penalty_notice_request_prepare(
            school=rw.school, case=case, parent=parent_b, by=rw.officer, on=D(2026, 2, 2)
        )
        assert PenaltyNotice.objects.get(request=request_b).sequence == 1
        assert request_b.evidence["pupil"]["upn"] == pupil.upn


def test_tc15_withdrawn_first_notice_does_not_count(rw):
    pupil = rw.pupils[0]
    with scopes_disabled():
        parent = f.ContactFactory(pupil=pupil)
    with school_scope(rw.school):
        case = casework.case_open_or_advance(
            school=rw.school, pupil=pupil, by=rw.officer, reason="r"
        )
        request = casework.penalty_notice_request_prepare(
            school=rw.school, case=case, parent=parent, by=rw.officer, on=D(2024, 10, 1)
        )
        pn1 = _issue(rw, PenaltyNotice.objects.get(request=request), D(2024, 10, 1))
        casework.penalty_notice_update(
            school=rw.school, notice=pn1, by=rw.officer, status=NoticeStatus.WITHDRAWN
        )
        request2 = casework.penalty_notice_request_prepare(
            school=rw.school, case=case, parent=parent, by=rw.officer, on=D(2025, 3, 10)
        )
        assert PenaltyNotice.objects.get(request=request2).sequence == 1


def test_tc18_wales_amounts():
    rw = build_register_world(size=1, jurisdiction="wales")
    pupil = rw.pupils[0]
    with scopes_disabled():
        parent = f.ContactFactory(pupil=pupil)
    with school_scope(rw.school):
        case = casework.case_open_or_advance(
            school=rw.school, pupil=pupil, by=rw.officer, reason="r"
        )
        request = casework.penalty_notice_request_prepare(
            school=rw.school, case=case, parent=parent, by=rw.officer, on=D(2024, 10, 1)
        )
        _issue(rw, PenaltyNotice.objects.get(request=request), D(2024, 10, 1))
        [row] = casework.penalty_notice_ledger(school=rw.school, pupil=pupil, parent=parent)
        assert row.terms is not None
        assert (row.terms.reduced_amount, row.terms.full_amount) == (6000, 12000)


def test_recompute_raises_the_ten_day_return_once_with_a_frozen_snapshot(rw):
    _steady, truant, _other = rw.pupils
    with school_scope(rw.school):
        put_marks(rw, truant, school_days(D(2024, 9, 2), D(2024, 9, 13)))
        put_marks(rw, truant, school_days(D(2024, 9, 16), D(2024, 9, 27)), code="U")
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        [ret] = LAReturn.objects.filter(kind=ReturnKind.TEN_DAY)
        assert ret.pupil == truant
        assert (ret.triggered_on, ret.due_on) == (D(2024, 9, 27), D(2024, 10, 4))
        assert ret.snapshot["legal_surname"] == truant.legal_surname
        surname = truant.legal_surname
        models.Pupil.objects.filter(pk=truant.pk).update(legal_surname="Changed")
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
        assert casework.la_returns_raise(school=rw.school) == []
        ret.refresh_from_db()
        assert ret.snapshot["legal_surname"] == surname
        casework.la_return_mark_sent(
            school=rw.school, la_return=ret, by=rw.officer, how="LA portal"
        )
        header, rows = casework.la_returns_csv_rows(
            LAReturn.objects.filter(kind=ReturnKind.TEN_DAY)
        )
        assert header[0] == "UPN"
        assert rows[0][0] == truant.upn
        assert rows[0][-1] == "LA portal"


def test_new_pupil_and_deletion_returns(rw):
    with scopes_disabled():
        pupil = f.PupilFactory(school=rw.school)
        enrolment = f.EnrolmentFactory(pupil=pupil, start_date=D(2024, 9, 16))
        intake = f.EnrolmentFactory(
            pupil=f.PupilFactory(school=rw.school), start_date=D(2024, 9, 2)
        )
    with school_scope(rw.school):
        raised = casework.la_returns_raise(school=rw.school, since=D(2024, 8, 1))
        assert [(r.kind, r.pupil_id, r.due_on) for r in raised] == [
            (ReturnKind.NEW_PUPIL, pupil.pk, D(2024, 9, 23))
        ]
        assert intake.pupil_id not in {r.pupil_id for r in raised}
        models.Enrolment.objects.filter(pk=enrolment.pk).update(
            leaving_date=D(2024, 10, 4), deletion_ground=models.DeletionGround.G
        )
        [deletion] = casework.la_returns_raise(school=rw.school, since=D(2024, 8, 1))
        assert (deletion.kind, deletion.due_on) == (ReturnKind.DELETION, D(2024, 10, 4))


def test_ground_i_blocks_deletion_until_joint_enquiries_are_recorded(rw):
    pupil = rw.pupils[0]
    with school_scope(rw.school):
        assert not casework.deletion_allowed(school=rw.school, pupil=pupil, ground="i")
        assert casework.deletion_allowed(school=rw.school, pupil=pupil, ground="f")
        enrolment = models.Enrolment.objects.get(pupil=pupil)
        AttendanceEvent.objects.create(
            school=rw.school,
            enrolment=enrolment,
            pupil=pupil,
            kind=EventKind.GROUND_I_REACHED,
            key="2024-09-02",
            occurred_on=D(2024, 9, 27),
            created_at=rw.at(D(2024, 9, 27), 18),
        )
        [enquiry] = casework.la_returns_raise(school=rw.school)
        assert enquiry.kind == ReturnKind.GROUND_I
        assert not casework.deletion_allowed(school=rw.school, pupil=pupil, ground="i")
        with pytest.raises(ValidationError):
            casework.la_return_joint_enquiries_record(
                school=rw.school, la_return=enquiry, by=rw.officer, enquiries=" "
            )
        casework.la_return_joint_enquiries_record(
            school=rw.school,
            la_return=enquiry,
            by=rw.officer,
            enquiries="Home visit 30 Sep with the LA's CME officer; no one at the address.",
        )
        assert casework.deletion_allowed(school=rw.school, pupil=pupil, ground="i")


def test_export_la_returns_command(rw, tmp_path):
    from django.core.management import call_command

    with scopes_disabled():
        enrolment = models.Enrolment.objects.get(pupil=rw.pupils[0])
        LAReturn.objects.create(
            school=rw.school,
            pupil=rw.pupils[0],
            enrolment=enrolment,
            kind=ReturnKind.SICKNESS,
            episode="event:x",
            triggered_on=D(2024, 9, 27),
            due_on=D(2024, 10, 4),
            snapshot={"upn": rw.pupils[0].upn},
            raised_at=rw.at(D(2024, 9, 27), 18),
        )
    out = tmp_path / "sickness.csv"
    call_command("export_la_returns", school=rw.school.slug, kind="sickness", output=str(out))
    lines = out.read_text().splitlines()
    assert lines[0].startswith("UPN,")
    assert lines[1].startswith(rw.pupils[0].upn)
