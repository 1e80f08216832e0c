from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from demo import trust
from interventions.models import AttendanceBand, AttendanceRules
from interventions.rules import (
    DFE_DEFAULT,
    ILLNESS_RULE_DEFAULT,
    SEED_000_KING_HENRY,
    SEED_002_BEDFORD,
    SEED_004_STAGED,
    PenaltyNoticeRule,
    band_for,
)
from interventions.selectors import attendance_rules_get, school_bands_get
from interventions.services import (
    BAND_PRESET_CHOICES,
    BAND_PRESETS,
    BandInput,
    attendance_rules_update,
    bands_install_preset,
    bands_replace,
)
from schools.models import Jurisdiction, Role, School, StaffMembership
from schools.scoping import school_scope
from schools.services import school_provision
from tests import factories as f

pytestmark = pytest.mark.django_db

D = Decimal


def _band(name: str, bound: str, *, inclusive: bool = True, colour: str = "#15803d") -> BandInput:
    return BandInput(name=name, lower_bound=D(bound), inclusive=inclusive, colour=colour)


def _stored(school: School) -> list[tuple[int, str, Decimal, bool, str]]:
    with school_scope(school):
        return list(
            AttendanceBand.objects.filter(school=school)
            .order_by("position")
            .values_list("position", "name", "lower_bound", "inclusive", "colour")
        )


@pytest.fixture
def head():
    return f.StaffMembershipFactory(role=Role.HEADTEACHER)


def _replace(membership, bands):
    with school_scope(membership.school):
        return bands_replace(school=membership.school, bands=bands, membership=membership)


# --- bands_replace --------------------------------------------------------------------------


def test_bands_replace_writes_positions_from_the_top_down(head):
    _replace(head, [_band("Good", "95"), _band("Watch", "90", inclusive=False), _band("Low", "0")])

    assert _stored(head.school) == [
        (0, "Good", D("95.00"), True, "#15803d"),
        (1, "Watch", D("90.00"), False, "#15803d"),
        (2, "Low", D("0.00"), True, "#15803d"),
    ]
    with school_scope(head.school):
        bands = school_bands_get(school=head.school)
    assert [b.name for b in bands] == ["Good", "Watch", "Low"]
    assert band_for(Fraction(90), bands).name == "Low"  # exclusive: 90 is not "Watch"


def test_bands_replace_replaces_the_previous_bands(head):
    _replace(head, [_band("A", "97"), _band("B", "0")])
    _replace(head, [_band("Only", "50")])

    assert [row[1] for row in _stored(head.school)] == ["Only"]


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([], "Define at least one band."),
        ([_band("A", "90"), _band("  ", "0")], "Row 2: give the band a name."),
        ([_band("A", "90"), _band("a", "0")], "Row 2 (a): the name is already used by row 1."),
        ([_band("A" * 61, "90")], "the name can be at most 60 characters"),
        ([_band("A", "100.01")], "Row 1 (A): the lower bound must be a percentage from 0 to 100."),
        ([_band("A", "-1")], "Row 1 (A): the lower bound must be a percentage from 0 to 100."),
        ([_band("A", "NaN")], "Row 1 (A): the lower bound must be a percentage from 0 to 100."),
        ([_band("A", "90.125")], "Row 1 (A): the lower bound can have at most 2 decimal places."),
        ([_band("A", "90", colour="green")], "Row 1 (A): the colour must be written #rrggbb"),
        ([_band("A", "90", colour="#12345")], "Row 1 (A): the colour must be written #rrggbb"),
        ([_band("A", "90", colour="#12345g")], "Row 1 (A): the colour must be written #rrggbb"),
        (
            [_band("A", "90"), _band("B", "95")],
            "Row 2 (B): bands must be listed from the highest lower bound down.",
        ),
        # Equal bounds, both inclusive: the second band could never be reached.
        ([_band("A", "90"), _band("B", "90")], "Row 2 (B): two bands share this lower bound"),
        # Equal bounds, reversed: the upper band includes the bound, the lower excludes it.
        (
            [_band("A", "90"), _band("B", "90", inclusive=False)],
            "Row 2 (B): two bands share this lower bound",
        ),
    ],
)
def test_bands_replace_rejects_and_names_the_row(head, bands, message):
    _replace(head, [_band("Kept", "50")])

    with pytest.raises(ValidationError) as caught:
        _replace(head, bands)

    assert any(m.startswith(message) or message in m for m in caught.value.messages), (
        caught.value.messages
    )
    assert [row[1] for row in _stored(head.school)] == ["Kept"]  # nothing changed


