"""Casework services: cases, actions, Notices to Improve, penalty-notice requests and the
ledger, and returns to the local authority (issue 10 items 1 to 3). Only these functions write
the casework tables; the PN and NTI rules themselves live in ``interventions.penalty_notices``.

Every service is keyword-only, takes ``school=`` and raises ``ValidationError`` for a refused
request (the API's exception handler turns it into a 400).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from interventions import casework_rules, penalty_notices
from interventions.models import (
    ActionKind,
    AttendanceEvent,
    Case,
    CaseAction,
    CaseStage,
    CaseStageChange,
    LAReturn,
    NoticeToImprove,
    PenaltyNotice,
    PenaltyNoticeRequest,
    ReferralStatus,
    RequestStatus,
    ReturnKind,
    TriggerKind,
)
from interventions.penalty_notices import NoticeRecord, NoticeStatus
from interventions.rules import EventKind
from interventions.selectors import academic_period_for, pupil_attendance_computed
from schools.models import (
    Contact,
    DeletionGround,
    Enrolment,
    Jurisdiction,
    Pupil,
    School,
    StaffMembership,
)
from schools.permissions import Capability, check_capability
from schools.selectors import school_calendar_get

# --- Stages ---------------------------------------------------------------------------------


@transaction.atomic
def case_stages_ensure(
    *, school: School, preset: str = casework_rules.DEFAULT_PRESET
) -> list[CaseStage]:
    """The school's ordered stages, created from ``preset`` if it has none yet."""
    stages = list(CaseStage.objects.filter(school=school).order_by("position"))
    if stages:
        return stages
    return [
        CaseStage.objects.create(school=school, position=position, name=name)
        for position, name in enumerate(casework_rules.stage_preset(preset))
    ]


@transaction.atomic
def case_stages_apply_preset(
    *, school: School, preset: str, by: StaffMembership
) -> list[CaseStage]:
    """Replace the school's stages with ``preset``. Refused while any case uses a stage
    (stage history must keep its names)."""
    check_capability(
        by,
        Capability.EDIT_SCHOOL_SETTINGS,
        school=school,
        message=_("You cannot change the case stages."),
    )
    if preset not in casework_rules.STAGE_PRESETS:
        raise ValidationError(_("Unknown stage preset."))
    if Case.objects.filter(school=school).exists():
        raise ValidationError(_("Cases already use this school's stages: rename them instead."))
    CaseStage.objects.filter(school=school).delete()
    return case_stages_ensure(school=school, preset=preset)


# --- Cases ----------------------------------------------------------------------------------


