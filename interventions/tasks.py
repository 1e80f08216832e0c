"""Celery tasks of the attendance engine: thin (ids in, the school's scope, a service call).

The beat schedule runs ``attendance_nightly_fanout_task`` every 5 minutes; it sends one
``attendance_recompute_school_task`` per school whose school day is over in its own time
zone and that has no full run for today yet. Register saves, amendments and imports send
``attendance_recompute_pupils_task`` after their transaction commits. Every task is
idempotent (a second run writes nothing new), acknowledged late and requeued if the worker
dies, and retried with back-off when the database is unavailable.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from celery import shared_task
from celery.exceptions import Retry
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scopes_disabled
from kombu.exceptions import OperationalError as BrokerUnavailable

from interventions.casework import la_returns_raise
from interventions.models import RecomputeRun, RunKind
from interventions.queues import queues_refresh
from interventions.recompute import pupils_recompute, school_recompute
from interventions.selectors import academic_period_for
from schools.models import School
from schools.scoping import school_scope

logger = logging.getLogger(__name__)

# The nightly run starts this long after the school's afternoon session ends, so late
# amendments and the office's end-of-day work are in it.
EVENING_DELAY = dt.timedelta(hours=2)
# A full run is stopped by Celery at RUN_TIME_LIMIT (the largest school's run takes seconds),
# so one started longer than RUN_PATIENCE ago and not finished cannot still be running: its
# worker died. The fan-out (every 5 minutes) then sends the school again, so a crashed night
# is picked up within about 15 minutes rather than after the broker's 2-hour visibility
# timeout (security Q-03: the time limit stays well under that timeout).
RUN_TIME_LIMIT = dt.timedelta(minutes=8)
RUN_PATIENCE = dt.timedelta(minutes=10)

ABANDONED = "Abandoned: not finished within the time limit (the worker was lost)"

_RELIABLE: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 30,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


def school_day_over(school: School, local: dt.datetime) -> bool:
    """Is it evening at ``school`` (its afternoon session ended ``EVENING_DELAY`` ago)?"""
    ends = dt.datetime.combine(local.date(), school.pm_session_ends, tzinfo=local.tzinfo)
    return local >= ends + EVENING_DELAY


def schools_due_tonight(now: dt.datetime | None = None) -> list[tuple[School, dt.date]]:
    """Active schools whose evening has come and that have no full run for today that
    finished cleanly or is still running."""
    now = now or timezone.now()
    due: list[tuple[School, dt.date]] = []
    for school in School.objects.filter(is_active=True).order_by("pk"):
        local = school.local_time(now)
        if not school_day_over(school, local):
            continue
        with school_scope(school):
            # Say why a run never finished, so its record does not look as if it were running.
            RecomputeRun.objects.filter(
                school=school,
                kind=RunKind.FULL,
                finished_at__isnull=True,
                error="",
                started_at__lt=now - RUN_PATIENCE,
            ).update(error=ABANDONED)
            done = RecomputeRun.objects.filter(
                Q(finished_at__isnull=False, error="")
                | Q(finished_at__isnull=True, started_at__gte=now - RUN_PATIENCE),
                school=school,
                kind=RunKind.FULL,
                as_of=local.date(),
            ).exists()
        if not done:
            due.append((school, local.date()))
    return due


@shared_task(name="interventions.nightly_fanout")
def attendance_nightly_fanout_task() -> list[int]:
    """Send one recompute per school whose evening has come (one school's failure does not
    hold up the others)."""
    with scopes_disabled():
        due = schools_due_tonight()
    for school, today in due:
        attendance_recompute_school_task.delay(school.pk, today.isoformat())
    return [school.pk for school, _ in due]


@shared_task(
    name="interventions.recompute_school",
    time_limit=int(RUN_TIME_LIMIT.total_seconds()),
    **_RELIABLE,
)
def attendance_recompute_school_task(school_id: int, as_of: str | None = None) -> int:
    school = School.objects.get(pk=school_id)
    day = dt.date.fromisoformat(as_of) if as_of else school.local_time().date()
    with school_scope(school):
        run = school_recompute(school=school, as_of=day)
        # New-pupil and deletion returns come from the roll, not the marks: raised nightly.
        year_start, _year_end = academic_period_for(school=school, on=day)
        la_returns_raise(school=school, since=year_start)
        # The queues follow the new results and ledger (interventions.queues).
        queues_refresh(school=school, as_of=day)
        return run.pk


@shared_task(name="interventions.recompute_pupils", **_RELIABLE)
def attendance_recompute_pupils_task(
    school_id: int, pupil_ids: Sequence[int], changed_from: str | None
) -> int:
    school = School.objects.get(pk=school_id)
    today = school.local_time().date()
    with school_scope(school):
        run = pupils_recompute(
            school=school,
            pupil_ids=pupil_ids,
            as_of=today,
            changed_from=dt.date.fromisoformat(changed_from) if changed_from else None,
        )
        # Within a minute of the register save: these pupils' queue items follow their marks.
        queues_refresh(school=school, as_of=today, pupil_ids=pupil_ids)
        return run.pk


def recompute_after_commit(
    *, school: School, pupil_ids: Sequence[int], changed_from: dt.date
) -> None:
    """Once the current transaction commits, recompute these pupils (marks changed from
    ``changed_from`` on). In the embedded default the task runs in-process."""

    def send() -> None:
        try:
            attendance_recompute_pupils_task.delay(
                school.pk, sorted(set(pupil_ids)), changed_from.isoformat()
            )
        except (DatabaseError, Retry):
            # Eager mode runs the task here: a failed recompute must not fail a register save
            # that has committed; the run's record keeps the error and tonight's full run
            # recomputes everyone.
            logger.exception("Recompute after a change of marks failed (school %s)", school.pk)
        except BrokerUnavailable:
            # Redis is down (security Q-06): the marks are saved, which is what matters; the
            # evening's full run (the fan-out, once Redis is back) recomputes every pupil.
            logger.exception("Recompute not sent, the broker is unavailable (school %s)", school.pk)

    transaction.on_commit(send)


# A school's every-minute refresh waits in the broker at most this long before another may be
# sent (the mark is normally cleared when the waiting one starts).
REFRESH_PENDING = dt.timedelta(minutes=10)


def _refresh_pending_key(school_id: int) -> str:
    return f"interventions:queues-refresh-pending:{school_id}"


@shared_task(name="interventions.queues_refresh_all")
def queues_refresh_all_task() -> int:
    """Every minute: one queue refresh per active school, since a register closing (or staying
    incomplete) changes the first-day queue without any mark changing. A school whose last
    refresh has not started yet gets no second one: at the morning peak (benchmarks/
    morning_peak.py) the minutes' whole-school refreshes piled up in the one queue ahead of
    the register saves' recomputes, and a waiting refresh will see the latest state anyway.
    Returns the number sent."""
    schools = list(School.objects.filter(is_active=True).values_list("pk", flat=True))
    sent = 0
    for school_id in schools:
        pending = int(REFRESH_PENDING.total_seconds())
        key = _refresh_pending_key(school_id)
        if cache.add(key, True, timeout=pending):
            try:
                queues_refresh_school_task.delay(school_id)
            except Exception:
                cache.delete(key)  # not sent: the next minute tries again
                raise
            sent += 1
    return sent


@shared_task(name="interventions.queues_refresh_school", **_RELIABLE)
def queues_refresh_school_task(school_id: int) -> int:
    # Started: the next minute may send another (it will see what this one misses).
    cache.delete(_refresh_pending_key(school_id))
    school = School.objects.get(pk=school_id)
    with school_scope(school):
        return queues_refresh(school=school, as_of=school.local_time().date())
