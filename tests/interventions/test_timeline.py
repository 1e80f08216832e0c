"""The pupil's timeline: every source merged newest first (letters through their provider),
only this pupil's rows, a fixed number of queries, and the section on the pupil page for
those who see cases (in Welsh too), not for parents."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scopes_disabled

from interventions.timeline import pupil_timeline
from schools.models import Role
from schools.scoping import school_scope
from tests.conftest import SchoolWorld, World
from tests.test_tenancy import EXTRA_ROWS

pytestmark = pytest.mark.django_db

# The world has the NTI, the PN request, an action and a letter for pupils[0]; these add one
# row of each other source (the tenancy test's makers), again for pupils[0].
MAKERS = [
    "registers.MarkChange",
    "interventions.AttendanceEvent",
    "interventions.ContactAttempt",
    "interventions.CaseStageChange",
]
ALL_KINDS = {"mark-change", "event", "contact", "stage", "action", "nti", "pn-request", "letter"}


def _fill(ws: SchoolWorld) -> None:
    with scopes_disabled():
        for label in MAKERS:
            EXTRA_ROWS[label](ws)


def _more(ws: SchoolWorld) -> None:
    """More contacts and stage changes (marks and events are once per session and key)."""
    with scopes_disabled():
        for label in MAKERS[2:]:
            EXTRA_ROWS[label](ws)


def _timeline(ws: SchoolWorld, index: int = 0) -> list[Any]:
    with school_scope(ws.school):
        return pupil_timeline(school=ws.school, pupil=ws.pupils[index])


def test_the_timeline_merges_every_source_newest_first(world: World):
    _fill(world.a1)
    entries = _timeline(world.a1)
    assert {entry.kind for entry in entries} == ALL_KINDS
    assert [entry.at for entry in entries] == sorted((e.at for e in entries), reverse=True)
    change = next(entry for entry in entries if entry.kind == "mark-change")
    assert change.title == "Mark for 2024-09-10 AM changed from N to I"
    assert change.detail == "Parent rang"
    assert change.by == "A Officer"


def test_another_pupils_timeline_has_none_of_these_rows(world: World):
    _fill(world.a1)
    assert _timeline(world.a1, index=1) == []


def test_the_timeline_takes_one_query_per_source_whatever_the_rows(world: World):
    ws = world.a1
    _fill(ws)
    with school_scope(ws.school), CaptureQueriesContext(connection) as few:
        pupil_timeline(school=ws.school, pupil=ws.pupils[0])
    _more(ws)
    _more(ws)
    with school_scope(ws.school), CaptureQueriesContext(connection) as many:
        entries = pupil_timeline(school=ws.school, pupil=ws.pupils[0])
    assert len(entries) == 12  # 8 sources, then 2 more contacts and 2 more stage changes
    assert len(many) == len(few) == len(ALL_KINDS)


def _page(ws: SchoolWorld) -> str:
    return reverse(
        "schools:pupil-detail", kwargs={"school_slug": ws.school.slug, "pupil_id": ws.pupils[0].pk}
    )


@pytest.mark.parametrize("role", [Role.ATTENDANCE_OFFICER, Role.FORM_TUTOR, Role.HEADTEACHER])
def test_staff_who_see_cases_get_the_timeline_on_the_pupil_page(world: World, client_for, role):
    _fill(world.a1)
    body = client_for(world.a1.users[role]).get(_page(world.a1)).content.decode()
    assert "Timeline" in body
    assert "Mark for 2024-09-10 AM changed from N to I" in body
    assert "Case opened at" in body or "Case moved from" in body
    assert "Letter: " in body


def test_parents_do_not_get_the_timeline(world: World, client_for):
    _fill(world.a1)
    response = client_for(world.a1.users[Role.PARENT]).get(_page(world.a1))
    assert response.status_code == 200
    assert "Timeline" not in response.content.decode()
    assert "Parent rang" not in response.content.decode()


def test_the_pupil_pages_queries_do_not_grow_with_the_timeline(world: World, client_for):
    ws = world.a1
    client = client_for(ws.users[Role.ATTENDANCE_OFFICER])
    _fill(ws)
    client.get(_page(ws))  # the first request of a session does its own extra work
    with CaptureQueriesContext(connection) as few:
        client.get(_page(ws))
    for _ in range(3):
        _more(ws)
    with CaptureQueriesContext(connection) as many:
        client.get(_page(ws))
    assert len(many) == len(few)


def test_the_timeline_is_in_welsh(world: World, client_for):
    _fill(world.a1)
    client = client_for(world.a1.users[Role.ATTENDANCE_OFFICER])
    client.post(reverse("set_language"), {"language": "cy", "next": "/"})
    body = client.get(_page(world.a1)).content.decode()
    assert "Llinell amser" in body
    assert "Newidiwyd y marc ar gyfer 2024-09-10 AM o N i I" in body
    assert "Llythyr: " in body
