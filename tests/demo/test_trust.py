from __future__ import annotations

import contextlib
import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_scopes import scopes_disabled

from demo import blueprints, trust
from demo import calendar as demo_calendar
from interventions.models import EnrolmentAttendance
from schools.calendar import Session
from schools.models import (
    NC_YEAR_ORDER,
    AcademicYear,
    Closure,
    ClosureKind,
    Contact,
    Enrolment,
    FormGroup,
    FormPlacement,
    FormTutor,
    NCYear,
    ParentLink,
    Pupil,
    Registration,
    Role,
    School,
    StaffMembership,
    StaffYearGroup,
    Term,
    Trust,
    TrustMembership,
    YearGroup,
    register_window_errors,
)
from schools.scoping import school_scope
from schools.selectors import forms_for_tutor, pupils_in_form_on, school_calendar_get
from schools.upn import upn_error

pytestmark = pytest.mark.django_db

SCALE = 0.05
TODAY = timezone.localdate()
YEAR_START = TODAY.year if TODAY.month >= 8 else TODAY.year - 1  # this academic year's
SEEDED_MODELS = (
    User, Trust, School, TrustMembership, StaffMembership, AcademicYear, Term, Closure, YearGroup,
    FormGroup, FormTutor, Pupil, Enrolment, FormPlacement, Contact, ParentLink, StaffYearGroup,
)  # fmt: skip


@pytest.fixture
def summary():
    return trust.seed_demo_trust(today=TODAY, scale=SCALE)


def _row_counts():
    with scopes_disabled():
        return {model._meta.label: model._default_manager.count() for model in SEEDED_MODELS}


def _pupil_rows():
    with scopes_disabled():
        return sorted(
            Pupil.objects.values_list(
                "school__slug", "upn", "legal_forename", "legal_surname", "date_of_birth", "fsm"
            )
        )


def _schools():
    return list(School.objects.filter(trust__slug=blueprints.TRUST_SLUG).order_by("slug"))


class _RollbackError(Exception):
    pass


def test_seeding_again_creates_nothing_and_changes_no_counts(summary):
    before = _row_counts()
    assert summary.rows_created == sum(before.values()) > 0

    again = trust.seed_demo_trust(today=TODAY, scale=SCALE)

    assert again.created == {}
    assert _row_counts() == before
    assert again.logins == summary.logins
    with scopes_disabled():  # each demo pastoral lead looks after their school's year groups
        for school in _schools():
            lead = StaffMembership.objects.get(school=school, role=Role.PASTORAL_LEAD)
            assert StaffYearGroup.objects.filter(membership=lead).count() == (
                YearGroup.objects.filter(school=school).count()
            )


def test_seeding_plans_the_same_rows_on_any_day_of_the_academic_year():
    # given: a first seeding, remembered and then rolled back
    with contextlib.suppress(_RollbackError), transaction.atomic():
        trust.seed_demo_trust(today=TODAY, scale=SCALE)
        first_pupils, first_counts = _pupil_rows(), _row_counts()
        raise _RollbackError
    assert _row_counts()["schools.Pupil"] == 0

    # when: seeding an empty database again, on another day of the same academic year
    trust.seed_demo_trust(today=dt.date(YEAR_START, 9, 10), scale=SCALE)

    # then: the same pupils (UPNs, names, dates of birth) and the same number of every row
    assert _pupil_rows() == first_pupils
    assert _row_counts() == first_counts


def test_scale_multiplies_pupil_numbers_and_must_be_positive():
    small = trust.seed_demo_trust(today=TODAY, scale=SCALE)
    assert 100 <= small.pupils_on_roll <= 200  # every form keeps at least one pupil

    with pytest.raises(ValueError, match="positive"):
        trust.seed_demo_trust(today=TODAY, scale=0)


def test_every_school_has_valid_register_windows(summary):
    schools = _schools()

    assert [s.slug for s in schools] == ["bro-derwen", "kingsmead", "oakfield"]
    for school in schools:
        errors = register_window_errors(
            am_opens=school.am_register_opens,
            am_closes=school.am_register_closes,
            pm_opens=school.pm_register_opens,
            pm_closes=school.pm_register_closes,
        )
        assert errors == {}, school.name


def test_the_welsh_school_is_a_welsh_language_3_to_19_school(summary):
    school = School.objects.get(slug=blueprints.BRO_DERWEN.slug)

    assert school.jurisdiction == "wales"
    assert school.welsh_language
    assert 660 <= int(school.la_code) <= 681
    with school_scope(school):
        years = list(YearGroup.objects.filter(school=school).values_list("nc_year", flat=True))
    assert years[0] == NCYear.N2
    assert years[-1] == NCYear.Y13


