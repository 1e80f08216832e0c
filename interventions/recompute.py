"""The engine's write path: recompute a school's stored results, write the crossings to the
event ledger once, and record the run.

``school_recompute`` is the nightly full run (every enrolment of the current academic year,
from its marks). ``pupils_recompute`` follows a change of marks (a register save, an
amendment, an import): it carries the stored results of the pupils concerned forward over the
new days when only marks after their stored ``as_of`` changed, and computes them again from
their marks otherwise. Both are idempotent: a result equal to the stored one is not written,
and an event already in the ledger is not written again.

Each run's work is one transaction, so a run killed half-way leaves the previous results
whole; its ``RecomputeRun`` row (written first, in its own transaction) stays without
``finished_at``, which is how an unfinished run shows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from interventions import casework, engine
from interventions.models import (
    AttendanceEvent,
    EnrolmentAttendance,
    RecomputeRun,
    RunKind,
)
from interventions.selectors import academic_period_for, engine_rules_get
from interventions.summaries import summaries_rewrite
from schools.models import School
from schools.selectors import school_calendar_get

STATE_FIELDS = engine.STATE_FIELDS
# What an upsert rewrites: everything but the row's identity (enrolment and year).
_UPDATE_FIELDS = [
    *(name for name in STATE_FIELDS if name not in ("enrolment_id", "period_start")),
    "computed_at",
    "run",
]


def school_recompute(
    *, school: School, as_of: dt.date, now: dt.datetime | None = None
) -> RecomputeRun:
    """Compute every enrolment of ``school`` in the academic year of ``as_of`` from its marks,
    store the results and write the crossings. Call inside ``school_scope(school)``."""
    run = _run_start(school=school, kind=RunKind.FULL, as_of=as_of, now=now)
    with _recording(run):
        period_start, period_end = academic_period_for(school=school, on=as_of)
        with transaction.atomic():
            _tune_for_the_run()
            stored = _stored_states(school=school, period_start=period_start, pupil_ids=None)
            calendar = school_calendar_get(school=school)
            computed = engine.compute(
                school=school,
                calendar=calendar,
                rules=engine_rules_get(school=school),
                period_start=period_start,
                period_end=period_end,
                as_of=as_of,
            )
            written = _store(school=school, run=run, computed=computed, stored=stored, now=now)
            # Issue 12: the dashboards' weekly summaries, kept by the same path.
            summaries_rewrite(
                school=school,
                calendar=calendar,
                period_start=period_start,
                period_end=period_end,
                as_of=as_of,
            )
            _returns_raise(school=school, run=run, written=written)
    return run


def pupils_recompute(
    *,
    school: School,
    pupil_ids: Collection[int],
    as_of: dt.date,
    changed_from: dt.date | None = None,
    now: dt.datetime | None = None,
) -> RecomputeRun:
    """Bring the stored results of ``pupil_ids`` up to ``as_of`` after their marks changed.

    ``changed_from`` is the earliest date of a mark that changed (``None``: unknown). A stored
    result whose ``as_of`` is before ``changed_from`` is carried forward (``engine.advance``);
    any other is computed again from the marks. A result already as of ``as_of`` with only
    later marks changed is left as it is. Call inside ``school_scope(school)``.
    """
    run = _run_start(school=school, kind=RunKind.INCREMENTAL, as_of=as_of, now=now)
    with _recording(run):
        period_start, period_end = academic_period_for(school=school, on=as_of)
        calendar = school_calendar_get(school=school)
        rules = engine_rules_get(school=school)
        with transaction.atomic():
            _tune_for_the_run()
            stored = _stored_states(school=school, period_start=period_start, pupil_ids=pupil_ids)
            to_advance: dict[dt.date, list[engine.EnrolmentState]] = defaultdict(list)
            settled: set[int] = set()
            for state in stored.values():
                if changed_from is not None and changed_from > state.as_of:
                    if state.as_of == as_of:
                        settled.add(state.enrolment_id)
                    elif period_start <= state.as_of < as_of:
                        to_advance[state.as_of].append(state)
            computed: list[engine.Computed] = []
            for states in to_advance.values():
                computed += engine.advance(
                    school=school, calendar=calendar, rules=rules, states=states, as_of=as_of
                )
            done = settled | {c.state.enrolment_id for c in computed}
            again = {s.pupil_id for s in stored.values() if s.enrolment_id not in done}
            # Pupils with no stored result yet (new to the year) are computed too.
            again |= set(pupil_ids) - {s.pupil_id for s in stored.values()}
            if again:
                computed += [
                    c
                    for c in engine.compute(
                        school=school,
                        calendar=calendar,
                        rules=rules,
                        period_start=period_start,
                        period_end=period_end,
                        as_of=as_of,
                        pupil_ids=again,
                    )
                    if c.state.enrolment_id not in done
                ]
            written = _store(school=school, run=run, computed=computed, stored=stored, now=now)
            summaries_rewrite(
                school=school,
                calendar=calendar,
                period_start=period_start,
                period_end=period_end,
                as_of=as_of,
                pupil_ids=pupil_ids,
                changed_from=_summaries_from(changed_from, pupil_ids, stored),
            )
            _returns_raise(school=school, run=run, written=written)
    return run


# --- Internals ------------------------------------------------------------------------------


def _summaries_from(
    changed_from: dt.date | None,
    pupil_ids: Collection[int],
    stored: dict[int, engine.EnrolmentState],
) -> dt.date | None:
    """The first day whose weekly summaries may differ from the stored ones: the earliest
    changed mark, or the day after the earliest stored ``as_of`` (the summaries were written
    with the results, to the same day). ``None`` (the whole year) when the change is unknown
    or a pupil has no stored result (nothing of theirs was summarised)."""
    if changed_from is None or not stored:
        return None
    if set(pupil_ids) - {state.pupil_id for state in stored.values()}:
        return None
    return min(changed_from, min(state.as_of for state in stored.values()) + dt.timedelta(1))


def _run_start(
    *, school: School, kind: RunKind, as_of: dt.date, now: dt.datetime | None
) -> RecomputeRun:
    # Outside the work's transaction, so a run that dies still leaves its record.
    return RecomputeRun.objects.create(
        school=school, kind=kind, as_of=as_of, started_at=now or timezone.now()
    )


@contextlib.contextmanager
def _recording(run: RecomputeRun) -> Iterator[None]:
    """Close the run's record: when it finished, and the error if it failed."""
    try:
        yield
    except BaseException as error:
        run.error = f"{type(error).__name__}: {error}"[:2000]
        raise
    finally:
        run.finished_at = timezone.now()
        run.save(update_fields=["finished_at", "error", "enrolments", "events"])


