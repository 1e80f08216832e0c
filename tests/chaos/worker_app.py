"""The Celery app as the chaos test's worker process runs it (``celery -A
tests.chaos.worker_app worker``): the project's app and tasks, on the test's broker (Redis
db 9) and its own queue, publishing for real. With ``CHAOS_PAUSE`` set, a full recompute
stops for a minute inside its transaction, after its results are written and before they
commit, and says so in that file: the test kills the worker there, mid-run.

For the letter-batch test (``test_letter_worker_killed.py``): ``CHAOS_MEDIA_ROOT`` puts the
files on a ``FileSystemStorage`` in that directory, shared with the test process (the test
settings' ``InMemoryStorage`` is per process); with ``CHAOS_LETTERS_PAUSE`` set, the worker
stops for a minute after its third letter (at that chunk's heartbeat, the letter committed)
and says so in that file."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_app.settings.test")
django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.storage import default_storage  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from attendance_app.celery import app  # noqa: E402
from interventions import recompute  # noqa: E402
from letters import batches  # noqa: E402

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

if os.environ.get("CHAOS_MEDIA_ROOT"):
    # Through setting_changed, as in tests: any storage already made is forgotten.
    override_settings(
        MEDIA_ROOT=os.environ["CHAOS_MEDIA_ROOT"],
        STORAGES={
            **settings.STORAGES,
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        },
    ).enable()
    if Path(default_storage.location) != Path(settings.MEDIA_ROOT):  # type: ignore[attr-defined]
        raise RuntimeError(f"default storage is not on {settings.MEDIA_ROOT}")

if os.environ.get("CHAOS_LETTERS_PAUSE"):
    _letters_pause = Path(os.environ["CHAOS_LETTERS_PAUSE"])
    _real_heartbeat = batches._heartbeat
    _letters_made: list[None] = []  # the pool child's count of letters

    def _heartbeat_paused(**kwargs: Any) -> bool:
        _letters_made.append(None)  # one heartbeat after each letter
        if len(_letters_made) == 3:
            _letters_pause.write_text("mid-batch")
            time.sleep(60)
        return _real_heartbeat(**kwargs)

    batches._heartbeat = _heartbeat_paused

__all__ = ["app"]