def test_each_school_has_180_to_200_school_days_a_year_and_closed_half_terms(summary):
    for school in _schools():
        with school_scope(school):
            calendar = school_calendar_get(school=school)
            years = list(AcademicYear.objects.filter(school=school))
            closures = list(Closure.objects.filter(school=school))
            terms = list(Term.objects.filter(school=school))

        assert [y.start_date for y in years] == [
            dt.date(YEAR_START - 1, 8, 1),
            dt.date(YEAR_START, 8, 1),
        ]
        assert len(terms) == 6
        for year in years:
            days = calendar.school_days_between(year.start_date, year.end_date)
            assert 180 <= len(days) <= 200, (school.name, year.name, len(days))
        half_terms = [c for c in closures if c.kind == ClosureKind.HALF_TERM]
        assert len(half_terms) == 6
        for closure in half_terms:
            assert closure.start_date.weekday() == 0
            assert closure.end_date - closure.start_date == dt.timedelta(days=4)
            assert calendar.sessions_between(closure.start_date, closure.end_date) == []
        insets = [c for c in closures if c.kind == ClosureKind.INSET]
        assert len(insets) == 10
        assert all(any(t.start_date <= c.start_date <= t.end_date for t in terms) for c in insets)
        afternoon_only = [c for c in closures if c.session == Session.PM]
        assert afternoon_only
        assert all(calendar.sessions_on(c.start_date) == (Session.AM,) for c in afternoon_only)


@pytest.mark.parametrize(
    ("year", "easter"),
    [(2024, dt.date(2024, 3, 31)), (2025, dt.date(2025, 4, 20)), (2027, dt.date(2027, 3, 28))],
)
def test_easter_sunday(year, easter):
    assert demo_calendar.easter_sunday(year) == easter


def test_bank_holidays_move_off_weekends():
    holidays = demo_calendar.bank_holidays(2027)

    assert holidays[dt.date(2027, 5, 3)] == "Early May bank holiday"
    assert holidays[dt.date(2027, 5, 31)] == "Spring bank holiday"
    # Christmas Day 2027 is a Saturday: the holidays are Monday 27 and Tuesday 28.
    assert {d for d, name in holidays.items() if d.month == 12} == {
        dt.date(2027, 12, 27),
        dt.date(2027, 12, 28),
    }


@pytest.mark.parametrize("blueprint", blueprints.BLUEPRINTS, ids=lambda bp: bp.slug)
def test_calendar_rules_hold_for_twenty_years(blueprint):
    for start_year in range(2020, 2041):
        year = demo_calendar.year_calendar(blueprint.calendar, start_year)
        calendar = year.school_calendar
        days = calendar.school_days_between(year.start_date, year.end_date)
        easter = demo_calendar.easter_sunday(start_year + 1)

        assert 185 <= len(days) <= 195, (start_year, len(days))
        assert not calendar.is_school_day(easter - dt.timedelta(days=2))  # Good Friday
        assert not calendar.is_school_day(easter + dt.timedelta(days=1))  # Easter Monday
        for holiday in [
            *demo_calendar.bank_holidays(start_year),
            *demo_calendar.bank_holidays(start_year + 1),
        ]:
            assert not calendar.is_school_day(holiday), (start_year, holiday)
        assert len([c for c in year.closures if c.kind == ClosureKind.INSET]) == 5


def test_every_pupil_on_roll_today_has_exactly_one_current_form_placement(summary):
    for school in _schools():
        with school_scope(school):
            on_roll = set(
                Pupil.objects.filter(school=school).on_roll(TODAY).values_list("pk", flat=True)
            )
            current = dict(
                FormPlacement.objects.filter(school=school, start_date__lte=TODAY)
                .filter(Q(end_date__isnull=True) | Q(end_date__gte=TODAY))
                .filter(pupil_id__in=on_roll)
                .values("pupil_id")
                .annotate(n=Count("pk"))
                .values_list("pupil_id", "n")
            )

        assert on_roll
        assert set(current) == on_roll
        assert set(current.values()) == {1}


def test_pupils_have_valid_upns_and_birthdays_that_fit_their_year_group(summary):
    for school in _schools():
        with school_scope(school):
            placements = list(
                FormPlacement.objects.filter(
                    school=school, form__academic_year__start_date__year=YEAR_START
                ).select_related("pupil", "form__year_group")
            )

        assert placements
        for placement in placements:
            pupil = placement.pupil
            assert upn_error(pupil.upn) is None
            # Year number: Reception 0, nursery -1; a pupil in year N was born between
            # 1 September (start - N - 6) and 31 August (start - N - 5).
            number = NC_YEAR_ORDER[placement.form.year_group.nc_year] - NC_YEAR_ORDER[NCYear.R]
            born_from = dt.date(YEAR_START - number - 6, 9, 1)
            born_to = dt.date(YEAR_START - number - 5, 8, 31)
            assert born_from <= pupil.date_of_birth <= born_to, (pupil.upn, number)


