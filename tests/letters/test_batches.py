from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import pypdf
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from interventions.models import EnrolmentAttendance, QueueItem
from interventions.models.queues import QueueKind
from interventions.selectors import academic_period_for
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
from schools.models import Enrolment
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.attendance_world import add_pupil, build_year_world
from tests.letters.test_letters import PERIOD

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw():
    rw = build_year_world(size=0)
    for n in range(3):
        pupil = add_pupil(rw, legal_forename=f"Pupil{n}", legal_surname=f"Surname{n}")
        with scopes_disabled():
            f.ContactFactory(pupil=pupil, address="1 High Street")
        rw.pupils.append(pupil)
    with school_scope(rw.school):
        services.letter_templates_install_defaults(school=rw.school)
    return rw


def termly(rw) -> LetterTemplate:
    return LetterTemplate.objects.get(school=rw.school, key="termly_report", language="en")


def _create(rw, *, pupils=None, chunk_size=None, template=None) -> LetterBatch:
    return batches.letter_batch_create(
        school=rw.school,
        template=template or termly(rw),
        pupils=rw.pupils if pupils is None else pupils,
        period_start=PERIOD[0],
        period_end=PERIOD[1],
        created_by=rw.officer,
        chunk_size=chunk_size,
    )


def _batch_letters(rw) -> int:
    return Letter.objects.filter(school=rw.school, source="batch").count()


def test_a_batch_makes_one_letter_per_pupil_a_duplex_ready_merged_pdf_and_a_zip(
    rw, django_capture_on_commit_callbacks
):
    with school_scope(rw.school), django_capture_on_commit_callbacks(execute=True):
        batch = _create(rw, pupils=[*rw.pupils, rw.pupils[0]], chunk_size=2)  # twice: once
    with school_scope(rw.school):
        batch.refresh_from_db()
        states = list(LetterBatchItem.objects.filter(batch=batch).values_list("state", flat=True))
        chunks = LetterBatchChunk.objects.filter(batch=batch)
        assert [c.finished_at is not None for c in chunks] == [True, True]  # 3 items in 2s
        letters = _batch_letters(rw)
        with batch.merged_pdf.open("rb") as handle:
            merged = pypdf.PdfReader(io.BytesIO(handle.read()), strict=True)
        with batch.letters_zip.open("rb") as handle:
            archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert states == [ItemState.DONE] * 3
    assert letters == 3
    assert batch.status == BatchStatus.DONE
    assert len(merged.pages) == 6  # three one-page letters, each padded to two
    assert "Pupil1" in merged.pages[2].extract_text()
    names = archive.namelist()
    assert len(names) == 3
    assert names[0].startswith("0001-Surname0-Pupil0")
    second = pypdf.PdfReader(io.BytesIO(archive.read(names[1])))
    assert "Pupil1" in second.pages[0].extract_text()


def test_a_chunk_whose_worker_died_half_way_is_resumed_by_beat_without_duplicates(
    rw, django_capture_on_commit_callbacks
):
    with school_scope(rw.school):
        with django_capture_on_commit_callbacks(execute=False):  # the workers never ran
            batch = _create(rw)
        chunk = LetterBatchChunk.objects.get(batch=batch)
        items = list(LetterBatchItem.objects.filter(batch=batch).order_by("position"))
        # A worker leased the chunk, made the first letter, then died (no more heartbeats).
        attempt = batches._lease(school=rw.school, chunk_id=chunk.pk)
        assert attempt == 1
        assert batches._run_item(school=rw.school, batch=batch, item_id=items[0].pk)
        # While the lease is live, the broker's redelivery and the beat both leave it alone.
        assert batches.letter_batch_run_chunk(school=rw.school, chunk_id=chunk.pk) == 0
        assert batches.letter_batches_resume_stalled() == 0
        assert not batches.letter_batch_stalled(school=rw.school, batch=batch)
        # The lease runs out.
        LetterBatchChunk.objects.filter(pk=chunk.pk).update(
            leased_until=timezone.now() - dt.timedelta(seconds=1)
        )
        assert batches.letter_batch_stalled(school=rw.school, batch=batch)
    with django_capture_on_commit_callbacks(execute=True):
        assert batches.letter_batches_resume_stalled() == 1  # eager: the chunk runs now
    with school_scope(rw.school):
        batch.refresh_from_db()
        chunk.refresh_from_db()
        assert _batch_letters(rw) == 3
        assert set(LetterBatchItem.objects.filter(batch=batch).values_list("state", flat=True)) == {
            ItemState.DONE
        }
        assert chunk.attempts == 2
        assert chunk.finished_at is not None
        assert batch.status == BatchStatus.DONE
        assert batches.letter_batches_resume_stalled() == 0


