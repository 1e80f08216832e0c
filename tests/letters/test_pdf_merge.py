"""The batch's print file: each chunk's worker writes its letters as one part, the last worker
joins the parts without parsing a PDF, and the joined file keeps every letter's tags."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import pytest
from django_scopes import scopes_disabled

from letters import batches
from letters.models import BatchStatus, Letter, LetterBatchChunk, LetterBatchItem
from letters.pdf_merge import KEYS_PER_PART, PdfPart, pdf_join
from letters.rendering import html_to_pdf
from schools.scoping import school_scope
from tests.letters.test_batches import _create, rw  # noqa: F401  (rw is a fixture)

pytestmark = pytest.mark.django_db

PART_STORAGE = LetterBatchChunk._meta.get_field("print_part").storage


def _letter_pdf(lang: str, text: str, *, pages: int = 1) -> bytes:
    breaks = "".join(f'<p style="break-before: page">{text} {n}</p>' for n in range(2, pages + 1))
    return html_to_pdf(
        f'<html lang="{lang}"><head><title>{text}</title></head>'
        f"<body><h1>{text}</h1><p>{text} 1</p>{breaks}</body></html>"
    )


def _join_bytes(*parts_of_letters: list[bytes]) -> bytes:
    parts = []
    for number, letters in enumerate(parts_of_letters):
        part = io.BytesIO()
        writer = PdfPart(part, key_base=number * KEYS_PER_PART)
        for letter in letters:
            writer.add_letter(io.BytesIO(letter))
        writer.close()
        parts.append(part)
    out = io.BytesIO()
    pdf_join(parts, out)
    return out.getvalue()


def _join(*parts_of_letters: list[bytes]) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(_join_bytes(*parts_of_letters)), strict=True)


def _tags(reader: pypdf.PdfReader) -> tuple[list[str], set[int], list[int]]:
    """The languages of the top-level structure elements, the parent tree's keys, and the
    keys the pages point at."""
    root: Any = reader.trailer["/Root"]
    tree = root["/StructTreeRoot"]
    root_number = root.raw_get("/StructTreeRoot").idnum
    elements = [kid.get_object() for kid in tree["/K"]]
    assert all(element.raw_get("/P").idnum == root_number for element in elements)
    nums = tree["/ParentTree"]["/Nums"]
    keys = [int(key) for key in nums[0::2]]
    assert len(set(keys)) == len(keys)
    assert all(value.get_object() is not None for value in nums[1::2])
    pages = [page.get("/StructParents") for page in reader.pages]
    return (
        [str(element["/Lang"]) for element in elements],
        set(keys),
        [int(key) for key in pages if key is not None],
    )


def test_joined_parts_keep_the_order_duplex_padding_and_every_letters_tags_and_language():
    welsh = _letter_pdf("cy", "Annwyl riant, ŵyr ŷd â", pages=2)
    english = _letter_pdf("en-GB", "Dear parent")
    three_pages = _letter_pdf("en-GB", "Long letter", pages=3)

    merged = _join([welsh, english], [three_pages])

    texts = [page.extract_text() for page in merged.pages]
    assert len(texts) == 2 + 2 + 4  # 2, 1 padded to 2, 3 padded to 4
    assert "Annwyl riant, ŵyr ŷd â 1" in texts[0]
    assert "Annwyl riant, ŵyr ŷd â 2" in texts[1]
    assert "Dear parent" in texts[2]
    assert texts[3] == ""
    assert "Long letter 3" in texts[6]
    assert texts[7] == ""
    languages, keys, page_keys = _tags(merged)
    assert languages == ["cy", "en-GB", "en-GB"]
    catalog: Any = merged.trailer["/Root"]
    assert catalog["/Lang"] == "cy"  # the first letter's
    assert catalog["/MarkInfo"]["/Marked"]
    assert len(page_keys) == 2 + 1 + 3  # every page with content is tagged; blanks are not
    assert set(page_keys) <= keys
    # The second part's keys come from its own range, so they never clash with the first's.
    assert sum(key >= KEYS_PER_PART for key in page_keys) == 3


def test_the_joined_file_is_about_the_size_of_its_letters():
    # The copied tags are packed into compressed object streams: written out plainly, the
    # tags of 1,154 demo letters made a 117 MB print file from 28 MB of letters.
    letters = [_letter_pdf("en-GB", f"Letter {n}", pages=1 + n % 3) for n in range(6)]
    joined = _join_bytes(letters[:3], letters[3:])
    assert b"/ObjStm" in joined
    assert len(joined) < 1.25 * sum(len(letter) for letter in letters)


def test_a_part_is_joined_alone_unchanged_in_content():
    letter = _letter_pdf("en-GB", "Only letter", pages=2)
    merged = _join([letter])
    assert [page.extract_text().strip() for page in merged.pages] == [
        "Only letter\nOnly letter 1",
        "Only letter 2",
    ]


def _stored_parts(school) -> set[str]:
    folder = f"letter-batches/parts/{school.pk}"
    return set(PART_STORAGE.listdir(folder)[1]) if PART_STORAGE.exists(folder) else set()


@pytest.fixture
def parts_left(rw):  # noqa: F811
    """The parts a test leaves in storage (the test storage outlives each test's database)."""
    before = _stored_parts(rw.school)
    return lambda: _stored_parts(rw.school) - before


def test_each_chunk_writes_its_part_and_the_last_worker_joins_and_deletes_them(
    rw,  # noqa: F811
    django_capture_on_commit_callbacks,
    parts_left,
):
    with school_scope(rw.school):
        with django_capture_on_commit_callbacks(execute=False):
            batch = _create(rw, chunk_size=2)
        first, second = LetterBatchChunk.objects.filter(batch=batch).order_by("number")
        with django_capture_on_commit_callbacks(execute=True):
            batches.letter_batch_run_chunk(school=rw.school, chunk_id=first.pk)
        first.refresh_from_db()
        assert first.print_part  # written by the chunk's own worker
        assert PART_STORAGE.exists(first.print_part.name)
        with django_capture_on_commit_callbacks(execute=True):
            batches.letter_batch_run_chunk(school=rw.school, chunk_id=second.pk)
        batch.refresh_from_db()
        with batch.merged_pdf.open("rb") as handle:
            merged = pypdf.PdfReader(io.BytesIO(handle.read()), strict=True)
        assert not LetterBatchChunk.objects.filter(batch=batch).exclude(print_part="").exists()
    assert batch.status == BatchStatus.DONE
    texts = [page.extract_text() for page in merged.pages]
    assert [n for n, text in enumerate(texts) for p in ("Pupil0", "Pupil1", "Pupil2") if p in text][
        :3
    ] == [0, 2, 4]
    languages, keys, page_keys = _tags(merged)
    assert languages == ["en-GB"] * 3
    assert set(page_keys) <= keys
    assert parts_left() == set()  # the parts are gone once the batch is saved


def test_a_worker_that_lost_its_lease_before_closing_the_chunk_drops_its_part(
    rw,  # noqa: F811
    django_capture_on_commit_callbacks,
    monkeypatch,
    parts_left,
):
    real_store = batches._chunk_part_store

    def store_then_lose_the_lease(**kwargs):
        name = real_store(**kwargs)
        LetterBatchChunk.objects.filter(pk=kwargs["chunk"].pk).update(attempts=99)
        return name

    monkeypatch.setattr(batches, "_chunk_part_store", store_then_lose_the_lease)
    with school_scope(rw.school):
        with django_capture_on_commit_callbacks(execute=False):
            batch = _create(rw)
        chunk = LetterBatchChunk.objects.get(batch=batch)
        batches.letter_batch_run_chunk(school=rw.school, chunk_id=chunk.pk)
        chunk.refresh_from_db()
        batch.refresh_from_db()
    assert chunk.finished_at is None
    assert not chunk.print_part
    assert batch.status == BatchStatus.RUNNING
    assert not batch.merged_pdf
    assert parts_left() == set()


def test_a_cancelled_batch_joins_the_letters_of_a_chunk_that_wrote_no_part(
    rw,  # noqa: F811
    django_capture_on_commit_callbacks,
    parts_left,
):
    with school_scope(rw.school):
        with django_capture_on_commit_callbacks(execute=False):
            batch = _create(rw, chunk_size=1)
        chunks = list(LetterBatchChunk.objects.filter(batch=batch).order_by("number"))
        batches.letter_batch_run_chunk(school=rw.school, chunk_id=chunks[0].pk)
        # The second chunk's worker made its letter and was working when the batch stopped.
        batches._lease(school=rw.school, chunk_id=chunks[1].pk)
        item = LetterBatchItem.objects.get(chunk=chunks[1])
        assert batches._run_item(school=rw.school, batch=batch, item_id=item.pk)
        with django_capture_on_commit_callbacks(execute=True):
            batches.letter_batch_cancel(school=rw.school, batch=batch, cancelled_by=rw.officer)
        batch.refresh_from_db()
        with batch.merged_pdf.open("rb") as handle:
            merged = pypdf.PdfReader(io.BytesIO(handle.read()), strict=True)
    assert batch.status == BatchStatus.CANCELLED
    texts = [page.extract_text() for page in merged.pages]
    assert "Pupil0" in texts[0]
    assert "Pupil1" in texts[2]
    assert not any("Pupil2" in text for text in texts)
    assert parts_left() == set()


def test_a_letter_whose_pdf_retention_erased_is_left_out_of_a_print_file(
    rw,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    with school_scope(rw.school), django_capture_on_commit_callbacks(execute=True):
        _create(rw)
    with scopes_disabled():
        letters = list(Letter.objects.filter(school=rw.school).order_by("pk"))
        erased = letters[1]
        erased.pdf.delete(save=False)
        Letter.objects.filter(pk=erased.pk).update(pdf="", snapshot={})
        letters[1].refresh_from_db()
        out = io.BytesIO()
        pages = batches.letters_merge(letters=letters, out=out)
    merged = pypdf.PdfReader(io.BytesIO(out.getvalue()))
    assert pages == len(merged.pages) == 4
    assert not any("Pupil1" in page.extract_text() for page in merged.pages)