def test_previous_year_has_leavers_placements_and_dual_registrations(summary):
    last_year = (dt.date(YEAR_START - 1, 8, 1), dt.date(YEAR_START, 7, 31))
    with scopes_disabled():
        leavers = Enrolment.objects.filter(leaving_date__range=last_year)
        grounds = set(leavers.values_list("deletion_ground", flat=True))
        dual = Enrolment.objects.exclude(registration=Registration.SINGLE).count()
        last_year_placements = FormPlacement.objects.filter(
            form__academic_year__start_date=last_year[0]
        ).count()

    assert leavers.count() > 0
    assert "" not in grounds
    assert {"a", "non_csa", "l"} <= grounds
    assert dual == 3
    assert last_year_placements > 0


def test_every_demo_login_signs_in_and_reaches_its_home_page(client, summary):
    roles = {login.role for login in summary.logins}
    assert roles == set(Role)
    assert {login.password for login in summary.logins} == {blueprints.DEMO_PASSWORD}

    for login in summary.logins:
        assert client.login(username=login.username, password=login.password), login.username
        response = client.get(login.home_path)
        assert response.status_code == 200, (login.username, login.home_path)
        client.logout()


def test_tutor_home_lists_their_form_and_its_pupils(client, summary):
    tutors = [login for login in summary.logins if login.role == Role.FORM_TUTOR]
    assert len(tutors) == 3

    for login in tutors:
        school = School.objects.get(name=login.school)
        with school_scope(school):
            membership = StaffMembership.objects.get(school=school, user__username=login.username)
            forms = list(forms_for_tutor(school=school, membership=membership, on=TODAY))
            pupils = [
                p.display_name
                for form in forms
                for p in pupils_in_form_on(school=school, form=form, on=TODAY)
            ]
        assert [form.name for form in forms] == [login.detail.removeprefix("tutor of ")]
        assert pupils

        client.login(username=login.username, password=login.password)
        body = client.get(login.home_path).content.decode()
        client.logout()

        assert escape(forms[0].name) in body
        for name in pupils:
            assert escape(name) in body


def test_parent_sees_two_schools_and_only_their_own_children(client, summary):
    parent = next(login for login in summary.logins if login.role == Role.PARENT)
    client.login(username=parent.username, password=parent.password)

    choose = client.get(reverse("home")).content.decode()
    oakfield = client.get(reverse("schools:home", kwargs={"school_slug": "oakfield"}))
    kingsmead = client.get(reverse("schools:home", kwargs={"school_slug": "kingsmead"}))
    bro_derwen = client.get(reverse("schools:home", kwargs={"school_slug": "bro-derwen"}))

    assert blueprints.OAKFIELD.name in choose
    assert blueprints.KINGSMEAD.name in choose
    assert blueprints.BRO_DERWEN.name not in choose
    assert "Poppy Hughes" in oakfield.content.decode()
    assert "Alfie Hughes" in oakfield.content.decode()
    assert oakfield.content.decode().count('class="card"') == 2
    assert "Evie Hughes" in kingsmead.content.decode()
    assert bro_derwen.status_code == 404


def test_seed_demo_command_prints_the_logins_and_pupil_counts():
    out = StringIO()

    call_command("seed_demo", scale=SCALE, stdout=out)
    call_command("seed_demo", scale=SCALE, stdout=out)

    text = out.getvalue()
    assert "attendance-demo" in text
    assert "tutor@kingsmead.example.org" in text
    assert "trust.leader@northfield.example.org" in text
    assert "Total on roll today" in text
    assert "already complete, nothing created" in text
    # The engine's results are there as the nightly run leaves them; the second run adds none.
    recomputed = [line for line in text.splitlines() if line.startswith("Attendance results:")]
    assert len(recomputed) == 2
    assert " 0 new events" in recomputed[1]
    with scopes_disabled():
        on_roll = Enrolment.objects.filter(school__trust__slug="northfield").count()
        assert 0 < EnrolmentAttendance.objects.count() <= on_roll
    with pytest.raises(CommandError):
        call_command("seed_demo", scale=-1, stdout=out)


def test_seed_command_refuses_when_demo_data_is_disabled(settings):
    settings.DEMO_SEED_ALLOWED = False

    with pytest.raises(CommandError, match="disabled"):
        call_command("seed_demo", scale=SCALE, stdout=StringIO())
