"""Celery tasks for letters: thin (ids in, the school's scope, a service call), acknowledged
late and idempotent. A batch chunk is worked under a lease (``letters.batches``), so a chunk
redelivered after its worker died, or dispatched again by ``letters.batch_resume_stalled``,
finishes the batch without duplicating a letter."""

from __future__ import annotations

from celery import shared_task

from letters import batches
from schools.models import School
from schools.scoping import school_scope


@shared_task(name="letters.batch_chunk", acks_late=True, reject_on_worker_lost=True)
def letter_batch_chunk_task(*, school_id: int, chunk_id: int) -> int:
    school = School.objects.get(pk=school_id)  # the tenant root: not scoped
    with school_scope(school):
        return batches.letter_batch_run_chunk(school=school, chunk_id=chunk_id)


@shared_task(name="letters.batch_resume_stalled")
def letter_batch_resume_stalled_task() -> int:
    return batches.letter_batches_resume_stalled()
