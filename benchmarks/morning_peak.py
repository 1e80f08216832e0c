"""The morning peak: a trust of 30 schools closes its AM registers within ten minutes.

    .venv/bin/python benchmarks/morning_peak.py [--minutes 10] [--savers 16] [--workers 4]

It uses its own PostgreSQL database (``bench_peak``, generated once by
``benchmarks/engine/run.py --pupils 15000 --schools 30 --only-generate``: 30 schools,
15,000 pupils in 580 forms of at most 30, a school year of marks up to the cut-off D) and Redis
database 7.
Every run then starts from the same morning:

- the clock of every process is moved to 08:50 (Europe/London) on D + 1, the day after the
  generated marks (``benchmarks/morning_peak_clock.py``), so the run is a school morning
  whatever the real day;
- anything an earlier run left is removed (D + 1's marks, registers and history; the queues,
  the event ledger and the stored results), then the nightly run of D is done for each school
  (``school_recompute`` and a whole-school ``queues_refresh``), as the night before a real
  morning;
- each school's AM register opens at 08:30 and closes at 08:50, the moment the run starts
  (``--close-after`` moves the close later). A register saved complete after its close is
  locked at once, so its ``N`` marks are due in the first-day queue as soon as the save
  commits; a register saved before its close waits for the close and then for the
  every-minute refresh. The figure that matters is therefore measured from the later of the
  save and the close ("due").

gunicorn (``--port``, default 8104) serves the project, and a real Celery worker with beat
(concurrency 2, one per core) takes the on-commit recomputes and the every-minute queue
refreshes from Redis. One tutor per form is signed in (sessions made as ``login`` makes them,
since 580 password hashes would take minutes on two cores). The 580 AM registers are saved
through the JSON API at random moments spread over the window, 6% of pupils marked ``N``
(``--absent-percent``), each tutor first opening the register as the page does. A poller reads
the first-day queue every quarter of a second; when every absent pupil is in it (or
``--patience`` seconds after the last save) an attendance officer of the largest school loads
its queue page 50 times. It prints save latency, save-to-queue latency (p50/p95/max) and the
queue page's p50/p95.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import queue
import random
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import zoneinfo
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SERVER = "postgres://postgres@127.0.0.1:5432"
DEFAULT_DB = "bench_peak"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
PUPILS, SCHOOLS = 15000, 30
LONDON = zoneinfo.ZoneInfo("Europe/London")
START = dt.time(8, 50)  # the school clock when the window opens
OPENS, SESSION_ENDS = dt.time(8, 30), dt.time(12, 0)
FIRST_DAY_AM = "first-day-am"


@dataclass
class Save:
    school_slug: str
    school_id: int
    form_id: int
    at: float  # seconds into the window
    cookie: str = ""
    csrf: str = ""
    absent: list[int] = field(default_factory=list)  # pupil ids marked N
    saved: float | None = None  # real time.time() when the response arrived
    took: float | None = None
    error: str = ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="window (default 10)")
    parser.add_argument("--savers", type=int, default=16, help="saves at once at most (16)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery processes (2)")
    parser.add_argument("--absent-percent", type=float, default=6.0, help="N marks (6)")
    parser.add_argument(
        "--close-after",
        type=float,
        default=0.0,
        help="minutes into the window the AM registers close (default 0: at the start)",
    )
    parser.add_argument(
        "--patience",
        type=float,
        default=300.0,
        help="seconds to wait for the queue after the last save (300)",
    )
    parser.add_argument("--page-requests", type=int, default=50, help="queue page loads (50)")
    parser.add_argument("--port", type=int, default=8104, help="gunicorn's port (8104)")
    parser.add_argument("--db", default=DEFAULT_DB, help=f"database (default {DEFAULT_DB})")
    args = parser.parse_args()

    url = f"{SERVER}/{args.db}"
    redis_url = os.environ.get("PEAK_REDIS_URL", DEFAULT_REDIS)
    _generate_if_missing(args.db)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "attendance_app.settings.base",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CONN_MAX_AGE": "60",
        "DJANGO_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    os.environ.update(env)
    import django

    django.setup()
    from benchmarks.engine import generate

    meta = generate.meta_get()
    cut_off = dt.date.fromisoformat(meta["cut_off"])
    day = dt.date.fromisoformat(meta["next_day"])
    # Every process's clock: 08:50 at the school on D + 1 now, then moving with real time.
    offset = dt.datetime.combine(day, START, tzinfo=LONDON).timestamp() - time.time()
    os.environ["PEAK_CLOCK_OFFSET"] = env["PEAK_CLOCK_OFFSET"] = f"{offset:.3f}"
    from benchmarks import morning_peak_clock

    morning_peak_clock.install()

    _log(f"morning peak: {args.db}, cut-off D = {cut_off}, the morning of {day:%a %d %b %Y}")
    _reset(
        url=url,
        cut_off=cut_off,
        close_after=args.close_after,
        night_saved=meta.get("peak_night") == "yes",
    )
    saves, officer_cookie, largest_slug = _plan(args, day)
    _log(f"  {len(saves)} registers in {len({s.school_id for s in saves})} schools")

    subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], check=True, capture_output=True)
    # Sessions live in the cache (Redis) and the database: made again after the flush.
    saves, officer_cookie = _sessions(saves, officer_cookie)
    workdir = Path(tempfile.mkdtemp(prefix="morning-peak-"))
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "benchmarks.morning_peak_clock:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            # Loaded once before the workers fork: four workers importing the project at
            # once on two busy cores outlast gunicorn's 30 s timeout.
            "--preload",
            "--timeout",
            "120",
        ],
        cwd=ROOT,
        env=env,
    )
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "benchmarks.morning_peak_clock",
            "worker",
            "--beat",
            "--schedule",
            str(workdir / "beat-schedule"),
            "--concurrency",
            str(args.concurrency),
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=(workdir / "worker.log").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(args.port)
        seen: dict[int, float] = {}
        stop = threading.Event()
        poller = threading.Thread(target=_poll_queue, args=(day, seen, stop), daemon=True)
        poller.start()
        window = args.minutes * 60
        began = time.time()
        _log(
            f"  saving {len(saves)} registers over {args.minutes:g} min ({args.savers} at once at most)"
        )
        _save_all(args, saves, day, began)
        last_save = time.time()
        _log(f"  last save {last_save - began:.0f} s into the window; waiting for the queue")
        wanted = {p for s in saves if s.saved for p in s.absent}
        deadline = max(last_save, began + args.close_after * 60) + args.patience
        while time.time() < deadline and not wanted <= seen.keys():
            time.sleep(0.5)
        stop.set()
        poller.join()
        page = _queue_page(args.port, officer_cookie, largest_slug, args.page_requests)
        runs = _run_durations()
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        subprocess.run(["redis-cli", "-u", redis_url, "FLUSHDB"], check=False, capture_output=True)
    _report(args, saves, seen, began, window, page, runs, largest_slug, workdir)


# --- Preparing the morning ----------------------------------------------------------------------


def _generate_if_missing(db: str) -> None:
    import psycopg

    complete = False
    try:
        with psycopg.connect(f"{SERVER}/{db}") as pg:
            row = pg.execute("SELECT to_regclass('bench.meta') IS NOT NULL").fetchone()
            if row and row[0]:
                done = pg.execute("SELECT value FROM bench.meta WHERE key = 'complete'").fetchone()
                complete = bool(done and done[0] == "yes")
    except psycopg.OperationalError:
        pass  # no database yet
    if not complete:
        _log(f"generating {PUPILS:,} pupils in {SCHOOLS} schools in {db} (about three minutes)")
        subprocess.run(
            [
                sys.executable,
                "benchmarks/engine/run.py",
                "--pupils",
                str(PUPILS),
                "--schools",
                str(SCHOOLS),
                "--db",
                db,
                "--only-generate",
            ],
            cwd=ROOT,
            check=True,
        )


# What the night before leaves (the engine's results, ledger, summaries and returns, and the
# queues), saved once in the ``bench`` schema and put back before every run.
NIGHT_TABLES = (
    "interventions_recomputerun",
    "interventions_attendanceevent",
    "interventions_enrolmentattendance",
    "interventions_weeklysummary",
    "interventions_lareturn",
    "interventions_queueitem",
)


def _reset(*, url: str, cut_off: dt.date, close_after: float, night_saved: bool) -> None:
    """Remove what an earlier run left, set the register times, and put back the night
    before (made, and saved, on the first run)."""
    import psycopg
    from django_scopes import scopes_disabled

    from benchmarks.engine import generate
    from interventions.queues import queues_refresh
    from interventions.recompute import school_recompute
    from schools.models import School
    from schools.scoping import school_scope

    started = time.perf_counter()
    close = (dt.datetime.combine(cut_off, START) + dt.timedelta(minutes=close_after)).time()
    with scopes_disabled():
        School.objects.update(
            am_register_opens=OPENS, am_register_closes=close, am_session_ends=SESSION_ENDS
        )
    with psycopg.connect(url) as pg:
        pg.execute(
            "DELETE FROM registers_markchange WHERE mark_id IN "
            "(SELECT id FROM registers_attendancemark WHERE date > %s)",
            [cut_off],
        )
        pg.execute("DELETE FROM registers_attendancemark WHERE date > %s", [cut_off])
        pg.execute("DELETE FROM registers_register WHERE date > %s", [cut_off])
        # Everything the engine and the queues wrote (the other interventions tables hold
        # only what these runs made: contacts, changes of items).
        pg.execute(f"TRUNCATE {', '.join(NIGHT_TABLES)} CASCADE")
        if night_saved:
            for table in NIGHT_TABLES:
                pg.execute(f"INSERT INTO {table} SELECT * FROM bench.peak_{table}")  # noqa: S608
    with psycopg.connect(url, autocommit=True) as pg:
        pg.execute("VACUUM ANALYZE registers_attendancemark")
    if not night_saved:
        evening = dt.datetime.combine(cut_off, dt.time(19, 0), tzinfo=LONDON)
        with scopes_disabled():
            schools = list(School.objects.order_by("pk"))
        for school in schools:
            with school_scope(school):
                school_recompute(school=school, as_of=cut_off, now=evening)
                queues_refresh(school=school, as_of=cut_off, now=evening)
        with psycopg.connect(url) as pg:
            for table in NIGHT_TABLES:
                pg.execute(f"DROP TABLE IF EXISTS bench.peak_{table}")
                pg.execute(f"CREATE TABLE bench.peak_{table} AS TABLE {table}")
        generate._meta_set(peak_night="yes")
    _log(
        f"  reset, and the night before (results, ledger, queues as of {cut_off}) "
        f"{'put back' if night_saved else 'made and saved'} in "
        f"{time.perf_counter() - started:.0f} s; AM registers close at {close:%H:%M:%S}"
    )


def _plan(args: argparse.Namespace, day: dt.date) -> tuple[list[Save], str, str]:
    """One tutor per form (made once), each form's N marks and its moment in the window."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import User
    from django_scopes import scopes_disabled

    from schools import models as m

    rng = random.Random("morning-peak")
    window = args.minutes * 60
    saves: list[Save] = []
    with scopes_disabled():
        # Nobody signs in with it: the sessions are made directly (see _sessions).
        unusable = make_password(None)
        forms = list(m.FormGroup.objects.select_related("school").order_by("pk"))
        tutored = set(m.FormTutor.objects.values_list("form_id", flat=True))
        for form in forms:
            if form.pk in tutored:
                continue
            user, _ = User.objects.get_or_create(
                username=f"peak-tutor-{form.pk}@example.org", defaults={"password": unusable}
            )
            membership = m.StaffMembership.objects.create(
                school=form.school, user=user, role=m.Role.FORM_TUTOR
            )
            m.FormTutor.objects.create(school=form.school, form=form, membership=membership)
        for form in forms:
            saves.append(
                Save(
                    school_slug=form.school.slug,
                    school_id=form.school_id,
                    form_id=form.pk,
                    at=rng.uniform(0, window),
                )
            )
        sizes = Counter(m.Pupil.objects.values_list("school_id", flat=True))
        largest = min(sizes, key=lambda school_id: (-sizes[school_id], school_id))
        largest_slug = m.School.objects.get(pk=largest).slug
        officer, _ = User.objects.get_or_create(
            username="peak-officer@example.org", defaults={"password": unusable}
        )
        m.StaffMembership.objects.get_or_create(
            school_id=largest, user=officer, role=m.Role.ATTENDANCE_OFFICER
        )
    saves.sort(key=lambda s: s.at)
    return saves, officer.username, largest_slug


