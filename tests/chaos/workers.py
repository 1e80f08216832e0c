"""What the chaos tests with a real Celery worker share: the skip rule (PostgreSQL and
REDIS_URL), the worker process (``celery -A tests.chaos.worker_app worker``, prefork, one
child, on a queue of its own on Redis db 9, against the test database), publishing for real
from the eager test process, and waiting for a condition."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from kombu import Connection

from attendance_app.celery import app

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_postgresql_and_redis = pytest.mark.skipif(
    not REDIS_URL or settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs REDIS_URL and DATABASE_URL pointing at PostgreSQL",
)
ROOT = Path(__file__).resolve().parents[2]


def broker_url() -> str:
    return REDIS_URL.rsplit("/", 1)[0] + "/9"


def database_url() -> str:
    """The test database (not the configured one): the worker must see the test's rows."""
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """A ``celery worker`` process on ``queue``. ``env``: the ``CHAOS_*`` switches
    ``worker_app`` reads (none is inherited from this process's environment)."""

    def __init__(self, queue: str, env: Mapping[str, str] | None = None) -> None:
        full = {key: value for key, value in os.environ.items() if not key.startswith("CHAOS_")}
        full |= {
            "DJANGO_SETTINGS_MODULE": "attendance_app.settings.test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": broker_url(),
            "CHAOS_BROKER_URL": broker_url(),
            "CHAOS_QUEUE": queue,
            **(env or {}),
        }
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "celery", "-A", "tests.chaos.worker_app", "worker",
             "-Q", queue, "-c", "1", "-P", "prefork", "--without-gossip", "--without-mingle",
             "--without-heartbeat", "-l", "warning"],
            cwd=ROOT, env=full, start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL the whole worker: the main process and its pool child (its process group)."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def send(
    queue: str, name: str, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
) -> None:
    """Publish task ``name`` to ``queue`` for real (this process runs tasks eagerly;
    ``send_task`` never does)."""
    with Connection(broker_url()) as conn, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # AlwaysEagerIgnored: that is the point
        app.send_task(name, args, kwargs, queue=queue, connection=conn)


def wait_for(condition: Callable[[], object], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting")
