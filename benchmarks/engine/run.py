"""The attendance engine at local-authority scale: a year of marks, the nightly and incremental
recomputes against a bare aggregate, and the recompute's peak memory.

    .venv/bin/python benchmarks/engine/run.py [--pupils 100000] [--schools 100]
        [--db attendance_bench] [--skip-generate] [--workers 2] [--skip-single]
        [--only-generate | --only-floor]
        [--repeat 3] [--recompute-repeat 2] [--pg-set NAME=VALUE ...] [--recompute-module M]

It uses its own PostgreSQL database (created if missing, migrated), generates a synthetic
authority (``generate.py``) with marks for every session of 2025/26 up to the cut-off D, the
school day before the year's last, then prints:

(a) the floor: ``SELECT pupil_id, count(*) ... GROUP BY pupil_id`` over the marks, all rows
    fetched (and, for context only, ``GROUP BY pupil_id, code``, which must read every code);
(b) the full nightly recompute as of D: ``interventions.recompute.school_recompute`` for every
    school, across ``--workers`` processes and across one;
(c) the incremental recompute: the last school day's marks for every pupil are inserted (timed
    on its own, not counted), then ``pupils_recompute`` with all of each school's pupils;
(d) the peak resident memory of any recompute worker;

with PASS or MISS against the targets: full within 3x the floor, incremental within 10% of the
full run, peak memory under 1 GiB. See benchmarks/engine/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

if TYPE_CHECKING:
    from benchmarks.engine.measure import Timings

SERVER = "postgres://postgres@127.0.0.1:5432"
FULL_TARGET = 3.0  # full recompute within 3x the floor
INCREMENTAL_TARGET = 0.10  # incremental within 10% of the full run
MEMORY_TARGET_MIB = 1024.0


def main() -> None:
    args = _arguments()
    url = f"{SERVER}/{args.db}"
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "attendance_app.settings.local"
    if args.pg_set:
        # libpq reads PGOPTIONS for every connection: the floor's, and the workers' Django ones.
        os.environ["PGOPTIONS"] = " ".join(f"-c {setting}" for setting in args.pg_set)
    _database_prepare(args.db, regenerate=not args.skip_generate)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False  # no query log while 100,000 pupils are bulk-created (see measure.py)
    call_command("migrate", verbosity=0)

    from benchmarks.engine import generate

    meta = generate.meta_get()
    if args.skip_generate and meta.get("complete") == "yes":
        print(
            f"engine benchmark: using the data in {args.db}: {int(meta['pupils']):,} pupils, "
            f"{meta['schools']} schools, {int(meta['marks']):,} marks "
            f"(generated in {float(meta['generated_seconds']):.0f} s)"
        )
    elif args.skip_generate:
        raise SystemExit(
            f"{args.db} holds no complete generated data: run without --skip-generate."
        )
    else:
        print(
            f"engine benchmark: generating {args.pupils:,} pupils in {args.schools} schools in "
            f"{args.db}; load session settings: {_settings_text(generate.LOAD_SETTINGS)}"
        )
        done = generate.generate(pupils=args.pupils, schools=args.schools, conninfo=url, log=_log)
        print(f"  generated in {done.seconds:.0f} s ({done.seconds / 60:.1f} min)")
        _generation_summary(url, done.cut_off)
        meta = generate.meta_get()
    print(f"  marks table: {_table_size(url)} (table, indexes and TOAST)")
    if args.only_generate:
        return

    cut_off = dt.date.fromisoformat(meta["cut_off"])
    next_day = dt.date.fromisoformat(meta["next_day"])
    removed = generate.marks_after_delete(conninfo=url, after=cut_off)
    if removed:
        print(f"  removed {removed:,} marks after {cut_off} left by an earlier incremental step")
        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute("VACUUM ANALYZE registers_attendancemark")
    _run_measurements(args, url, cut_off, next_day, int(meta["marks"]))


def _run_measurements(
    args: argparse.Namespace, url: str, cut_off: dt.date, next_day: dt.date, marks: int
) -> None:
    from benchmarks.engine import generate, measure

    current = measure.session_settings(conninfo=url)
    chosen = ", ".join(args.pg_set) if args.pg_set else "none, server defaults"
    print(f"  PostgreSQL session settings for measuring: {chosen}")
    print(f"  in effect: {_settings_text(current)}")
    print(f"  cut-off D = {cut_off:%a %d %b %Y}; incremental day D+1 = {next_day:%a %d %b %Y}")
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"  load average before measuring: {load} on {os.cpu_count()} cores (keep it near 0)")
    report = Report(
        marks=marks, workers=args.workers, floor=measure.Timings(), codes=measure.Timings()
    )

    for i in range(args.repeat):
        seconds, rows = measure.floor_run(conninfo=url)
        report.floor.runs.append(seconds)
        _log(f"  (a) floor run {i + 1}: {seconds:.2f} s, {rows:,} rows")
    report.floor_plan = measure.plan_scans(conninfo=url, query=measure.FLOOR_SQL)
    for i in range(args.repeat):
        seconds, rows = measure.floor_run(conninfo=url, query=measure.CODES_SQL)
        report.codes.runs.append(seconds)
        _log(f"  (a') reading codes, run {i + 1}: {seconds:.2f} s, {rows:,} rows")
    report.codes_plan = measure.plan_scans(conninfo=url, query=measure.CODES_SQL)
    if args.only_floor:
        report.print()
        return

    schools = measure.school_pupils(conninfo=url)

    # The day the stored results are as of now (None: unknown, as the database was found).
    stored: list[dt.date | None] = [None]

    def results_as_of(day: dt.date) -> Callable[[], object]:
        """Put every stored result back as of ``day`` (untimed), as a previous night left it;
        nothing to do when the last run left them as of ``day`` (a full run as of D ignores
        the D+1 marks, so the last timed full run leaves them as the incremental run needs)."""

        def put_back() -> None:
            if stored[0] != day:
                measure.recompute_phase(
                    kind="full",
                    workers=args.workers,
                    as_of=day,
                    schools=schools,
                    module=args.recompute_module,
                )
            stored[0] = day

        return put_back

    # Every timed full run rewrites every result, as a real night does: the results are first
    # put back as of the day before D.
    the_night_before = results_as_of(cut_off - dt.timedelta(days=1))
    report.full = _phase(args, "full", args.workers, cut_off, schools, the_night_before, stored)
    if report.full is None:
        report.print()
        return
    if args.workers > 1 and not args.skip_single:
        report.sequential = _phase(args, "full", 1, cut_off, schools, the_night_before, stored)

    began = time.perf_counter()
    report.inserted = generate.next_day_insert(conninfo=url, next_day=next_day)
    report.insert_seconds = time.perf_counter() - began
    _log(
        f"  (c) inserted {report.inserted:,} marks for {next_day} in "
        f"{report.insert_seconds:.2f} s (not counted)"
    )
    report.incremental = _phase(
        args,
        "incremental",
        args.workers,
        next_day,
        schools,
        # Each run starts from results as of D, as after the previous night (not timed).
        results_as_of(cut_off),
        stored,
    )
    report.print()


@dataclass
class Phase:
    timings: Timings
    peak_mib: float
    setup_mib: float


@dataclass
class Report:
    marks: int
    workers: int
    floor: Timings
    codes: Timings  # GROUP BY pupil, code: context only
    floor_plan: list[str] = field(default_factory=list)
    codes_plan: list[str] = field(default_factory=list)
    full: Phase | None = None
    sequential: Phase | None = None
    incremental: Phase | None = None
    inserted: int = 0
    insert_seconds: float = 0.0

    def print(self) -> None:
        print()
        print(f"engine benchmark: {self.marks:,} marks; best and median of each (ratios use best)")
        print(f"  {'figure':<40}{'best':>10}{'median':>10}{'runs':>6}  {'target':<12}result")
        _row("(a) floor: GROUP BY pupil", self.floor)
        _row("(a') for context: GROUP BY pupil, code", self.codes)
        self._recomputes()
        print(f"  plan of (a):  {', '.join(self.floor_plan)}")
        print(f"  plan of (a'): {', '.join(self.codes_plan)}")

    def _recomputes(self) -> None:
        if self.full is None:
            print("  (b)-(d) not measured: the recompute is not importable yet")
            return
        plural = "s" if self.workers > 1 else ""
        _row(f"(b) full recompute, {self.workers} worker{plural}", self.full.timings)
        if self.sequential is not None:
            _row("(b) full recompute, 1 worker", self.sequential.timings)
        ratio = self.full.timings.best / self.floor.best
        _verdict(
            "    full / floor", f"{ratio:.2f}x", f"<= {FULL_TARGET:.0f}x", ratio <= FULL_TARGET
        )
        phases = [p for p in (self.full, self.sequential, self.incremental) if p is not None]
        if self.incremental is not None:
            print(
                f"  {'(c) insert D+1 marks (not counted)':<40}{self.insert_seconds:>9.2f}s"
                f"{'':>10}{1:>6}  {self.inserted:,} marks"
            )
            _row(f"(c) incremental, {self.workers} worker{plural}", self.incremental.timings)
            share = self.incremental.timings.best / self.full.timings.best
            _verdict(
                "    incremental / full",
                f"{share:.1%}",
                f"<= {INCREMENTAL_TARGET:.0%}",
                share <= INCREMENTAL_TARGET,
            )
        peak = max(p.peak_mib for p in phases)
        _verdict(
            "(d) peak worker memory (max RSS)",
            f"{peak:.0f} MiB",
            f"< {MEMORY_TARGET_MIB:.0f} MiB",
            peak < MEMORY_TARGET_MIB,
        )
        setup = max(p.setup_mib for p in phases)
        print(f"      (a worker after django.setup(), before any work: {setup:.0f} MiB)")


def _phase(
    args: argparse.Namespace,
    kind: str,
    workers: int,
    as_of: dt.date,
    schools: list[tuple[int, list[int]]],
    before_each: Callable[[], object],
    stored: list[dt.date | None],
) -> Phase | None:
    """``args.recompute_repeat`` runs of one recompute phase; ``None`` if there is no recompute.
    ``before_each`` runs (untimed) before every run; ``stored[0]`` is set to the day each run
    leaves the stored results as of."""
    from benchmarks.engine import measure

    phase = Phase(timings=measure.Timings(), peak_mib=0.0, setup_mib=0.0)
    label = "(b) full" if kind == "full" else "(c) incremental"
    for i in range(args.recompute_repeat):
        before_each()
        run = measure.recompute_phase(
            kind=kind, workers=workers, as_of=as_of, schools=schools, module=args.recompute_module
        )
        stored[0] = as_of
        if run.missing:
            print(f"  {label}: skipped, the recompute is not there yet ({run.missing})")
            return None
        phase.timings.runs.append(run.seconds)
        phase.peak_mib = max(phase.peak_mib, run.peak_mib)
        phase.setup_mib = max(phase.setup_mib, run.setup_mib)
        school_id, slowest = run.slowest_school
        _log(
            f"  {label}, {workers} worker{'s' if workers > 1 else ''}, run {i + 1}: "
            f"{run.seconds:.2f} s, peak {run.peak_mib:.0f} MiB "
            f"(slowest school {school_id}: {slowest:.2f} s)"
        )
    return phase


def _row(label: str, timings: Timings) -> None:
    print(f"  {label:<40}{timings.best:>9.2f}s{timings.median:>9.2f}s{len(timings.runs):>6}")


def _verdict(label: str, value: str, target: str, ok: bool) -> None:
    print(f"  {label:<40}{value:>10}{'':>10}{'':>6}  {target:<12}{'PASS' if ok else 'MISS'}")


# --- Set-up -------------------------------------------------------------------------------------


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=100_000, help="pupils (default 100000)")
    parser.add_argument("--schools", type=int, default=100, help="schools (default 100)")
    parser.add_argument("--db", default="attendance_bench", help="database (attendance_bench)")
    parser.add_argument(
        "--skip-generate", action="store_true", help="measure the data already in --db"
    )
    parser.add_argument(
        "--workers", type=int, default=2, help="recompute processes (default 2, the cores)"
    )
    parser.add_argument(
        "--skip-single",
        action="store_true",
        help="with more than one worker, skip timing the full run with a single worker too",
    )
    parser.add_argument("--repeat", type=int, default=3, help="floor runs (default 3)")
    parser.add_argument(
        "--recompute-repeat", type=int, default=2, help="runs of each recompute (default 2)"
    )
    parser.add_argument(
        "--pg-set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for the measuring sessions, e.g. work_mem=64MB (repeatable)",
    )
    parser.add_argument(
        "--recompute-module",
        default="interventions.recompute",
        help="where school_recompute and pupils_recompute live (default interventions.recompute)",
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--only-generate", action="store_true", help="generate, then stop")
    only.add_argument("--only-floor", action="store_true", help="measure the floor alone")
    args = parser.parse_args()
    if not args.db.replace("_", "").isalnum():
        parser.error("--db must be letters, digits and underscores")
    if args.workers < 1 or args.repeat < 1 or args.recompute_repeat < 1:
        parser.error("--workers, --repeat and --recompute-repeat must be at least 1")
    for setting in args.pg_set:
        name, _, value = setting.partition("=")
        if not name.replace("_", "").isalnum() or not value or " " in value:
            parser.error(f"--pg-set takes NAME=VALUE without spaces, not {setting!r}")
    return args


def _database_prepare(name: str, *, regenerate: bool) -> None:
    """Create the database if it is missing. To regenerate, drop and recreate it, but only if
    it is empty or holds an earlier run of this benchmark."""
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as pg:
        exists = pg.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and regenerate:
            with psycopg.connect(f"{SERVER}/{name}") as target:
                ours = target.execute("SELECT to_regclass('bench.meta') IS NOT NULL").fetchone()
                has_schools = target.execute(
                    "SELECT to_regclass('public.schools_school') IS NOT NULL"
                ).fetchone()
                schools = 0
                if has_schools and has_schools[0]:
                    counted = target.execute("SELECT count(*) FROM schools_school").fetchone()
                    schools = counted[0] if counted else 0
            if not (ours and ours[0]) and schools:
                raise SystemExit(
                    f"{name} holds schools that this benchmark did not generate; drop it "
                    f"yourself (dropdb -h 127.0.0.1 -U postgres {name}) or choose another --db."
                )
            pg.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
            exists = None
        if not exists:
            pg.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _generation_summary(url: str, cut_off: dt.date) -> None:
    from benchmarks.engine import generate

    began = time.perf_counter()
    summary = generate.summary_query(conninfo=url, cut_off=cut_off)
    total = sum(summary.codes.values())
    shares = ", ".join(f"{code} {count / total:.2%}" for code, count in summary.codes.items())
    pupils = summary.pupils
    print(f"  codes to {cut_off}: {shares}")
    print(
        f"  absence {summary.absence_rate:.1%} of possible sessions; persistently absent "
        f"{summary.persistent / pupils:.1%} of {pupils:,} pupils, severely absent "
        f"{summary.severe / pupils:.1%} "
        f"(checked in {time.perf_counter() - began:.0f} s)"
    )


def _table_size(url: str) -> str:
    with psycopg.connect(url) as pg:
        row = pg.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('registers_attendancemark'))"
        ).fetchone()
    return str(row[0]) if row else "?"


def _settings_text(settings: dict[str, str]) -> str:
    return ", ".join(f"{name}={value}" for name, value in settings.items())


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


if __name__ == "__main__":
    main()
