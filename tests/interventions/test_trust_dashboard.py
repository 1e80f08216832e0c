"""The trust dashboard (issue 12 item 2): every school side by side from the weekly summaries,
the trust total summed from sessions, last year to the same school week, target, sparkline
with a text alternative, sorting by links, CSV, and 404 for anyone but the trust's leaders."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from interventions.models import WeeklySummary
from interventions.recompute import school_recompute
from interventions.summaries import rollup_rewrite
from schools.models import Role, School, Trust
from schools.scoping import school_scope
from tests import factories as f
from tests.interventions.test_recompute import D, put_marks, school_days
from tests.registers.conftest import RegisterWorld, build_register_world

pytestmark = pytest.mark.django_db
AS_OF = D(2024, 10, 4)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: AS_OF)


def _two_schools(trust: Trust) -> tuple[RegisterWorld, RegisterWorld]:
    """A small school (2 pupils, one absent throughout) and a large one (6 pupils, all
    present), marked for the first two weeks of September 2024."""
    small = build_register_world(size=2, trust=trust, name="Small Primary")
    large = build_register_world(size=6, trust=trust, name="Large Academy")
    for world, absent in ((small, 1), (large, 0)):
        with school_scope(world.school):
            for i, pupil in enumerate(world.pupils):
                code = "U" if i < absent else "/"
                put_marks(world, pupil, school_days(D(2024, 9, 2), D(2024, 9, 13)), code=code)
            school_recompute(school=world.school, as_of=AS_OF)
    return small, large


def _url(trust: Trust) -> str:
    return reverse("interventions:trust-dashboard", kwargs={"trust_slug": trust.slug})


@pytest.fixture
def trust_world(client_for) -> tuple[Trust, Client, RegisterWorld, RegisterWorld]:
    with scopes_disabled():
        trust = f.TrustFactory()
        leader = f.TrustMembershipFactory(trust=trust).user
    small, large = _two_schools(trust)
    return trust, client_for(leader), small, large


def test_the_trust_total_sums_sessions_not_the_schools_rates(
    trust_world, django_assert_max_num_queries
):
    trust, client, _small, _large = trust_world
    with django_assert_max_num_queries(16):
        response = client.get(_url(trust))
    assert response.status_code == 200
    board = response.context["board"]
    # 8 pupils x 20 sessions, of which 20 missed: 12.5% absence. The average of the two
    # schools' rates (50% and 0%) would be 25%.
    assert (board.total.possible, board.total.absence, board.total.enrolments) == (160, 20, 8)
    assert board.total.persistent == 1
    by_name = {c.school.name: c.totals for c in board.schools}
    assert (by_name["Small Primary"].possible, by_name["Small Primary"].absence) == (40, 20)
    assert (by_name["Large Academy"].possible, by_name["Large Academy"].absence) == (120, 0)
    total = response.context["total_rows"][0]
    assert total[6].value == "12.5% (20)"  # overall absence: rate and sessions
    assert total[9].value == "12.5% (1)"  # persistent absence: rate and pupils


def test_each_school_drills_into_its_dashboard_with_a_described_sparkline(trust_world):
    trust, client, small, large = trust_world
    body = client.get(_url(trust)).content.decode()
    for world in (small, large):
        dashboard = reverse("interventions:dashboard", kwargs={"school_slug": world.school.slug})
        assert f'href="{dashboard}"' in body
    # Two school weeks each: a line, with its text alternative.
    assert body.count("<polyline") == 2
    assert "Weekly attendance over 2 school weeks: 50.0% in the first" in body
    assert "<title>Weekly attendance over 2 school weeks: 100.0% in the first" in body
    assert "style=" not in body
    assert "<script>" not in body


def test_target_and_last_year_to_the_same_school_week(client_for):
    with scopes_disabled():
        trust = f.TrustFactory()
        leader = f.TrustMembershipFactory(trust=trust).user
    small, large = _two_schools(trust)
    School.objects.filter(pk=large.school.pk).update(attendance_target=Decimal("96.5"))
    School.objects.filter(pk=small.school.pk).update(attendance_target=Decimal("97"))
    with school_scope(large.school):
        pupil = large.pupils[0]
        enrolment = pupil.enrolments.get()
        # Last year (2023/24): three school weeks; only the first two count against this
        # year's two school weeks so far.
        for monday, present in ((D(2023, 9, 4), 9), (D(2023, 9, 11), 8), (D(2023, 9, 18), 0)):
            WeeklySummary.objects.create(
                school=large.school,
                enrolment=enrolment,
                pupil=pupil,
                period_start=D(2023, 8, 1),
                week_start=monday,
                possible_sessions=10,
                present_sessions=present,
                unauthorised_sessions=10 - present,
            )
        # As the recompute keeps them: the school's weekly rollup follows its summaries.
        rollup_rewrite(school=large.school, period_start=D(2023, 8, 1), first=D(2023, 8, 1))
    board = client_for(leader).get(_url(trust)).context["board"]
    column = next(c for c in board.schools if c.school == large.school)
    assert column.target == 96.5
    assert (column.last_year_to_date.possible, column.last_year_to_date.attendance) == (20, 17)
    assert (board.last_year_to_date.possible, board.last_year_to_date.attendance) == (20, 17)
    other = next(c for c in board.schools if c.school == small.school)
    assert other.target == 97
    assert other.last_year_to_date.possible == 0
    row = next(
        r
        for r in client_for(leader).get(_url(trust)).context["rows"]
        if large.school.name in str(r[0])
    )
    assert row[4].value == "+3.5 points (96.5%)"  # 100% against a target of 96.5%
    assert row[5].value == "85.0%"  # 17 of 20 sessions last year to the same week


def test_columns_sort_by_links_both_ways(trust_world):
    trust, client, small, large = trust_world
    names = [small.school.name, large.school.name]

    def order(query: dict[str, str]) -> list[str]:
        rows = client.get(_url(trust), query).context["rows"]
        return [name for row in rows for name in names if name in str(row[0])]

    assert order({}) == ["Large Academy", "Small Primary"]  # by name
    assert order({"sort": "attendance", "order": "desc"}) == ["Large Academy", "Small Primary"]
    assert order({"sort": "attendance", "order": "asc"}) == ["Small Primary", "Large Academy"]
    assert order({"sort": "persistent", "order": "desc"}) == ["Small Primary", "Large Academy"]
    assert order({"sort": "nonsense"}) == ["Large Academy", "Small Primary"]
    body = client.get(_url(trust), {"sort": "attendance", "order": "desc"}).content.decode()
    # The current column's link reverses the order; the others start highest first.
    assert 'href="?sort=attendance&amp;order=asc"' in body
    assert 'href="?sort=severe&amp;order=desc"' in body
    assert "sorted descending" in body


def test_the_csv_has_every_school_and_the_trust_total_in_sessions(trust_world):
    trust, client, _small, _large = trust_world
    response = client.get(_url(trust), {"format": "csv", "sort": "pupils", "order": "desc"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["School", "Pupils", "Possible sessions", "Sessions attended"]
    assert [r[:4] for r in rows[1:]] == [
        ["Large Academy", "6", "120", "120"],
        ["Small Primary", "2", "40", "20"],
        ["Trust", "8", "160", "140"],
    ]
    assert rows[3][4] == "87.5"  # 140 of 160, not the mean of 100 and 50


def test_another_trusts_leader_and_the_schools_own_head_get_404(trust_world, client_for):
    trust, _client, small, _large = trust_world
    with scopes_disabled():
        stranger = f.TrustMembershipFactory(trust=f.TrustFactory()).user
        head = f.StaffMembershipFactory(school=small.school, role=Role.HEADTEACHER).user
    before = WeeklySummary._base_manager.count()
    for user in (stranger, head):
        client = client_for(user)
        assert client.get(_url(trust)).status_code == 404
        assert client.get(_url(trust), {"format": "csv"}).status_code == 404
    assert WeeklySummary._base_manager.count() == before


def test_the_number_of_queries_does_not_grow_with_schools_or_pupils(
    client_for, django_assert_max_num_queries
):
    counts = []
    for sizes in ((2,), (3, 9, 5)):
        with scopes_disabled():
            trust = f.TrustFactory()
            leader = f.TrustMembershipFactory(trust=trust).user
        for size in sizes:
            world = build_register_world(size=size, trust=trust)
            with school_scope(world.school):
                for pupil in world.pupils:
                    put_marks(world, pupil, school_days(D(2024, 9, 2), D(2024, 9, 20)))
                school_recompute(school=world.school, as_of=AS_OF)
        client = client_for(leader)
        with django_assert_max_num_queries(16) as captured:
            assert client.get(_url(trust)).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_a_trust_without_schools_shows_an_empty_table(client_for):
    with scopes_disabled():
        trust = f.TrustFactory()
        leader = f.TrustMembershipFactory(trust=trust).user
    response = client_for(leader).get(_url(trust))
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert response.context["board"].total.possible == 0


def test_every_string_of_the_trust_dashboard_has_its_welsh():
    from pathlib import Path

    from django.conf import settings
    from django.utils.translation.template import templatize

    from tests.test_i18n import _catalogue, _gettext_calls
    from tests.test_i18n_interventions import _app_catalogue

    catalogue = {**_catalogue(), **_app_catalogue()}
    template = Path(settings.BASE_DIR) / "templates" / "interventions/dashboards/trust.html"
    view = Path(settings.BASE_DIR) / "interventions" / "views" / "trust_dashboard.py"
    msgids = set(_gettext_calls(templatize(template.read_text(), origin=str(template))))
    msgids |= set(
        _gettext_calls(view.read_text().replace("_lazy(", "gettext(").replace("_(", "gettext("))
    )
    assert len(msgids) > 20
    assert sorted(m for m in msgids if not catalogue.get(m)) == []
