"""Security Q-03: Redis redelivers a task that is not acknowledged within the broker's
``visibility_timeout``; with ``acks_late`` a task still running past it would be run a second
time by another worker. So every task's effective time limit, and every retry back-off, must
stay under the effective timeout (celery#7651: the configured value is not always the one in
force, so the transport's own value is read when Redis is there)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from kombu import Connection

from attendance_app.celery import app


def our_tasks() -> dict[str, Any]:
    # The worker finds the apps' tasks modules (autodiscover); import them the same way here.
    app.loader.import_default_modules()
    app.autodiscover_tasks(force=True)
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def effective_time_limit(task: Any) -> Any:
    limit = getattr(task, "time_limit", None)
    return limit if limit is not None else app.conf.task_time_limit


def configured_visibility_timeout() -> float:
    return float(app.conf.broker_transport_options["visibility_timeout"])


def test_every_task_stops_before_the_broker_would_redeliver_it():
    visibility = configured_visibility_timeout()
    tasks = our_tasks()
    assert "interventions.recompute_school" in tasks
    assert "letters.batch_chunk" in tasks
    for name, task in tasks.items():
        limit = effective_time_limit(task)
        assert limit is not None, f"{name} has no time limit"
        assert limit < visibility, name
        soft = getattr(task, "soft_time_limit", None) or app.conf.task_soft_time_limit
        assert soft is None or soft < visibility, name
        # An automatic retry waits at most retry_backoff_max (Celery's default 600 s).
        if getattr(task, "autoretry_for", ()):
            assert getattr(task, "retry_backoff_max", 600) < visibility, name
            assert getattr(task, "max_retries", None) is not None, name


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_the_redis_transport_uses_the_configured_visibility_timeout():
    with Connection(
        os.environ["REDIS_URL"], transport_options=app.conf.broker_transport_options
    ) as connection:
        channel = connection.default_channel
        assert channel.visibility_timeout == configured_visibility_timeout()  # type: ignore[attr-defined]
    # And the app's own connection (the one workers and producers use) gets the same options.
    with app.connection_for_write() as connection:
        options = connection.transport_options or {}
        assert options["visibility_timeout"] == (configured_visibility_timeout())


def test_a_task_without_its_own_limit_gets_the_default():
    """The bound task carries the settings' default (that is the value the worker enforces)."""
    task = our_tasks()["schools.clear_expired_sessions"]
    assert task.time_limit == app.conf.task_time_limit is not None