def test_equal_bounds_with_the_upper_band_exclusive_are_accepted(head):
    # The exact boundary: "above 90%" then "90% or more" (so exactly 90% is the lower band).
    _replace(
        head, [_band("Above 90", "90", inclusive=False), _band("At 90", "90"), _band("x", "0")]
    )

    with school_scope(head.school):
        bands = school_bands_get(school=head.school)
    assert band_for(Fraction(90), bands).name == "At 90"
    assert band_for(Fraction(9001, 100), bands).name == "Above 90"


def test_every_error_is_reported_at_once(head):
    with pytest.raises(ValidationError) as caught:
        _replace(head, [_band("", "101", colour="red"), _band("B", "0")])

    assert len(caught.value.messages) == 3


@pytest.mark.parametrize("role", [Role.FORM_TUTOR, Role.ATTENDANCE_OFFICER, Role.PASTORAL_LEAD])
def test_bands_replace_needs_a_headteacher_or_administrator(role):
    member = f.StaffMembershipFactory(role=role)

    with pytest.raises(ValidationError):
        _replace(member, [_band("A", "0")])

    assert _stored(member.school) == []


def test_bands_replace_refuses_a_membership_of_another_school(head):
    other = f.SchoolFactory()

    with school_scope(other), pytest.raises(ValidationError):
        bands_replace(school=other, bands=[_band("A", "0")], membership=head)

    assert _stored(other) == []


def test_an_administrator_may_replace_bands():
    admin = f.StaffMembershipFactory(role=Role.SCHOOL_ADMIN)

    _replace(admin, [_band("A", "0")])

    assert len(_stored(admin.school)) == 1


# --- presets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("dfe", DFE_DEFAULT),
        ("seed_002", SEED_002_BEDFORD),
        ("seed_000", SEED_000_KING_HENRY),
        ("seed_004", SEED_004_STAGED),
    ],
)
def test_a_preset_installs_the_reference_bands_idempotently(preset, expected):
    school = f.SchoolFactory()

    with school_scope(school):
        first = bands_install_preset(school=school, preset=preset)
        again = bands_install_preset(school=school, preset=preset)
        bands = school_bands_get(school=school)

    assert [b.pk for b in again] == [b.pk for b in first]  # the second run wrote nothing
    assert [(b.name, b.lower_bound, b.inclusive, b.meaning) for b in bands] == [
        (b.name, b.lower_bound, b.inclusive, b.meaning) for b in expected
    ]
    colours = [b.colour for b in bands]
    assert colours[0] == "#15803d"  # green at the top
    assert len(set(colours)) == len(colours)
    assert "#6b7280" not in colours  # every band has its own colour, not the default grey


def test_installing_another_preset_replaces_the_bands():
    school = f.SchoolFactory()
    with school_scope(school):
        bands_install_preset(school=school, preset="seed_002")
        bands_install_preset(school=school, preset="seed_004")

    assert [row[1] for row in _stored(school)] == [b.name for b in SEED_004_STAGED]


def test_an_unknown_preset_is_refused():
    school = f.SchoolFactory()

    with school_scope(school), pytest.raises(ValidationError):
        bands_install_preset(school=school, preset="seed_999")