def _sessions(saves: list[Save], officer: str) -> tuple[list[Save], str]:
    """A signed-in session per tutor and the officer, made as ``django.contrib.auth.login``
    makes them (the test client's ``force_login``), and a CSRF cookie of our own."""
    from django.contrib.auth.models import User
    from django.test import Client

    users = {
        u.username: u
        for u in User.objects.filter(username__startswith="peak-").only("pk", "username")
    }

    def cookie(username: str) -> tuple[str, str]:
        client = Client()
        client.force_login(users[username])
        csrf = secrets.token_hex(16)
        return f"sessionid={client.cookies['sessionid'].value}; csrftoken={csrf}", csrf

    for save in saves:
        save.cookie, save.csrf = cookie(f"peak-tutor-{save.form_id}@example.org")
    return saves, cookie(officer)[0]


# --- The window -----------------------------------------------------------------------------------


def _save_all(args: argparse.Namespace, saves: list[Save], day: dt.date, began: float) -> None:
    jobs: queue.Queue[Save | None] = queue.Queue()
    for save in saves:
        jobs.put(save)
    threads = [
        threading.Thread(target=_saver, args=(args.port, jobs, day, began, args.absent_percent))
        for _ in range(args.savers)
    ]
    for thread in threads:
        jobs.put(None)
        thread.start()
    for thread in threads:
        thread.join()


