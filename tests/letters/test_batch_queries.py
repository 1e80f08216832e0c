"""A batch chunk reads its pupils' facts together (issue 11 part 9): the engine's set-based entry
point for the whole chunk, the marks, parents, placements and family languages in one query
each, and the letterhead and headteacher once. What still grows with the chunk is only the few
writes each letter needs (its row, its parents, its file, the item and the heartbeat)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scopes_disabled

from letters import batches, services
from letters.models import Letter, LetterBatchChunk, LetterTemplate
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.attendance_world import add_marks, add_pupil, build_year_world, sessions
from tests.letters.test_letters import PERIOD

pytestmark = pytest.mark.django_db

# Per letter, whatever the chunk: two savepoints and their releases, the item, the letter row,
# its parents (read and add), its file name and hash, the item's state, the heartbeat.
WRITES_PER_LETTER = 11


@pytest.fixture
def world():
    rw = build_year_world(size=0)
    slots = sessions(rw.school, *PERIOD)
    for n in range(30):
        pupil = add_pupil(rw, legal_forename=f"Pupil{n:02d}", legal_surname="Jones")
        with scopes_disabled():
            f.ContactFactory(pupil=pupil, address=f"{n} High Street")
        add_marks(rw.school, pupil, slots[: 2 + n % 5], "O")
        add_marks(rw.school, pupil, slots[2 + n % 5 :], "/")
        rw.pupils.append(pupil)
    with school_scope(rw.school):
        services.letter_templates_install_defaults(school=rw.school)
    return rw


def _sources_queries(rw, count: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        sources = services.letter_sources(
            school=rw.school,
            pupil_ids=[p.pk for p in rw.pupils[:count]],
            period_start=PERIOD[0],
            period_end=PERIOD[1],
        )
    assert len(sources.pupils) == count
    return len(captured.captured_queries)


def test_the_facts_of_a_chunk_are_read_in_the_same_number_of_queries_for_10_or_30_pupils(world):
    with school_scope(world.school):
        ten = _sources_queries(world, 10)
        thirty = _sources_queries(world, 30)
    assert ten == thirty
    assert thirty <= 20


def _chunk_queries(rw, pupils, django_capture_on_commit_callbacks) -> int:
    template = LetterTemplate.objects.get(school=rw.school, key="termly_report", language="en")
    with django_capture_on_commit_callbacks(execute=False):  # the test is the worker
        batch = batches.letter_batch_create(
            school=rw.school,
            template=template,
            pupils=pupils,
            period_start=PERIOD[0],
            period_end=PERIOD[1],
            created_by=rw.officer,
            chunk_size=len(pupils),
        )
    chunk = LetterBatchChunk.objects.get(school=rw.school, batch=batch)
    with CaptureQueriesContext(connection) as captured:
        assert batches.letter_batch_run_chunk(school=rw.school, chunk_id=chunk.pk) == len(pupils)
    return len(captured.captured_queries)


def test_a_chunk_of_30_letters_costs_only_the_writes_of_20_more_letters_than_a_chunk_of_10(
    world, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with school_scope(world.school):
        # A first batch warms what is read once per process (code tables, the calendar's
        # content types), so the two counts below compare like with like.
        _chunk_queries(world, world.pupils[:1], django_capture_on_commit_callbacks)
        ten = _chunk_queries(world, world.pupils[:10], django_capture_on_commit_callbacks)
        thirty = _chunk_queries(world, world.pupils[:30], django_capture_on_commit_callbacks)
        with django_assert_max_num_queries(60 + 30 * WRITES_PER_LETTER):
            _chunk_queries(world, world.pupils[:30], django_capture_on_commit_callbacks)
        made = Letter.objects.filter(school=world.school, source="batch").count()
    # Reading the facts does not grow with the chunk: only each letter's own writes do.
    assert thirty - ten <= 20 * WRITES_PER_LETTER
    assert made == 1 + 10 + 30 + 30


def test_letters_of_a_chunk_state_the_same_facts_as_letters_made_one_by_one(world):
    with school_scope(world.school):
        template = LetterTemplate.objects.get(
            school=world.school, key="termly_report", language="en"
        )
        pupils = world.pupils[:4]
        sources = services.letter_sources(
            school=world.school,
            pupil_ids=[p.pk for p in pupils],
            period_start=PERIOD[0],
            period_end=PERIOD[1],
        )
        for pupil in pupils:
            alone = services.letter_snapshot(
                school=world.school,
                pupil=pupil,
                contacts=services.letter_contacts(school=world.school, pupil=pupil),
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                language=template.language,
                today=sources.today,
            )
            together = services.letter_snapshot(
                school=world.school,
                pupil=pupil,
                contacts=list(sources.pupils[pupil.pk].contacts),
                period_start=PERIOD[0],
                period_end=PERIOD[1],
                language=template.language,
                sources=sources,
            )
            assert together == alone
            assert together["sessions.missed"] == 2 + world.pupils.index(pupil) % 5
