"""The Celery app as the chaos test's worker process runs it (``celery -A
tests.chaos.worker_app worker``): the project's app and tasks, on the test's broker (Redis
db 9) and its own queue, publishing for real. With ``CHAOS_PAUSE`` set, a full recompute
stops for a minute inside its transaction, after its results are written and before they
commit, and says so in that file: the test kills the worker there, mid-run."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_app.settings.test")
django.setup()

from attendance_app.celery import app  # noqa: E402
from interventions import recompute  # noqa: E402

app.conf.update(
    task_always_eager=False,
    broker_url=os.environ["CHAOS_BROKER_URL"],
    task_default_queue=os.environ["CHAOS_QUEUE"],
)
app.autodiscover_tasks(force=True)

_pause = Path(os.environ.get("CHAOS_PAUSE", ""))
if os.environ.get("CHAOS_PAUSE"):
    _real = recompute.summaries_rewrite  # type: ignore[attr-defined]

    def _paused(**kwargs: Any) -> Any:
        result = _real(**kwargs)
        _pause.write_text("mid-run")
        time.sleep(60)
        return result

    recompute.summaries_rewrite = _paused  # type: ignore[attr-defined]

__all__ = ["app"]
