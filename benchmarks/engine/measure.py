"""Timing the floor and the recomputes, and the recompute worker processes.

Each recompute phase starts ``workers`` fresh processes (``spawn``: each runs ``django.setup()``
itself, like a Celery worker with that concurrency), waits until every one has set up and
connected, then hands out school ids from one queue, largest school first, and times from the
first id handed out to the last school finished. Every worker reports its peak resident set
(``VmHWM``, see ``_max_rss_kib``) after each school, so the phase's peak memory is the largest
any worker reached.
"""

from __future__ import annotations

import datetime as dt
import importlib
import multiprocessing as mp
import os
import queue
import resource
import statistics
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

FLOOR_SQL = "SELECT pupil_id, count(*) FROM registers_attendancemark GROUP BY pupil_id"
# Not a target, for context: the cheapest aggregate that reads every mark's code. The floor can
# be answered from the small pupil_id index alone (an index-only scan once the table is
# vacuumed); anything that classifies marks has to read the table or a wider index.
CODES_SQL = "SELECT pupil_id, code, count(*) FROM registers_attendancemark GROUP BY pupil_id, code"


@dataclass
class Timings:
    """Repeated wall-clock runs of one figure, in seconds."""

    runs: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


@dataclass(frozen=True)
class PhaseRun:
    seconds: float
    peak_mib: float  # the largest peak resident set of any worker, set-up included
    setup_mib: float  # the same after django.setup() and connecting, before any work
    slowest_school: tuple[int, float]  # (school id, seconds)
    missing: str | None = None  # interventions.recompute is not importable yet


def floor_run(*, conninfo: str, query: str = FLOOR_SQL) -> tuple[float, int]:
    """(a): the bare aggregate, every row fetched to the client; (seconds, rows)."""
    with psycopg.connect(conninfo) as pg:
        pg.execute("SELECT 1")  # connected and warm: time the query alone
        began = time.perf_counter()
        rows = pg.execute(query).fetchall()
        return time.perf_counter() - began, len(rows)


def plan_scans(*, conninfo: str, query: str) -> list[str]:
    """How PostgreSQL plans to read the marks for ``query`` (its scan nodes)."""
    with psycopg.connect(conninfo) as pg:
        row = pg.execute(f"EXPLAIN (FORMAT JSON) {query}").fetchone()
    assert row is not None
    scans: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if "Scan" in node["Node Type"]:
            index = f" using {node['Index Name']}" if "Index Name" in node else ""
            parallel = "Parallel " if node.get("Parallel Aware") else ""
            scans.append(f"{parallel}{node['Node Type']}{index}")
        for child in node.get("Plans", []):
            walk(child)

    walk(row[0][0]["Plan"])
    return scans


def session_settings(*, conninfo: str) -> dict[str, str]:
    """The settings a measuring connection gets (``PGOPTIONS`` included)."""
    names = (
        "work_mem",
        "max_parallel_workers_per_gather",
        "jit",
        "shared_buffers",
        "effective_cache_size",
        "random_page_cost",
    )
    shown = {}
    with psycopg.connect(conninfo) as pg:
        for name in names:
            row = pg.execute(f"SHOW {name}").fetchone()
            shown[name] = str(row[0]) if row else "?"
    return shown


def school_pupils(*, conninfo: str) -> list[tuple[int, list[int]]]:
    """Every school's pupil ids, largest school first (fetched before any timing starts)."""
    with psycopg.connect(conninfo) as pg:
        rows = pg.execute(
            "SELECT school_id, array_agg(id ORDER BY id) FROM schools_pupil "
            "GROUP BY school_id ORDER BY count(*) DESC, school_id"
        ).fetchall()
    return [(school_id, list(ids)) for school_id, ids in rows]