def _saver(
    port: int,
    jobs: queue.Queue[Save | None],
    day: dt.date,
    began: float,
    absent_percent: float,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while (save := jobs.get()) is not None:
        time.sleep(max(0.0, began + save.at - time.time()))
        headers = {
            "Cookie": save.cookie,
            "X-CSRFToken": save.csrf,
            "Content-Type": "application/json",
            "Referer": f"http://127.0.0.1:{port}/",
        }
        path = f"/api/v1/s/{save.school_slug}/registers/{save.form_id}/{day.isoformat()}/AM/"
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                save.error = f"GET HTTP {response.status}: {body[:200]!r}"
                continue
            rows = json.loads(body)["rows"]
            # The same pupils are absent in every run (a generator seeded by the form).
            rng = random.Random(f"morning-peak-{save.form_id}")
            absent = {r["pupil"] for r in rows if rng.random() * 100 < absent_percent}
            payload = {
                "marks": [
                    {
                        "pupil": row["pupil"],
                        "code": "N" if row["pupil"] in absent else "/",
                        "version": row["version"],
                    }
                    for row in rows
                ]
            }
            sent = time.time()
            connection.request("POST", path, body=json.dumps(payload), headers=headers)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                save.error = f"POST HTTP {response.status}: {body[:200]!r}"
                continue
            save.saved = time.time()
            save.took = save.saved - sent
            save.absent = sorted(absent)
        except (OSError, http.client.HTTPException) as error:
            save.error = f"{type(error).__name__}: {error}"
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)


