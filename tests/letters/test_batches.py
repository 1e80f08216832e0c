from __future__ import annotations

import io

import pypdf
import pytest
from django_scopes import scopes_disabled

from letters import services
from letters.models import BatchStatus, ItemState, Letter, LetterBatchItem, LetterTemplate
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.attendance_world import add_pupil, build_year_world
from tests.letters.test_letters import PERIOD

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw():
    rw = build_year_world(size=0)
    for n in range(3):
        pupil = add_pupil(rw, legal_forename=f"Pupil{n}")
        with scopes_disabled():
            f.ContactFactory(pupil=pupil, address="1 High Street")
        rw.pupils.append(pupil)
    with school_scope(rw.school):
        services.letter_templates_install_defaults(school=rw.school)
    return rw


def termly(rw) -> LetterTemplate:
    return LetterTemplate.objects.get(school=rw.school, key="termly_report", language="en")


def test_a_batch_makes_one_letter_per_pupil_and_a_duplex_ready_merged_pdf(
    rw, django_capture_on_commit_callbacks
):
    with school_scope(rw.school), django_capture_on_commit_callbacks(execute=True):
        batch = services.letter_batch_create(
            school=rw.school,
            template=termly(rw),
            pupils=[*rw.pupils, rw.pupils[0]],  # a pupil twice is one letter
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            created_by=rw.officer,
            chunk_size=2,
        )
    with school_scope(rw.school):
        batch.refresh_from_db()
        states = list(LetterBatchItem.objects.filter(batch=batch).values_list("state", flat=True))
        letters = Letter.objects.filter(school=rw.school, source="batch").count()
        with batch.merged_pdf.open("rb") as handle:
            merged = pypdf.PdfReader(io.BytesIO(handle.read()))
    assert states == [ItemState.DONE] * 3
    assert letters == 3
    assert batch.status == BatchStatus.DONE
    assert len(merged.pages) == 6  # three one-page letters, each padded to two
    assert "Pupil1" in merged.pages[2].extract_text()


def test_a_chunk_delivered_again_after_a_worker_died_duplicates_nothing(
    rw, django_capture_on_commit_callbacks
):
    with school_scope(rw.school):
        with django_capture_on_commit_callbacks(execute=False):  # the workers never ran
            batch = services.letter_batch_create(
                school=rw.school,
                template=termly(rw),
                pupils=rw.pupils,
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                created_by=rw.officer,
            )
        items = list(LetterBatchItem.objects.filter(batch=batch).order_by("position"))
        # the first worker made one letter, then died
        services.letter_batch_run_chunk(school=rw.school, batch=batch, item_ids=[items[0].pk])
        # the chunk is redelivered, and the batch page's "resume" sends the rest again too
        services.letter_batch_run_chunk(
            school=rw.school, batch=batch, item_ids=[item.pk for item in items]
        )
        services.letter_batch_enqueue(school=rw.school, batch=batch)
        assert Letter.objects.filter(school=rw.school, source="batch").count() == 3
        batch.refresh_from_db()
        assert batch.status == BatchStatus.DONE


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
            batch = services.letter_batch_create(
                school=rw.school,
                template=template,
                pupils=rw.pupils,
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                created_by=rw.officer,
            )
        items = list(LetterBatchItem.objects.filter(batch=batch).order_by("position"))
        services.letter_batch_run_chunk(school=rw.school, batch=batch, item_ids=[items[0].pk])
        services.letter_batch_cancel(school=rw.school, batch=batch, cancelled_by=rw.officer)
        services.letter_batch_run_chunk(
            school=rw.school, batch=batch, item_ids=[item.pk for item in items]
        )
        failed = LetterBatchItem.objects.get(pk=items[0].pk)
        states = list(
            LetterBatchItem.objects.filter(batch=batch)
            .order_by("position")
            .values_list("state", flat=True)
        )
        batch.refresh_from_db()
    assert failed.error == 'Line 1: merge field "nti" has no value for this letter'
    assert states == [ItemState.FAILED, ItemState.CANCELLED, ItemState.CANCELLED]
    assert batch.status == BatchStatus.CANCELLED
    assert batch.finished_at is not None