def recompute_phase(
    *,
    kind: str,
    workers: int,
    as_of: dt.date,
    schools: Sequence[tuple[int, list[int]]],
    module: str = "interventions.recompute",
) -> PhaseRun:
    """Run ``school_recompute`` (``kind="full"``) or ``pupils_recompute`` (``"incremental"``)
    for every school across ``workers`` processes; time it from the first school handed out."""
    context = mp.get_context("spawn")
    tasks: Any = context.Queue()
    results: Any = context.Queue()
    processes = [
        context.Process(target=_worker, args=(tasks, results, kind, as_of.isoformat(), module))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    try:
        setup_kib = 0
        for _ in processes:
            message = _receive(results, processes)
            if message[0] == "missing":
                return PhaseRun(0.0, 0.0, 0.0, (0, 0.0), missing=message[2])
            if message[0] != "ready":
                raise RuntimeError(f"A worker failed to start: {message}")
            setup_kib = max(setup_kib, message[2])

        began = time.perf_counter()
        for school_id, pupil_ids in schools:
            tasks.put((school_id, pupil_ids if kind == "incremental" else None))
        peak_kib = setup_kib
        slowest = (0, 0.0)
        for _ in schools:
            message = _receive(results, processes)
            if message[0] == "error":
                raise RuntimeError(f"Recompute failed for school {message[1]}:\n{message[2]}")
            _, school_id, seconds, kib = message
            peak_kib = max(peak_kib, kib)
            slowest = max(slowest, (school_id, seconds), key=lambda item: item[1])
        elapsed = time.perf_counter() - began
        for _ in processes:
            tasks.put(None)
        for _ in processes:
            message = _receive(results, processes, exiting=True)
            peak_kib = max(peak_kib, message[2])
        for process in processes:
            process.join(timeout=60)
        return PhaseRun(elapsed, peak_kib / 1024, setup_kib / 1024, slowest)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)


def _receive(results: Any, processes: Sequence[Any], *, exiting: bool = False) -> Any:
    """The next worker message; raise if a worker died without saying why (killed, crashed)."""
    while True:
        try:
            return results.get(timeout=5)
        except queue.Empty:
            dead = [p for p in processes if not p.is_alive() and (p.exitcode or not exiting)]
            if dead:
                codes = ", ".join(str(p.exitcode) for p in dead)
                raise RuntimeError(f"A recompute worker died (exit code {codes})") from None


def _max_rss_kib() -> int:
    """This process's peak resident set in KiB: Linux's ``VmHWM``.

    Not ``ru_maxrss``: Linux carries that across ``exec``, so a spawned worker would report the
    parent's resident set at the moment it was forked whenever the parent was larger.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux, bytes on macOS


def _worker(tasks: Any, results: Any, kind: str, as_of_iso: str, module: str) -> None:
    """One recompute worker: set up Django, say ready, then recompute schools until ``None``."""
    import django

    django.setup()
    from django.conf import settings

    # As in production: with DEBUG on, Django keeps each connection's last 9,000 SQL statements,
    # which would count in the memory figure.
    settings.DEBUG = False
    try:  # being written alongside this benchmark: until then only the floor is measured
        recompute = importlib.import_module(module)
        school_recompute, pupils_recompute = recompute.school_recompute, recompute.pupils_recompute
    except (ImportError, AttributeError) as error:
        results.put(("missing", os.getpid(), f"{module}: {error}"))
        return
    from django.db import connection

    from schools.models import School
    from schools.scoping import school_scope

    connection.ensure_connection()
    as_of = dt.date.fromisoformat(as_of_iso)
    results.put(("ready", os.getpid(), _max_rss_kib()))
    while (task := tasks.get()) is not None:
        school_id, pupil_ids = task
        try:
            school = School.objects.get(pk=school_id)
            began = time.perf_counter()
            with school_scope(school):
                if kind == "full":
                    school_recompute(school=school, as_of=as_of)
                else:
                    # The day's marks are new and dated as_of: carried forward from D.
                    pupils_recompute(
                        school=school, pupil_ids=pupil_ids, as_of=as_of, changed_from=as_of
                    )
            results.put(("done", school_id, time.perf_counter() - began, _max_rss_kib()))
        except Exception:
            results.put(("error", school_id, traceback.format_exc(), _max_rss_kib()))
    results.put(("exit", os.getpid(), _max_rss_kib()))