def test_every_preset_has_a_label_for_the_form():
    assert [key for key, _ in BAND_PRESET_CHOICES] == ["dfe", "seed_002", "seed_000", "seed_004"]
    assert "Seed 002" in BAND_PRESETS["seed_002"].label
    assert all(label for _, label in BAND_PRESET_CHOICES)


# --- attendance_rules_update ----------------------------------------------------------------


def test_rules_update_creates_the_row_from_the_english_defaults():
    school = f.SchoolFactory(jurisdiction=Jurisdiction.ENGLAND)

    with school_scope(school):
        attendance_rules_update(school=school, pn_include_n=True)
        rules = attendance_rules_get(school=school)

    assert rules.pn_rule == PenaltyNoticeRule(include_n=True)
    assert rules.illness_rule == ILLNESS_RULE_DEFAULT


def test_rules_update_keeps_the_welsh_rule_off_until_it_is_enabled():
    school = f.SchoolFactory(jurisdiction=Jurisdiction.WALES, la_code="679")

    with school_scope(school):
        attendance_rules_update(school=school, illness_days=10)
        assert attendance_rules_get(school=school).pn_rule.enabled is False
        attendance_rules_update(school=school, pn_enabled=True, pn_sessions=8, pn_school_weeks=6)
        rules = attendance_rules_get(school=school)
        rows = AttendanceRules.objects.filter(school=school).count()

    assert rules.pn_rule == PenaltyNoticeRule(sessions=8, school_weeks=6)
    assert rules.illness_rule.days == 10
    assert rows == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"pn_sessions": 0},
        {"pn_school_weeks": 0},
        {"illness_days": 0},
        {"illness_mode": "weekly"},
        {"colour": "#000000"},
    ],
)
def test_rules_update_refuses_bad_values_and_saves_nothing(fields):
    school = f.SchoolFactory()
    with school_scope(school):
        attendance_rules_update(school=school, pn_sessions=12)

        with pytest.raises(ValidationError):
            attendance_rules_update(school=school, **({"pn_school_weeks": 8} | fields))

        rules = AttendanceRules.objects.get(school=school)
    assert (rules.pn_sessions, rules.pn_school_weeks) == (12, 10)


# --- school creation and the demo trust -----------------------------------------------------


def test_a_new_school_has_no_bands_and_uses_the_dfe_default():
    school = school_provision(
        slug="new-school", name="New School", urn="123456", jurisdiction="england"
    ).school

    with school_scope(school):
        assert not AttendanceBand.objects.filter(school=school).exists()
        assert school_bands_get(school=school) == DFE_DEFAULT


def test_the_demo_schools_get_their_presets_and_keep_changed_bands():
    today = timezone.localdate()
    trust.seed_demo_trust(today=today, scale=0.02)
    expected = {
        "kingsmead": SEED_002_BEDFORD,
        "oakfield": SEED_004_STAGED,
        "bro-derwen": SEED_000_KING_HENRY,
    }
    schools = {slug: School.objects.get(slug=slug) for slug in expected}
    assert schools["bro-derwen"].jurisdiction == Jurisdiction.WALES
    for slug, school in schools.items():
        with school_scope(school):
            bands = school_bands_get(school=school)
        assert [(b.name, b.lower_bound, b.inclusive) for b in bands] == [
            (b.name, b.lower_bound, b.inclusive) for b in expected[slug]
        ], slug

    # Seeding again changes nothing, and bands a school changed itself stay as they are.
    before = {slug: _stored(school) for slug, school in schools.items()}
    with school_scope(schools["oakfield"]):
        head = StaffMembership.objects.filter(
            school=schools["oakfield"], role=Role.HEADTEACHER
        ).first()
    _replace(head, [_band("Our own", "0")])
    trust.seed_demo_trust(today=today, scale=0.02)

    assert _stored(schools["kingsmead"]) == before["kingsmead"]
    assert _stored(schools["bro-derwen"]) == before["bro-derwen"]
    assert [row[1] for row in _stored(schools["oakfield"])] == ["Our own"]