def _tune_for_the_run() -> None:
    """PostgreSQL settings for this run's transaction only. The nightly run is parallel by
    school (one task per school on each core), so a query's own parallel workers would only
    contend for the same cores, and with them the planner chose a parallel scan of the whole
    marks table for one school (1.6 s, against 0.23 s from the school's index). The grouped
    count of a large school needs more than the default 4 MB to aggregate in memory."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cursor.execute("SET LOCAL work_mem = '32MB'")


def _stored_states(
    *, school: School, period_start: dt.date, pupil_ids: Collection[int] | None
) -> dict[int, engine.EnrolmentState]:
    """The stored results of the year, locked until the run's transaction ends (so two runs
    for one pupil queue rather than interleave), by enrolment."""
    rows = EnrolmentAttendance.objects.select_for_update().filter(
        school=school, period_start=period_start
    )
    if pupil_ids is not None and len(pupil_ids) < engine.WHOLE_SCHOOL_PUPILS:
        rows = rows.filter(pupil_id__in=list(pupil_ids))
    wanted = None if pupil_ids is None else set(pupil_ids)
    return {
        row["enrolment_id"]: engine.EnrolmentState(**row)
        for row in rows.order_by("enrolment_id").values(*STATE_FIELDS)
        if wanted is None or row["pupil_id"] in wanted
    }


def _store(
    *,
    school: School,
    run: RecomputeRun,
    computed: Sequence[engine.Computed],
    stored: dict[int, engine.EnrolmentState],
    now: dt.datetime | None,
) -> list[AttendanceEvent]:
    now = now or run.started_at
    changed = [c.state for c in computed if stored.get(c.state.enrolment_id) != c.state]
    _results_write(school=school, run=run, states=changed, now=now)
    # Events this year's runs already wrote are not sent again (the unique constraint would
    # ignore them, but sending them all every night is most of a quiet night's work).
    known = (
        _known_events(school=school, period_start=computed[0].state.period_start, computed=computed)
        if computed
        else set()
    )
    events = [
        AttendanceEvent(
            school=school,
            enrolment_id=c.state.enrolment_id,
            pupil_id=c.state.pupil_id,
            kind=event.kind,
            key=event.key,
            occurred_on=event.occurred_on,
            session=event.session,
            provisional=event.provisional,
            detail=dict(event.detail),
            created_at=now,
            run=run,
        )
        for c in computed
        for event in itertools.chain(
            c.events, engine.transition_events(stored.get(c.state.enrolment_id), c.state)
        )
        if (c.state.enrolment_id, event.kind, event.key) not in known
    ]
    _events_write(events)
    run.enrolments = len(computed)
    # A conflicting event (a concurrent run wrote it first) is not inserted: the run's own
    # events are exactly the new ones.
    run.events = AttendanceEvent.objects.filter(school=school, run=run).count()
    return events


def _returns_raise(
    *, school: School, run: RecomputeRun, written: Sequence[AttendanceEvent]
) -> None:
    """Raise the LA returns that this run's new events call for (no query when none does)."""
    kinds = casework.RETURN_EVENT_KINDS
    if any(event.kind in kinds for event in written):
        events = AttendanceEvent.objects.filter(school=school, run=run, kind__in=list(kinds))
        casework.la_returns_raise(
            school=school, events=list(events.select_related("enrolment__pupil"))
        )