def _same_school(school: School, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.school_id != school.pk:
            raise ValidationError(_("That belongs to another school."))


@transaction.atomic
def case_open_or_advance(
    *,
    school: School,
    pupil: Pupil,
    by: StaffMembership,
    reason: str,
    stage: CaseStage | None = None,
    owner: StaffMembership | None = None,
    trigger_event: AttendanceEvent | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Open a case for ``pupil`` at ``stage`` (default: the first), or, if one is open, move it
    to ``stage`` (default: the next stage; it stays at the last). The trigger is the event if
    given, else ``by``. Every stage change is recorded with who, when and why."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, pupil, stage, owner, trigger_event)
    now = now or timezone.now()
    stages = case_stages_ensure(school=school)
    case = (
        Case.objects.select_for_update()
        .filter(school=school, pupil=pupil, closed_at__isnull=True)
        .first()
    )
    if case is None:
        target = stage or stages[0]
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    school=school,
                    pupil=pupil,
                    stage=target,
                    owner=owner or by,
                    trigger_kind=TriggerKind.EVENT if trigger_event else TriggerKind.PERSON,
                    trigger_event=trigger_event,
                    trigger_note=reason,
                    opened_at=now,
                    opened_by=by,
                )
        except IntegrityError as exc:  # a concurrent open won the unique constraint
            raise ValidationError(_("This pupil already has an open case.")) from exc
        CaseStageChange.objects.create(
            school=school,
            case=case,
            from_stage=None,
            to_stage=target,
            changed_by=by,
            changed_at=now,
            reason=reason,
        )
        return case
    if stage is None:
        later = [s for s in stages if s.position > case.stage.position]
        stage = later[0] if later else case.stage
    if stage.pk != case.stage_id:
        CaseStageChange.objects.create(
            school=school,
            case=case,
            from_stage=case.stage,
            to_stage=stage,
            changed_by=by,
            changed_at=now,
            reason=reason,
        )
        case.stage = stage
        fields = ["stage"]
        if owner is not None:
            case.owner = owner
            fields.append("owner")
        case.save(update_fields=fields)
    return case


@transaction.atomic
def case_close(
    *, school: School, case: Case, by: StaffMembership, outcome: str, now: dt.datetime | None = None
) -> Case:
    """Close an open case with its outcome; its history is kept."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, case)
    if case.closed_at is not None:
        raise ValidationError(_("This case is already closed."))
    if not outcome.strip():
        raise ValidationError(_("Say how the case ended."))
    case.closed_at, case.closed_by, case.outcome = now or timezone.now(), by, outcome
    case.save(update_fields=["closed_at", "closed_by", "outcome"])
    return case


@transaction.atomic
def case_action_add(
    *,
    school: School,
    case: Case,
    by: StaffMembership,
    kind: str,
    summary: str,
    due_on: dt.date,
    owner: StaffMembership | None = None,
    referral_to: str = "",
    details: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> CaseAction:
    """Add an action to an open case. A referral needs its service (status starts "made"); an
    attendance plan's review date defaults to 4 weeks after its due date (seed 004)."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, case, owner)
    if case.closed_at is not None:
        raise ValidationError(_("This case is closed."))
    if kind not in ActionKind.values:
        raise ValidationError(_("Unknown action kind."))
    details = dict(details or {})
    if kind == ActionKind.REFERRAL and not referral_to:
        raise ValidationError(_("Say who the referral is to."))
    if kind == ActionKind.ATTENDANCE_PLAN:
        details.setdefault("review_on", casework_rules.plan_review_default(due_on).isoformat())
    return CaseAction.objects.create(
        school=school,
        case=case,
        kind=kind,
        summary=summary,
        owner=owner or by,
        due_on=due_on,
        referral_to=referral_to if kind == ActionKind.REFERRAL else "",
        referral_status=ReferralStatus.MADE if kind == ActionKind.REFERRAL else "",
        details=details,
        created_at=now or timezone.now(),
    )


@transaction.atomic
def case_action_complete(
    *,
    school: School,
    action: CaseAction,
    by: StaffMembership,
    done_on: dt.date,
    outcome: str,
    referral_status: str = "",
    details: dict[str, Any] | None = None,
) -> CaseAction:
    """Record an action as done, with its outcome (a meeting's attendees, barriers and what
    was agreed go in ``details``)."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, action)
    action.done_on, action.outcome = done_on, outcome
    if referral_status:
        if referral_status not in ReferralStatus.values:
            raise ValidationError(_("Unknown referral status."))
        action.referral_status = referral_status
    if details:
        action.details = {**action.details, **details}
    action.save(update_fields=["done_on", "outcome", "referral_status", "details"])
    return action


@transaction.atomic
def case_action_update(
    *,
    school: School,
    action: CaseAction,
    by: StaffMembership,
    summary: str | None = None,
    due_on: dt.date | None = None,
    owner: StaffMembership | None = None,
    referral_status: str | None = None,
) -> CaseAction:
    """Change an open case's action: its summary, due date, owner or (a referral) its status.
    What is not given stays as it is."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, action, owner)
    if action.case.closed_at is not None:
        raise ValidationError(_("This case is closed."))
    fields = []
    if summary is not None:
        if not summary.strip():
            raise ValidationError(_("Say what the action is."))
        action.summary = summary.strip()
        fields.append("summary")
    if due_on is not None:
        action.due_on = due_on
        fields.append("due_on")
    if owner is not None:
        action.owner = owner
        fields.append("owner")
    if referral_status is not None:
        if action.kind != ActionKind.REFERRAL or referral_status not in ReferralStatus.values:
            raise ValidationError(_("Only a referral has a status."))
        action.referral_status = referral_status
        fields.append("referral_status")
    if fields:
        action.save(update_fields=fields)
    return action


def case_actions_overdue(*, school: School, on: dt.date) -> QuerySet[CaseAction]:
    """Actions of open cases not done by their due date (the queues show them)."""
    return CaseAction.objects.filter(
        school=school, done_on__isnull=True, due_on__lt=on, case__closed_at__isnull=True
    ).select_related("case__pupil", "owner__user")


# --- Notices to Improve ---------------------------------------------------------------------


@transaction.atomic
def nti_issue(
    *,
    school: School,
    case: Case,
    by: StaffMembership,
    contents: dict[str, str],
    period_start: dt.date,
    school_days: int,
    criteria_rate: Decimal,
    issued_on: dt.date | None = None,
) -> NoticeToImprove:
    """Record an NTI with the eight contents of §5.3 and an improvement period of 15 to 30 school
    days (refused outside it); the end date comes from the school calendar."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, case)
    error = penalty_notices.nti_period_error(school_days)
    if error is not None:
        raise ValidationError(_("The improvement period must be between 15 and 30 school days."))
    missing = penalty_notices.nti_missing_contents(contents)
    if missing:
        raise ValidationError(
            _("Every one of the eight contents of a Notice to Improve is needed.")
        )
    calendar = school_calendar_get(school=school)
    try:
        end = penalty_notices.nti_end_date(period_start, school_days, calendar.is_school_day)
    except ValueError as exc:
        raise ValidationError(
            _("The school calendar does not cover the improvement period.")
        ) from exc
    return NoticeToImprove.objects.create(
        school=school,
        case=case,
        **{name: contents[name] for name in penalty_notices.NTI_FIELDS},
        issued_on=issued_on or timezone.localdate(),
        period_start=period_start,
        school_days=school_days,
        period_end=end,
        criteria_rate=criteria_rate,
        issued_by=by,
    )


@dataclass(frozen=True)
class NtiReview:
    nti: NoticeToImprove
    ended: bool
    rate: Decimal | None  # attendance over the period, computed by the engine
    meets_criteria: bool | None


def nti_review(*, school: School, nti: NoticeToImprove, on: dt.date) -> NtiReview:
    """The attendance over the NTI's period (the engine, computed now from the marks) against
    its criteria; ``ended`` once the period is over, when the outcome is asked for."""
    end = min(nti.period_end, on)
    possible = present = 0
    if end >= nti.period_start:
        for result in pupil_attendance_computed(
            school=school,
            pupil=nti.case.pupil,
            period_start=nti.period_start,
            period_end=end,
            as_of=end,
        ):
            possible += result.state.possible_sessions
            present += result.state.present_sessions + result.state.aea_sessions
    rate = (
        (Decimal(present * 100) / Decimal(possible)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        if possible
        else None
    )
    return NtiReview(
        nti=nti,
        ended=on > nti.period_end,
        rate=rate,
        meets_criteria=None if rate is None else rate >= nti.criteria_rate,
    )


@transaction.atomic
def nti_outcome_record(
    *,
    school: School,
    nti: NoticeToImprove,
    by: StaffMembership,
    improved: bool,
    note: str,
    on: dt.date,
) -> NoticeToImprove:
    """Record whether attendance improved enough; only after the period has ended."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, nti)
    review = nti_review(school=school, nti=nti, on=on)
    if not review.ended:
        raise ValidationError(_("The improvement period has not ended yet."))
    nti.outcome_improved, nti.outcome_note, nti.outcome_rate = improved, note, review.rate
    nti.outcome_recorded_at = timezone.now()
    nti.save(
        update_fields=["outcome_improved", "outcome_note", "outcome_rate", "outcome_recorded_at"]
    )
    return nti


# --- Penalty notices ------------------------------------------------------------------------


def _jurisdiction(school: School) -> str:
    return (
        penalty_notices.WALES
        if school.jurisdiction == Jurisdiction.WALES
        else penalty_notices.ENGLAND
    )


def notice_record(notice: PenaltyNotice, jurisdiction: str) -> NoticeRecord:
    """The pure rules' view of a ledger row."""
    return NoticeRecord(
        parent=notice.parent_id,
        child=notice.pupil_id,
        status=NoticeStatus(notice.status),
        jurisdiction=jurisdiction,
        sequence=notice.sequence,
        issued_on=notice.issued_on,
        received_on=notice.received_on,
        paid_on=notice.paid_on,
        prosecution_outcome=(
            penalty_notices.ProsecutionOutcome(notice.prosecution_outcome)
            if notice.prosecution_outcome
            else None
        ),
    )


def liable_parents(*, school: School, pupil: Pupil) -> QuerySet[Contact]:
    """The pupil's contacts with parental responsibility: the officer confirms who is liable."""
    return Contact.objects.filter(
        school=school, pupil=pupil, parental_responsibility=True
    ).order_by("priority")


def penalty_notice_decision(
    *, school: School, pupil: Pupil, parent: Contact, on: dt.date
) -> penalty_notices.NoticeDecision:
    """Whether a further notice may go to ``parent`` for ``pupil`` on ``on`` (§5.4, TC-15)."""
    jurisdiction = _jurisdiction(school)
    history = [
        notice_record(n, jurisdiction)
        for n in PenaltyNotice.objects.filter(school=school, pupil=pupil, parent=parent)
    ]
    return penalty_notices.next_notice(history, parent.pk, pupil.pk, on, jurisdiction)


def _evidence_pack(
    *, school: School, case: Case, nti: NoticeToImprove | None, on: dt.date
) -> dict[str, Any]:
    events = AttendanceEvent.objects.filter(
        school=school, pupil=case.pupil, kind=EventKind.PN_THRESHOLD_MET
    ).order_by("-occurred_on")[:1]
    threshold = [{"occurred_on": e.occurred_on.isoformat(), "detail": e.detail} for e in events]
    actions = [
        {
            "kind": a.kind,
            "summary": a.summary,
            "due_on": a.due_on.isoformat(),
            "done_on": a.done_on.isoformat() if a.done_on else None,
            "outcome": a.outcome,
        }
        for a in case.actions.all()
    ]
    return {
        "prepared_on": on.isoformat(),
        "pupil": {
            "name": case.pupil.display_name
            if hasattr(case.pupil, "display_name")
            else str(case.pupil),
            "upn": case.pupil.upn,
        },
        "threshold": threshold,
        "support_offered": actions,
        "nti": (
            None
            if nti is None
            else {
                "issued_on": nti.issued_on.isoformat(),
                "period_start": nti.period_start.isoformat(),
                "period_end": nti.period_end.isoformat(),
                "criteria_rate": str(nti.criteria_rate),
                "outcome_improved": nti.outcome_improved,
                "outcome_rate": None if nti.outcome_rate is None else str(nti.outcome_rate),
            }
        ),
    }


@transaction.atomic
def penalty_notice_request_prepare(
    *,
    school: School,
    case: Case,
    parent: Contact,
    by: StaffMembership,
    nti: NoticeToImprove | None = None,
    on: dt.date | None = None,
) -> PenaltyNoticeRequest:
    """Prepare a request to the LA for a notice to one liable parent (the officer confirms the
    parent by choosing them), with a frozen evidence pack. Refused for a contact without
    parental responsibility, and for a third notice within 3 years (the message proposes
    alternative action). A ``requested`` ledger row is written with it."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, case, parent, nti)
    on = on or timezone.localdate()
    if parent.pupil_id != case.pupil_id or not parent.parental_responsibility:
        raise ValidationError(
            _("A penalty notice goes only to a parent with parental responsibility.")
        )
    decision = penalty_notice_decision(school=school, pupil=case.pupil, parent=parent, on=on)
    if decision.blocked:
        raise ValidationError(
            _(
                "A third penalty notice within 3 years cannot be issued: consider alternative action (for example prosecution)."
            )
        )
    request = PenaltyNoticeRequest.objects.create(
        school=school,
        case=case,
        pupil=case.pupil,
        parent=parent,
        nti=nti,
        prepared_by=by,
        prepared_at=timezone.now(),
        evidence=_evidence_pack(school=school, case=case, nti=nti, on=on),
    )
    PenaltyNotice.objects.create(
        school=school,
        pupil=case.pupil,
        parent=parent,
        request=request,
        sequence=decision.sequence,
        status=NoticeStatus.REQUESTED,
        updated_at=timezone.now(),
    )
    return request


@transaction.atomic
def penalty_notice_request_sign_off(
    *, school: School, request: PenaltyNoticeRequest, by: StaffMembership
) -> PenaltyNoticeRequest:
    """The headteacher's sign-off, without which a request is not sent."""
    check_capability(
        by,
        Capability.SIGN_OFF_PENALTY_NOTICE,
        school=school,
        message=_("Only the headteacher signs off a penalty-notice request."),
    )
    _same_school(school, request)
    if request.status != RequestStatus.PREPARED:
        raise ValidationError(_("This request is not waiting for sign-off."))
    request.status, request.signed_off_by, request.signed_off_at = (
        RequestStatus.SIGNED_OFF,
        by,
        timezone.now(),
    )
    request.save(update_fields=["status", "signed_off_by", "signed_off_at"])
    return request


_ALLOWED_MOVES: dict[str, set[str]] = {
    NoticeStatus.REQUESTED: {NoticeStatus.ISSUED, NoticeStatus.WITHDRAWN},
    NoticeStatus.ISSUED: {NoticeStatus.RECEIVED, NoticeStatus.PAID, NoticeStatus.WITHDRAWN},
    NoticeStatus.RECEIVED: {NoticeStatus.PAID, NoticeStatus.UNPAID, NoticeStatus.WITHDRAWN},
    NoticeStatus.UNPAID: {NoticeStatus.PROSECUTED, NoticeStatus.PAID, NoticeStatus.WITHDRAWN},
    NoticeStatus.PAID: set(),
    NoticeStatus.WITHDRAWN: set(),
    NoticeStatus.PROSECUTED: set(),
}


@transaction.atomic
def penalty_notice_update(
    *,
    school: School,
    notice: PenaltyNotice,
    by: StaffMembership,
    status: str,
    issued_on: dt.date | None = None,
    received_on: dt.date | None = None,
    paid_on: dt.date | None = None,
    prosecution_outcome: str = "",
    note: str = "",
) -> PenaltyNotice:
    """Move a ledger row on (requested → issued → received → paid / unpaid → prosecuted, or
    withdrawn), with its dates. An issued notice from a request needs the head's sign-off
    first. The pure rules check the row is possible (dates in order, paid has a date)."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, notice)
    if status != notice.status and status not in _ALLOWED_MOVES[notice.status]:
        raise ValidationError(
            _("A penalty notice cannot move to that status from its current one.")
        )
    if (
        status == NoticeStatus.ISSUED
        and notice.request is not None
        and notice.request.signed_off_at is None
    ):
        raise ValidationError(_("The headteacher must sign off the request first."))
    notice.status = status
    notice.issued_on = issued_on or notice.issued_on
    notice.received_on = received_on or notice.received_on
    notice.paid_on = paid_on or notice.paid_on
    notice.prosecution_outcome = prosecution_outcome or notice.prosecution_outcome
    notice.note = note or notice.note
    notice.updated_at = timezone.now()
    try:
        notice_record(notice, _jurisdiction(school))
    except ValueError as exc:
        raise ValidationError(_("Those dates are not possible for this notice.")) from exc
    notice.save()
    if notice.request is not None and status == NoticeStatus.ISSUED:
        notice.request.status = RequestStatus.SENT
        notice.request.save(update_fields=["status"])
    return notice


@dataclass(frozen=True)
class LedgerRow:
    notice: PenaltyNotice
    counts: bool
    terms: penalty_notices.PaymentTerms | None
    amount_paid_due: int | None  # what the recorded payment had to be, pence


def penalty_notice_ledger(*, school: School, pupil: Pupil, parent: Contact) -> list[LedgerRow]:
    """One parent's notices for one child with their amounts and due dates (§5.4, TC-15/18),
    computed by the pure rules each time they are shown."""
    jurisdiction = _jurisdiction(school)
    rows = []
    # Issued notices by date, then those not issued yet (requested): the same order on
    # PostgreSQL and SQLite, which otherwise put NULLs at opposite ends.
    for notice in PenaltyNotice.objects.filter(school=school, pupil=pupil, parent=parent).order_by(
        F("issued_on").asc(nulls_last=True), "pk"
    ):
        record = notice_record(notice, jurisdiction)
        terms = (
            penalty_notices.payment_terms(notice.sequence, notice.received_on, jurisdiction)
            if notice.received_on is not None
            else None
        )
        paid_due = (
            penalty_notices.amount_due(record, notice.paid_on)
            if notice.paid_on is not None
            and notice.received_on is not None
            and notice.status not in (NoticeStatus.WITHDRAWN, NoticeStatus.REQUESTED)
            else None
        )
        rows.append(
            LedgerRow(notice, penalty_notices.counts_towards_limit(record), terms, paid_due)
        )
    return rows


# --- Returns to the LA ----------------------------------------------------------------------

_EVENT_RETURN = {
    EventKind.TEN_DAY_REACHED: ReturnKind.TEN_DAY,
    EventKind.GROUND_I_REACHED: ReturnKind.GROUND_I,
    EventKind.ILLNESS_RETURN_DUE: ReturnKind.SICKNESS,
}
_DELETION_RETURN_GROUNDS = {
    DeletionGround.C,
    DeletionGround.D,
    DeletionGround.G,
    DeletionGround.I,
    DeletionGround.M,
}


def _snapshot(pupil: Pupil, enrolment: Enrolment, extra: dict[str, Any]) -> dict[str, Any]:
    contacts = [
        {
            "name": c.full_name,
            "relationship": c.relationship,
            "address": c.address,
            "phone": c.mobile_phone or c.home_phone,
        }
        for c in Contact.objects.filter(
            school=pupil.school_id, pupil=pupil, lives_with_pupil=True
        ).order_by("priority")
    ]
    return {
        "upn": pupil.upn,
        "legal_forename": pupil.legal_forename,
        "legal_surname": pupil.legal_surname,
        "date_of_birth": pupil.date_of_birth.isoformat(),
        "enrolment_start": enrolment.start_date.isoformat(),
        "leaving_date": enrolment.leaving_date.isoformat() if enrolment.leaving_date else None,
        "deletion_ground": enrolment.deletion_ground,
        "contacts": contacts,
        **extra,
    }


@dataclass
class _Raiser:
    school: School
    known: set[tuple[int, str, str]]
    now: dt.datetime
    raised: list[LAReturn]

    def __call__(
        self,
        *,
        enrolment: Enrolment,
        kind: str,
        episode: str,
        triggered_on: dt.date,
        due_on: dt.date,
        event: AttendanceEvent | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        if (enrolment.pupil_id, kind, episode) in self.known:
            return
        self.known.add((enrolment.pupil_id, kind, episode))
        self.raised.append(
            LAReturn.objects.create(
                school=self.school,
                pupil_id=enrolment.pupil_id,
                enrolment=enrolment,
                kind=kind,
                episode=episode,
                event=event,
                triggered_on=triggered_on,
                due_on=due_on,
                snapshot=_snapshot(enrolment.pupil, enrolment, extra or {}),
                raised_at=self.now,
            )
        )


RETURN_EVENT_KINDS = frozenset(_EVENT_RETURN)


@transaction.atomic
def la_returns_raise(
    *,
    school: School,
    since: dt.date | None = None,
    pupil_ids: Collection[int] | None = None,
    events: Sequence[AttendanceEvent] | None = None,
) -> list[LAReturn]:
    """Raise the returns due from the event ledger (10-day, ground (i), sickness: due by the
    5th school day after the event), from new enrolments (due by the 5th school day after
    entry; not for pupils starting on the first school day of an academic year, the
    transition-point intake of §6.2, nor before the school's calendar on record begins) and from deletion grounds that need a return (due on the
    leaving day). Idempotent: one return per pupil, kind and episode (the event's key, or the
    enrolment). ``since`` limits it to events and enrolments from that day on.

    ``events``: only these ledger events, and no enrolment returns (the recompute passes the
    events it has just written; the nightly task then raises the enrolment returns)."""
    existing = LAReturn.objects.filter(school=school)
    enrolments = Enrolment.objects.filter(school=school)
    if events is None:
        ledger = AttendanceEvent.objects.filter(
            school=school, kind__in=list(_EVENT_RETURN)
        ).select_related("enrolment__pupil")
        if since is not None:
            ledger = ledger.filter(occurred_on__gte=since)
        if pupil_ids is not None:
            ledger = ledger.filter(pupil_id__in=list(pupil_ids))
        events = list(ledger)
    else:
        enrolments = enrolments.none()
        existing = existing.filter(pupil_id__in={event.pupil_id for event in events})
    if since is not None:
        enrolments = enrolments.filter(Q(start_date__gte=since) | Q(leaving_date__gte=since))
    if pupil_ids is not None:
        enrolments = enrolments.filter(pupil_id__in=list(pupil_ids))
        existing = existing.filter(pupil_id__in=list(pupil_ids))
    calendar = school_calendar_get(school=school)
    raise_ = _Raiser(
        school=school,
        known=set(existing.values_list("pupil_id", "kind", "episode")),
        now=timezone.now(),
        raised=[],
    )
    for event in events:
        raise_(
            enrolment=event.enrolment,
            kind=_EVENT_RETURN[EventKind(event.kind)],
            episode=f"event:{event.key}",
            triggered_on=event.occurred_on,
            due_on=casework_rules.return_due_on(event.occurred_on, calendar.nth_school_day_after),
            event=event,
            extra={"detail": event.detail},
        )
    for enrolment in enrolments.select_related("pupil"):
        year_start, _year_end = academic_period_for(school=school, on=enrolment.start_date)
        intake_day = calendar.nth_school_day_after(year_start - dt.timedelta(days=1), 1)
        first_day = calendar.first_day
        before_records = first_day is None or enrolment.start_date < first_day
        if enrolment.start_date != intake_day and not before_records:
            raise_(
                enrolment=enrolment,
                kind=ReturnKind.NEW_PUPIL,
                episode=f"enrolment:{enrolment.pk}",
                triggered_on=enrolment.start_date,
                due_on=casework_rules.return_due_on(
                    enrolment.start_date, calendar.nth_school_day_after
                ),
            )
        if enrolment.deletion_ground in _DELETION_RETURN_GROUNDS:
            day = enrolment.leaving_date or timezone.localdate()
            raise_(
                enrolment=enrolment,
                kind=ReturnKind.DELETION,
                episode=f"deletion:{enrolment.pk}",
                triggered_on=day,
                due_on=day,
            )
    return raise_.raised


@transaction.atomic
def la_return_mark_sent(
    *, school: School, la_return: LAReturn, by: StaffMembership, how: str
) -> LAReturn:
    """Record when and how a return was sent. Its snapshot does not change."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, la_return)
    if not how.strip():
        raise ValidationError(_("Say how the return was sent."))
    la_return.sent_at, la_return.sent_how, la_return.sent_by = timezone.now(), how, by
    la_return.save(update_fields=["sent_at", "sent_how", "sent_by"])
    return la_return


@transaction.atomic
def la_return_joint_enquiries_record(
    *, school: School, la_return: LAReturn, by: StaffMembership, enquiries: str
) -> LAReturn:
    """Record the joint reasonable enquiries with the LA for a ground (i) enquiry (§6.3)."""
    check_capability(by, Capability.WORK_CASES, school=school, message=_("You cannot work cases."))
    _same_school(school, la_return)
    if la_return.kind != ReturnKind.GROUND_I:
        raise ValidationError(_("Joint enquiries belong to a ground (i) enquiry."))
    if not enquiries.strip():
        raise ValidationError(_("Describe the joint enquiries made with the local authority."))
    la_return.joint_enquiries, la_return.joint_enquiries_recorded_at = enquiries, timezone.now()
    la_return.save(update_fields=["joint_enquiries", "joint_enquiries_recorded_at"])
    return la_return


def deletion_allowed(*, school: School, pupil: Pupil, ground: str) -> bool:
    """Whether ``pupil`` may be deleted under ``ground``: under ground (i) only once every
    ground (i) enquiry for the pupil has its joint enquiries with the LA recorded (§6.3), and
    only if one exists. The deletion path calls this before it writes the ground."""
    if ground != DeletionGround.I:
        return True
    enquiries = LAReturn.objects.filter(school=school, pupil=pupil, kind=ReturnKind.GROUND_I)
    return (
        enquiries.exists()
        and not enquiries.filter(joint_enquiries_recorded_at__isnull=True).exists()
    )


def la_returns_csv_rows(returns: Iterable[LAReturn]) -> tuple[list[str], list[list[str]]]:
    """The CSV for the LA of some returns of one kind: the frozen snapshot, due and sent."""
    header = [
        "UPN",
        "Legal surname",
        "Legal forename",
        "Date of birth",
        "Triggered on",
        "Due on",
        "Start date",
        "Leaving date",
        "Deletion ground",
        "Parents",
        "Sent at",
        "Sent how",
    ]
    rows = []
    for r in returns:
        s = r.snapshot
        rows.append(
            [
                s.get("upn", ""),
                s.get("legal_surname", ""),
                s.get("legal_forename", ""),
                s.get("date_of_birth", ""),
                r.triggered_on.isoformat(),
                r.due_on.isoformat(),
                s.get("enrolment_start", ""),
                s.get("leaving_date") or "",
                s.get("deletion_ground", ""),
                "; ".join(
                    f"{c['name']} ({c['relationship']}) {c['address']} {c['phone']}".strip()
                    for c in s.get("contacts", [])
                ),
                r.sent_at.isoformat() if r.sent_at else "",
                r.sent_how,
            ]
        )
    return header, rows