# --- the page -------------------------------------------------------------------------------


def _url(school: School) -> str:
    return reverse("interventions:attendance-settings", kwargs={"school_slug": school.slug})


def _formset_data(rows: list[dict[str, str]]) -> dict[str, str]:
    data = {
        "action": "save-bands",
        "bands-TOTAL_FORMS": str(len(rows)),
        "bands-INITIAL_FORMS": "0",
        "bands-MIN_NUM_FORMS": "0",
        "bands-MAX_NUM_FORMS": "20",
    }
    for index, row in enumerate(rows):
        data |= {f"bands-{index}-{name}": value for name, value in row.items()}
    return data


@pytest.mark.parametrize("role", [Role.HEADTEACHER, Role.SCHOOL_ADMIN])
def test_head_and_admin_see_the_dfe_default_and_the_england_note(world, client_for, role):
    school = world.a1.school

    response = client_for(world.a1.users[role]).get(_url(school))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Persistent absence (90% or below)" in body
    assert "DfE default applies" in body
    for fact in ("10 sessions", "G, O and U", "10 school weeks", "provisional"):
        assert fact in body
    assert 'fill="#15803d"' not in body  # the DfE default, before any preset: grey


def test_a_welsh_school_is_told_its_la_rule_is_off(client_for):
    school = f.SchoolFactory(jurisdiction=Jurisdiction.WALES, la_code="679")
    head = f.StaffMembershipFactory(school=school, role=Role.HEADTEACHER)

    body = client_for(head.user).get(_url(school)).content.decode()

    assert "Wales has no national penalty-notice threshold" in body
    assert "<strong>off</strong>" in body
    assert "G, O and U" not in body


def test_admin_saves_bands_sorted_from_the_top(world, client_for):
    school = world.a1.school
    rows = [
        {"name": "Low", "lower_bound": "0", "inclusive": "on", "colour": "#b91c1c"},
        {"name": "High", "lower_bound": "95", "inclusive": "on", "colour": "#15803d"},
        {"name": "", "lower_bound": "", "colour": "#6b7280"},  # an added row left empty
        {"name": "Gone", "lower_bound": "50", "colour": "#000000", "DELETE": "on"},
    ]

    client = client_for(world.a1.users[Role.SCHOOL_ADMIN])

    response = client.post(_url(school), _formset_data(rows))

    assert response.status_code == 302
    assert _stored(school) == [
        (0, "High", D("95.00"), True, "#15803d"),
        (1, "Low", D("0.00"), True, "#b91c1c"),
    ]
    page = client.get(_url(school)).content.decode()
    assert "Bands saved." in page
    assert 'fill="#15803d"' in page


def test_saving_bands_shows_the_services_errors_and_saves_nothing(world, client_for):
    school = world.a1.school
    rows = [
        {"name": "Same", "lower_bound": "95", "inclusive": "on", "colour": "#15803d"},
        {"name": "same", "lower_bound": "0", "inclusive": "on", "colour": "#15803d"},
    ]

    response = client_for(world.a1.users[Role.HEADTEACHER]).post(_url(school), _formset_data(rows))

    assert response.status_code == 400
    assert "Row 2 (same): the name is already used by row 1." in response.content.decode()
    assert _stored(school) == []


def test_a_row_without_a_bound_is_an_error_on_that_row(world, client_for):
    school = world.a1.school
    rows = [{"name": "No bound", "lower_bound": "", "colour": "#15803d"}]

    response = client_for(world.a1.users[Role.HEADTEACHER]).post(_url(school), _formset_data(rows))

    assert response.status_code == 400
    assert "Give the band&#x27;s lower bound" in response.content.decode()
    assert _stored(school) == []


def test_a_bad_colour_is_an_error_on_that_row(world, client_for):
    school = world.a1.school
    rows = [{"name": "A", "lower_bound": "0", "colour": "red;x"}]

    response = client_for(world.a1.users[Role.HEADTEACHER]).post(_url(school), _formset_data(rows))

    assert response.status_code == 400
    assert "Write the colour as #rrggbb." in response.content.decode()
    assert _stored(school) == []


