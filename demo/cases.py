"""The demo trust's cases, Notices to Improve and penalty notices (issue 10 part 6).

``seed_demo_cases()`` runs after ``demo.queues``. Everything goes through the casework and
queue services (``interventions.casework``, ``interventions.queues``), so stage history,
actions, evidence packs and the penalty-notice ledger are what the product itself writes:

- Penalty-notice thresholds met more than four weeks before the demo day were decided at the
  time: "support first", which opens (or advances) the pupil's case. Recent ones stay in the
  queue awaiting the officer's decision.
- Five persistent absentees per school get the cases an officer works on: one just opened
  (a call), one with a meeting (barriers found, what was agreed) and an attendance plan with
  its review date, one with a referral to early help (accepted) and a home visit now overdue,
  one (England) with a Notice to Improve whose improvement period is running, and one at the
  last stage whose parent has a second penalty notice in the ledger (the first paid last
  year, in a case since closed). A Welsh school has no Notice to Improve (§5.3 is England's):
  its fourth case has a pastoral support programme instead.
- Each school uses the stage list of the policy it is modelled on (``STAGE_PRESET``).

Idempotent: the cases are written once per school (a school that already has cases keeps
them), and decided items are closed, so a second run decides nothing again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django_scopes import scopes_disabled

from demo.blueprints import BRO_DERWEN, KINGSMEAD, OAKFIELD, TRUST_SLUG
from demo.queues import REVIEWED_AFTER, demo_staff, refresh_moment
from interventions.casework import (
    case_action_add,
    case_action_complete,
    case_close,
    case_open_or_advance,
    case_stages_ensure,
    nti_issue,
    penalty_notice_request_prepare,
    penalty_notice_request_sign_off,
    penalty_notice_update,
)
from interventions.models import (
    ActionKind,
    AttendanceEvent,
    Case,
    CaseAction,
    CaseStage,
    ItemState,
    PnDecision,
    QueueItem,
    QueueKind,
    ReferralStatus,
    ReferralTo,
)
from interventions.penalty_notices import NoticeStatus
from interventions.queues import queue_item_decide
from interventions.rules import EventKind
from schools.models import Contact, Enrolment, Jurisdiction, Pupil, Role, School, StaffMembership
from schools.scoping import school_scope
from schools.selectors import school_calendar_get

# The stage list of each school's model policy (interventions.casework_rules.STAGE_PRESETS).
STAGE_PRESET = {KINGSMEAD.slug: "seed_002", OAKFIELD.slug: "seed_004", BRO_DERWEN.slug: "seed_000"}
CASES_PER_SCHOOL = 5
NTI_SCHOOL_DAYS = 20
NTI_CRITERIA = Decimal("90.00")


def seed_demo_cases(*, last_days: dict[str, dt.date], now: dt.datetime) -> dict[str, int]:
    """Write each demo school's cases (see the module docstring); returns open cases per
    school slug."""
    out: dict[str, int] = {}
    with scopes_disabled():
        schools = list(School.objects.filter(trust__slug=TRUST_SLUG, slug__in=last_days))
    for school in sorted(schools, key=lambda s: s.slug):
        with school_scope(school):
            out[school.slug] = _school_cases(school, last_days[school.slug], now)
    return out


@transaction.atomic
def _school_cases(school: School, day: dt.date, now: dt.datetime) -> int:
    tz = school.local_time(now).tzinfo
    moment = refresh_moment(school, day, now)
    officer = demo_staff(school, Role.ATTENDANCE_OFFICER)
    first_case = not Case.objects.filter(school=school).exists()
    if first_case:
        case_stages_ensure(school=school, preset=STAGE_PRESET.get(school.slug, "dfe"))
    _decide_old_thresholds(school, officer, moment)
    if first_case:
        _story_cases(school, officer, day, tz)
    return Case.objects.filter(school=school, closed_at__isnull=True).count()


def _at(day: dt.date, hour: int, tz: dt.tzinfo | None) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=tz)


def _decide_old_thresholds(school: School, officer: StaffMembership, moment: dt.datetime) -> None:
    old = QueueItem.objects.filter(
        school=school,
        state=ItemState.OPEN,
        kind=QueueKind.PN_THRESHOLD_MET,
        since__lt=(moment - REVIEWED_AFTER).date(),
    ).select_related("pupil", "source_event")
    for item in old.order_by("since", "pk"):
        queue_item_decide(
            school=school,
            item=item,
            decision=PnDecision.SUPPORT_FIRST,
            reason="Support first: meet the family and agree a plan before any notice.",
            by=officer,
            now=_at(item.since + dt.timedelta(days=2), 10, moment.tzinfo),
        )


def _story_pupils(school: School, since: dt.date) -> list[Pupil]:
    """Persistent absentees on roll since ``since`` with a parent who has parental
    responsibility and no open case, by UPN (any pupils on roll if too few)."""
    on_roll = Enrolment.objects.filter(
        school=school, pupil=OuterRef("pk"), start_date__lte=since, leaving_date__isnull=True
    )
    with_parent = Contact.objects.filter(
        school=school, pupil=OuterRef("pk"), parental_responsibility=True
    )
    open_case = Case.objects.filter(school=school, pupil=OuterRef("pk"), closed_at__isnull=True)
    pa = AttendanceEvent.objects.filter(
        school=school, pupil=OuterRef("pk"), kind=EventKind.PA_STARTED
    )
    base = (
        Pupil.objects.filter(school=school)
        .filter(Exists(on_roll), Exists(with_parent), ~Exists(open_case))
        .order_by("upn")
    )
    chosen = list(base.filter(Exists(pa))[:CASES_PER_SCHOOL])
    if len(chosen) < CASES_PER_SCHOOL:
        chosen += list(
            base.exclude(pk__in=[p.pk for p in chosen])[: CASES_PER_SCHOOL - len(chosen)]
        )
    return chosen


def _story_cases(
    school: School, officer: StaffMembership, day: dt.date, tz: dt.tzinfo | None
) -> None:
    stages = list(CaseStage.objects.filter(school=school).order_by("position"))
    last = len(stages) - 1
    pastoral = demo_staff(school, Role.PASTORAL_LEAD)
    head = demo_staff(school, Role.HEADTEACHER)
    england = school.jurisdiction == Jurisdiction.ENGLAND
    year_ago = day - dt.timedelta(days=400)
    pupils = _story_pupils(school, since=year_ago)
    calendar = school_calendar_get(school=school)

    def open_case(pupil: Pupil, stage_index: int, opened: dt.date, owner: StaffMembership) -> Case:
        trigger = (
            AttendanceEvent.objects.filter(school=school, pupil=pupil, kind=EventKind.PA_STARTED)
            .order_by("-occurred_on")
            .first()
        )
        case = case_open_or_advance(
            school=school,
            pupil=pupil,
            by=officer,
            reason="Persistent absence: attendance below 90% this year.",
            stage=stages[0],
            owner=owner,
            trigger_event=trigger,
            now=_at(opened, 9, tz),
        )
        for step in range(1, stage_index + 1):
            case = case_open_or_advance(
                school=school,
                pupil=pupil,
                by=officer,
                reason="No sustained improvement since the last review.",
                stage=stages[step],
                now=_at(opened + dt.timedelta(days=14 * step), 11, tz),
            )
        return case

    def action(
        case: Case,
        kind: str,
        summary: str,
        due: dt.date,
        *,
        owner: StaffMembership | None = None,
        referral_to: str = "",
        details: dict[str, Any] | None = None,
    ) -> CaseAction:
        return case_action_add(
            school=school,
            case=case,
            by=officer,
            kind=kind,
            summary=summary,
            due_on=due,
            owner=owner,
            referral_to=referral_to,
            details=details,
            now=_at(due - dt.timedelta(days=3), 14, tz),
        )

    def meeting(case: Case, held: dt.date, barriers: str, agreed: str) -> None:
        done = action(case, ActionKind.MEETING, "Attendance meeting with parent", held)
        case_action_complete(
            school=school,
            action=done,
            by=officer,
            done_on=held,
            outcome="Meeting held; notes on file.",
            details={
                "attendees": "Parent, pupil, attendance officer, pastoral lead",
                "barriers": barriers,
                "agreed": agreed,
            },
        )

    stories = iter(pupils)
    # 1. Just opened: a first call made.
    pupil = next(stories, None)
    if pupil is not None:
        case = open_case(pupil, 0, day - dt.timedelta(days=6), officer)
        call = action(
            case, ActionKind.CALL, "Call home about this term's absence", day - dt.timedelta(days=5)
        )
        case_action_complete(
            school=school,
            action=call,
            by=officer,
            done_on=day - dt.timedelta(days=5),
            outcome="Spoke to mum: anxiety about a friendship group; meeting offered.",
        )
    # 2. A meeting and an attendance plan under review.
    pupil = next(stories, None)
    if pupil is not None:
        case = open_case(pupil, min(1, last), day - dt.timedelta(days=35), pastoral)
        meeting(
            case,
            day - dt.timedelta(days=20),
            "Morning routine: parent on early shifts; pupil reluctant on PE days.",
            "Breakfast club place from Monday; PE kit kept at school; weekly check-in.",
        )
        action(
            case,
            ActionKind.ATTENDANCE_PLAN,
            "Attendance plan: breakfast club and weekly check-in",
            day - dt.timedelta(days=18),
            owner=pastoral,
            details={"targets": "95% attendance over the next four weeks; no unexplained absence"},
        )
    # 3. A referral to early help (accepted) and a home visit now overdue.
    pupil = next(stories, None)
    if pupil is not None:
        case = open_case(pupil, min(2, last), day - dt.timedelta(days=50), officer)
        meeting(
            case,
            day - dt.timedelta(days=40),
            "Housing move; younger siblings' care falls to the pupil some mornings.",
            "Referral to early help; attendance plan; parent to ring by 9:00 on any absence.",
        )
        referral = action(
            case,
            ActionKind.REFERRAL,
            "Early help assessment for the family",
            day - dt.timedelta(days=30),
            referral_to=ReferralTo.EARLY_HELP,
        )
        case_action_complete(
            school=school,
            action=referral,
            by=officer,
            done_on=day - dt.timedelta(days=24),
            outcome="Accepted: family support worker allocated.",
            referral_status=ReferralStatus.ACCEPTED,
        )
        action(
            case,
            ActionKind.HOME_VISIT,
            "Home visit with the family support worker",
            day - dt.timedelta(days=2),
        )
    # 4. England: a Notice to Improve whose improvement period is running. Wales: a PSP.
    pupil = next(stories, None)
    if pupil is not None:
        case = open_case(pupil, max(last - 1, 0), day - dt.timedelta(days=70), officer)
        meeting(
            case,
            day - dt.timedelta(days=45),
            "Parent does not see the absence as a problem; holidays booked in term time.",
            "Parent told that a Notice to Improve follows if attendance does not improve.",
        )
        if england:
            start = calendar.school_days_between(day - dt.timedelta(days=21), day)[0]
            # Late in July the period runs past the calendar the demo seeds: the service
            # refuses it, and the demo goes without a running NTI rather than fail.
            with contextlib.suppress(ValidationError):
                nti_issue(
                    school=school,
                    case=case,
                    by=officer,
                    contents=_nti_contents(),
                    period_start=start,
                    school_days=NTI_SCHOOL_DAYS,
                    criteria_rate=NTI_CRITERIA,
                    issued_on=start - dt.timedelta(days=3),
                )
        else:
            action(
                case,
                ActionKind.PSP,
                "Pastoral support programme with the wellbeing leader",
                day + dt.timedelta(days=10),
                owner=pastoral,
            )
    # 5. The last stage: a second penalty notice for the same parent (the first paid).
    pupil = next(stories, None)
    if pupil is not None:
        parent = Contact.objects.filter(
            school=school, pupil=pupil, parental_responsibility=True
        ).order_by("priority")[0]
        earlier = open_case(pupil, last, year_ago, officer)
        _notice(school, earlier, parent, officer, head, issued=year_ago + dt.timedelta(days=40))
        case_close(
            school=school,
            case=earlier,
            by=officer,
            outcome="Attendance improved after the penalty notice was paid.",
            now=_at(year_ago + dt.timedelta(days=120), 15, tz),
        )
        case = open_case(pupil, last, day - dt.timedelta(days=80), officer)
        _notice(school, case, parent, officer, head, issued=day - dt.timedelta(days=8))


def _notice(
    school: School,
    case: Case,
    parent: Contact,
    officer: StaffMembership,
    head: StaffMembership,
    *,
    issued: dt.date,
) -> None:
    """A request prepared, signed off by the head, issued by the LA and received; the first
    notice of a parent is paid within 21 days, a later one is still open."""
    request = penalty_notice_request_prepare(
        school=school, case=case, parent=parent, by=officer, on=issued - dt.timedelta(days=7)
    )
    penalty_notice_request_sign_off(school=school, request=request, by=head)
    notice = request.notice
    penalty_notice_update(
        school=school, notice=notice, by=officer, status=NoticeStatus.ISSUED, issued_on=issued
    )
    received = issued + dt.timedelta(days=2)
    penalty_notice_update(
        school=school, notice=notice, by=officer, status=NoticeStatus.RECEIVED, received_on=received
    )
    if notice.sequence == 1:
        penalty_notice_update(
            school=school,
            notice=notice,
            by=officer,
            status=NoticeStatus.PAID,
            paid_on=received + dt.timedelta(days=12),
            note="Paid to the LA within 21 days.",
        )


def _nti_contents() -> dict[str, str]:
    return {
        "attendance_record": "Ten unauthorised sessions in the last ten school weeks (dates attached).",
        "benefits_and_duty": "Regular attendance matters for learning and friendships; the "
        "parent's duty under section 7 of the Education Act 1996.",
        "support_so_far": "Calls home, an attendance meeting and an attendance plan.",
        "further_support": "Early help assessment, breakfast club, and the support offered "
        "before that was not taken up.",
        "warning": "A penalty notice may be issued if attendance does not improve.",
        "improvement_period": f"{NTI_SCHOOL_DAYS} school days from the start date.",
        "sufficient_improvement": f"At least {NTI_CRITERIA}% attendance with no unauthorised "
        "absence over the period.",
        "early_issue_grounds": "A further unauthorised absence in the period may lead to a "
        "notice before it ends.",
    }