def test_a_worker_that_lost_its_lease_stops_and_its_late_letter_is_rolled_back(
    rw, django_capture_on_commit_callbacks, monkeypatch
):
    with school_scope(rw.school):
        with django_capture_on_commit_callbacks(execute=False):
            batch = _create(rw)
        chunk = LetterBatchChunk.objects.get(batch=batch)
        items = list(LetterBatchItem.objects.filter(batch=batch).order_by("position"))
        first = batches._lease(school=rw.school, chunk_id=chunk.pk)
        LetterBatchChunk.objects.filter(pk=chunk.pk).update(leased_until=timezone.now())
        second = batches._lease(school=rw.school, chunk_id=chunk.pk)  # took over
        assert (first, second) == (1, 2)
        assert first is not None
        assert not batches._heartbeat(school=rw.school, chunk_id=chunk.pk, attempt=first)

        # The slow first worker finishes its letter just after the new attempt marked the
        # item done (simulated inside its transaction: one test connection has no other).
        real_generate = services.letter_generate
        late: list[Letter] = []

        def generate_while_the_other_worker_finishes(**kwargs):
            late.append(real_generate(**kwargs))
            LetterBatchItem.objects.filter(pk=items[0].pk).update(state=ItemState.DONE)
            return late[0]

        monkeypatch.setattr(batches, "letter_generate", generate_while_the_other_worker_finishes)
        with django_capture_on_commit_callbacks(execute=True):
            made = batches._run_item(school=rw.school, batch=batch, item_id=items[0].pk)
        assert made is False
        assert not Letter.objects.filter(pk=late[0].pk).exists()  # rolled back
        assert not late[0].pdf.storage.exists(late[0].pdf.name)  # and its file removed


def test_failures_are_named_and_a_cancelled_batch_stops(rw, django_capture_on_commit_callbacks):
    with school_scope(rw.school):
        template = termly(rw)
        services.letter_template_version_add(
            school=rw.school,
            template=template,
            body="<p>{{ nti.warning }}</p>",  # a field batches do not fill
            created_by=rw.head,
        )
        with django_capture_on_commit_callbacks(execute=False):
            batch = _create(rw, template=template, chunk_size=1)
        chunks = list(LetterBatchChunk.objects.filter(batch=batch).order_by("number"))
        batches.letter_batch_run_chunk(school=rw.school, chunk_id=chunks[0].pk)
        batches.letter_batch_cancel(school=rw.school, batch=batch, cancelled_by=rw.officer)
        for chunk in chunks:
            batches.letter_batch_run_chunk(school=rw.school, chunk_id=chunk.pk)
        states = list(
            LetterBatchItem.objects.filter(batch=batch)
            .order_by("position")
            .values_list("state", flat=True)
        )
        progress = batches.letter_batch_progress(school=rw.school, batch=batch)
        batch.refresh_from_db()
    assert progress.failures[0].error == 'Line 1: merge field "nti" has no value for this letter'
    assert (progress.total, progress.done, progress.made) == (3, 3, 0)
    assert states == [ItemState.FAILED, ItemState.CANCELLED, ItemState.CANCELLED]
    assert batch.status == BatchStatus.CANCELLED
    assert batch.finished_at is not None
    assert not batch.merged_pdf


# --- Choosing the pupils ---------------------------------------------------------------------


@pytest.fixture
def chosen(rw):
    """Pupil0 in 9A (year 9) with an open PA item; Pupil1 moved to 8B (year 8); Pupil2 at
    exactly 90% and Pupil0 at 89.5% on the stored results; a left pupil in 9A."""
    today = timezone.localdate()
    with scopes_disabled():
        year8 = f.YearGroupFactory(school=rw.school, nc_year="8", name="Year 8")
        form8 = f.FormGroupFactory(
            school=rw.school, academic_year=rw.form.academic_year, year_group=year8, name="8B"
        )
    left = add_pupil(rw, legal_forename="Left")
    moved = add_pupil(rw, legal_forename="Moved", form=form8)
    with scopes_disabled():
        Enrolment.objects.filter(pupil=left).update(leaving_date=dt.date(2024, 9, 1))
        QueueItem.objects.create(
            school=rw.school,
            kind=QueueKind.PA_STARTED,
            pupil=rw.pupils[0],
            key="k",
            since=today,
            opened_at=timezone.now(),
        )
        start, end = academic_period_for(school=rw.school, on=today)
        for pupil, present in ((rw.pupils[0], 179), (rw.pupils[2], 180), (moved, 200)):
            EnrolmentAttendance.objects.create(
                school=rw.school,
                enrolment=Enrolment.objects.get(pupil=pupil),
                pupil=pupil,
                period_start=start,
                period_end=end,
                as_of=today,
                computed_at=timezone.now(),
                possible_sessions=200,
                present_sessions=present,
            )
    return rw, year8, form8, moved


