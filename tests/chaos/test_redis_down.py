"""Security Q-06 over HTTP: Redis (cache, sessions' cache and Celery broker) stops while a
tutor is taking a register. The signed-in tutor stays signed in (sessions fall back to the
database), the register page loads, the save succeeds, the password-reset limit fails closed;
when Redis is back the evening's run catches the pupil up, and a session ended during the
outage does not come back from Redis's stale copy.

Redis is a real ``redis-server`` the test starts on a spare port (append-only file on, as in
production, so its data survives the restart) and stops; the broker is a closed port while it
is down. Runs on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from attendance_app.cache import DegradingRedisCache
from attendance_app.celery import app
from interventions import tasks
from interventions.models import EnrolmentAttendance
from interventions.recompute import school_recompute
from registers.models import AbsenceReport, AttendanceMark, ReportStatus
from schools.scoping import school_scope
from tests.chaos.test_broker_down import CLOSED_PORT
from tests.interventions.test_recompute import D, put_marks, school_days
from tests.registers.conftest import MONDAY as PARENT_MONDAY
from tests.registers.conftest import build_register_world
from tests.registers.test_parents import build_parent_world, public_data, public_url

REDIS_SERVER = shutil.which("redis-server") or "redis-server"
pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server")

MONDAY = D(2024, 10, 7)


class RedisServer:
    def __init__(self, directory: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 (a fixed command line)
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()  # SIGTERM: it writes its append-only file and exits
        self.process.wait(10)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    if server.process is not None and server.process.poll() is None:
        server.stop()


@pytest.fixture
def cache_on(settings, redis_server, monkeypatch):
    """The production cache settings, on the test's own Redis; no waiting between retries."""
    settings.CACHES = {
        "default": {
            "BACKEND": "attendance_app.cache.DegradingRedisCache",
            "LOCATION": redis_server.url,
            "OPTIONS": settings.REDIS_CACHE_OPTIONS,
        }
    }
    monkeypatch.setattr(DegradingRedisCache, "RETRY_AFTER", 0.0)
    return redis_server


def broker(monkeypatch, *, down: bool) -> None:
    monkeypatch.setitem(app.conf, "task_always_eager", not down)
    monkeypatch.setitem(app.conf, "broker_url", CLOSED_PORT if down else "memory://")
    monkeypatch.setattr(app, "_pool", None)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)


def take_url(rw, day: dt.date) -> str:
    kwargs = {"school_slug": rw.school.slug, "form_id": rw.form.pk, "date": day.isoformat()}
    return reverse("registers:take", kwargs={**kwargs, "session": "AM"})


def test_a_register_is_taken_and_saved_over_http_with_redis_stopped(
    db, cache_on, monkeypatch, django_capture_on_commit_callbacks
):
    rw = build_register_world(size=3)
    pupil = rw.pupils[0]
    monkeypatch.setattr(timezone, "now", lambda: rw.at(MONDAY, 8, 45))
    with school_scope(rw.school):
        put_marks(rw, pupil, school_days(D(2024, 9, 2), D(2024, 10, 4)))
        school_recompute(school=rw.school, as_of=D(2024, 10, 4))
    tutor = Client()
    tutor.force_login(rw.tutor.user)
    assert tutor.get(take_url(rw, MONDAY)).status_code == 200  # Redis up: session cached

    cache_on.stop()
    broker(monkeypatch, down=True)

    page = tutor.get(take_url(rw, MONDAY))
    assert page.status_code == 200  # still signed in: the session comes from the database
    assert f'name="code-{pupil.pk}"' in page.content.decode()
    data: dict[str, str] = {}
    for each in rw.pupils:
        data |= {f"code-{each.pk}": "/", f"version-{each.pk}": "0", f"minutes-{each.pk}": ""}
    data[f"code-{pupil.pk}"] = "O"
    with django_capture_on_commit_callbacks(execute=True):
        saved = tutor.post(take_url(rw, MONDAY), data)
    assert saved.status_code == 302
    assert tutor.get(saved["Location"]).status_code == 200
    with school_scope(rw.school):
        codes = dict(AttendanceMark.objects.filter(date=MONDAY).values_list("pupil_id", "code"))
        assert codes == {each.pk: ("O" if each == pupil else "/") for each in rw.pupils}
        assert EnrolmentAttendance.objects.get(pupil=pupil).as_of == D(2024, 10, 4)  # behind

    # Password reset fails closed while the limit cannot be counted: same page, no email.
    reset = Client().post(reverse("password_reset"), {"email": rw.tutor.user.email})
    assert reset.status_code == 302
    assert mail.outbox == []

    # Redis is back: the evening's fan-out sends the school and its full run catches up.
    cache_on.start()
    broker(monkeypatch, down=False)
    monkeypatch.setattr(timezone, "now", lambda: rw.at(MONDAY, 17, 30))
    assert rw.school.pk in tasks.attendance_nightly_fanout_task.apply().get()
    with school_scope(rw.school):
        row = EnrolmentAttendance.objects.get(pupil=pupil)
        assert row.as_of == MONDAY
        assert row.code_counts["O"] == 1
    # Still signed in once Redis is back (its cached sessions dropped, the database's kept).
    monkeypatch.setattr(timezone, "now", lambda: rw.at(MONDAY, 9, 0))
    assert tutor.get(take_url(rw, MONDAY)).status_code == 200


def test_a_session_ended_while_redis_was_down_does_not_come_back_with_it(db, cache_on):
    rw = build_register_world(size=1)
    tutor = Client()
    tutor.force_login(rw.tutor.user)
    home = reverse("home")
    assert not tutor.get(home)["Location"].startswith(reverse("login"))  # to the school's page
    cookie = tutor.cookies["sessionid"].value
    stale = redis.Redis.from_url(cache_on.url)
    assert any(stale.scan_iter(match="*sessions*"))  # the session is cached in Redis

    cache_on.stop()
    assert tutor.post(reverse("logout")).status_code == 302  # ended: in the database only

    cache_on.start()  # its append-only file brings the old cached copy back
    assert any(stale.scan_iter(match="*sessions*"))
    thief = Client()
    thief.cookies["sessionid"] = cookie
    response = thief.get(home)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_parent_reports_an_absence_on_the_public_form_with_redis_stopped(
    db, cache_on, monkeypatch
):
    pw = build_parent_world()
    monkeypatch.setattr(timezone, "now", lambda: pw.rw.at(PARENT_MONDAY, 7))
    cache_on.stop()
    broker(monkeypatch, down=True)

    response = Client().post(public_url(pw), public_data())

    assert response.status_code == 200  # the limits fail open: parents can always report
    with scopes_disabled():
        report = AbsenceReport.objects.get()
    assert (report.pupil, report.status) == (pw.child, ReportStatus.UNVERIFIED)
