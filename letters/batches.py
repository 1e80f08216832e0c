"""Letter batches: one template sent to many pupils (a queue, a year group, a form, the pupils
below an attendance rate, or everyone on roll), worked as one Celery task per chunk.

Resuming after a worker dies, without duplicating a letter, rests on three things:

- a chunk is **leased** before it is worked (``LetterBatchChunk.leased_until``) and the lease
  is extended after every letter (the heartbeat). A second delivery of the same chunk while the
  lease is live does nothing; ``letters.batch_resume_stalled`` (beat, every minute) dispatches
  again the chunks whose lease expired, and the batch page's "Resume" button does the same;
- each item's letter is committed in one transaction with the item's state, and the item moves
  from pending to done by a conditional update, so a late worker that lost its lease and still
  finishes a letter rolls it back instead of adding a second one;
- a lease belongs to one attempt (``attempts`` is its token): a worker whose lease was taken
  over stops at its next heartbeat.

Each chunk's worker also writes its letters as one part of the print file
(``letters.pdf_merge``). When no item is pending any more the last worker joins the parts into
one merged PDF (each letter padded to an even page count, for duplex printing, its tags kept)
and zips the individual PDFs, both through temporary files so the batch's PDFs are never all
held as bytes at once.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import Storage
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from interventions.models import EnrolmentAttendance, QueueItem
from interventions.models.queues import ItemState as QueueItemState
from interventions.selectors import academic_period_for
from letters.models import (
    BatchStatus,
    ItemState,
    Letter,
    LetterBatch,
    LetterBatchChunk,
    LetterBatchItem,
    LetterTemplate,
)
from letters.pdf_merge import KEYS_PER_PART, PdfPart, pdf_join
from letters.services import LetterSources, letter_generate, letter_sources
from letters.templating import TemplateProblemError
from schools.models import Pupil, School, StaffMembership
from schools.permissions import Capability, check_capability
from schools.scoping import school_scope

# --- Choosing the pupils ---------------------------------------------------------------------


@dataclass(frozen=True)
class PupilChoice:
    """Who a batch goes to. ``kind`` is one of ``CHOICE_KINDS``; ``value`` the queue kind, the
    year group's or form's id, or the whole-number percentage (pupils strictly below it)."""

    kind: str
    value: str = ""


CHOICE_KINDS = ("school", "queue", "year", "form", "below")


def _placed_on(pupils: QuerySet[Pupil], on: dt.date, **form_filter: object) -> QuerySet[Pupil]:
    placed = Q(placements__start_date__lte=on) & (
        Q(placements__end_date__isnull=True) | Q(placements__end_date__gte=on)
    )
    return pupils.filter(
        placed, **{f"placements__form__{k}": v for k, v in form_filter.items()}
    ).distinct()


def batch_pupils(*, school: School, choice: PupilChoice, on: dt.date) -> QuerySet[Pupil]:
    """The pupils on roll on ``on`` that ``choice`` names, in name order. Raises
    ``ValidationError`` for an unknown choice or a value that is not this school's."""
    pupils = Pupil.objects.filter(school=school).on_roll(on).distinct()
    chosen: QuerySet[Pupil]
    if choice.kind == "school":
        chosen = pupils
    elif choice.kind == "queue":
        open_items = QueueItem.objects.filter(
            school=school, kind=choice.value, state=QueueItemState.OPEN, pupil__isnull=False
        )
        chosen = pupils.filter(pk__in=open_items.values("pupil_id"))
    elif choice.kind == "year" and choice.value.isdigit():
        chosen = _placed_on(pupils, on, year_group_id=int(choice.value), school=school)
    elif choice.kind == "form" and choice.value.isdigit():
        chosen = _placed_on(pupils, on, pk=int(choice.value), school=school)
    elif choice.kind == "below" and choice.value.isdigit():
        # Attendance below x%: (present + AEA) / possible < x / 100, compared in integers
        # on the stored results of this academic year (never a rounded percentage).
        period_start, _end = academic_period_for(school=school, on=on)
        below = (
            EnrolmentAttendance.objects.filter(
                school=school, period_start=period_start, possible_sessions__gt=0
            )
            .alias(attended100=(F("present_sessions") + F("aea_sessions")) * 100)
            .filter(attended100__lt=F("possible_sessions") * int(choice.value))
        )
        chosen = pupils.filter(pk__in=below.values("pupil_id"))
    else:
        raise ValidationError(_("Choose who the letters go to."))
    return chosen.order_by("legal_surname", "legal_forename", "pk")


