"""The demo trust's work queues (issue 10 part 6): live on the demo day at every school.

``seed_demo_queues()`` runs after the marks and the engine's recompute. It builds the queues
the way the product does, through ``interventions.queues`` only:

- ``queues_refresh`` on the last day with marks (the demo day: today once its registers have
  closed, else the most recent school day, which is also the day before the demo clock's
  pretend morning), at a moment when both that day's registers had closed, so the first-day
  calls of that day are in the queue with their tiers. The scripted pupils of
  ``demo.marks.SCRIPTS`` put a call in every tier, a pupil at day 3, a 10-day return, a
  ground (i) enquiry and (England) penalty-notice thresholds there.
- Items of the ledger older than four weeks are what an officer has long since dealt with:
  they are closed as reviewed (``queue_item_close``), except penalty-notice thresholds, whose
  decisions ``demo.cases`` records. Recent ones stay open, awaiting the officer.
- The officer claims the tier 1-3 calls and has already phoned every pupil the queue flags
  as "no contact" (day 3), reaching nobody (``contact_attempt_record``). The other absent
  pupils' parents were phoned once each (on the pupil's first item of the day): every other
  pupil's parent answered with a reason (``reached``; the N stays until the reason is
  confirmed, so no mark changes), the rest got a voicemail. Which ones is decided by the
  pupils' order, so every run picks the same.

Idempotent: the refresh opens each cause once, closed items stay closed, and calls are made
only on items that have none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count
from django_scopes import scopes_disabled

from demo.blueprints import TRUST_SLUG
from interventions.models import (
    ContactAttempt,
    ContactMethod,
    ContactOutcome,
    ItemState,
    QueueItem,
    QueueKind,
)
from interventions.queue_rules import SOCIAL_WORKER_TIERS
from interventions.queues import (
    contact_attempt_record,
    queue_item_claim,
    queue_item_close,
    queues_refresh,
)
from schools.models import Contact, Role, School, StaffMembership
from schools.scoping import school_scope

# Ledger items opened longer ago than this were dealt with at the time.
REVIEWED_AFTER = dt.timedelta(days=28)
REVIEWED = "reviewed"
REVIEWED_NOTE = "Reviewed at the weekly attendance meeting; see the pupil's case if any."
_LEDGER_KINDS = (
    QueueKind.BAND_CHANGED,
    QueueKind.PA_STARTED,
    QueueKind.SA_STARTED,
    QueueKind.TEN_DAY_RETURN,
    QueueKind.GROUND_I_ENQUIRY,
    QueueKind.SICKNESS_RETURN,
    QueueKind.NEW_PUPIL_RETURN,
    QueueKind.LATENESS,
)
_FIRST_DAY = (QueueKind.FIRST_DAY_AM, QueueKind.FIRST_DAY_PM)
# The calls an officer makes before a pupil is flagged at day 3: nobody reached.
_UNANSWERED = (
    (ContactMethod.PHONE, ContactOutcome.NO_ANSWER, "Rang twice, no answer."),
    (ContactMethod.PHONE, ContactOutcome.VOICEMAIL, "Left a message asking for a call back."),
    (ContactMethod.TEXT, ContactOutcome.NO_ANSWER, "Text sent: no reply by the afternoon."),
)
# The reasons parents give when reached on the morning call (in turn).
_REASONS_GIVEN = (
    "Ill with a temperature; back tomorrow.",
    "Dental appointment this morning; in after lunch.",
    "Family emergency; will ring the office tomorrow.",
)
_REACHED_NOTE = "Parent reached. Mark left as N until the reason is confirmed in writing."
_VOICEMAIL_NOTE = "Left a message asking for a call back."


@dataclass(frozen=True)
class SchoolQueues:
    slug: str
    demo_day: dt.date
    opened_or_closed: int  # by the refresh
    open_items: int


def open_item_counts() -> dict[str, int]:
    """Open queue items per demo school slug (for the command's summary)."""
    with scopes_disabled():
        rows = (
            QueueItem.objects.filter(school__trust__slug=TRUST_SLUG, state=ItemState.OPEN)
            .values_list("school__slug")
            .annotate(n=Count("pk"))
        )
        return dict(rows)


def demo_staff(school: School, role: Role) -> StaffMembership:
    """The demo login's membership for ``role`` at ``school`` (officer@..., head@...)."""
    local = {
        Role.ATTENDANCE_OFFICER: "officer",
        Role.HEADTEACHER: "head",
        Role.PASTORAL_LEAD: "pastoral",
    }[role]
    return StaffMembership.objects.select_related("user").get(
        school=school, role=role, user__username=f"{local}@{school.slug}.example.org"
    )


def refresh_moment(school: School, day: dt.date, now: dt.datetime) -> dt.datetime:
    """When to read the queues of ``day``: ``now`` on the day itself, else the afternoon of
    ``day`` just after its register closed (inside the school day, so the demo clock keeps
    it as it is and both registers count as closed)."""
    local_now = school.local_time(now)
    if local_now.date() == day:
        return local_now
    moment = dt.datetime.combine(day, school.pm_register_closes, tzinfo=local_now.tzinfo)
    return moment + dt.timedelta(minutes=10)


def seed_demo_queues(*, last_days: dict[str, dt.date], now: dt.datetime) -> list[SchoolQueues]:
    """Bring every demo school's queues up to its demo day (``last_days``: school slug to the
    last day with marks) and work them as the officer would have by then."""
    out = []
    with scopes_disabled():
        schools = list(School.objects.filter(trust__slug=TRUST_SLUG, slug__in=last_days))
    for school in sorted(schools, key=lambda s: s.slug):
        with school_scope(school):
            out.append(_school_queues(school, last_days[school.slug], now))
    return out


@transaction.atomic
def _school_queues(school: School, day: dt.date, now: dt.datetime) -> SchoolQueues:
    moment = refresh_moment(school, day, now)
    changed = queues_refresh(school=school, as_of=day, now=moment)
    officer = demo_staff(school, Role.ATTENDANCE_OFFICER)
    _review_old(school, officer, moment)
    _work_first_day(school, officer, day, moment)
    return SchoolQueues(
        slug=school.slug,
        demo_day=day,
        opened_or_closed=changed,
        open_items=QueueItem.objects.filter(school=school, state=ItemState.OPEN).count(),
    )


def _review_old(school: School, officer: StaffMembership, moment: dt.datetime) -> None:
    old = QueueItem.objects.filter(
        school=school,
        state=ItemState.OPEN,
        kind__in=_LEDGER_KINDS,
        since__lt=(moment - REVIEWED_AFTER).date(),
    ).order_by("since", "pk")
    for item in old:
        closed_at = dt.datetime.combine(
            item.since + dt.timedelta(days=7), dt.time(15, 30), tzinfo=moment.tzinfo
        )
        queue_item_close(
            school=school,
            item=item,
            outcome=REVIEWED,
            note=REVIEWED_NOTE,
            by=officer,
            now=closed_at,
        )


def _work_first_day(
    school: School, officer: StaffMembership, day: dt.date, moment: dt.datetime
) -> None:
    items = QueueItem.objects.filter(
        school=school, kind__in=_FIRST_DAY, session_date=day, state=ItemState.OPEN
    ).select_related("pupil")
    called = set(
        ContactAttempt.objects.filter(school=school, item__in=items).values_list(
            "item_id", flat=True
        )
    )
    # Calls are logged just after the morning register closed (or at the refresh, if earlier).
    morning = dt.datetime.combine(day, school.am_register_closes, tzinfo=moment.tzinfo)
    at = min(morning + dt.timedelta(minutes=15), moment)
    ordered = list(items.order_by("pk"))
    # One morning call per pupil without an alert, on their first item of the day (AM first).
    routine: dict[int, QueueItem] = {}
    for item in sorted(ordered, key=lambda i: (i.session, i.pk)):
        if item.pupil_id is not None and not (item.details or {}).get("alert"):
            routine.setdefault(item.pupil_id, item)
    for n, pupil_id in enumerate(sorted(routine)):
        item = routine[pupil_id]
        if item.pk not in called:
            _morning_call(school, officer, item, reached=n % 2 == 0, n=n, at=at)
    for item in ordered:
        details = item.details or {}
        if int(details.get("tier", 99)) in SOCIAL_WORKER_TIERS and item.claimed_by_id is None:
            queue_item_claim(school=school, item=item, by=officer, now=at)
        if not details.get("alert") or item.pk in called or item.pupil is None:
            continue
        contacts = list(Contact.objects.filter(school=school, pupil=item.pupil)[:2])
        for n, (method, outcome, note) in enumerate(_UNANSWERED):
            contact_attempt_record(
                school=school,
                pupil=item.pupil,
                method=method,
                outcome=outcome,
                by=officer,
                item=item,
                contact=contacts[n % len(contacts)] if contacts else None,
                note=note,
                now=at + dt.timedelta(minutes=20 * n),
            )


def _morning_call(
    school: School,
    officer: StaffMembership,
    item: QueueItem,
    *,
    reached: bool,
    n: int,
    at: dt.datetime,
) -> None:
    """One phone call to the pupil's first contact: answered with a reason, or a voicemail."""
    assert item.pupil is not None
    contact = (
        Contact.objects.filter(school=school, pupil=item.pupil)
        .order_by("-parental_responsibility", "priority", "full_name")
        .first()
    )
    contact_attempt_record(
        school=school,
        pupil=item.pupil,
        method=ContactMethod.PHONE,
        outcome=ContactOutcome.REACHED if reached else ContactOutcome.VOICEMAIL,
        by=officer,
        item=item,
        contact=contact,
        reason_given=_REASONS_GIVEN[(n // 2) % len(_REASONS_GIVEN)] if reached else "",
        note=_REACHED_NOTE if reached else _VOICEMAIL_NOTE,
        now=at + dt.timedelta(minutes=5 + n),
    )