def _poll_queue(day: dt.date, seen: dict[int, float], stop: threading.Event) -> None:
    """When each pupil's first-day item for ``day`` became visible (real time, 0.25 s)."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from interventions.models import QueueItem

    try:
        with scopes_disabled():
            while not stop.is_set():
                rows = QueueItem.objects.filter(kind=FIRST_DAY_AM, session_date=day)
                now = time.time()
                for pupil_id in rows.values_list("pupil_id", flat=True):
                    seen.setdefault(pupil_id, now)
                stop.wait(0.25)
    finally:
        connection.close()


def _queue_page(port: int, cookie: str, slug: str, requests: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    timings = []
    for _ in range(requests):
        began = time.perf_counter()
        connection.request("GET", f"/s/{slug}/queues/?queue=first-day", headers={"Cookie": cookie})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"The queue page answered HTTP {response.status}")
        timings.append(time.perf_counter() - began)
    return timings


def _run_durations() -> list[float]:
    """How long each after-save recompute task's engine run took (from its record)."""
    from django_scopes import scopes_disabled

    from interventions.models import RecomputeRun, RunKind

    with scopes_disabled():
        runs = RecomputeRun.objects.filter(kind=RunKind.INCREMENTAL, finished_at__isnull=False)
        return [(r.finished_at - r.started_at).total_seconds() for r in runs if r.finished_at]


