from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task(name="schools.clear_expired_sessions")
def clear_expired_sessions_task() -> None:
    """Delete expired login sessions, so signed-out devices leave nothing behind."""
    call_command("clearsessions")
