"""The morning-peak benchmark's clock: every process of the run (gunicorn, the Celery worker and
beat, and the benchmark itself) reads ``django.utils.timezone.now`` moved by the same
``PEAK_CLOCK_OFFSET`` seconds, so the run happens on a school morning of the generated year
whatever the real day and hour (a Saturday evening has no register to take).

The product reads the time only through ``timezone.now`` (``School.local_time``, the register
phase, the queues, the tasks), so moving it there moves every clock the run depends on; Celery
and Redis keep the real time for their own bookkeeping. gunicorn serves
``benchmarks.morning_peak_clock:application`` and the worker runs
``celery -A benchmarks.morning_peak_clock``; both are the project's own after the clock moves.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
from collections.abc import Callable
from typing import Any

OFFSET_VARIABLE = "PEAK_CLOCK_OFFSET"


def install() -> None:
    """Move ``timezone.now`` by the offset in the environment (once; none: nothing)."""
    from django.utils import timezone

    offset = os.environ.get(OFFSET_VARIABLE)
    if not offset or getattr(timezone.now, "peak_clock", False):
        return
    shift = dt.timedelta(seconds=float(offset))
    real: Callable[[], dt.datetime] = timezone.now

    def now() -> dt.datetime:
        return real() + shift

    now.peak_clock = True  # type: ignore[attr-defined]
    timezone.now = now


install()


def __getattr__(name: str) -> Any:
    # Imported late, after the clock moved: the WSGI application for gunicorn, the Celery
    # application for the worker.
    if name == "application":
        from attendance_app.wsgi import application

        # The URLs (and all the views' imports) loaded now, not by each worker's first request.
        importlib.import_module("attendance_app.urls")
        return application
    if name in ("app", "celery"):
        from attendance_app.celery import app

        return app
    raise AttributeError(name)
