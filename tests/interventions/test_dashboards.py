"""The school dashboard (issue 12 item 1): figures from the weekly summaries, drill-down lists
with CSV, roles, and a number of queries that does not grow with the roll."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from interventions.recompute import school_recompute
from schools.models import Role
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.test_recompute import D, put_marks, rw, school_days  # noqa: F401
from tests.registers.conftest import build_register_world

pytestmark = pytest.mark.django_db
AS_OF = D(2024, 10, 4)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: AS_OF)


def head_of(school: object) -> object:
    with scopes_disabled():
        return f.StaffMembershipFactory(school=school, role=Role.HEADTEACHER).user


def test_the_dashboard_shows_the_year_to_date_from_the_summaries(rw, client_for):  # noqa: F811
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)
    client = client_for(head_of(rw.school))
    url = reverse("interventions:dashboard", kwargs={"school_slug": rw.school.slug})
    response = client.get(url)
    assert response.status_code == 200
    board = response.context["board"]
    # 3 pupils x 25 school days x 2 sessions; the truant missed 20 sessions (U).
    assert board.total.possible == 150
    assert board.total.unauthorised == 22  # and 2 sessions of N (no reason yet)
    assert board.total.persistent == 1  # 20 of 50 sessions
    assert board.total.severe == 0
    assert len(board.weeks) == 5
    assert response.context["persistent_rate"] == "33.3%"
    body = response.content.decode()
    assert "<svg" in body
    assert "<title" in body
    assert "measure=persistent" in body


def test_every_drill_down_lists_its_pupils_and_exports_csv(rw, client_for):  # noqa: F811
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)
    _steady, truant, _ = rw.pupils
    client = client_for(head_of(rw.school))
    url = reverse("interventions:dashboard-pupils", kwargs={"school_slug": rw.school.slug})
    response = client.get(url, {"measure": "persistent"})
    assert response.status_code == 200
    assert [row[0] for row in response.context["rows"]] == [
        f"{truant.legal_surname}, {truant.preferred_forename or truant.legal_forename}"
    ]
    csv = client.get(url, {"measure": "persistent", "format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().strip().splitlines()
    assert len(lines) == 2
    assert lines[1].endswith(",50,20,60.0%")
    assert client.get(url, {"measure": "everything"}).status_code == 404


def test_a_form_tutor_has_no_dashboard(rw, client_for):  # noqa: F811
    with scopes_disabled():
        tutor = f.StaffMembershipFactory(school=rw.school, role=Role.FORM_TUTOR).user
    url = reverse("interventions:dashboard", kwargs={"school_slug": rw.school.slug})
    assert client_for(tutor).get(url).status_code in (403, 404)


def test_the_dashboard_reads_a_fixed_number_of_queries(client_for, django_assert_max_num_queries):
    counts = []
    for size in (4, 40):
        world = build_register_world(size=size)
        with school_scope(world.school):
            for pupil in world.pupils:
                put_marks(world, pupil, school_days(D(2024, 9, 2), D(2024, 9, 13)))
                put_marks(world, pupil, [D(2024, 9, 16)], code="U")
            school_recompute(school=world.school, as_of=AS_OF)
        client = client_for(head_of(world.school))
        url = reverse("interventions:dashboard", kwargs={"school_slug": world.school.slug})
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_a_pastoral_lead_sees_only_their_year_groups_pupils_behind_a_number(rw, client_for):  # noqa: F811
    from schools.models import StaffYearGroup

    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)
    with scopes_disabled():
        lead = f.StaffMembershipFactory(school=rw.school, role=Role.PASTORAL_LEAD)
    client = client_for(lead.user)
    url = reverse("interventions:dashboard-pupils", kwargs={"school_slug": rw.school.slug})
    breakdown = {"measure": "category:unauthorised"}

    assert client.get(url, {"measure": "all"}).context["rows"] == []  # no year groups: none
    assert client.get(url, breakdown).context["rows"] == []
    with scopes_disabled():
        StaffYearGroup.objects.create(
            school=rw.school, membership=lead, year_group=rw.form.year_group
        )
    assert len(client.get(url, {"measure": "all"}).context["rows"]) == 3
    assert len(client.get(url, breakdown).context["rows"]) >= 1
