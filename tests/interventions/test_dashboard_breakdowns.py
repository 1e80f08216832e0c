"""The dashboard's breakdowns (issue 12 item 1): year group and form, codes and categories,
the day-of-week pattern, pupils near a boundary, their drill-downs and CSV, the DfE toggle,
and a number of queries that does not grow with the roll."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from interventions import rules
from interventions.dashboard_breakdowns import (
    band_within_a_week,
    near_persistent,
    school_breakdowns,
)
from interventions.dashboard_dfe import dfe_scope
from interventions.recompute import school_recompute
from schools.models import Pupil
from schools.scoping import school_scope
from schools.selectors import school_calendar_get
from tests.interventions.test_dashboards import head_of
from tests.interventions.test_recompute import D, put_marks, rw, school_days  # noqa: F401
from tests.registers.conftest import build_register_world

pytestmark = pytest.mark.django_db
AS_OF = D(2024, 10, 4)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: AS_OF)


def _name(pupil: Pupil) -> str:
    return f"{pupil.legal_surname}, {pupil.preferred_forename or pupil.legal_forename}"


# --- The worked case: rw's three pupils over 25 school days (2 Sep to 4 Oct 2024) ---------
# steady: 50 sessions present. truant: 10 days of U from Monday 16 Sep (20 sessions, two
# of each weekday's AM and PM). unexplained: N on Wednesday 11 Sep (AM and PM), else present.


def test_year_group_form_code_and_category_figures_match_the_worked_case(rw):  # noqa: F811
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)
        board = school_breakdowns(school=rw.school, on=AS_OF)
    [(form, form_totals)] = board.forms
    [(year, year_totals)] = board.years
    assert year.label == rw.form.year_group.name
    assert form.label == "9A"
    for totals in (form_totals, year_totals):
        assert (totals.enrolments, totals.possible, totals.absence) == (3, 150, 22)
        assert (totals.persistent, totals.severe) == (1, 0)
    codes = {row.code: (row.sessions, row.pupils) for row in board.codes}
    # "/" AM and "\" PM: 25 + 15 + 24 days present.
    assert codes == {"/": (64, 3), "\\": (64, 3), "U": (20, 1), "N": (2, 1)}
    assert board.categories["present"] == 128
    assert board.categories["unauthorised"] == 22
    assert board.categories["authorised"] == 0
    assert board.possible == 150


def test_the_pattern_counts_absence_per_weekday_and_session(rw):  # noqa: F811
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)
        board = school_breakdowns(school=rw.school, on=AS_OF)
    slots = {slot.key: (slot.absence, slot.possible) for slot in board.pattern}
    # Five of each weekday from 2 Sep to 4 Oct, three pupils: 15 possible per cell.
    assert slots["0-AM"] == (2, 15)
    assert slots["1-PM"] == (2, 15)
    assert slots["2-AM"] == (3, 15)  # the truant's two Wednesdays and the N
    assert slots["2-PM"] == (3, 15)
    assert sum(a for a, _ in slots.values()) == 22
    assert sum(p for _, p in slots.values()) == 150


@pytest.mark.parametrize(
    ("absence", "possible", "near"),
    [
        (10, 190, True),  # 10 x 20 = 200 >= 200 after one more missed week
        (9, 190, False),  # 10 x 19 = 190 < 200
        (19, 190, False),  # 190 >= 190: already persistently absent
        (18, 190, True),
        (0, 0, False),
    ],
)
def test_near_persistent_absence_is_one_session_week_away_on_integers(absence, possible, near):
    assert near_persistent(absence=absence, possible=possible) is near


def test_a_band_one_session_week_away_down_or_up():
    bands = rules.SEED_002_BEDFORD
    # 97% exactly (97 of 100): 97/110 = 88.2% after a missed week: from A down to E.
    now, then = band_within_a_week(attendance=97, possible=100, bands=bands)
    assert (now.name, then.name) == ("A", "E")
    # 190 possible: 184 attended is 96.8% (B); 184/200 = 92% (D) down.
    now, then = band_within_a_week(attendance=184, possible=190, bands=bands)
    assert (now.name, then.name) == ("B", "D")
    # 0 of 30: down stays in G, and up to 10/40 = 25% stays in G: no other band.
    assert band_within_a_week(attendance=0, possible=30, bands=bands)[1] is None
    # 0 of 10: up to 10/20 = 50% exactly, F's inclusive bound.
    assert band_within_a_week(attendance=0, possible=10, bands=bands)[1].name == "F"
    # Up: 1 of 2 (50%, F) missing 10 more is 1/12 (G); that is down first.
    assert band_within_a_week(attendance=1, possible=2, bands=bands)[1].name == "G"
    assert band_within_a_week(attendance=0, possible=0, bands=bands) == (None, None)


def test_every_breakdown_number_links_to_its_pupils_and_every_table_exports_csv(
    rw,  # noqa: F811
    client_for,
):
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)
    _steady, truant, unexplained = rw.pupils
    client = client_for(head_of(rw.school))
    page = reverse("interventions:dashboard-breakdowns", kwargs={"school_slug": rw.school.slug})
    response = client.get(page)
    assert response.status_code == 200
    body = response.content.decode()
    assert "measure=code%3AU" in body
    assert "measure=slot%3A2-AM" in body
    assert f"group=form%3A{rw.form.pk}" in body
    assert "style=" not in body
    pupils = reverse("interventions:dashboard-pupils", kwargs={"school_slug": rw.school.slug})

    def names(**query: str) -> list[str]:
        listed = client.get(pupils, query)
        assert listed.status_code == 200
        return [row[0] for row in listed.context["rows"]]

    assert names(measure="code:U") == [_name(truant)]
    assert names(measure="code:N") == [_name(unexplained)]
    assert sorted(names(measure="category:unauthorised")) == sorted(
        [_name(truant), _name(unexplained)]
    )
    assert names(measure="category:authorised") == []
    category_csv = client.get(
        pupils, {"measure": "category:unauthorised", "format": "csv"}
    ).content.decode()
    assert f'"{_name(truant)}",50,20,60.0%,20' in category_csv
    assert sorted(names(measure="slot:2-AM")) == sorted([_name(truant), _name(unexplained)])
    assert names(measure="persistent", group=f"form:{rw.form.pk}") == [_name(truant)]
    assert len(names(measure="all", group=f"year:{rw.form.year_group_id}")) == 3
    assert names(measure="all", group="form:0") == []
    slot_csv = client.get(pupils, {"measure": "slot:2-AM", "format": "csv"}).content.decode()
    assert f'"{_name(unexplained)}",50,2,96.0%,1' in slot_csv
    for bad in ("code:", "slot:5-AM", "slot:1-XX", "everything", "category:late"):
        assert client.get(pupils, {"measure": bad}).status_code == 404
    assert client.get(pupils, {"measure": "all", "group": "shoe:9"}).status_code == 404
    for table in ("year", "form", "codes", "categories", "pattern", "near"):
        exported = client.get(page, {"table": table, "format": "csv"})
        assert exported.status_code == 200
        assert exported["Content-Type"].startswith("text/csv")
    codes_csv = client.get(page, {"table": "codes", "format": "csv"}).content.decode()
    assert "U," in codes_csv
    assert ",20,13.3%,1" in codes_csv
    assert client.get(page, {"table": "nothing", "format": "csv"}).status_code == 404


def test_the_dfe_toggle_leaves_out_pupils_outside_the_cohort_everywhere(
    rw,  # noqa: F811
    client_for,
):
    steady, truant, unexplained = rw.pupils
    with scopes_disabled():
        # 17 on 31 August 2024: not in the DfE's 5 to 15 cohort.
        Pupil.objects.filter(pk=truant.pk).update(date_of_birth=dt.date(2007, 1, 1))
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)
    client = client_for(head_of(rw.school))
    slug = {"school_slug": rw.school.slug}
    dashboard = client.get(reverse("interventions:dashboard", kwargs=slug), {"dfe": "1"})
    assert dashboard.context["board"].total.possible == 100
    assert dashboard.context["board"].total.persistent == 0
    assert "dfe=1" in dashboard.content.decode()
    every = client.get(reverse("interventions:dashboard", kwargs=slug))
    assert every.context["board"].total.persistent == 1
    page = client.get(reverse("interventions:dashboard-breakdowns", kwargs=slug), {"dfe": "1"})
    board = page.context["board"]
    assert {row.code for row in board.codes} == {"/", "\\", "N"}
    assert sum(slot.possible for slot in board.pattern) == 100
    pupils = reverse("interventions:dashboard-pupils", kwargs=slug)
    listed = client.get(pupils, {"measure": "all", "dfe": "1"})
    assert sorted(row[0] for row in listed.context["rows"]) == sorted(
        [_name(steady), _name(unexplained)]
    )
    assert client.get(pupils, {"measure": "persistent", "dfe": "1"}).context["rows"] == []
    csv = client.get(pupils, {"measure": "all", "dfe": "1", "format": "csv"}).content.decode()
    assert _name(truant) not in csv


def test_the_dfe_scope_agrees_with_the_cohort_rule_at_every_birthday_boundary(rw):  # noqa: F811
    with school_scope(rw.school):
        calendar = school_calendar_get(school=rw.school)
    scope = dfe_scope(
        calendar=calendar, period_start=D(2024, 8, 1), period_end=D(2025, 7, 31), on=AS_OF
    )
    autumn, late_summer = D(2024, 10, 1), D(2025, 7, 15)
    born = D(2008, 8, 25)
    while born <= D(2019, 9, 5):
        in_cohort = rules.in_dfe_cohort(date_of_birth=born, academic_year=2024)
        fifteen = rules.dfe_cohort_age(date_of_birth=born, academic_year=2024) == 15
        assert scope.counts(born, autumn) is in_cohort, born
        assert scope.counts(born, late_summer) is (in_cohort and not fifteen), born
        born += dt.timedelta(days=1 if born.month in (8, 9) else 30)


def test_the_breakdowns_read_a_fixed_number_of_queries(client_for, django_assert_max_num_queries):
    counts = []
    for size in (4, 40):
        world = build_register_world(size=size)
        with school_scope(world.school):
            for i, pupil in enumerate(world.pupils):
                put_marks(world, pupil, school_days(D(2024, 9, 2), D(2024, 9, 13)))
                put_marks(world, pupil, [D(2024, 9, 16)], code="U" if i % 2 else "C")
            school_recompute(school=world.school, as_of=AS_OF)
        client = client_for(head_of(world.school))
        slug = {"school_slug": world.school.slug}
        sizes = []
        for url, query in (
            (reverse("interventions:dashboard-breakdowns", kwargs=slug), {}),
            (reverse("interventions:dashboard-breakdowns", kwargs=slug), {"dfe": "1"}),
            (reverse("interventions:dashboard", kwargs=slug), {"dfe": "1"}),
            (reverse("interventions:dashboard-pupils", kwargs=slug), {"measure": "slot:0-AM"}),
            (
                reverse("interventions:dashboard-pupils", kwargs=slug),
                {"measure": "all", "dfe": "1"},
            ),
            (reverse("interventions:dashboard-pupils", kwargs=slug), {"measure": "code:C"}),
        ):
            with django_assert_max_num_queries(25) as captured:
                assert client.get(url, query).status_code == 200
            sizes.append(len(captured.captured_queries))
        counts.append(sizes)
    assert counts[0] == counts[1]


def test_a_form_tutor_has_no_breakdowns(rw, client_for):  # noqa: F811
    url = reverse("interventions:dashboard-breakdowns", kwargs={"school_slug": rw.school.slug})
    with scopes_disabled():
        tutor = rw.tutor.user
    assert client_for(tutor).get(url).status_code == 404


def test_every_string_of_the_breakdowns_has_its_welsh():
    from pathlib import Path

    from babel.messages.extract import extract_from_file
    from django.conf import settings
    from django.utils.translation.template import templatize

    from tests.test_i18n import _catalogue, _gettext_calls
    from tests.test_i18n_interventions import _app_catalogue

    catalogue = {**_catalogue(), **_app_catalogue()}
    base = Path(settings.BASE_DIR)
    msgids: set[str] = set()
    for name in (
        "breakdowns.html",
        "_dfe_toggle.html",
        "pupils.html",
        "school.html",
        "_pupil_year.html",
        "my_forms.html",
    ):
        path = base / "templates" / "interventions" / "dashboards" / name
        msgids.update(_gettext_calls(templatize(path.read_text(), origin=str(path))))
    source = base / "interventions" / "views" / "dashboard_breakdowns.py"
    for _line, message, _comments, _context in extract_from_file("python", str(source)):
        msgids.add(message if isinstance(message, str) else message[0])
    assert len(msgids) > 40
    assert sorted(m for m in msgids if not catalogue.get(m)) == []


def test_the_pupil_page_has_the_running_line_and_the_year_calendar(rw, client_for):  # noqa: F811
    from interventions.dashboard_breakdowns import pupil_running_line

    _steady, truant, _ = rw.pupils
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)
        line = pupil_running_line(school=rw.school, pupil=truant, on=AS_OF)
    # Two weeks present, two weeks of U, one week present: sessions summed week by week.
    assert [(p.possible, p.attendance) for p in line] == [
        (10, 10),
        (20, 20),
        (30, 20),
        (40, 20),
        (50, 30),
    ]
    assert [str(p.rate) for p in line][-1] == "60"
    url = reverse(
        "interventions:pupil-attendance",
        kwargs={"school_slug": rw.school.slug, "pupil_id": truant.pk},
    )
    response = client_for(head_of(rw.school)).get(url)
    assert response.status_code == 200
    assert [row[3] for row in response.context["running_rows"]] == [
        "100.0%",
        "100.0%",
        "66.7%",
        "50.0%",
        "60.0%",
    ]
    body = response.content.decode()
    assert 'id="running-title"' in body
    assert "app-cal__s--unauthorised" in body  # the U sessions, coloured and written
    assert "app-cal__day--closed" in body  # weekends and the half-term closure
    assert "style=" not in body


@pytest.mark.parametrize(
    ("rate", "inside"),
    [
        (Fraction(96), False),  # meets the target: seed 000's top tier
        (Fraction(9599, 100), True),
        (Fraction(90), False),  # seed 000 puts 90.0% in the 81%-90% tier
        (Fraction(9001, 100), True),
        (None, False),
    ],
)
def test_the_mentoring_band_is_above_90_and_below_96_exactly(rate, inside):
    assert rules.in_mentoring_band(rate) is inside
    assert rules.in_mentoring_band(Fraction(85), lower=Fraction(80)) is True


def test_a_tutor_sees_their_forms_rate_band_change_and_the_mentoring_band(
    rw,  # noqa: F811
    client_for,
):
    from interventions.dashboard_breakdowns import tutor_forms_attendance

    steady, truant, unexplained = rw.pupils
    with school_scope(rw.school):
        school_recompute(school=rw.school, as_of=AS_OF)
        [tutored] = tutor_forms_attendance(school=rw.school, membership=rw.tutor, on=AS_OF)
    figures = {p.pupil_id: p for p in tutored.pupils}
    # Five school weeks: the last four (from 9 Sep) against the first.
    assert (figures[truant.pk].recent, figures[truant.pk].before) == (Fraction(50), Fraction(100))
    assert figures[truant.pk].change == -50
    assert figures[steady.pk].change == 0
    # 48 of 50 is exactly 96%: the target, not the mentoring band.
    assert figures[unexplained.pk].rate == 96
    assert not figures[unexplained.pk].mentoring
    with scopes_disabled():
        tutor = rw.tutor.user
    url = reverse("interventions:my-forms-attendance", kwargs={"school_slug": rw.school.slug})
    response = client_for(tutor).get(url)
    assert response.status_code == 200
    assert response.context["mentoring"] == []
    body = response.content.decode()
    assert "down 50.0 points" in body
    assert f'href="{url}"' in body  # the tutors' nav link
    head = client_for(head_of(rw.school)).get(url)
    assert 'id="no-forms"' in head.content.decode()
    assert f'href="{url}"' not in head.content.decode()


def test_the_tutor_view_reads_a_fixed_number_of_queries(client_for, django_assert_max_num_queries):
    counts = []
    for size in (4, 40):
        world = build_register_world(size=size)
        with school_scope(world.school):
            for pupil in world.pupils:
                put_marks(world, pupil, school_days(D(2024, 9, 2), D(2024, 9, 27)))
            school_recompute(school=world.school, as_of=AS_OF)
        with scopes_disabled():
            tutor = world.tutor.user
        url = reverse(
            "interventions:my-forms-attendance", kwargs={"school_slug": world.school.slug}
        )
        client = client_for(tutor)
        with django_assert_max_num_queries(20) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]