# --- Report -------------------------------------------------------------------------------------


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def _report(
    args: argparse.Namespace,
    saves: list[Save],
    seen: dict[int, float],
    began: float,
    window: float,
    page: list[float],
    runs: list[float],
    largest_slug: str,
    workdir: Path,
) -> None:
    ok = [s for s in saves if s.saved is not None]
    failed = [s for s in saves if s.saved is None]
    close = began + args.close_after * 60
    from_save: list[float] = []
    from_due: list[float] = []
    missing = 0
    for save in ok:
        assert save.saved is not None
        for pupil in save.absent:
            if pupil not in seen:
                missing += 1
                continue
            from_save.append(seen[pupil] - save.saved)
            from_due.append(seen[pupil] - max(save.saved, close))
    took = [s.took for s in ok if s.took is not None]
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print()
    print(
        f"morning_peak: {len(saves)} AM registers, {args.minutes:g} min window, "
        f"registers close {args.close_after:g} min in, {args.workers} gunicorn workers, "
        f"Celery concurrency {args.concurrency} with beat; load average now {load}"
    )
    print(f"  saves:                 {len(ok)} ok, {len(failed)} failed")
    if took:
        print(
            f"  save (ms):             p50 {_pct(took, 50) * 1000:.0f}  "
            f"p95 {_pct(took, 95) * 1000:.0f}  max {max(took) * 1000:.0f}"
        )
    absent = sum(len(s.absent) for s in ok)
    print(f"  pupils N:              {absent}, {missing} not in the queue by the end")
    if from_save:
        print(
            f"  save -> queue (s):     p50 {_pct(from_save, 50):.1f}  "
            f"p95 {_pct(from_save, 95):.1f}  max {max(from_save):.1f}"
        )
        print(
            f"  due -> queue (s):      p50 {_pct(from_due, 50):.1f}  "
            f"p95 {_pct(from_due, 95):.1f}  max {max(from_due):.1f}  (due: the later of "
            f"the save and the close)"
        )
    if runs:
        print(
            f"  after-save runs (s):   {len(runs)} runs, p50 {_pct(runs, 50):.2f}  "
            f"p95 {_pct(runs, 95):.2f}  (the engine's part of each task)"
        )
    print(
        f"  queue page (ms):       {largest_slug}, {len(page)} loads: "
        f"p50 {_pct(page, 50) * 1000:.0f}  p95 {_pct(page, 95) * 1000:.0f}"
    )
    if failed:
        print(f"  first failure:         {failed[0].error}")
    print(f"  worker log:            {workdir / 'worker.log'}")


def _wait_for(port: int) -> None:
    # Minutes, not seconds: the project loads slowly on two cores shared with other work.
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", "/health/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


if __name__ == "__main__":
    main()
