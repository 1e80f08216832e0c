"""The Northfield demo trust: three fictional but realistic schools to try the product with.

``seed_demo_trust()`` creates one trust with an English secondary (modelled on seed 002), an
English primary (seeds 001 and 003) and a Welsh 3-19 school (seed 000). Each school gets two
academic years of calendar (terms, half-terms, INSET days, bank holidays), year groups, forms
with their tutors, pupils with enrolments, form placements and contacts, one demo login per
role, and attendance bands from one of the seed policies (``band_preset``).

How it stays fast, repeatable and safe to re-run:
- Everything is *planned* in pure Python first, from ``random.Random`` instances seeded with
  fixed strings (one per school and purpose), so the same inputs always give the same rows.
- The plan depends on the academic year that contains ``today``, never on the day itself, so
  every run within one academic year plans exactly the same rows.
- Rows are then written with ``bulk_create``, skipping any whose natural key (trust slug,
  school slug, username, (school, UPN), ...) already exists. A second run creates nothing; an
  interrupted run is completed rather than duplicated. Existing rows are never changed, except
  that demo logins get the demo password back, so the printed logins always work.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import models, transaction
from django.urls import reverse
from django_scopes import scopes_disabled

from demo.blueprints import (
    DEMO_PASSWORD,
    FAMILY,
    KINGSMEAD,
    OAKFIELD,
    PARENT,
    TRUST_LEADER,
    TRUST_NAME,
    TRUST_SLUG,
    SchoolBlueprint,
)
from demo.people import SchoolPlan, TrustPlan, plan_trust
from interventions.models import AttendanceBand
from interventions.services import bands_install_preset
from schools.models import (
    NC_YEAR_ORDER,
    AcademicYear,
    Closure,
    Contact,
    Enrolment,
    FormGroup,
    FormPlacement,
    FormTutor,
    NCYear,
    ParentLink,
    Pupil,
    Role,
    School,
    StaffMembership,
    StaffYearGroup,
    Term,
    Trust,
    TrustMembership,
    YearGroup,
    stored_label,
)

# A fixed salt gives the demo password the same hash on every run, so a re-run can see that a
# login already has it without hashing once per user. 24 characters from [a-z0-9] carry the
# 128 bits of salt entropy Django's hashers ask for, so they never re-hash it at sign-in.
_DEMO_SALT = "northfielddemotrust2026x"
# Staff other than the demo logins cannot sign in: "!" marks a password as unusable. It is a
# constant rather than Django's random unusable value so that repeated plans stay identical.
_NO_SIGN_IN = "!northfield-demo-staff-cannot-sign-in"
_BATCH = 500

_M = TypeVar("_M", bound=models.Model)

# --- The result ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    school: str  # the school's name, or the trust's for the trust-wide logins
    username: str
    password: str
    home_path: str  # where this login lands after signing in
    detail: str = ""


@dataclass(frozen=True)
class DemoSchool:
    name: str
    slug: str
    jurisdiction: str
    pupils_on_roll: int  # on the admission register on ``today``
    pupils_total: int  # including last year's leavers
    forms: int  # this academic year
    staff: int


@dataclass(frozen=True)
class DemoSummary:
    trust: str
    logins: list[DemoLogin]
    schools: list[DemoSchool]
    created: dict[str, int]  # rows created by this run, by model label

    @property
    def pupils_on_roll(self) -> int:
        return sum(school.pupils_on_roll for school in self.schools)

    @property
    def rows_created(self) -> int:
        return sum(self.created.values())


# --- Writing --------------------------------------------------------------------------------


@transaction.atomic
def seed_demo_trust(*, today: dt.date, scale: float = 1.0) -> DemoSummary:
    """Create the Northfield demo trust, or add whatever part of it is missing.

    ``today`` picks the academic year (the previous one is seeded too); ``scale`` multiplies
    the pupil numbers (1.0 is about 2,500 pupils on roll; every form keeps at least one
    pupil). Idempotent and deterministic: rows are found by natural key and never duplicated,
    and the same academic year and scale always plan the same rows. Runs in one transaction.
    Raises ``ValueError`` for a scale that is not positive.
    """
    if not scale > 0:
        raise ValueError("scale must be a positive number")
    plan = plan_trust(today=today, scale=scale)
    created: Counter[str] = Counter()
    with scopes_disabled():  # seeding spans three schools; every query filters by school
        trust, made = Trust.objects.get_or_create(slug=TRUST_SLUG, defaults={"name": TRUST_NAME})
        created[Trust._meta.label] += made
        users = _ensure_users(plan, created)
        _, made = TrustMembership.objects.get_or_create(trust=trust, user=users[TRUST_LEADER[2]])
        created[TrustMembership._meta.label] += made
        schools: dict[str, School] = {}
        for school_plan in plan.schools:
            school = _ensure_school(trust, school_plan.blueprint, created)
            _ensure_bands(school, school_plan.blueprint)
            _write_school(school, school_plan, users, created)
            schools[school.slug] = school
        _write_parent_links(plan, schools, users[PARENT[2]], created)
        return _summarise(plan, schools, today=today, created=created)


def _create_missing(
    model: type[_M],
    rows: Iterable[_M],
    *,
    school: School,
    key: Sequence[str],
    created: Counter[str],
) -> None:
    """Insert the ``rows`` whose ``key`` is not yet in the database for ``school``."""
    manager = model._default_manager
    existing = set(manager.filter(school=school).values_list(*key))
    missing: list[_M] = []
    for row in rows:
        row_key = tuple(getattr(row, name) for name in key)
        if row_key not in existing:
            existing.add(row_key)
            missing.append(row)
    manager.bulk_create(missing, batch_size=_BATCH)
    created[model._meta.label] += len(missing)


def _ensure_users(plan: TrustPlan, created: Counter[str]) -> dict[str, User]:
    demo_hash = make_password(DEMO_PASSWORD, salt=_DEMO_SALT)
    wanted: dict[str, tuple[str, str, bool]] = {
        staff.username: (staff.first_name, staff.last_name, staff.demo)
        for school in plan.schools
        for staff in school.staff
    }
    wanted[TRUST_LEADER[2]] = (TRUST_LEADER[0], TRUST_LEADER[1], True)
    wanted[PARENT[2]] = (PARENT[0], PARENT[1], True)
    existing = {user.username: user for user in User.objects.filter(username__in=wanted)}
    User.objects.bulk_create(
        [
            User(
                username=username,
                email=username,
                first_name=first,
                last_name=last,
                password=demo_hash if demo else _NO_SIGN_IN,
            )
            for username, (first, last, demo) in wanted.items()
            if username not in existing
        ],
        batch_size=_BATCH,
    )
    created[User._meta.label] += len(wanted) - len(existing)
    for username, user in existing.items():
        if wanted[username][2] and user.password != demo_hash:
            # The printed logins must work, so a changed demo password is put back.
            user.password = demo_hash
            user.save(update_fields=["password"])
    return {user.username: user for user in User.objects.filter(username__in=wanted)}


def _ensure_school(trust: Trust, bp: SchoolBlueprint, created: Counter[str]) -> School:
    school = School.objects.filter(slug=bp.slug).first()
    if school is not None:
        return school
    school = School(
        trust=trust,
        name=bp.name,
        slug=bp.slug,
        urn=bp.urn,
        la_code=bp.la_code,
        jurisdiction=bp.jurisdiction,
        phase=bp.phase,
        welsh_language=bp.welsh_language,
        welsh_medium=bp.welsh_medium,
        attendance_target=bp.attendance_target,
        am_register_opens=bp.am_register[0],
        am_register_closes=bp.am_register[1],
        am_session_ends=bp.am_session_ends,
        pm_register_opens=bp.pm_register[0],
        pm_register_closes=bp.pm_register[1],
        pm_session_ends=bp.pm_session_ends,
    )
    school.full_clean()  # register windows, URN and LA code formats
    school.save()
    created[School._meta.label] += 1
    return school


def _ensure_bands(school: School, bp: SchoolBlueprint) -> None:
    # Only a school without bands gets the preset: bands changed on the settings page stay.
    if not AttendanceBand.objects.filter(school=school).exists():
        bands_install_preset(school=school, preset=bp.band_preset)


def _write_school(
    school: School, plan: SchoolPlan, users: Mapping[str, User], created: Counter[str]
) -> None:
    bp = plan.blueprint
    _create_missing(
        YearGroup,
        (
            YearGroup(
                school=school,
                nc_year=spec.nc_year,
                name="Nursery" if spec.nc_year == NCYear.N2 else stored_label(spec.nc_year.label),
                sort_order=NC_YEAR_ORDER[spec.nc_year],
            )
            for spec in bp.years
        ),
        school=school,
        key=("nc_year",),
        created=created,
    )
    year_groups = dict(YearGroup.objects.filter(school=school).values_list("nc_year", "pk"))

    # The calendar.
    _create_missing(
        AcademicYear,
        (
            AcademicYear(school=school, name=c.name, start_date=c.start_date, end_date=c.end_date)
            for c in plan.calendars
        ),
        school=school,
        key=("start_date",),
        created=created,
    )
    academic_years = {
        start.year: pk
        for start, pk in AcademicYear.objects.filter(school=school).values_list("start_date", "pk")
    }
    _create_missing(
        Term,
        (
            Term(
                school=school,
                academic_year_id=academic_years[c.start_year],
                name=term.name,
                start_date=term.start,
                end_date=term.end,
            )
            for c in plan.calendars
            for term in c.terms
        ),
        school=school,
        key=("start_date",),
        created=created,
    )
    _create_missing(
        Closure,
        (
            Closure(
                school=school,
                start_date=closure.start,
                end_date=closure.end,
                session=closure.session,
                kind=closure.kind,
                description=closure.description,
            )
            for c in plan.calendars
            for closure in c.closures
        ),
        school=school,
        key=("start_date", "end_date", "session", "kind"),
        created=created,
    )

    # Forms, staff and tutors.
    _create_missing(
        FormGroup,
        (
            FormGroup(
                school=school,
                academic_year_id=academic_years[c.start_year],
                year_group_id=year_groups[spec.nc_year],
                name=form,
            )
            for c in plan.calendars
            for spec in bp.years
            for form in spec.forms
        ),
        school=school,
        key=("academic_year_id", "name"),
        created=created,
    )
    forms = {
        (academic_year_id, name): pk
        for academic_year_id, name, pk in FormGroup.objects.filter(school=school).values_list(
            "academic_year_id", "name", "pk"
        )
    }
    _create_missing(
        StaffMembership,
        (
            StaffMembership(
                school=school,
                user=users[staff.username],
                role=staff.role,
                job_title=staff.job_title,
            )
            for staff in plan.staff
        ),
        school=school,
        key=("user_id",),
        created=created,
    )
    memberships = dict(
        StaffMembership.objects.filter(school=school).values_list("user__username", "pk")
    )
    _create_missing(
        FormTutor,
        (
            FormTutor(
                school=school,
                form_id=forms[(academic_years[year], form)],
                membership_id=memberships[username],
            )
            for year, form, username in plan.tutors
        ),
        school=school,
        key=("form_id", "membership_id"),
        created=created,
    )
    # Pastoral leads see their year groups only (schools.StaffYearGroup): the demo's look
    # after every year group of their school, so their queues and cases are the school's.
    _create_missing(
        StaffYearGroup,
        (
            StaffYearGroup(
                school=school, membership_id=memberships[staff.username], year_group_id=group_id
            )
            for staff in plan.staff
            if staff.role == Role.PASTORAL_LEAD
            for group_id in year_groups.values()
        ),
        school=school,
        key=("membership_id", "year_group_id"),
        created=created,
    )

    # Pupils and everything hanging off them.
    _create_missing(
        Pupil,
        (
            Pupil(
                school=school,
                upn=p.upn,
                legal_forename=p.legal_forename,
                legal_surname=p.legal_surname,
                preferred_forename=p.preferred_forename,
                preferred_surname=p.preferred_surname,
                date_of_birth=p.date_of_birth,
                gender=p.gender,
                ethnicity=p.ethnicity,
                fsm=p.fsm,
                sen_status=p.sen_status,
                eal=p.eal,
                looked_after=p.looked_after,
                child_in_need=p.child_in_need,
                child_protection_plan=p.child_protection_plan,
                young_carer=p.young_carer,
                ehcp=p.ehcp,
                pupil_premium=p.pupil_premium,
            )
            for p in plan.pupils
        ),
        school=school,
        key=("upn",),
        created=created,
    )
    pupils = dict(Pupil.objects.filter(school=school).values_list("upn", "pk"))
    _create_missing(
        Enrolment,
        (
            Enrolment(
                school=school,
                pupil_id=pupils[p.upn],
                start_date=p.start_date,
                leaving_date=p.leaving_date,
                deletion_ground=p.deletion_ground,
                deletion_note=p.deletion_note,
                registration=p.registration,
            )
            for p in plan.pupils
        ),
        school=school,
        key=("pupil_id", "start_date"),
        created=created,
    )
    _create_missing(
        FormPlacement,
        (
            FormPlacement(
                school=school,
                pupil_id=pupils[p.upn],
                form_id=forms[(academic_years[placement.start_year], placement.form)],
                start_date=placement.start,
                end_date=placement.end,
            )
            for p in plan.pupils
            for placement in p.placements
        ),
        school=school,
        key=("pupil_id", "form_id", "start_date"),
        created=created,
    )
    _create_missing(
        Contact,
        (
            Contact(
                school=school,
                pupil_id=pupils[p.upn],
                full_name=c.full_name,
                relationship=c.relationship,
                parental_responsibility=c.parental_responsibility,
                lives_with_pupil=c.lives_with_pupil,
                priority=c.priority,
                mobile_phone=c.mobile_phone,
                home_phone=c.home_phone,
                work_phone=c.work_phone,
                email=c.email,
                address=c.address,
            )
            for p in plan.pupils
            for c in p.contacts
        ),
        school=school,
        key=("pupil_id", "priority"),
        created=created,
    )


def _write_parent_links(
    plan: TrustPlan, schools: Mapping[str, School], parent: User, created: Counter[str]
) -> None:
    for slug, upn in plan.parent_links:
        school = schools[slug]
        pupil = Pupil.objects.get(school=school, upn=upn)
        mother = Contact.objects.filter(school=school, pupil=pupil, priority=1).first()
        _create_missing(
            ParentLink,
            [ParentLink(school=school, user=parent, pupil=pupil, contact=mother)],
            school=school,
            key=("user_id", "pupil_id"),
            created=created,
        )


def _summarise(
    plan: TrustPlan, schools: Mapping[str, School], *, today: dt.date, created: Counter[str]
) -> DemoSummary:
    logins: list[DemoLogin] = []
    counts: list[DemoSchool] = []
    for school_plan in plan.schools:
        school = schools[school_plan.blueprint.slug]
        home = reverse("schools:home", kwargs={"school_slug": school.slug})
        for staff in school_plan.staff:
            if staff.demo:
                detail = (
                    f"tutor of {school_plan.blueprint.demo_tutor_form}"
                    if staff.role == Role.FORM_TUTOR
                    else ""
                )
                logins.append(
                    DemoLogin(staff.role, school.name, staff.username, DEMO_PASSWORD, home, detail)
                )
        pupils = Pupil.objects.filter(school=school)
        counts.append(
            DemoSchool(
                name=school.name,
                slug=school.slug,
                jurisdiction=school.get_jurisdiction_display(),
                pupils_on_roll=pupils.on_roll(today).count(),
                pupils_total=pupils.count(),
                forms=FormGroup.objects.filter(
                    school=school,
                    academic_year__start_date__lte=today,
                    academic_year__end_date__gte=today,
                ).count(),
                staff=StaffMembership.objects.filter(school=school).count(),
            )
        )
    role_order = list(Role)
    logins.sort(key=lambda login: (role_order.index(login.role), login.school))
    children = ", ".join(f"{forename} ({nc.label})" for _, nc, forename, _ in FAMILY)
    logins += [
        DemoLogin(
            Role.TRUST_LEADER,
            TRUST_NAME,
            TRUST_LEADER[2],
            DEMO_PASSWORD,
            reverse("schools:trust-home", kwargs={"trust_slug": TRUST_SLUG}),
            "every school in the trust",
        ),
        DemoLogin(
            Role.PARENT,
            f"{OAKFIELD.name}, {KINGSMEAD.name}",
            PARENT[2],
            DEMO_PASSWORD,
            reverse("home"),
            children,
        ),
    ]
    return DemoSummary(
        trust=TRUST_NAME,
        logins=logins,
        schools=counts,
        created={label: n for label, n in sorted(created.items()) if n},
    )