def _names(rw, kind, value=""):
    with school_scope(rw.school):
        pupils = batches.batch_pupils(
            school=rw.school,
            choice=batches.PupilChoice(kind=kind, value=str(value)),
            on=timezone.localdate(),
        )
        # By forename: the factory's surnames are random, and the batch orders by surname.
        return sorted(p.legal_forename for p in pupils)


def test_each_choice_finds_its_pupils_on_roll(chosen):
    rw, year8, _form8, _moved = chosen
    assert _names(rw, "school") == ["Moved", "Pupil0", "Pupil1", "Pupil2"]
    assert _names(rw, "queue", QueueKind.PA_STARTED) == ["Pupil0"]
    assert _names(rw, "queue", QueueKind.LATENESS) == []
    assert _names(rw, "year", year8.pk) == ["Moved"]
    assert _names(rw, "form", rw.form.pk) == ["Pupil0", "Pupil1", "Pupil2"]
    # below 90%: 179/200 = 89.5% is below; 180/200 = 90% exactly is not (integers compared)
    assert _names(rw, "below", 90) == ["Pupil0"]
    assert _names(rw, "below", 91) == ["Pupil0", "Pupil2"]


def test_the_new_batch_page_previews_the_count_and_starts_the_batch(
    chosen, client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    rw, _year8, _form8, _moved = chosen
    client.force_login(rw.officer.user)
    url = reverse("letters:batch-new", kwargs={"school_slug": rw.school.slug})
    with school_scope(rw.school):
        template = termly(rw)
    page = client.get(url, {"template": template.pk})
    assert page.status_code == 200
    assert "Who the letters go to" in page.content.decode()
    query = {"template": template.pk, "pupils": "form", "form_group": rw.form.pk}
    with django_assert_max_num_queries(16):
        count = client.get(url, query, HTTP_HX_REQUEST="true")
    assert "3 pupils will get this letter." in count.content.decode()
    assert "<form" not in count.content.decode()  # only the partial
    missing = client.post(url, {"template": template.pk, "pupils": "below"})
    assert "Choose one." in missing.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(url, {"template": template.pk, "pupils": "below", "below": "90"})
    assert started.status_code == 302
    with school_scope(rw.school):
        batch = LetterBatch.objects.get(school=rw.school)
        assert batch.selection.endswith(": 90%")
        assert [i.pupil.legal_forename for i in LetterBatchItem.objects.filter(batch=batch)] == [
            "Pupil0"
        ]
    progress = client.get(started["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert "1 of 1 letters done" in progress
    assert '<progress class="app-progress" max="1" value="1"' in progress
    assert "zip" in progress


def test_the_progress_page_offers_resume_for_a_stalled_batch_and_polls_until_done(
    rw, client, django_capture_on_commit_callbacks
):
    with school_scope(rw.school):
        with django_capture_on_commit_callbacks(execute=False):
            batch = _create(rw)
        LetterBatchChunk.objects.filter(batch=batch).update(
            dispatched_at=timezone.now() - dt.timedelta(hours=1)  # sent, never started
        )
    client.force_login(rw.officer.user)
    kwargs = {"school_slug": rw.school.slug, "batch_id": batch.pk}
    page = client.get(reverse("letters:batch", kwargs=kwargs)).content.decode()
    assert "0 of 3 letters done" in page
    assert 'hx-trigger="every 2s"' in page
    assert "Resume the batch" in page
    with django_capture_on_commit_callbacks(execute=True):
        resumed = client.post(reverse("letters:batch-resume", kwargs=kwargs))
    assert resumed.status_code == 302
    done = client.get(reverse("letters:batch", kwargs=kwargs), HTTP_HX_REQUEST="true")
    body = done.content.decode()
    assert "3 of 3 letters done" in body
    assert "every 2s" not in body
    assert "Resume the batch" not in body
    archive = client.get(reverse("letters:batch-zip", kwargs=kwargs))
    assert archive["Content-Type"] == "application/zip"
    assert len(zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))).namelist()) == 3
    with school_scope(rw.school):
        assert _batch_letters(rw) == 3


