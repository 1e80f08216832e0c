"""Concurrent tutors saving whole registers against gunicorn + PostgreSQL.

    .venv/bin/python benchmarks/register_load.py [--tutors 16] [--seconds 30] [--workers 4]

It creates a scratch PostgreSQL database (``attendance_load``; DATABASE_URL overrides it),
migrates it, builds one synthetic school with one form of 30 pupils per tutor and a calendar
around today, starts gunicorn on a free port with production-like settings (DEBUG off), signs
every tutor in, then has each one save its whole register through the JSON API as fast as it
can, alternating the codes so every save changes all 30 marks (and writes 30 history rows).
It prints saves per second and the p50/p95/p99 latency of a save. Run it on a weekday: a
register can only be saved on a school day, and the school's register times are set so that
today's morning register is open whatever the time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/attendance_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
PASSWORD = "bench-password-1234"
CLASS_SIZE = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tutors", type=int, default=16, help="concurrent tutors (default 16)")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long to load (default 30)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    args = parser.parse_args()

    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL", DEFAULT_DB),
        # As in production, each save's recompute goes to the broker for a worker, rather than
        # running inside the request (the embedded default's eager mode). No worker runs
        # here; the queue is emptied at the end.
        "REDIS_URL": os.environ.get("REDIS_URL", DEFAULT_REDIS),
        "DJANGO_SETTINGS_MODULE": "attendance_app.settings.base",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CONN_MAX_AGE": "60",
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    _create_database(env["DATABASE_URL"])
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True
    )
    school_slug, forms, day = _build_school(args.tutors)

    port = _free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "attendance_app.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        _wait_for(port)
        sessions = [_sign_in(port, f"bench-tutor-{i}@example.org") for i in range(args.tutors)]
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        stop_at = time.monotonic() + args.seconds
        threads = [
            threading.Thread(
                target=_tutor_loop,
                args=(port, cookie, school_slug, form_id, day, stop_at, latencies, failures, lock),
            )
            for cookie, form_id in zip(sessions, forms, strict=True)
        ]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        # The recomputes the saves queued (no worker ran): drop them.
        subprocess.run(
            ["redis-cli", "-u", env["REDIS_URL"], "FLUSHDB"],
            check=False,
            capture_output=True,
        )

    _report(args, latencies, failures, elapsed)


def _create_database(url: str) -> None:
    match = re.match(
        r"postgres(?:ql)?://(?P<user>[^@/]+)@(?P<host>[^:/]+):(?P<port>\d+)/(?P<db>\w+)", url
    )
    if not match:
        raise SystemExit(f"DATABASE_URL must be a PostgreSQL URL for this benchmark, not {url!r}")
    subprocess.run(
        [
            "dropdb",
            "--if-exists",
            "-h",
            match["host"],
            "-p",
            match["port"],
            "-U",
            match["user"],
            match["db"],
        ],
        check=True,
    )
    subprocess.run(
        ["createdb", "-h", match["host"], "-p", match["port"], "-U", match["user"], match["db"]],
        check=True,
    )


def _build_school(tutors: int) -> tuple[str, list[int], dt.date]:
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from schools import models as m
    from schools.upn import upn_make

    today = timezone.localdate()
    if today.weekday() >= 5:
        raise SystemExit("Run the register benchmark on a weekday: weekends have no sessions.")
    with scopes_disabled():
        # Registers open at 23:29 and close at 23:59, so today's AM register is open all day.
        school = m.School.objects.create(
            name="Bench School",
            slug="bench",
            urn="990001",
            la_code="999",
            jurisdiction="england",
            am_register_opens=dt.time(23, 29),
            am_register_closes=dt.time(23, 59),
            am_session_ends=dt.time(23, 59),
            pm_register_opens=dt.time(23, 29),
            pm_register_closes=dt.time(23, 59),
            pm_session_ends=dt.time(23, 59),
        )
        start = dt.date(today.year if today.month >= 8 else today.year - 1, 8, 1)
        year = m.AcademicYear.objects.create(
            school=school, name="bench", start_date=start, end_date=dt.date(start.year + 1, 7, 31)
        )
        m.Term.objects.create(
            school=school,
            academic_year=year,
            name="All year",
            start_date=start,
            end_date=year.end_date,
        )
        year_group = m.YearGroup.objects.create(
            school=school, nc_year="9", name="Year 9", sort_order=11
        )
        form_ids = []
        for i in range(tutors):
            user = User.objects.create_user(f"bench-tutor-{i}@example.org", password=PASSWORD)
            membership = m.StaffMembership.objects.create(
                school=school, user=user, role=m.Role.FORM_TUTOR
            )
            form = m.FormGroup.objects.create(
                school=school, academic_year=year, year_group=year_group, name=f"B{i}"
            )
            m.FormTutor.objects.create(school=school, form=form, membership=membership)
            for j in range(CLASS_SIZE):
                n = i * CLASS_SIZE + j
                pupil = m.Pupil.objects.create(
                    school=school,
                    upn=upn_make(f"99999992{n:04d}"),
                    legal_forename=f"P{n}",
                    legal_surname="Bench",
                    date_of_birth=dt.date(2011, 3, 1),
                    gender="F",
                )
                m.Enrolment.objects.create(school=school, pupil=pupil, start_date=start)
                m.FormPlacement.objects.create(
                    school=school, pupil=pupil, form=form, start_date=start
                )
            form_ids.append(form.pk)
    return school.slug, form_ids, today


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int) -> None:
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health/")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def _cookies(response: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header in response.headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(header)
        jar.update({key: morsel.value for key, morsel in cookie.items()})


def _sign_in(port: int, username: str) -> dict[str, str]:
    jar: dict[str, str] = {}
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", "/accounts/login/")
    response = connection.getresponse()
    response.read()
    _cookies(response, jar)
    body = urlencode(
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": jar["csrftoken"]}
    )
    connection.request(
        "POST",
        "/accounts/login/",
        body=body,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
    )
    response = connection.getresponse()
    response.read()
    _cookies(response, jar)
    if response.status != 302 or "sessionid" not in jar:
        raise SystemExit(f"Could not sign in {username}: HTTP {response.status}")
    return jar


def _tutor_loop(
    port: int,
    jar: dict[str, str],
    school_slug: str,
    form_id: int,
    day: dt.date,
    stop_at: float,
    latencies: list[float],
    failures: list[str],
    lock: threading.Lock,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    path = f"/api/v1/s/{school_slug}/registers/{form_id}/{day.isoformat()}/AM/"
    headers = {
        "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        "X-CSRFToken": jar["csrftoken"],
        "Content-Type": "application/json",
        "Referer": f"http://127.0.0.1:{port}/",
    }
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    rows = json.loads(response.read())["rows"]
    codes = ["/", "N"]
    turn = 0
    while time.monotonic() < stop_at:
        code = codes[turn % 2]
        turn += 1
        payload = {
            "marks": [{"pupil": r["pupil"], "code": code, "version": r["version"]} for r in rows]
        }
        began = time.perf_counter()
        connection.request("POST", path, body=json.dumps(payload), headers=headers)
        response = connection.getresponse()
        data = response.read()
        took = time.perf_counter() - began
        with lock:
            if response.status == 200:
                latencies.append(took)
            else:
                failures.append(f"HTTP {response.status}: {data[:200]!r}")
        if response.status == 200:
            rows = json.loads(data)["marks"]


def _report(
    args: argparse.Namespace, latencies: list[float], failures: list[str], elapsed: float
) -> None:
    if not latencies:
        raise SystemExit(f"No successful saves. First failures: {failures[:3]}")
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    print(
        f"register_load: {args.tutors} tutors, {args.workers} gunicorn workers, {CLASS_SIZE} pupils a register, {elapsed:.1f} s"
    )
    print(f"  saves:            {len(latencies)} ok, {len(failures)} failed")
    print(f"  saves per second: {len(latencies) / elapsed:.1f}")
    print(
        f"  latency (ms):     p50 {pct(50):.0f}  p95 {pct(95):.0f}  p99 {pct(99):.0f}  mean {statistics.mean(ordered) * 1000:.0f}"
    )
    if failures:
        print(f"  first failure:    {failures[0]}")


if __name__ == "__main__":
    main()
