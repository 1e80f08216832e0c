"""The work queues' services and selectors (issue 10 part 1).

``queues_refresh`` brings a school's open items in line with its marks and event ledger: it is
called after every recompute (nightly and after each change of marks) and by the every-minute
beat task (a register closing changes the first-day queue with no mark changing). It opens an
item once per cause (the unique ``key``) and closes open items whose cause went away with the
outcome ``resolved``. Officers claim, snooze, close and decide items; every change is logged.
Call everything inside ``school_scope(school)``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from interventions import queue_rules
from interventions.casework import case_open_or_advance
from interventions.models import (
    AttendanceEvent,
    Case,
    ContactAttempt,
    ContactOutcome,
    EnrolmentAttendance,
    ItemState,
    PnDecision,
    QueueItem,
    QueueItemChange,
    QueueKind,
    QueueSettings,
)
from interventions.models.queues import QUEUE_KINDS
from interventions.rules import EventKind
from interventions.selectors import academic_period_for
from registers.models import AttendanceMark, Register
from registers.rules import Phase, n_due_date
from registers.selectors import register_clock, register_phase_now, register_times
from schools.models import (
    Contact,
    Enrolment,
    Pupil,
    School,
    StaffMembership,
)
from schools.permissions import Capability, PupilScope, check_capability, pupil_scope
from schools.selectors import (
    forms_for_year_groups,
    forms_on,
    pupil_visible_to,
    school_calendar_get,
)
from schools.types import SchoolAccess

RESOLVED = "resolved"
DAY_ENDED = "day-ended"
LATENESS_SCHOOL_WEEKS = 4
UNREACHED_SCHOOL_DAYS = 20
UNEXPLAINED = "N"

# The ledger's kinds that open an item, and the item they open.
_EVENT_ITEMS: dict[str, str] = {
    EventKind.BAND_CHANGED: QueueKind.BAND_CHANGED,
    EventKind.PA_STARTED: QueueKind.PA_STARTED,
    EventKind.SA_STARTED: QueueKind.SA_STARTED,
    EventKind.PN_THRESHOLD_MET: QueueKind.PN_THRESHOLD_MET,
    EventKind.TEN_DAY_REACHED: QueueKind.TEN_DAY_RETURN,
    EventKind.GROUND_I_REACHED: QueueKind.GROUND_I_ENQUIRY,
    EventKind.ILLNESS_RETURN_DUE: QueueKind.SICKNESS_RETURN,
}
# Returns due at once (the LA asks as soon as the run is reached); others have no due date.
_DUE_ON_EVENT = frozenset({QueueKind.TEN_DAY_RETURN, QueueKind.SICKNESS_RETURN})


def queue_settings_get(*, school: School) -> QueueSettings:
    """The school's queue settings (an unsaved row of defaults when it has none)."""
    return QueueSettings.objects.filter(school=school).first() or QueueSettings(school=school)


# --- Refresh ----------------------------------------------------------------------------------


@dataclass
class _Wanted:
    kind: str
    pupil_id: int
    key: str
    since: dt.date
    due: dt.date | None = None
    session_date: dt.date | None = None
    session: str = ""
    details: dict[str, Any] | None = None
    provisional: bool = False
    source_event_id: int | None = None


