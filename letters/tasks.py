"""Celery tasks for letters: thin (ids in, the school's scope, a service call), acknowledged
late and idempotent, so a chunk redelivered after its worker died finishes the batch without
duplicating a letter (each item's letter is committed with the item's state)."""

from __future__ import annotations

from collections.abc import Sequence

from celery import shared_task

from letters import services
from letters.models import LetterBatch
from schools.models import School
from schools.scoping import school_scope


@shared_task(name="letters.batch_chunk", acks_late=True, reject_on_worker_lost=True)
def letter_batch_chunk_task(*, school_id: int, batch_id: int, item_ids: Sequence[int]) -> int:
    school = School.objects.get(pk=school_id)  # the tenant root: not scoped
    with school_scope(school):
        batch = LetterBatch.objects.get(school=school, pk=batch_id)
        return services.letter_batch_run_chunk(school=school, batch=batch, item_ids=item_ids)