# --- Creating and dispatching ----------------------------------------------------------------


def _lease_seconds() -> int:
    return int(settings.LETTER_BATCH_LEASE_SECONDS)


@transaction.atomic
def letter_batch_create(
    *,
    school: School,
    template: LetterTemplate,
    pupils: Sequence[Pupil],
    period_start: dt.date,
    period_end: dt.date,
    created_by: StaffMembership,
    chunk_size: int | None = None,
    selection: str = "",
) -> LetterBatch:
    """A batch of ``template`` for ``pupils`` (one item each, duplicates dropped), its items in
    chunks of ``chunk_size`` (``LETTER_BATCH_CHUNK_SIZE``), and after commit one
    ``letters.batch_chunk`` task per chunk. Raises ``ValidationError`` if ``created_by`` may
    not send letters or a pupil or the template is another school's."""
    check_capability(
        created_by,
        Capability.SEND_LETTERS,
        school=school,
        message=_("You cannot send letters at this school."),
    )
    if template.school_id != school.pk or any(p.school_id != school.pk for p in pupils):
        raise ValidationError(_("The pupils and the template must belong to this school."))
    size = max(1, chunk_size or int(settings.LETTER_BATCH_CHUNK_SIZE))
    now = timezone.now()
    batch = LetterBatch.objects.create(
        school=school,
        template=template,
        period_start=period_start,
        period_end=period_end,
        created_by=created_by,
        created_at=now,
        selection=selection[:200],
    )
    unique = list({pupil.pk: pupil for pupil in pupils}.values())
    chunks = LetterBatchChunk.objects.bulk_create(
        LetterBatchChunk(school=school, batch=batch, number=n)
        for n in range((len(unique) + size - 1) // size)
    )
    LetterBatchItem.objects.bulk_create(
        LetterBatchItem(
            school=school, batch=batch, chunk=chunks[n // size], pupil=pupil, position=n
        )
        for n, pupil in enumerate(unique)
    )
    if not unique:
        batch.status = BatchStatus.DONE
        batch.finished_at = now
        batch.save(update_fields=["status", "finished_at"])
    else:
        transaction.on_commit(lambda: _dispatch_in_scope(school=school, batch=batch))
    return batch


def _stalled(now: dt.datetime) -> Q:
    """Unfinished chunks nobody works: the lease expired; or the task was sent a lease's
    length ago and never started while no chunk of its batch is being worked (lost by the
    broker; chunks queued behind their working siblings are waiting, not lost: a batch of
    1,200 letters keeps chunks in the queue for minutes); or it was never sent."""
    batch_working = Exists(
        LetterBatchChunk.objects.filter(batch=OuterRef("batch"), leased_until__gte=now)
    )
    return Q(finished_at__isnull=True) & (
        Q(leased_until__lt=now)
        | Q(
            ~batch_working,
            leased_until__isnull=True,
            dispatched_at__lt=now - dt.timedelta(seconds=_lease_seconds()),
        )
        | Q(leased_until__isnull=True, dispatched_at__isnull=True)
    )


def _dispatch_in_scope(*, school: School, batch: LetterBatch) -> None:
    # After commit the caller's scope may have ended (a request's, a test's capture).
    with school_scope(school):
        letter_batch_dispatch(school=school, batch=batch)


def letter_batch_dispatch(*, school: School, batch: LetterBatch, stalled_only: bool = False) -> int:
    """Send one ``letters.batch_chunk`` task per unfinished chunk of ``batch`` (only those
    nobody works when ``stalled_only``). Safe to repeat: a chunk under a live lease is
    skipped by its task. Returns how many tasks were sent."""
    from letters.tasks import letter_batch_chunk_task  # tasks import this module

    now = timezone.now()
    chunks = LetterBatchChunk.objects.filter(
        school=school, batch=batch, finished_at__isnull=True, batch__status=BatchStatus.RUNNING
    )
    if stalled_only:
        chunks = chunks.filter(_stalled(now))
    ids = list(chunks.order_by("number").values_list("pk", flat=True))
    LetterBatchChunk.objects.filter(school=school, pk__in=ids).update(dispatched_at=now)
    for chunk_id in ids:
        letter_batch_chunk_task.delay(school_id=school.pk, chunk_id=chunk_id)
    return len(ids)


def letter_batch_stalled(*, school: School, batch: LetterBatch) -> bool:
    """Whether a running ``batch`` has a chunk nobody works (the page offers "Resume")."""
    if batch.status != BatchStatus.RUNNING:
        return False
    return LetterBatchChunk.objects.filter(
        _stalled(timezone.now()), school=school, batch=batch
    ).exists()


def letter_batch_resume(*, school: School, batch: LetterBatch, resumed_by: StaffMembership) -> int:
    """The "Resume" button: dispatch again the chunks of ``batch`` nobody works."""
    check_capability(
        resumed_by,
        Capability.SEND_LETTERS,
        school=school,
        message=_("You cannot send letters at this school."),
    )
    sent = letter_batch_dispatch(school=school, batch=batch, stalled_only=True)
    letter_batch_finish_if_complete(school=school, batch=batch)
    return sent


def letter_batches_resume_stalled() -> int:
    """Every school's stalled chunks dispatched again (the beat task). Cross-school by design:
    it reads only ids, then works each school inside its own scope."""
    now = timezone.now()
    with scopes_disabled():
        stalled = list(
            LetterBatchChunk.objects.filter(_stalled(now), batch__status=BatchStatus.RUNNING)
            .values_list("school_id", "batch_id")
            .distinct()
        )
    sent = 0
    for school_id, batch_id in stalled:
        school = School.objects.get(pk=school_id)  # the tenant root: not scoped
        with school_scope(school):
            batch = LetterBatch.objects.get(school=school, pk=batch_id)
            sent += letter_batch_dispatch(school=school, batch=batch, stalled_only=True)
    return sent


# --- Working a chunk -------------------------------------------------------------------------


def _lease(*, school: School, chunk_id: int) -> int | None:
    """Take the lease of chunk ``chunk_id`` if it is free or expired: the attempt number that
    now owns it, or None (finished, or another worker holds a live lease)."""
    now = timezone.now()
    with transaction.atomic():
        taken = (
            LetterBatchChunk.objects.filter(
                school=school,
                pk=chunk_id,
                finished_at__isnull=True,
                batch__status=BatchStatus.RUNNING,
            )
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .update(
                leased_until=now + dt.timedelta(seconds=_lease_seconds()),
                attempts=F("attempts") + 1,
            )
        )
        if not taken:
            return None
        return LetterBatchChunk.objects.values_list("attempts", flat=True).get(pk=chunk_id)


def _heartbeat(*, school: School, chunk_id: int, attempt: int) -> bool:
    """Extend our lease; False if another attempt has taken the chunk over or the batch was
    cancelled (one query per letter does both)."""
    return bool(
        LetterBatchChunk.objects.filter(
            school=school, pk=chunk_id, attempts=attempt, batch__status=BatchStatus.RUNNING
        ).update(leased_until=timezone.now() + dt.timedelta(seconds=_lease_seconds()))
    )


def _run_item(
    *, school: School, batch: LetterBatch, item_id: int, sources: LetterSources | None = None
) -> bool:
    """Make item ``item_id``'s letter if it is still pending; True if one was made. A letter
    that cannot be made (template problem, bad data) marks the item failed, with the reason.
    ``sources``: the facts the chunk read for all its pupils (``letter_sources``)."""
    orphan = None
    try:
        with transaction.atomic():
            item = (
                LetterBatchItem.objects.filter(
                    school=school, batch=batch, pk=item_id, state=ItemState.PENDING
                )
                .select_related("pupil")
                .first()
            )
            if item is None:
                return False  # done by an earlier attempt, or cancelled
            letter = letter_generate(
                school=school,
                pupil=item.pupil,
                template=batch.template,
                period_start=batch.period_start,
                period_end=batch.period_end,
                created_by=None,
                source="batch",
                sources=sources if sources and item.pupil_id in sources.pupils else None,
            )
            # Pending → done only once: a worker that lost its lease and finished the same
            # letter late finds the item done, and its letter is rolled back with its file.
            if not LetterBatchItem.objects.filter(pk=item.pk, state=ItemState.PENDING).update(
                state=ItemState.DONE, letter=letter
            ):
                transaction.set_rollback(True)
                orphan = letter.pdf
    except (ValidationError, TemplateProblemError, ValueError) as exc:
        LetterBatchItem.objects.filter(pk=item_id, state=ItemState.PENDING).update(
            state=ItemState.FAILED, error=str(exc)[:300]
        )
        return False
    if orphan:
        orphan.storage.delete(orphan.name)  # after the rollback: on_commit would never run
        return False
    return True


def letter_batch_run_chunk(*, school: School, chunk_id: int) -> int:
    """Work chunk ``chunk_id`` under a lease: make each pending item's letter, naming
    failures on the item, then close the chunk and, when nothing is pending, the batch.
    Returns letters made (0 when another worker holds the chunk or the batch is cancelled)."""
    attempt = _lease(school=school, chunk_id=chunk_id)
    if attempt is None:
        return 0
    chunk = LetterBatchChunk.objects.select_related("batch__template__current").get(
        school=school, pk=chunk_id
    )
    batch = chunk.batch
    made = 0
    pending = LetterBatchItem.objects.filter(school=school, chunk=chunk, state=ItemState.PENDING)
    if attempt > int(settings.LETTER_BATCH_MAX_ATTEMPTS):
        # A letter that kills its worker every time would otherwise be retried for ever.
        pending.update(
            state=ItemState.FAILED,
            error=_("Not made: the worker stopped %(n)s times on this part of the batch.")
            % {"n": attempt - 1},
        )
    items = list(pending.order_by("position").values_list("pk", "pupil_id"))
    # The chunk's facts in a fixed number of queries (the engine's set-based entry point for
    # all its pupils, their marks, parents and placements, the letterhead), not per letter.
    sources = (
        letter_sources(
            school=school,
            pupil_ids=[pupil_id for _pk, pupil_id in items],
            period_start=batch.period_start,
            period_end=batch.period_end,
        )
        if items
        else None
    )
    for item_id, _pupil_id in items:
        made += _run_item(school=school, batch=batch, item_id=item_id, sources=sources)
        if not _heartbeat(school=school, chunk_id=chunk_id, attempt=attempt):
            return made  # taken over (the new attempt finishes the chunk), or cancelled
    # This worker reads its own letters back into its part of the print file, so the last
    # worker only joins parts. A worker that lost the lease meanwhile drops its part.
    part = _chunk_part_store(school=school, chunk=chunk)
    if not LetterBatchChunk.objects.filter(school=school, pk=chunk_id, attempts=attempt).update(
        finished_at=timezone.now(), leased_until=None, print_part=part
    ):
        LetterBatchChunk._meta.get_field("print_part").storage.delete(part)
        return made
    letter_batch_finish_if_complete(school=school, batch=batch)
    return made


# --- Finishing: the merged PDF and the zip ---------------------------------------------------


def _done_letters(
    *, school: School, batch: LetterBatch, chunk: LetterBatchChunk | None = None
) -> Iterator[Letter]:
    """The batch's letters in order (only ``chunk``'s when given), skipping any whose PDF
    retention has erased."""
    items = LetterBatchItem.objects.filter(school=school, batch=batch, state=ItemState.DONE)
    if chunk is not None:
        items = items.filter(chunk=chunk)
    items = items.select_related("letter__pupil").order_by("position")
    for item in items.iterator(chunk_size=200):
        if item.letter is not None and item.letter.pdf:
            yield item.letter


def _write_part(letters: Iterable[Letter], out: IO[bytes], *, key_base: int = 0) -> int:
    """``letters`` as one part of a print file (``letters.pdf_merge``); returns the count.
    Each letter's file is opened, copied and closed in turn; a letter whose PDF retention
    erased is left out."""
    part = PdfPart(out, key_base=key_base)
    count = 0
    for letter in letters:
        if not letter.pdf:
            continue
        with letter.pdf.open("rb") as handle:
            part.add_letter(handle)
        count += 1
    part.close()
    return count


def letters_merge(*, letters: Iterable[Letter], out: IO[bytes]) -> int:
    """Write one PDF of ``letters`` in order to ``out`` for printing, each padded with a blank
    page to an even page count so every letter starts on a fresh sheet when printed on both
    sides, each letter's tags kept. Returns the pages written."""
    with tempfile.TemporaryFile() as part:
        _write_part(letters, part)
        return pdf_join([part], out)


def _part_key_base(chunk: LetterBatchChunk) -> int:
    return chunk.number * KEYS_PER_PART


def _chunk_part_store(*, school: School, chunk: LetterBatchChunk) -> str:
    """Write the part of the print file for ``chunk``'s letters to storage; its name."""
    batch = chunk.batch
    with tempfile.TemporaryFile() as part:
        _write_part(
            _done_letters(school=school, batch=batch, chunk=chunk),
            part,
            key_base=_part_key_base(chunk),
        )
        part.seek(0)
        field = LetterBatchChunk._meta.get_field("print_part")
        name = f"{school.pk}/batch-{batch.pk}-{chunk.number}-{chunk.attempts}.part"
        return str(field.storage.save(field.generate_filename(chunk, name), File(part)))


def _merged_print_file(*, school: School, batch: LetterBatch, out: IO[bytes]) -> list[str]:
    """Join the chunks' parts, in order, into ``out``. A chunk without a part (the batch was
    cancelled while it was worked, or it was made before parts existed) gets one here.
    Returns the names of the stored parts used, to delete once the batch is saved."""
    storage = LetterBatchChunk._meta.get_field("print_part").storage
    used: list[str] = []
    with ExitStack() as files:
        parts: list[IO[bytes]] = []
        chunks = LetterBatchChunk.objects.filter(school=school, batch=batch).order_by("number")
        for chunk in chunks:
            if chunk.print_part and chunk.finished_at is not None:
                parts.append(files.enter_context(storage.open(chunk.print_part.name, "rb")))
                used.append(chunk.print_part.name)
            else:
                part = files.enter_context(tempfile.TemporaryFile())
                chunk.batch = batch
                _write_part(
                    _done_letters(school=school, batch=batch, chunk=chunk),
                    part,
                    key_base=_part_key_base(chunk),
                )
                parts.append(part)
        unchunked = LetterBatchItem.objects.filter(
            school=school, batch=batch, state=ItemState.DONE, chunk__isnull=True
        )
        if unchunked.exists():  # items from before chunks existed
            part = files.enter_context(tempfile.TemporaryFile())
            letters = (i.letter for i in unchunked.select_related("letter").order_by("position"))
            _write_part(
                (letter for letter in letters if letter is not None),
                part,
                key_base=len(parts) * KEYS_PER_PART,
            )
            parts.insert(0, part)
        pdf_join(parts, out)
    return used


def letters_zip(*, letters: Iterable[Letter], out: IO[bytes]) -> int:
    """Write a zip of ``letters``' PDFs to ``out``, copied file by file. Returns the count."""
    count = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for letter in letters:
            count += 1
            pupil = letter.pupil
            name = f"{count:04d}-{pupil.legal_surname}-{pupil.legal_forename}-{letter.pk}.pdf"
            safe = "".join(c if c.isalnum() or c in "-." else "_" for c in name)
            with letter.pdf.open("rb") as src, archive.open(safe, "w") as dst:
                shutil.copyfileobj(src, dst, 64 * 1024)
    return count


def _delete_files(storage: Storage, names: Sequence[str]) -> None:
    for name in names:
        storage.delete(name)


def letter_batch_finish_if_complete(*, school: School, batch: LetterBatch) -> bool:
    """Merge, zip and close ``batch`` once none of its items is pending. The merged PDF joins
    the parts the chunks' workers wrote; the parts are deleted once the batch is saved."""
    with transaction.atomic():
        locked = LetterBatch.objects.select_for_update().get(school=school, pk=batch.pk)
        if locked.finished_at is not None:
            return True
        if LetterBatchItem.objects.filter(
            school=school, batch=locked, state=ItemState.PENDING
        ).exists():
            return False
        if LetterBatchItem.objects.filter(
            school=school, batch=locked, state=ItemState.DONE
        ).exists():
            with tempfile.TemporaryFile() as merged, tempfile.TemporaryFile() as archive:
                used = _merged_print_file(school=school, batch=locked, out=merged)
                letters_zip(letters=_done_letters(school=school, batch=locked), out=archive)
                merged.seek(0)
                archive.seek(0)
                locked.merged_pdf.save(
                    f"{school.pk}/batch-{locked.pk}.pdf", File(merged), save=False
                )
                locked.letters_zip.save(
                    f"{school.pk}/batch-{locked.pk}.zip", File(archive), save=False
                )
            LetterBatchChunk.objects.filter(school=school, batch=locked).update(print_part="")
            storage = LetterBatchChunk._meta.get_field("print_part").storage
            transaction.on_commit(lambda: _delete_files(storage, used))
        if locked.status == BatchStatus.RUNNING:
            locked.status = BatchStatus.DONE
        locked.finished_at = timezone.now()
        locked.save(update_fields=["merged_pdf", "letters_zip", "status", "finished_at"])
        batch.refresh_from_db()
    return True


@transaction.atomic
def letter_batch_cancel(
    *, school: School, batch: LetterBatch, cancelled_by: StaffMembership
) -> None:
    """Stop ``batch``: its pending items are cancelled (letters already made stay)."""
    check_capability(
        cancelled_by,
        Capability.SEND_LETTERS,
        school=school,
        message=_("You cannot send letters at this school."),
    )
    LetterBatchItem.objects.filter(school=school, batch=batch, state=ItemState.PENDING).update(
        state=ItemState.CANCELLED
    )
    LetterBatch.objects.filter(school=school, pk=batch.pk, status=BatchStatus.RUNNING).update(
        status=BatchStatus.CANCELLED
    )
    batch.refresh_from_db()
    letter_batch_finish_if_complete(school=school, batch=batch)


# --- The progress page -----------------------------------------------------------------------


@dataclass(frozen=True)
class BatchProgress:
    total: int
    done: int  # no longer pending: made, failed or cancelled
    made: int
    failures: list[LetterBatchItem]
    stalled: bool


def letter_batch_progress(*, school: School, batch: LetterBatch) -> BatchProgress:
    """Counts for the progress bar in a fixed number of queries, whatever the batch's size."""
    counts = dict(
        LetterBatchItem.objects.filter(school=school, batch=batch)
        .order_by()
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    failures = list(
        LetterBatchItem.objects.filter(school=school, batch=batch, state=ItemState.FAILED)
        .select_related("pupil")
        .order_by("position")
    )
    total = sum(counts.values())
    return BatchProgress(
        total=total,
        done=total - counts.get(ItemState.PENDING, 0),
        made=counts.get(ItemState.DONE, 0),
        failures=failures,
        stalled=letter_batch_stalled(school=school, batch=batch),
    )
