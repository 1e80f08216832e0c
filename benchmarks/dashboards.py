"""The dashboards at local-authority scale (issue 12 item 6): the school dashboard of the
largest school and the trust dashboard of a 30-school trust, p95 over 50 requests through
gunicorn against the engine benchmark's PostgreSQL database.

    .venv/bin/python benchmarks/dashboards.py [--db bench_perf] [--schools 100 --pupils 100000]
        [--requests 50] [--trust-schools 30] [--port 8108] [--workers 2]

It uses the database ``benchmarks/engine/run.py`` generates (generating it first, at the size
given, if it holds no complete data: ``--schools 6 --pupils 6000`` makes a quick one), then:

1. brings the stored results and weekly summaries to the cut-off D with the full recompute
   (only if the year has no summaries yet), and copies this year's summaries 52 weeks back as
   last year's, so "same week last year" has something to read (only if there are none);
2. moves the first ``--trust-schools`` schools into a trust of their own with a leader, and
   gives the largest school a headteacher;
3. starts gunicorn on ``--port`` with DEBUG off, "today" pinned to D (``dashboards_wsgi.py``:
   the generated year is 2025/26, whatever the machine's date), signs both users in, warms
   each page with 3 requests, then times ``--requests`` sequential requests of each page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.register_load import _cookies, _sign_in  # noqa: E402

SERVER = "postgres://postgres@127.0.0.1:5432"
PASSWORD = "bench-password-1234"  # the password register_load signs in with
TARGET_MS = 300.0
HEAD = "bench-head@example.org"
LEADER = "bench-trust-leader@example.org"
TRUST_SLUG = "bench-trust-30"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="bench_perf")
    parser.add_argument("--schools", type=int, default=100, help="if generating (default 100)")
    parser.add_argument("--pupils", type=int, default=100_000, help="if generating")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--trust-schools", type=int, default=30)
    parser.add_argument("--port", type=int, default=8108)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args()
    url = f"{SERVER}/{args.db}"
    if not _complete(url):
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "benchmarks" / "engine" / "run.py"),
                "--only-generate",
                "--db",
                args.db,
                "--schools",
                str(args.schools),
                "--pupils",
                str(args.pupils),
            ],
            check=True,
        )
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "attendance_app.settings.base"
    import django

    django.setup()
    from django.conf import settings

    settings.DEBUG = False
    from django.core.management import call_command

    from benchmarks.engine import generate

    call_command("migrate", verbosity=0)
    cut_off = dt.date.fromisoformat(generate.meta_get()["cut_off"])
    school_slug, pupils, trust_schools, trust_pupils, measured = _users_ensure(args.trust_schools)
    _summaries_ensure(url, cut_off, measured)
    env = {
        **os.environ,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CONN_MAX_AGE": "60",
        "DJANGO_LOG_LEVEL": "WARNING",
        "BENCH_TODAY": cut_off.isoformat(),
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "benchmarks.dashboards_wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            # Load the application once, before forking, and let a slow first request on a
            # loaded machine finish.
            "--preload",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_for(args.port)
        pages = [
            (
                f"school dashboard, largest school ({pupils:,} pupils)",
                HEAD,
                f"/s/{school_slug}/dashboard/",
            ),
            (
                f"trust dashboard, {trust_schools} schools ({trust_pupils:,} pupils)",
                LEADER,
                f"/t/{TRUST_SLUG}/dashboard/",
            ),
        ]
        results = []
        for label, user, path in pages:
            jar = _sign_in(args.port, user)
            for _ in range(3):
                _get(args.port, path, jar)
            timings = [_get(args.port, path, jar) for _ in range(args.requests)]
            results.append((label, timings))
            print(f"  {label}: p95 {_p95(timings):.0f} ms", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print()
    print(
        f"dashboards benchmark: {args.db}, as of {cut_off}, {args.requests} sequential requests "
        f"each through gunicorn ({args.workers} workers); load average after: {load}"
    )
    print(f"  {'page':<52}{'p50':>9}{'p95':>9}{'max':>9}  target p95 < {TARGET_MS:.0f} ms")
    for label, timings in results:
        ordered = sorted(timings)
        p95 = _p95(timings)
        print(
            f"  {label:<52}{statistics.median(ordered):>7.0f}ms{p95:>7.0f}ms"
            f"{ordered[-1]:>7.0f}ms  {'PASS' if p95 < TARGET_MS else 'MISS'}"
        )


def _p95(timings: list[float]) -> float:
    ordered = sorted(timings)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def _complete(url: str) -> bool:
    try:
        with psycopg.connect(url) as pg:
            row = pg.execute("SELECT value FROM bench.meta WHERE key = 'complete'").fetchone()
    except psycopg.Error:
        return False
    return row is not None and row[0] == "yes"


def _summaries_ensure(url: str, cut_off: dt.date, measured: set[int]) -> None:
    """The stored results and summaries as of D of the measured schools that have none (the
    full recompute, 2 workers), last year's summaries as this year's shifted back 52 weeks (a
    second year of marks would take the generator twice as long, and the dashboards read only
    the summaries), and the rollups of both years."""
    from benchmarks.engine import measure
    from interventions.selectors import _default_academic_period

    with psycopg.connect(url) as pg:
        done = {
            school_id
            for (school_id,) in pg.execute(
                "SELECT DISTINCT school_id FROM interventions_weeklysummary"
            ).fetchall()
        }
    missing = [s for s in measure.school_pupils(conninfo=url) if s[0] in measured - done]
    if missing:
        began = time.perf_counter()
        measure.recompute_phase(kind="full", workers=2, as_of=cut_off, schools=missing)
        print(
            f"  stored results and summaries of {len(missing)} schools as of {cut_off}: "
            f"{time.perf_counter() - began:.0f} s"
        )
    with psycopg.connect(url) as pg:
        this_year = pg.execute(
            "SELECT max(period_start) FROM interventions_weeklysummary"
        ).fetchone()
        assert this_year is not None
        last_start = _default_academic_period(this_year[0] - dt.timedelta(days=1))[0]
        have = {
            school_id
            for (school_id,) in pg.execute(
                "SELECT DISTINCT school_id FROM interventions_weeklysummary "
                "WHERE period_start = %s",
                [last_start],
            ).fetchall()
        }
        lacking = sorted(measured - have)
        if lacking:
            pg.execute(
                """
                INSERT INTO interventions_weeklysummary (school_id, enrolment_id, pupil_id,
                    period_start, week_start, possible_sessions, present_sessions, aea_sessions,
                    authorised_sessions, unauthorised_sessions, not_counted_sessions,
                    late_sessions, code_counts)
                SELECT school_id, enrolment_id, pupil_id, %s, week_start - 364,
                    possible_sessions, present_sessions, aea_sessions, authorised_sessions,
                    unauthorised_sessions, not_counted_sessions, late_sessions, code_counts
                FROM interventions_weeklysummary
                WHERE period_start = %s AND school_id = ANY(%s)
                """,
                [last_start, this_year[0], lacking],
            )
            pg.execute("ANALYZE interventions_weeklysummary")
            print(f"  last year's summaries copied from this year's (period {last_start})")
        rolled = {
            (school_id, start)
            for school_id, start in pg.execute(
                "SELECT DISTINCT school_id, period_start FROM interventions_schoolrollup"
            ).fetchall()
        }
        # Last year has summaries but no stored results, so only this year has a year row.
        years = {
            (school_id, start)
            for school_id, start in pg.execute(
                "SELECT school_id, period_start FROM interventions_schoolyearrollup"
            ).fetchall()
        }
    _rollups_ensure(
        ({(pk, start) for pk in measured for start in (this_year[0], last_start)} - rolled)
        | ({(pk, this_year[0]) for pk in measured} - years)
    )


def _rollups_ensure(wanted: set[tuple[int, dt.date]]) -> None:
    """The rollups of summaries and results written before ``SchoolRollup`` and
    ``SchoolYearRollup`` existed (or copied above)."""
    from django.db import transaction

    from interventions.summaries import rollup_rewrite
    from schools.models import School
    from schools.scoping import school_scope

    for school_id, start in sorted(wanted):
        school = School.objects.get(pk=school_id)
        with school_scope(school), transaction.atomic():
            rollup_rewrite(school=school, period_start=start, first=start)


def _users_ensure(trust_schools: int) -> tuple[str, int, int, int, set[int]]:
    """A head for the largest school and a leader of a trust of the first ``trust_schools``
    schools; returns the school's slug and roll, the trust's schools and roll, and the ids of
    the schools measured."""
    from django.contrib.auth.models import User
    from django.db.models import Count
    from django_scopes import scopes_disabled

    from schools import models as m

    with scopes_disabled():
        top = (
            m.Pupil.objects.values("school_id")
            .annotate(roll=Count("pk"))
            .order_by("-roll", "school_id")
            .first()
        )
        assert top is not None
        largest, roll = m.School.objects.get(pk=top["school_id"]), top["roll"]
        head, _ = User.objects.get_or_create(username=HEAD)
        head.set_password(PASSWORD)
        head.save()
        m.StaffMembership.objects.get_or_create(
            school=largest, user=head, defaults={"role": m.Role.HEADTEACHER}
        )
        trust, _ = m.Trust.objects.get_or_create(
            slug=TRUST_SLUG, defaults={"name": "Bench Trust of 30"}
        )
        ids = list(m.School.objects.order_by("pk").values_list("pk", flat=True)[:trust_schools])
        m.School.objects.filter(pk__in=ids).update(trust=trust)
        leader, _ = User.objects.get_or_create(username=LEADER)
        leader.set_password(PASSWORD)
        leader.save()
        m.TrustMembership.objects.get_or_create(trust=trust, user=leader)
        trust_pupils = m.Pupil.objects.filter(school_id__in=ids).count()
        return largest.slug, roll, len(ids), trust_pupils, {largest.pk, *ids}


def _wait_for(port: int) -> None:
    """Until /health/ answers; up to 5 minutes (a loaded machine imports slowly)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _get(port: int, path: str, jar: dict[str, str]) -> float:
    """One request's wall-clock milliseconds (a 200 is required)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    began = time.perf_counter()
    connection.request(
        "GET", path, headers={"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())}
    )
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - began) * 1000
    _cookies(response, jar)
    if response.status != 200:
        raise SystemExit(f"GET {path}: HTTP {response.status}: {body[:300]!r}")
    return elapsed


if __name__ == "__main__":
    main()