def test_the_progress_page_speaks_welsh(rw, client, django_capture_on_commit_callbacks):
    with school_scope(rw.school), django_capture_on_commit_callbacks(execute=False):
        batch = _create(rw)
    client.force_login(rw.officer.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "cy"
    url = reverse("letters:batch", kwargs={"school_slug": rw.school.slug, "batch_id": batch.pk})
    page = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "0 o 3 llythyr wedi'u gwneud" in page
    assert "Canslo'r swp" in page
    new = client.get(reverse("letters:batch-new", kwargs={"school_slug": rw.school.slug}))
    assert "Cyfrif y disgyblion" in new.content.decode()


def test_a_chunk_that_kills_its_worker_every_time_is_failed_after_the_last_attempt(
    rw, django_capture_on_commit_callbacks, settings
):
    settings.LETTER_BATCH_MAX_ATTEMPTS = 2
    with school_scope(rw.school):
        with django_capture_on_commit_callbacks(execute=False):
            batch = _create(rw)
        chunk = LetterBatchChunk.objects.get(batch=batch)
        for _dead_worker in range(2):
            assert batches._lease(school=rw.school, chunk_id=chunk.pk) is not None
            LetterBatchChunk.objects.filter(pk=chunk.pk).update(leased_until=timezone.now())
        assert batches.letter_batch_run_chunk(school=rw.school, chunk_id=chunk.pk) == 0
        progress = batches.letter_batch_progress(school=rw.school, batch=batch)
        batch.refresh_from_db()
        assert _batch_letters(rw) == 0
    assert [item.error for item in progress.failures] == [
        "Not made: the worker stopped 2 times on this part of the batch."
    ] * 3
    assert batch.status == BatchStatus.DONE


def test_a_poll_swaps_nothing_without_news_and_never_resends_the_cancel_button_while_running(
    rw, client, django_capture_on_commit_callbacks
):
    with school_scope(rw.school), django_capture_on_commit_callbacks(execute=False):
        batch = _create(rw)
    client.force_login(rw.officer.user)
    url = reverse("letters:batch", kwargs={"school_slug": rw.school.slug, "batch_id": batch.pk})
    page = client.get(url).content.decode()
    shown = dict(re.findall(r'class="batch-shown" name="(\w+)" value="([^"]*)"', page))
    assert set(shown) == {"shown", "resume", "actions"}
    assert 'aria-live="polite"' in page

    quiet = client.get(url, shown, HTTP_HX_REQUEST="true")
    assert quiet.status_code == 204  # nothing changed: htmx swaps nothing

    with school_scope(rw.school):  # a worker takes the chunk and makes one letter
        chunk = LetterBatchChunk.objects.get(batch=batch)
        batches._lease(school=rw.school, chunk_id=chunk.pk)
        first = LetterBatchItem.objects.filter(batch=batch).order_by("position").first()
        assert batches._run_item(school=rw.school, batch=batch, item_id=first.pk)
    news = client.get(url, shown, HTTP_HX_REQUEST="true")
    body = news.content.decode()
    assert news.status_code == 200
    assert "1 of 3 letters done" in body
    assert 'id="batch-resume" hx-swap-oob="true"' in body  # no longer stalled: Resume goes
    assert "Cancel the batch" not in body  # the actions did not change: not swapped


def test_chunks_queued_behind_a_working_sibling_are_waiting_not_stalled(
    rw, django_capture_on_commit_callbacks
):
    with school_scope(rw.school):
        with django_capture_on_commit_callbacks(execute=False):
            batch = _create(rw, chunk_size=1)
        first, *queued = LetterBatchChunk.objects.filter(batch=batch).order_by("number")
        long_ago = timezone.now() - dt.timedelta(seconds=3 * settings.LETTER_BATCH_LEASE_SECONDS)
        LetterBatchChunk.objects.filter(batch=batch).update(dispatched_at=long_ago)
        assert batches._lease(school=rw.school, chunk_id=first.pk) == 1  # a worker is on it

        assert not batches.letter_batch_stalled(school=rw.school, batch=batch)
        assert batches.letter_batches_resume_stalled() == 0  # beat sends nothing twice

        # The worker dies: its lease runs out, and now nothing of the batch is worked.
        LetterBatchChunk.objects.filter(pk=first.pk).update(
            leased_until=timezone.now() - dt.timedelta(seconds=1)
        )
        assert batches.letter_batch_stalled(school=rw.school, batch=batch)
        stalled = LetterBatchChunk.objects.filter(batches._stalled(timezone.now()), batch=batch)
        assert sorted(stalled.values_list("pk", flat=True)) == sorted(
            [first.pk, *(c.pk for c in queued)]
        )