def test_add_row_keeps_what_was_typed_and_adds_an_empty_row(world, client_for):
    school = world.a1.school
    data = _formset_data([{"name": "Typed", "lower_bound": "80", "colour": "#15803d"}])
    data["action"] = "add-row"

    response = client_for(world.a1.users[Role.HEADTEACHER]).post(_url(school), data)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="Typed"' in body
    assert 'name="bands-TOTAL_FORMS" value="2"' in body
    assert _stored(school) == []


def test_head_installs_a_preset(world, client_for):
    school = world.a1.school
    client = client_for(world.a1.users[Role.HEADTEACHER])

    response = client.post(_url(school), {"action": "install-preset", "preset": "seed_002"})

    assert response.status_code == 302
    assert [row[1] for row in _stored(school)] == list("ABCDEFG")
    body = client.get(_url(school)).content.decode()
    assert "from 95% to below 97%" in body  # band B


def test_head_saves_the_la_rules(world, client_for):
    school = world.a1.school
    data = {
        "action": "save-rules",
        "pn_enabled": "on",
        "pn_sessions": "10",
        "pn_school_weeks": "10",
        "pn_include_n": "on",
        "illness_days": "15",
        "illness_mode": "consecutive",
    }

    response = client_for(world.a1.users[Role.HEADTEACHER]).post(_url(school), data)

    assert response.status_code == 302
    with school_scope(school):
        rules = attendance_rules_get(school=school)
    assert rules.pn_rule.include_n is True
    assert rules.illness_rule.mode == "consecutive"


def test_bad_rules_are_shown_and_not_saved(world, client_for):
    school = world.a1.school
    data = {"action": "save-rules", "pn_sessions": "0", "pn_school_weeks": "10"}

    response = client_for(world.a1.users[Role.HEADTEACHER]).post(_url(school), data)

    assert response.status_code == 400
    with scopes_disabled():
        assert not AttendanceRules.objects.filter(school=school).exists()


@pytest.mark.parametrize(
    "role", [Role.FORM_TUTOR, Role.ATTENDANCE_OFFICER, Role.PASTORAL_LEAD, Role.PARENT]
)
def test_other_roles_get_404_and_change_nothing(world, client_for, role):
    school = world.a1.school
    client = client_for(world.a1.users[role])
    posts = [
        {"action": "install-preset", "preset": "seed_002"},
        {"action": "save-rules", "pn_enabled": "", "pn_sessions": "5", "pn_school_weeks": "5"},
        _formset_data([{"name": "X", "lower_bound": "0", "colour": "#000000"}]),
    ]

    assert client.get(_url(school)).status_code == 404
    for data in posts:
        assert client.post(_url(school), data).status_code == 404

    assert _stored(school) == []
    with scopes_disabled():
        assert not AttendanceRules.objects.filter(school=school).exists()


def test_the_trust_leader_gets_404(world, client_for):
    client = client_for(world.trust_a_leader)

    assert client.get(_url(world.a1.school)).status_code == 404
    assert (
        client.post(
            _url(world.a1.school), {"action": "install-preset", "preset": "dfe"}
        ).status_code
        == 404
    )
    assert _stored(world.a1.school) == []


def test_the_school_settings_page_links_here(world, client_for):
    school = world.a1.school
    settings_url = reverse("schools:settings", kwargs={"school_slug": school.slug})

    body = client_for(world.a1.users[Role.HEADTEACHER]).get(settings_url).content.decode()

    assert f'href="{_url(school)}"' in body


@pytest.mark.parametrize(("sessions", "shown"), [(0, "0"), (1, "0.5"), (24, "12"), (25, "12.5")])
def test_days1_shows_sessions_as_school_days(sessions, shown):
    from interventions.rules import days1

    assert days1(sessions) == shown