def _known_events(
    *, school: School, period_start: dt.date, computed: Sequence[engine.Computed]
) -> set[tuple[int, str, str]]:
    """The ledger's events of these enrolments that a run of this year can write again: every
    event the engine finds is dated in the year (from its first day)."""
    events = AttendanceEvent.objects.filter(school=school, occurred_on__gte=period_start)
    if len(computed) < engine.WHOLE_SCHOOL_PUPILS:
        events = events.filter(enrolment_id__in=[c.state.enrolment_id for c in computed])
    return set(events.values_list("enrolment_id", "kind", "key"))


# The stored result's columns, in the order _results_write sends them.
_COLUMNS = ("school_id", *STATE_FIELDS, "computed_at", "run_id")
_TABLE = EnrolmentAttendance._meta.db_table
_ON_CONFLICT = f"""
    ON CONFLICT (enrolment_id, period_start) DO UPDATE SET
    {", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c not in ("enrolment_id", "period_start"))}
"""
_UPSERT = f"""
    INSERT INTO {_TABLE} ({", ".join(_COLUMNS)}) VALUES ({", ".join(["%s"] * len(_COLUMNS))})
    {_ON_CONFLICT}
"""  # noqa: S608 (column names from the model; values are parameters)
# PostgreSQL: the rows are copied into a temporary table, then upserted in one statement.
_STAGE = "interventions_results_stage"
_STAGE_CREATE = f"""
    CREATE TEMPORARY TABLE IF NOT EXISTS {_STAGE} ON COMMIT DELETE ROWS
    AS SELECT {", ".join(_COLUMNS)} FROM {_TABLE} WITH NO DATA
"""  # noqa: S608 (table and column names from the model)
_STAGE_UPSERT = f"""
    INSERT INTO {_TABLE} ({", ".join(_COLUMNS)}) SELECT {", ".join(_COLUMNS)} FROM {_STAGE}
    {_ON_CONFLICT}
"""  # noqa: S608 (table and column names from the model)


def _results_write(
    *,
    school: School,
    run: RecomputeRun,
    states: Sequence[engine.EnrolmentState],
    now: dt.datetime,
) -> None:
    """Insert or replace the stored results.

    Plain SQL rather than ``bulk_create(update_conflicts=True)``: preparing ~45 values a row
    through the model fields cost more than the database's work when a whole school is
    written every night. On PostgreSQL the rows are sent with ``COPY`` into a temporary table
    and upserted from it in one statement (a third of the per-row upserts' time); elsewhere
    (SQLite) one upsert per row, in one batch. The same tests run on both.
    """
    if not states:
        return
    rows = _result_rows(school=school, run=run, states=states, now=now)
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(_UPSERT, rows)
            return
        cursor.execute(_STAGE_CREATE)
        # The temporary table lives for the connection; its rows for the transaction.
        cursor.execute(f"TRUNCATE {_STAGE}")
        with cursor.cursor.copy(f"COPY {_STAGE} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(_STAGE_UPSERT)


def _result_rows(
    *,
    school: School,
    run: RecomputeRun,
    states: Sequence[engine.EnrolmentState],
    now: dt.datetime,
) -> list[list[Any]]:
    """The rows in ``_COLUMNS`` order, values adapted by the backend's own rules."""
    ops = connection.ops
    computed_at = ops.adapt_datetimefield_value(now)
    rows = []
    for state in states:
        values: list[Any] = [school.pk]
        for name in STATE_FIELDS:
            value = getattr(state, name)
            if name in _DATE_FIELDS:
                value = ops.adapt_datefield_value(value)
            elif name == "code_counts":
                value = json.dumps(value, sort_keys=True)
            values.append(value)
        rows.append([*values, computed_at, run.pk])
    return rows


_DATE_FIELDS = frozenset(
    f.attname
    for f in EnrolmentAttendance._meta.concrete_fields
    if isinstance(f, models.DateField) and f.attname in STATE_FIELDS
)


def _events_write(events: Iterable[AttendanceEvent]) -> None:
    AttendanceEvent.objects.bulk_create(events, batch_size=1000, ignore_conflicts=True)
