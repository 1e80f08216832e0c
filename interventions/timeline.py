"""A pupil's timeline (issue 10 item 2): one date-ordered list, newest first, of what happened
to their attendance and what staff did about it: marks changed (the amendment history),
attendance events, contact attempts, case stage changes and actions, Notices to Improve and
penalty-notice requests.

Apps above interventions add their own rows through a provider (``@timeline_provider``,
registered in their ``AppConfig.ready``), so this module imports none of them: letters adds
its letters that way (``letters/timeline.py``).

Each source is one query whatever the number of rows, so the page's query count is fixed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from interventions.models import (
    AttendanceEvent,
    CaseAction,
    CaseStageChange,
    ContactAttempt,
    NoticeToImprove,
    PenaltyNoticeRequest,
)
from registers.models import MarkChange
from schools.models import Pupil, School, StaffMembership
from schools.permissions import Capability, can
from schools.pupil_page import PupilSection, pupil_section_provider
from schools.types import SchoolAccess


@dataclass(frozen=True)
class TimelineEntry:
    """One row: when, what kind (a stable word for styling and tests), what, and who."""

    at: dt.datetime
    kind: str
    title: str
    detail: str = ""
    by: str = ""
    date_only: bool = False  # only the day is known (an event, an NTI's issue): no time shown


TimelineProvider = Callable[[School, Pupil], list[TimelineEntry]]
_PROVIDERS: list[TimelineProvider] = []


def timeline_provider(provider: TimelineProvider) -> TimelineProvider:
    """Register ``provider`` (called with the school and the pupil) for every timeline."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def day_start(school: School, day: dt.date) -> dt.datetime:
    """A day-dated row's place on the timeline: the start of that day at the school."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(school.timezone))


def _name(membership: StaffMembership | None) -> str:
    return "" if membership is None else membership.user.get_full_name()


def _mark_changes(school: School, pupil: Pupil) -> list[TimelineEntry]:
    changes = MarkChange.objects.filter(school=school, pupil=pupil)
    return [
        TimelineEntry(
            at=c.changed_at,
            kind="mark-change",
            title=_("Mark for %(date)s %(session)s changed from %(old)s to %(new)s")
            % {
                "date": c.date.isoformat(),
                "session": c.session,
                "old": c.original_code,
                "new": c.new_code,
            },
            detail=c.reason,
            by=c.changed_by_name,
        )
        for c in changes
    ]


def _events(school: School, pupil: Pupil) -> list[TimelineEntry]:
    events = AttendanceEvent.objects.filter(school=school, pupil=pupil)
    return [
        TimelineEntry(
            at=day_start(school, e.occurred_on),
            date_only=True,
            kind="event",
            title=str(e.get_kind_display()),
            detail=_("Provisional (includes N)") if e.provisional else "",
        )
        for e in events
    ]


def _contacts(school: School, pupil: Pupil) -> list[TimelineEntry]:
    attempts = ContactAttempt.objects.filter(school=school, pupil=pupil).select_related(
        "contact", "made_by__user"
    )
    return [
        TimelineEntry(
            at=a.made_at,
            kind="contact",
            title=_("%(method)s to %(contact)s: %(outcome)s")
            % {
                "method": a.get_method_display(),
                "contact": a.contact.full_name if a.contact else _("a contact"),
                "outcome": a.get_outcome_display(),
            },
            detail=" ".join(part for part in (a.reason_given, a.note) if part),
            by=_name(a.made_by),
        )
        for a in attempts
    ]


def _stage_changes(school: School, pupil: Pupil) -> list[TimelineEntry]:
    changes = CaseStageChange.objects.filter(school=school, case__pupil=pupil).select_related(
        "from_stage", "to_stage", "changed_by__user"
    )
    return [
        TimelineEntry(
            at=c.changed_at,
            kind="stage",
            title=(
                _("Case opened at %(stage)s") % {"stage": c.to_stage.name}
                if c.from_stage is None
                else _("Case moved from %(old)s to %(new)s")
                % {"old": c.from_stage.name, "new": c.to_stage.name}
            ),
            detail=c.reason,
            by=_name(c.changed_by),
        )
        for c in changes
    ]


def _actions(school: School, pupil: Pupil) -> list[TimelineEntry]:
    actions = CaseAction.objects.filter(school=school, case__pupil=pupil).select_related(
        "owner__user"
    )
    entries = []
    for a in actions:
        entries.append(
            TimelineEntry(
                at=a.created_at,
                kind="action",
                title=_("%(kind)s planned for %(due)s: %(summary)s")
                % {"kind": a.get_kind_display(), "due": a.due_on.isoformat(), "summary": a.summary},
                by=_name(a.owner),
            )
        )
        if a.done_on is not None:
            entries.append(
                TimelineEntry(
                    at=day_start(school, a.done_on),
                    date_only=True,
                    kind="action-done",
                    title=_("%(kind)s done: %(summary)s")
                    % {"kind": a.get_kind_display(), "summary": a.summary},
                    detail=a.outcome,
                    by=_name(a.owner),
                )
            )
    return entries


def _ntis(school: School, pupil: Pupil) -> list[TimelineEntry]:
    ntis = NoticeToImprove.objects.filter(school=school, case__pupil=pupil).select_related(
        "issued_by__user"
    )
    return [
        TimelineEntry(
            at=day_start(school, n.issued_on),
            date_only=True,
            kind="nti",
            title=_("Notice to Improve issued: %(start)s to %(end)s")
            % {"start": n.period_start.isoformat(), "end": n.period_end.isoformat()},
            detail=n.outcome_note,
            by=_name(n.issued_by),
        )
        for n in ntis
    ]


def _pn_requests(school: School, pupil: Pupil) -> list[TimelineEntry]:
    requests = PenaltyNoticeRequest.objects.filter(school=school, pupil=pupil).select_related(
        "parent", "prepared_by__user"
    )
    return [
        TimelineEntry(
            at=r.prepared_at,
            kind="pn-request",
            title=_("Penalty-notice request for %(parent)s: %(status)s")
            % {"parent": r.parent.full_name, "status": r.get_status_display()},
            by=_name(r.prepared_by),
        )
        for r in requests
    ]


_SOURCES: tuple[TimelineProvider, ...] = (
    _mark_changes,
    _events,
    _contacts,
    _stage_changes,
    _actions,
    _ntis,
    _pn_requests,
)


def pupil_timeline(*, school: School, pupil: Pupil) -> list[TimelineEntry]:
    """Every source's rows and every registered provider's, newest first (ties: the order of
    the sources, so the list is stable). One query per source; call inside the school's
    scope."""
    entries: list[TimelineEntry] = []
    for source in (*_SOURCES, *_PROVIDERS):
        entries.extend(source(school, pupil))
    return sorted(entries, key=lambda entry: entry.at, reverse=True)


@pupil_section_provider
def timeline_section(
    school: School, access: SchoolAccess, pupil: Pupil, today: dt.date
) -> PupilSection | None:
    """The timeline on the pupil page, for those who see cases (not parents); the page has
    already checked that this viewer sees this pupil."""
    if not can(access, Capability.VIEW_CASES):
        return None
    return PupilSection(
        "_components/timeline.html", {"entries": pupil_timeline(school=school, pupil=pupil)}
    )