@transaction.atomic
def queues_refresh(
    *,
    school: School,
    as_of: dt.date,
    pupil_ids: Collection[int] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Open the items whose cause exists on ``as_of`` and close (``resolved``) the open ones
    whose cause has gone, for ``pupil_ids`` or the whole school. Idempotent; returns the number
    of items opened or closed."""
    now = now or timezone.now()
    calendar = school_calendar_get(school=school)
    wanted: list[_Wanted] = []
    wanted += _first_day_wanted(school=school, as_of=as_of, pupil_ids=pupil_ids, now=now)
    wanted += _unresolved_n_wanted(school=school, pupil_ids=pupil_ids, calendar=calendar)
    wanted += _ledger_wanted(school=school, as_of=as_of, pupil_ids=pupil_ids)
    wanted += _lateness_wanted(school=school, as_of=as_of, pupil_ids=pupil_ids, calendar=calendar)
    wanted += _new_pupil_wanted(school=school, as_of=as_of, pupil_ids=pupil_ids, calendar=calendar)

    existing = QueueItem.objects.filter(school=school, pupil__isnull=False)
    if pupil_ids is not None:
        existing = existing.filter(pupil_id__in=list(pupil_ids))
    known = {(i.kind, i.pupil_id, i.key): i for i in existing.filter(_refreshable(as_of))}
    changes = 0
    to_create = []
    for w in wanted:
        item = known.pop((w.kind, w.pupil_id, w.key), None)
        if item is not None:
            if item.state == ItemState.OPEN and (item.details or {}) != (w.details or {}):
                item.details = w.details or {}
                item.provisional = w.provisional
                item.due = w.due
                item.save(update_fields=["details", "provisional", "due"])
            continue
        to_create.append(
            QueueItem(
                school=school,
                kind=w.kind,
                pupil_id=w.pupil_id,
                key=w.key,
                since=w.since,
                due=w.due,
                session_date=w.session_date,
                session=w.session,
                details=w.details or {},
                provisional=w.provisional,
                source_event_id=w.source_event_id,
                opened_at=now,
            )
        )
    created = QueueItem.objects.bulk_create(to_create, batch_size=500, ignore_conflicts=True)
    changes += len(created)
    changes += _registers_not_taken_refresh(school=school, as_of=as_of, calendar=calendar, now=now)
    # Open items of the refreshable kinds whose cause was not found again.
    for item in known.values():
        if item.state != ItemState.OPEN or item.kind not in _SELF_RESOLVING:
            continue
        outcome = (
            DAY_ENDED
            if item.kind in _FIRST_DAY and item.session_date != as_of and _still_n(item)
            else RESOLVED
        )
        _close(item=item, outcome=outcome, note="", by=None, now=now)
        changes += 1
    return changes


_FIRST_DAY = frozenset({QueueKind.FIRST_DAY_AM, QueueKind.FIRST_DAY_PM})
# Kinds whose cause the refresh checks again; ledger items stay until an officer closes them.
_SELF_RESOLVING = _FIRST_DAY | {QueueKind.UNRESOLVED_N, QueueKind.LATENESS}


def _refreshable(as_of: dt.date) -> Q:
    return (
        Q(kind__in=list(_SELF_RESOLVING), state=ItemState.OPEN)
        | Q(kind__in=[*_EVENT_ITEMS.values(), QueueKind.NEW_PUPIL_RETURN])
        | Q(kind__in=list(_FIRST_DAY), session_date=as_of)
    )


def _still_n(item: QueueItem) -> bool:
    if item.pupil_id is None or item.session_date is None:
        return False
    return AttendanceMark.objects.filter(
        school_id=item.school_id,
        pupil_id=item.pupil_id,
        date=item.session_date,
        session=item.session,
        code=UNEXPLAINED,
    ).exists()


def _first_day_wanted(
    *, school: School, as_of: dt.date, pupil_ids: Collection[int] | None, now: dt.datetime
) -> list[_Wanted]:
    """Today's ``N`` marks of registers that have closed, with each pupil's tier."""
    if as_of != school.local_time(now).date():
        return []
    sessions = [
        s
        for s in ("AM", "PM")
        if register_phase_now(school=school, date=as_of, session=s, taken=True, now=now)
        == Phase.LOCKED
    ]
    if not sessions:
        return []
    marks = AttendanceMark.objects.filter(
        school=school, date=as_of, session__in=sessions, code=UNEXPLAINED
    )
    if pupil_ids is not None:
        marks = marks.filter(pupil_id__in=list(pupil_ids))
    rows = list(marks.values_list("pupil_id", "session"))
    if not rows:
        return []
    ids = {p for p, _s in rows}
    calendar = school_calendar_get(school=school)
    recent = calendar.school_days_between(as_of - dt.timedelta(days=60), as_of)[
        -UNREACHED_SCHOOL_DAYS:
    ]
    start = recent[0] if recent else as_of
    absent_days: dict[int, set[dt.date]] = defaultdict(set)
    for pupil_id, day in AttendanceMark.objects.filter(
        school=school, pupil_id__in=ids, date__gte=start, date__lte=as_of, code=UNEXPLAINED
    ).values_list("pupil_id", "date"):
        absent_days[pupil_id].add(day)
    unreached = _unreached_recently(school=school, pupil_ids=ids, since=start, before=as_of)
    pa = set(
        EnrolmentAttendance.objects.filter(
            school=school, pupil_id__in=ids, persistent_absence=True
        ).values_list("pupil_id", flat=True)
    )
    reached_today = set(
        ContactAttempt.objects.filter(
            school=school,
            pupil_id__in=ids,
            outcome=ContactOutcome.REACHED,
            item__session_date=as_of,
        ).values_list("pupil_id", flat=True)
    )
    order = queue_rules.tier_order_parse(queue_settings_get(school=school).tier_order)
    pupils = {p.pk: p for p in Pupil.objects.filter(school=school, pk__in=ids)}
    out = []
    for pupil_id, session in rows:
        pupil = pupils[pupil_id]
        flags = queue_rules.PupilFlags(
            child_protection_plan=pupil.child_protection_plan,
            looked_after=pupil.looked_after,
            child_in_need=pupil.child_in_need,
            young_carer=pupil.young_carer,
            ehcp=pupil.ehcp,
            unreached_recently=pupil_id in unreached,
        )
        tier, reason = queue_rules.pupil_tier(flags, order)
        days = 0
        for day in reversed(recent):
            if day not in absent_days[pupil_id]:
                break
            days += 1
        out.append(
            _Wanted(
                kind=QueueKind.FIRST_DAY_AM if session == "AM" else QueueKind.FIRST_DAY_PM,
                pupil_id=pupil_id,
                key=f"{as_of.isoformat()}-{session}",
                since=as_of,
                session_date=as_of,
                session=session,
                details={
                    "tier": tier,
                    "tier_reason": reason,
                    "days_absent": days,
                    "persistently_absent": pupil_id in pa,
                    "alert": queue_rules.no_contact_alert(
                        tier=tier, days_absent=days, reached=pupil_id in reached_today
                    ),
                },
            )
        )
    return out


# A register still incomplete this long after it closes is flagged (issue 10).
REGISTER_GRACE = dt.timedelta(minutes=10)


def _registers_not_taken_refresh(
    *, school: School, as_of: dt.date, calendar: Any, now: dt.datetime
) -> int:
    """Open an item per form whose register for today's AM or PM is still incomplete
    ``REGISTER_GRACE`` after the register closes (forms with pupils placed that day only), and
    close (``resolved``) the open ones whose register has since been completed. Returns the
    number of items opened or closed."""
    changes = 0
    taken = {
        (form_id, day, session)
        for form_id, day, session in Register.objects.filter(
            school=school,
            taken_at__isnull=False,
            date__in=set(
                QueueItem.objects.filter(
                    school=school, kind=QueueKind.REGISTER_NOT_TAKEN, state=ItemState.OPEN
                ).values_list("session_date", flat=True)
            )
            | {as_of},
        ).values_list("form_id", "date", "session")
    }
    for item in QueueItem.objects.filter(
        school=school, kind=QueueKind.REGISTER_NOT_TAKEN, state=ItemState.OPEN
    ):
        if (item.form_id, item.session_date, item.session) in taken:
            _close(item=item, outcome=RESOLVED, note="", by=None, now=now)
            changes += 1
    clock = register_clock(school=school, now=now)
    if clock.date() != as_of:
        return changes
    overdue = [
        session
        for session in ("AM", "PM")
        if calendar.is_session(as_of, session)
        and clock.replace(tzinfo=None)
        >= dt.datetime.combine(as_of, register_times(school=school, session=session).closes)
        + REGISTER_GRACE
    ]
    if not overdue:
        return changes
    forms = list(
        forms_on(school=school, on=as_of)
        .filter(placements__start_date__lte=as_of)
        .filter(Q(placements__end_date__isnull=True) | Q(placements__end_date__gte=as_of))
        .distinct()
        .values_list("pk", "name")
    )
    known = set(
        QueueItem.objects.filter(
            school=school, kind=QueueKind.REGISTER_NOT_TAKEN, session_date=as_of
        ).values_list("form_id", "session")
    )
    to_create = [
        QueueItem(
            school=school,
            kind=QueueKind.REGISTER_NOT_TAKEN,
            form_id=form_id,
            key=f"{as_of.isoformat()}-{session}",
            since=as_of,
            due=as_of,
            session_date=as_of,
            session=session,
            details={"form": name},
            opened_at=now,
        )
        for session in overdue
        for form_id, name in forms
        if (form_id, as_of, session) not in taken and (form_id, session) not in known
    ]
    # ignore_conflicts: a concurrent refresh may have opened the same register's item.
    QueueItem.objects.bulk_create(to_create, ignore_conflicts=True)
    return changes + len(to_create)


def _unreached_recently(
    *, school: School, pupil_ids: Collection[int], since: dt.date, before: dt.date
) -> set[int]:
    """Pupils with a first-day item from ``since`` to before ``before`` whose calls reached
    nobody."""
    attempts = ContactAttempt.objects.filter(
        school=school,
        pupil_id__in=list(pupil_ids),
        item__kind__in=list(_FIRST_DAY),
        item__session_date__gte=since,
        item__session_date__lt=before,
    ).values_list("item_id", "pupil_id", "outcome")
    by_item: dict[int, tuple[int, bool]] = {}
    for item_id, pupil_id, outcome in attempts:
        reached = by_item.get(item_id, (pupil_id, False))[1] or outcome == ContactOutcome.REACHED
        by_item[item_id] = (pupil_id, reached)
    return {pupil_id for pupil_id, reached in by_item.values() if not reached}


def _unresolved_n_wanted(
    *, school: School, pupil_ids: Collection[int] | None, calendar: Any
) -> list[_Wanted]:
    marks = AttendanceMark.objects.filter(school=school, code=UNEXPLAINED)
    if pupil_ids is not None:
        marks = marks.filter(pupil_id__in=list(pupil_ids))
    return [
        _Wanted(
            kind=QueueKind.UNRESOLVED_N,
            pupil_id=pupil_id,
            key=f"{day.isoformat()}-{session}",
            since=day,
            due=n_due_date(calendar=calendar, session_date=day),
            session_date=day,
            session=session,
        )
        for pupil_id, day, session in marks.values_list("pupil_id", "date", "session")
    ]


def _ledger_wanted(
    *, school: School, as_of: dt.date, pupil_ids: Collection[int] | None
) -> list[_Wanted]:
    events = AttendanceEvent.objects.filter(
        school=school, kind__in=list(_EVENT_ITEMS), occurred_on__lte=as_of
    )
    if pupil_ids is not None:
        events = events.filter(pupil_id__in=list(pupil_ids))
    out = []
    # ``enrolment_id`` is in the key: left out of ``only``, it cost a query per event.
    for event in events.only(
        "pk", "enrolment_id", "pupil_id", "kind", "key", "occurred_on", "detail", "provisional"
    ):
        kind = _EVENT_ITEMS[event.kind]
        out.append(
            _Wanted(
                kind=kind,
                pupil_id=event.pupil_id,
                key=f"{event.enrolment_id}:{event.key}"[:80],
                since=event.occurred_on,
                due=event.occurred_on if kind in _DUE_ON_EVENT else None,
                details=dict(event.detail),
                provisional=event.provisional,
                source_event_id=event.pk,
            )
        )
    return out


def _lateness_wanted(
    *, school: School, as_of: dt.date, pupil_ids: Collection[int] | None, calendar: Any
) -> list[_Wanted]:
    """Pupils with at least the school's threshold of ``L`` or any ``U`` in the last 4 school
    weeks, with their minutes. One open item per pupil while it lasts."""
    weeks = calendar.last_school_weeks(LATENESS_SCHOOL_WEEKS, as_of)
    if not weeks:
        return []
    threshold = queue_settings_get(school=school).lateness_threshold
    marks = AttendanceMark.objects.filter(
        school=school, date__gte=weeks[0], date__lte=as_of, code__in=["L", "U"]
    )
    if pupil_ids is not None:
        marks = marks.filter(pupil_id__in=list(pupil_ids))
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {"L": 0, "U": 0, "minutes": 0})
    first: dict[int, dt.date] = {}
    for pupil_id, day, code, minutes in marks.values_list(
        "pupil_id", "date", "code", "minutes_late"
    ):
        counts[pupil_id][code] += 1
        counts[pupil_id]["minutes"] += minutes or 0
        first[pupil_id] = min(first.get(pupil_id, day), day)
    open_keys = dict(
        QueueItem.objects.filter(
            school=school, kind=QueueKind.LATENESS, state=ItemState.OPEN
        ).values_list("pupil_id", "key")
    )
    out = []
    for pupil_id, c in counts.items():
        if c["L"] < threshold and c["U"] == 0:
            continue
        out.append(
            _Wanted(
                kind=QueueKind.LATENESS,
                pupil_id=pupil_id,
                key=open_keys.get(pupil_id) or as_of.isoformat(),
                since=first[pupil_id],
                details={"late": c["L"], "u": c["U"], "minutes": c["minutes"]},
            )
        )
    return out


def _new_pupil_wanted(
    *, school: School, as_of: dt.date, pupil_ids: Collection[int] | None, calendar: Any
) -> list[_Wanted]:
    """A new pupil return is due by the 5th school day after a pupil joins mid-year (§6.1)."""
    year = calendar.school_days_between(academic_period_for(school=school, on=as_of)[0], as_of)
    if not year:
        return []
    # Joiners after the year's first school day (everyone starts on that day otherwise).
    enrolments = Enrolment.objects.filter(
        school=school, start_date__gt=year[0], start_date__lte=as_of
    )
    if pupil_ids is not None:
        enrolments = enrolments.filter(pupil_id__in=list(pupil_ids))
    return [
        _Wanted(
            kind=QueueKind.NEW_PUPIL_RETURN,
            pupil_id=pupil_id,
            key=f"enrolment-{pk}",
            since=start,
            due=calendar.nth_school_day_after(start, 5),
        )
        for pk, pupil_id, start in enrolments.values_list("pk", "pupil_id", "start_date")
    ]


# --- Changes by staff ---------------------------------------------------------------------------


def _log(
    *, item: QueueItem, action: str, by: StaffMembership | None, now: dt.datetime, **detail: Any
) -> None:
    QueueItemChange.objects.create(
        school_id=item.school_id,
        item=item,
        action=action,
        detail=detail,
        changed_at=now,
        changed_by=by,
    )


def _close(
    *,
    item: QueueItem,
    outcome: str,
    note: str,
    by: StaffMembership | None,
    now: dt.datetime,
) -> None:
    item.state = ItemState.CLOSED
    item.closed_at = now
    item.closed_by = by
    item.outcome = outcome
    item.outcome_note = note
    item.save(update_fields=["state", "closed_at", "closed_by", "outcome", "outcome_note"])
    _log(item=item, action="close", by=by, now=now, outcome=outcome, note=note)


def _check(*, school: School, item: QueueItem, by: StaffMembership) -> None:
    if item.school_id != school.pk:
        raise ValidationError(_("This item belongs to another school."))
    check_capability(
        by, Capability.WORK_QUEUES, school=school, message=_("You may not work the queues.")
    )


@transaction.atomic
def queue_item_claim(
    *,
    school: School,
    item: QueueItem,
    by: StaffMembership,
    claimant: StaffMembership | None = None,
    now: dt.datetime | None = None,
) -> QueueItem:
    """Assign the item to ``claimant`` (default: ``by``); ``None`` after a claim releases it."""
    _check(school=school, item=item, by=by)
    now = now or timezone.now()
    target = claimant or by
    if target.school_id != school.pk:
        raise ValidationError(_("This person is not at this school."))
    item.claimed_by = target
    item.save(update_fields=["claimed_by"])
    _log(item=item, action="claim", by=by, now=now, claimant=target.pk)
    return item


@transaction.atomic
def queue_item_snooze(
    *,
    school: School,
    item: QueueItem,
    until: dt.date,
    reason: str,
    by: StaffMembership,
    now: dt.datetime | None = None,
) -> QueueItem:
    """Hide the item until ``until`` (a later date), with a reason."""
    _check(school=school, item=item, by=by)
    now = now or timezone.now()
    if until <= school.local_time(now).date():
        raise ValidationError(_("Snooze to a date after today."))
    if not reason.strip():
        raise ValidationError(_("Give a reason for snoozing."))
    item.snoozed_until = until
    item.snooze_reason = reason.strip()
    item.save(update_fields=["snoozed_until", "snooze_reason"])
    _log(item=item, action="snooze", by=by, now=now, until=until.isoformat(), reason=reason)
    return item


@transaction.atomic
def queue_item_close(
    *,
    school: School,
    item: QueueItem,
    outcome: str,
    note: str = "",
    by: StaffMembership,
    now: dt.datetime | None = None,
) -> QueueItem:
    """Close the item with an outcome (nothing is deleted)."""
    _check(school=school, item=item, by=by)
    if item.state != ItemState.OPEN:
        raise ValidationError(_("This item is already closed."))
    if not outcome.strip():
        raise ValidationError(_("Give the outcome."))
    _close(item=item, outcome=outcome.strip()[:40], note=note, by=by, now=now or timezone.now())
    return item


@transaction.atomic
def queue_item_decide(
    *,
    school: School,
    item: QueueItem,
    decision: str,
    reason: str = "",
    reference: str = "",
    by: StaffMembership,
    now: dt.datetime | None = None,
) -> QueueItem:
    """Record the decision on a penalty-notice threshold met (§5.2) and close the item.

    "Support first" opens the pupil's case, or advances the open one a stage
    (``casework.case_open_or_advance``), triggered by the threshold's event; ``reference``
    names what the decision led to (by default that case). "No action" needs a reason. A
    term-time holiday may go straight to a penalty-notice request."""
    _check(school=school, item=item, by=by)
    if item.kind != QueueKind.PN_THRESHOLD_MET:
        raise ValidationError(_("Only a penalty-notice threshold takes a decision."))
    if decision not in PnDecision.values:
        raise ValidationError(_("Choose a decision."))
    if decision == PnDecision.NO_ACTION and not reason.strip():
        raise ValidationError(_("Give the reason for taking no action."))
    now = now or timezone.now()
    if decision == PnDecision.SUPPORT_FIRST:
        assert item.pupil is not None  # a threshold is always a pupil's
        case = case_open_or_advance(
            school=school,
            pupil=item.pupil,
            by=by,
            reason=reason.strip() or _("Penalty-notice threshold met: support first"),
            trigger_event=item.source_event,
            now=now,
        )
        reference = reference or f"case-{case.pk}"
    item.decision = decision
    item.decision_reason = reason.strip()
    item.decided_by = by
    item.decided_at = now
    item.reference = reference[:100]
    item.save(
        update_fields=["decision", "decision_reason", "decided_by", "decided_at", "reference"]
    )
    _log(item=item, action="decide", by=by, now=now, decision=decision, reason=reason)
    if item.state == ItemState.OPEN:
        _close(item=item, outcome=f"decided-{decision}", note=reason, by=by, now=now)
    return item


@transaction.atomic
def contact_attempt_record(
    *,
    school: School,
    pupil: Pupil,
    method: str,
    outcome: str,
    by: StaffMembership,
    item: QueueItem | None = None,
    case: Case | None = None,
    contact: Contact | None = None,
    reason_given: str = "",
    note: str = "",
    code: str = "",
    now: dt.datetime | None = None,
) -> ContactAttempt:
    """Log one attempt to reach a contact. With a ``code`` (the reason given's code, e.g.
    ``I``), the item's N mark is amended through the audited path with the reason
    "First-day call: <reason given>"; nothing else changes a mark."""
    check_capability(
        by, Capability.WORK_QUEUES, school=school, message=_("You may not work the queues.")
    )
    if pupil.school_id != school.pk or (item is not None and item.pupil_id != pupil.pk):
        raise ValidationError(_("This pupil is not in this item."))
    if case is not None and (case.school_id != school.pk or case.pupil_id != pupil.pk):
        raise ValidationError(_("This pupil is not in this case."))
    if contact is not None and contact.pupil_id != pupil.pk:
        raise ValidationError(_("This contact is not one of the pupil's."))
    now = now or timezone.now()
    if code:
        if item is None or item.session_date is None or not item.session:
            raise ValidationError(_("A code is written only from a first-day call."))
        if outcome != ContactOutcome.REACHED or not reason_given.strip():
            raise ValidationError(_("A code needs a contact reached and the reason given."))
        # Imported here: registers.services.marks imports interventions.tasks (the on-commit
        # recompute), which imports this module.
        from registers.services.marks import mark_amend

        mark_amend(
            school=school,
            pupil=pupil,
            date=item.session_date,
            session=item.session,
            code=code,
            minutes_late=None,
            reason=_("First-day call: %(reason)s") % {"reason": reason_given.strip()},
            membership=by,
            now=now,
        )
    return ContactAttempt.objects.create(
        school=school,
        pupil=pupil,
        item=item,
        case=case,
        method=method,
        contact=contact,
        outcome=outcome,
        reason_given=reason_given.strip(),
        note=note,
        code_written=code,
        made_at=now,
        made_by=by,
    )


# --- Reading ----------------------------------------------------------------------------------


def queue_items_visible(*, school: School, access: SchoolAccess, user: Any) -> QuerySet[QueueItem]:
    """The school's items this user sees: all of them for whole-school staff; for a pastoral
    lead the items of their year groups' pupils and forms (none assigned: none)."""
    items = QueueItem.objects.filter(school=school)
    scope = pupil_scope(access)
    if scope is PupilScope.WHOLE_SCHOOL:
        return items
    today = school.local_time().date()
    pupils = pupil_visible_to(school=school, access=access, user=user, on=today)
    forms = (
        forms_for_year_groups(school=school, membership=access.membership, on=today)
        if scope is PupilScope.YEAR_GROUPS and access.membership is not None
        else forms_on(school=school, on=today).none()
    )
    return items.filter(Q(pupil__in=pupils.values("pk")) | Q(form__in=forms.values("pk")))


def queue_items(
    *,
    school: School,
    queue: str,
    at_end_of: dt.date | None = None,
    snoozed: bool | None = None,
    items: QuerySet[QueueItem] | None = None,
) -> list[QueueItem]:
    """The open items of ``queue`` in the order shown on screen (and exported). With
    ``at_end_of``: the items open at the end of that day (opened by then, not yet closed).
    ``snoozed``: None lists every item, False only those to work that day, True only those
    snoozed past it.

    First-day calls: tier, more consecutive days first, persistently absent first, surname,
    forename, UPN. Others: due date (none last), since, surname, forename, UPN."""
    kinds = QUEUE_KINDS[queue]
    items = (
        (items if items is not None else QueueItem.objects.filter(school=school))
        .filter(kind__in=list(kinds))
        .select_related("pupil", "form", "claimed_by__user")
    )
    if at_end_of is None:
        items = items.filter(state=ItemState.OPEN)
    else:
        end = dt.datetime.combine(
            at_end_of + dt.timedelta(days=1), dt.time.min, tzinfo=ZoneInfo(school.timezone)
        )
        items = items.filter(since__lte=at_end_of).filter(
            Q(closed_at__isnull=True) | Q(closed_at__gte=end)
        )
        if queue == "first-day":
            items = items.filter(session_date=at_end_of)
    if snoozed is not None:
        waiting = Q(snoozed_until__gt=at_end_of or school.local_time().date())
        items = items.filter(waiting) if snoozed else items.exclude(waiting)
    return sorted(items, key=_sort_key)


def _names(item: QueueItem) -> tuple[str, str, str]:
    pupil = item.pupil
    if pupil is None:  # a form's register: by the form's name
        return (item.form.name.casefold() if item.form else "", "", "")
    return (pupil.legal_surname.casefold(), pupil.legal_forename.casefold(), pupil.upn)


def _sort_key(item: QueueItem) -> tuple[Any, ...]:
    surname, forename, upn = _names(item)
    if item.kind in _FIRST_DAY:
        d = item.details or {}
        return (
            0,
            *queue_rules.first_day_sort_key(
                tier=int(d.get("tier", 99)),
                days_absent=int(d.get("days_absent", 0)),
                persistently_absent=bool(d.get("persistently_absent")),
                surname=surname,
                forename=forename,
                upn=upn,
            ),
            item.session,
        )
    return (1, item.due or dt.date.max, item.since, surname, forename, upn, item.kind, item.pk)


def queue_counts_now_and_waiting(
    *, school: School, items: QuerySet[QueueItem] | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """Open items per queue, in one query: those to work today (the page's tabs and the
    navigation) and those snoozed past today, which wait until their day. ``items`` narrows
    them to what one user sees (``queue_items_visible``)."""
    rows = items if items is not None else QueueItem.objects.filter(school=school)
    today = school.local_time().date()
    waiting = Q(snoozed_until__gt=today)
    now = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=today)
    kinds = {queue: Q(kind__in=list(queue_kinds)) for queue, queue_kinds in QUEUE_KINDS.items()}
    counts = rows.filter(state=ItemState.OPEN).aggregate(
        **{f"now_{q.replace('-', '_')}": Count("pk", filter=k & now) for q, k in kinds.items()},
        **{
            f"waiting_{q.replace('-', '_')}": Count("pk", filter=k & waiting)
            for q, k in kinds.items()
        },
    )
    return (
        {q: counts[f"now_{q.replace('-', '_')}"] or 0 for q in QUEUE_KINDS},
        {q: counts[f"waiting_{q.replace('-', '_')}"] or 0 for q in QUEUE_KINDS},
    )


def queue_counts(
    *, school: School, items: QuerySet[QueueItem] | None = None, snoozed: bool = False
) -> dict[str, int]:
    """Open items per queue to work today, in one query (``queue_counts_now_and_waiting``);
    with ``snoozed``, only those snoozed past today."""
    now, waiting = queue_counts_now_and_waiting(school=school, items=items)
    return waiting if snoozed else now


def iter_kinds() -> Iterable[str]:
    return QueueKind.values
