"""The page where leadership sets each pastoral lead's year groups: what it saves, who may use
it, the audit event it writes, and another school's lead (404, nothing changed)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from schools.audit_models import AuditAction, AuditEvent
from schools.models import Role, StaffMembership, StaffYearGroup, YearGroup
from tests import factories as f
from tests.conftest import SchoolWorld, World

pytestmark = pytest.mark.django_db


def page(ws: SchoolWorld, slug: str | None = None) -> str:
    return reverse("schools:staff-year-groups", kwargs={"school_slug": slug or ws.school.slug})


def lead_of(ws: SchoolWorld) -> StaffMembership:
    with scopes_disabled():
        return StaffMembership.objects.get(school=ws.school, user=ws.users[Role.PASTORAL_LEAD])


def held(lead: StaffMembership) -> set[int]:
    with scopes_disabled():
        return set(
            StaffYearGroup.objects.filter(membership=lead).values_list("year_group_id", flat=True)
        )


def test_a_head_sets_a_pastoral_leads_year_groups(world: World, client_for):
    ws = world.a1
    lead = lead_of(ws)
    with scopes_disabled():
        other = f.YearGroupFactory(school=ws.school, nc_year="11")
        current = YearGroup.objects.get(pk=ws.form.year_group_id)
    client = client_for(ws.users[Role.HEADTEACHER])
    shown = client.get(page(ws)).content.decode()
    assert f'id="id_m{lead.pk}_year_groups_0"' in shown
    assert f'value="{current.pk}" checked' in shown

    saved = client.post(page(ws), {"membership": lead.pk, "year_groups": [other.pk]})
    assert saved.status_code == 302
    assert held(lead) == {other.pk}
    with scopes_disabled():
        event = AuditEvent.objects.get(action=AuditAction.ACCESS_CHANGED)
    assert (event.school_id, event.target_id, event.actor_id) == (
        ws.school.pk,
        lead.pk,
        ws.users[Role.HEADTEACHER].pk,
    )
    assert event.outcome == "year groups: 1"

    cleared = client.post(page(ws), {"membership": lead.pk})
    assert cleared.status_code == 302
    assert held(lead) == set()


def test_another_schools_lead_or_a_year_group_is_refused(world: World, client_for):
    ws, theirs = world.a1, world.b1
    lead, their_lead = lead_of(ws), lead_of(theirs)
    before = held(their_lead)
    client = client_for(ws.users[Role.HEADTEACHER])
    # B1's lead under A1's slug: not found, nothing changed.
    assert client.post(page(ws), {"membership": their_lead.pk}).status_code == 404
    assert held(their_lead) == before
    # B1's year group for A1's lead: not a choice here (the form refuses it).
    with scopes_disabled():
        their_group = YearGroup.objects.filter(school=theirs.school).first()
    assert their_group is not None
    refused = client.post(page(ws), {"membership": lead.pk, "year_groups": [their_group.pk]})
    assert refused.status_code == 200
    assert "govuk-error-message" in refused.content.decode()
    assert their_group.pk not in held(lead)
    # B1's page for A1's head: 404.
    assert client.get(page(ws, theirs.school.slug)).status_code == 404


@pytest.mark.parametrize("role", [Role.FORM_TUTOR, Role.PASTORAL_LEAD, Role.ATTENDANCE_OFFICER])
def test_only_leadership_may_use_it(world: World, client_for, role):
    ws = world.a1
    lead = lead_of(ws)
    before = held(lead)
    client = client_for(ws.users[role])
    assert client.get(page(ws)).status_code in (403, 404)
    assert client.post(page(ws), {"membership": lead.pk}).status_code in (403, 404)
    assert held(lead) == before


def test_the_page_in_welsh(world: World, client_for):
    client = client_for(world.a1.users[Role.HEADTEACHER])
    client.cookies["django_language"] = "cy"
    body = client.get(page(world.a1), HTTP_ACCEPT_LANGUAGE="cy").content.decode()
    assert "Grwpiau blwyddyn yr arweinwyr bugeiliol" in body
