"""Issue 11: a batch of termly reports is being made, its progress watched, and the real
Celery worker making it is SIGKILLed (the whole worker, its pool child too) half-way, after its
third letter. A lease's length later the beat's recovery (``letters.batch_resume_stalled``)
sends the stalled chunks again and a new worker finishes the batch. Nothing is lost and nothing
is doubled: one letter per pupil, every item done, every chunk finished, a merged print file
with each pupil's letter in order (padded for duplex), a zip of one PDF per pupil, and no part
of the print file left behind.

Runs only on PostgreSQL with REDIS_URL set (``tests/chaos/workers.py``): the worker is a
separate process, so it sees only committed rows (``transactional_db``), and the files are on
one ``FileSystemStorage`` directory both processes use (the test settings' ``InMemoryStorage``
is per process)."""

from __future__ import annotations

import collections
import datetime as dt
import io
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pypdf
import pytest
from django.conf import settings as django_settings
from django.db.models import F
from django_scopes import scopes_disabled

import letters.tasks
from letters import batches, services
from letters.models import (
    BatchStatus,
    ItemState,
    Letter,
    LetterBatch,
    LetterBatchChunk,
    LetterBatchItem,
    LetterTemplate,
)
from schools.scoping import school_scope
from tests import factories as f
from tests.chaos import workers
from tests.chaos.workers import Worker, wait_for
from tests.interventions.attendance_world import add_marks, add_pupil, build_year_world, sessions
from tests.letters.test_letters import PERIOD
from tests.registers.conftest import RegisterWorld

pytestmark = workers.needs_postgresql_and_redis

PUPILS = 8
CHUNK_SIZE = 2


