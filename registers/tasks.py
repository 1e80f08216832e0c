"""The registers' scheduled jobs (beat schedule in ``attendance_app.settings.base``)."""

from __future__ import annotations

from celery import shared_task

from registers.retention import apply_retention_everywhere


@shared_task(name="registers.apply_retention")
def apply_retention_task() -> int:
    """Nightly: apply the retention rules (``registers.retention``) to every school; returns how
    many rows were removed or erased, for the worker's log (no personal data in it)."""
    return sum(
        removal.count for removals in apply_retention_everywhere().values() for removal in removals
    )
