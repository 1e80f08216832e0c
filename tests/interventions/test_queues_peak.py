"""The queue refresh at the morning peak (issue 10 part 7, benchmarks/morning_peak.py): its
query count does not grow with the pupils' ledger events, and the every-minute refreshes do not
pile up behind a busy worker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from interventions import tasks
from interventions.models import QueueItem
from interventions.queues import queues_refresh
from interventions.recompute import school_recompute
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.test_recompute import put_marks, school_days
from tests.registers.conftest import build_register_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


D = dt.date
AS_OF = D(2024, 10, 4)


def _refresh_queries(truants: int) -> tuple[int, int]:
    """Queries of a second whole-school refresh (nothing to change) at a school where
    ``truants`` pupils reached the ledger's events, and the ledger items it keeps."""
    world = build_register_world(size=truants + 1)
    with school_scope(world.school):
        steady, *absent = world.pupils
        put_marks(world, steady, school_days(D(2024, 9, 2), AS_OF))
        for pupil in absent:
            put_marks(world, pupil, school_days(D(2024, 9, 2), D(2024, 9, 13)))
            put_marks(world, pupil, school_days(D(2024, 9, 16), AS_OF), code="U")
        school_recompute(school=world.school, as_of=AS_OF)
        queues_refresh(school=world.school, as_of=AS_OF)
        items = QueueItem.objects.filter(source_event__isnull=False).count()
        with CaptureQueriesContext(connection) as queries:
            assert queues_refresh(school=world.school, as_of=AS_OF) == 0
    return len(queries), items


def test_a_refresh_reads_the_ledger_in_the_same_queries_however_many_events():
    few, few_items = _refresh_queries(truants=1)
    many, many_items = _refresh_queries(truants=4)
    assert many_items >= few_items + 6  # the ledger did grow: at least two items a truant
    assert many == few


def test_a_school_whose_refresh_still_waits_is_not_sent_another(monkeypatch):
    """The every-minute refreshes do not pile up in the broker behind a busy worker."""
    with scopes_disabled():
        first, second = f.SchoolFactory(), f.SchoolFactory()
    sent: list[int] = []
    monkeypatch.setattr(tasks.queues_refresh_school_task, "delay", sent.append)
    assert tasks.queues_refresh_all_task() == 2
    assert tasks.queues_refresh_all_task() == 0  # neither refresh has started: none sent
    assert sorted(sent) == sorted([first.pk, second.pk])
    tasks.queues_refresh_school_task(first.pk)  # the worker reaches the first school's
    assert tasks.queues_refresh_all_task() == 1
    assert sent[-1] == first.pk


def test_a_refresh_that_could_not_be_sent_is_sent_the_next_minute(monkeypatch):
    with scopes_disabled():
        school = f.SchoolFactory()

    def broker_down(school_id: int) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.queues_refresh_school_task, "delay", broker_down)
    with pytest.raises(ConnectionError):
        tasks.queues_refresh_all_task()
    sent: list[int] = []
    monkeypatch.setattr(tasks.queues_refresh_school_task, "delay", sent.append)
    assert tasks.queues_refresh_all_task() == 1
    assert sent == [school.pk]