class RealChunkTask:
    """Stands in for ``letters.tasks.letter_batch_chunk_task`` in this (eager) process:
    ``letter_batch_dispatch``'s ``.delay`` publishes to the worker's queue for real."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.sent: list[int] = []

    def delay(self, **kwargs: Any) -> None:
        workers.send(self.queue, "letters.batch_chunk", kwargs=kwargs)
        self.sent.append(kwargs["chunk_id"])


@pytest.fixture
def rw(transactional_db) -> RegisterWorld:
    """A school with eight pupils on roll, each with a contact and a term of marks, and the
    default letter templates (as ``tests/letters/test_batches.py`` and
    ``benchmarks/letters.py`` build it)."""
    rw = build_year_world(size=0)
    slots = sessions(rw.school, *PERIOD)
    for n in range(PUPILS):
        pupil = add_pupil(rw, legal_forename=f"Pupil{n}", legal_surname=f"Surname{n}")
        with scopes_disabled():
            f.ContactFactory(pupil=pupil, address=f"{n} High Street\nCardiff")
        absent = 2 + n  # a few sessions missed, different per pupil
        add_marks(rw.school, pupil, slots[:absent], "I")
        add_marks(rw.school, pupil, slots[absent:], "/")
        rw.pupils.append(pupil)
    with school_scope(rw.school):
        services.letter_templates_install_defaults(school=rw.school)
    return rw


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:
    """Files on disk in ``tmp_path``, here and (``CHAOS_MEDIA_ROOT``) in the workers."""
    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    return tmp_path


def test_a_letter_batch_worker_killed_half_way_loses_and_doubles_no_letter(
    rw, media, tmp_path, monkeypatch
):
    school = rw.school
    queue = f"chaos-{uuid.uuid4().hex}"
    pause = tmp_path / "mid-batch"
    chunk_task = RealChunkTask(queue)
    monkeypatch.setattr(letters.tasks, "letter_batch_chunk_task", chunk_task)

    first = Worker(queue, {"CHAOS_MEDIA_ROOT": str(media), "CHAOS_LETTERS_PAUSE": str(pause)})
    try:
        with school_scope(school):
            template = LetterTemplate.objects.get(school=school, key="termly_report", language="en")
            # Its dispatch after commit sends the four chunk tasks to the worker's queue.
            batch = batches.letter_batch_create(
                school=school,
                template=template,
                pupils=rw.pupils,
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                created_by=rw.officer,
                chunk_size=CHUNK_SIZE,
            )
            chunks = list(LetterBatchChunk.objects.filter(batch=batch).order_by("number"))
        assert chunk_task.sent == [chunk.pk for chunk in chunks]
        assert len(chunks) == PUPILS // CHUNK_SIZE
        wait_for(pause.exists, 60)  # the third letter is committed; the worker stopped
    finally:
        first.kill()

    with school_scope(school):
        # Half-way: the progress bar shows three of eight, the batch still running, and the
        # dead worker's lease on the second chunk still live, so nothing is stalled yet.
        progress = batches.letter_batch_progress(school=school, batch=batch)
        assert (progress.total, progress.done, progress.made) == (PUPILS, 3, 3)
        assert not progress.stalled
        states = list(
            LetterBatchItem.objects.filter(batch=batch)
            .order_by("position")
            .values_list("state", flat=True)
        )
        assert states == [ItemState.DONE] * 3 + [ItemState.PENDING] * (PUPILS - 3)
        assert Letter.objects.filter(school=school, source="batch").count() == 3
        batch.refresh_from_db()
        assert batch.status == BatchStatus.RUNNING
        assert batch.finished_at is None
        finished = [
            c.finished_at is not None
            for c in LetterBatchChunk.objects.filter(batch=batch).order_by("number")
        ]
        assert finished == [True, False, False, False]
        assert batches.letter_batches_resume_stalled() == 0

        # A lease's length later: the dead worker's lease has run out, and the chunks it had
        # taken from the queue but never started were sent that long ago.
        ago = dt.timedelta(seconds=int(django_settings.LETTER_BATCH_LEASE_SECONDS) + 1)
        unfinished = LetterBatchChunk.objects.filter(batch=batch, finished_at__isnull=True)
        unfinished.filter(leased_until__isnull=False).update(leased_until=F("leased_until") - ago)
        unfinished.update(dispatched_at=F("dispatched_at") - ago)
        assert batches.letter_batch_stalled(school=school, batch=batch)

    second = Worker(queue, {"CHAOS_MEDIA_ROOT": str(media)})
    try:
        # The beat task's work, done here: it sends the stalled chunks to the new worker.
        chunk_task.sent.clear()
        assert batches.letter_batches_resume_stalled() == 3
        assert chunk_task.sent == [chunk.pk for chunk in chunks[1:]]

        def batch_done() -> bool:
            with school_scope(school):
                return LetterBatch.objects.filter(
                    school=school, pk=batch.pk, status=BatchStatus.DONE
                ).exists()

        wait_for(batch_done, 60)
        parts = media / "letter-batches" / "parts"
        # The parts are deleted just after the batch commits.
        wait_for(lambda: not any(path.is_file() for path in parts.rglob("*")), 10)
    finally:
        second.kill()

    with school_scope(school):
        batch = LetterBatch.objects.get(school=school, pk=batch.pk)
        assert batch.finished_at is not None
        items = list(
            LetterBatchItem.objects.filter(batch=batch)
            .select_related("letter__pupil")
            .order_by("position")
        )
        made = list(Letter.objects.filter(school=school, source="batch"))
        chunks = list(LetterBatchChunk.objects.filter(batch=batch).order_by("number"))
        assert batches.letter_batches_resume_stalled() == 0

        # One letter per pupil: none lost, none doubled, each on its item.
        assert collections.Counter(letter.pupil_id for letter in made) == {
            pupil.pk: 1 for pupil in rw.pupils
        }
        assert [item.state for item in items] == [ItemState.DONE] * PUPILS
        assert [item.pupil_id for item in items] == [pupil.pk for pupil in rw.pupils]
        assert {item.letter_id for item in items} == {letter.pk for letter in made}
        assert all(item.letter and item.letter.pupil_id == item.pupil_id for item in items)
        # Every chunk finished; the dead worker's chunk took a second attempt.
        assert all(chunk.finished_at is not None for chunk in chunks)
        assert [chunk.attempts for chunk in chunks] == [1, 2, 1, 1]
        assert not any(chunk.print_part for chunk in chunks)

        # The merged print file, read from the shared directory: each pupil's letter in
        # order, each padded to an even page count.
        assert (media / batch.merged_pdf.name).is_file()
        merged = pypdf.PdfReader(io.BytesIO((media / batch.merged_pdf.name).read_bytes()))
        start = 0
        for item in items:
            assert item.letter is not None
            letter_pages = len(pypdf.PdfReader(io.BytesIO(item.letter.pdf.read())).pages)
            item.letter.pdf.close()
            text = merged.pages[start].extract_text()
            assert f"{item.letter.pupil.legal_forename}'s attendance report" in text
            start += letter_pages + letter_pages % 2
        assert len(merged.pages) == start
        assert start >= 2 * PUPILS

        # The zip: one PDF per pupil, in order.
        archive = zipfile.ZipFile(io.BytesIO((media / batch.letters_zip.name).read_bytes()))
        names = archive.namelist()
        assert len(names) == PUPILS
        for number, (name, pupil) in enumerate(zip(names, rw.pupils, strict=True), start=1):
            assert name.startswith(f"{number:04d}-{pupil.legal_surname}-{pupil.legal_forename}-")
            one = pypdf.PdfReader(io.BytesIO(archive.read(name)))
            assert pupil.legal_forename in one.pages[0].extract_text()

    # No part of the print file is left on disk.
    assert [path for path in parts.rglob("*") if path.is_file()] == []
