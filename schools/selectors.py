"""Reads about schools, people and calendars, shared by views, APIs, tasks and commands."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django_scopes import scopes_disabled

from schools.calendar import ClosedRange, DateRange, SchoolCalendar, Session
from schools.models import (
    AcademicYear,
    Closure,
    Enrolment,
    FormGroup,
    FormPlacement,
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
)
from schools.permissions import PupilScope, pupil_scope
from schools.scoping import schools_scope
from schools.types import SchoolAccess

# --- Tenancy --------------------------------------------------------------------------------


def school_access_get(*, school: School, user: User) -> SchoolAccess | None:
    """How ``user`` may reach ``school`` right now, or ``None`` if they may not.

    A staff membership wins; then trust leadership of the school's trust; then parent links.
    Read from the database on every request, so a revoked role ends access at once (TEN-10).
    """
    if not user.is_active:
        return None
    with scopes_disabled():  # resolving the tenant itself: filtered by user and school below
        membership = StaffMembership.objects.filter(
            school=school, user_id=user.pk, is_active=True
        ).first()
        if membership is not None:
            membership.school, membership.user = school, user  # already loaded: no refetch
            return SchoolAccess(role=Role(membership.role), membership=membership)
        if (
            school.trust_id is not None
            and TrustMembership.objects.filter(
                trust_id=school.trust_id, user_id=user.pk, is_active=True
            ).exists()
        ):
            return SchoolAccess(role=Role.TRUST_LEADER, membership=None)
        if ParentLink.objects.filter(school=school, user_id=user.pk).exists():
            return SchoolAccess(role=Role.PARENT, membership=None)
    return None


def school_and_access_for(*, slug: str, user: User) -> tuple[School, SchoolAccess]:
    """The active school at ``slug`` and the user's access to it; 404 if either is missing.

    "Does not exist" and "not yours" raise the same ``Http404`` (TEN-01).
    """
    school = School.objects.filter(slug=slug, is_active=True).select_related("trust").first()
    access = school_access_get(school=school, user=user) if school is not None else None
    if school is None or access is None:
        raise Http404("School not found")
    return school, access


def trust_for(*, slug: str, user: User) -> Trust:
    """The trust at ``slug`` if ``user`` leads it; 404 otherwise (same for missing)."""
    trust = Trust.objects.filter(
        slug=slug, memberships__user_id=user.pk, memberships__is_active=True
    ).first()
    if trust is None:
        raise Http404("Trust not found")
    return trust


@dataclass(frozen=True)
class Place:
    """One entry in the header's school switcher."""

    label: str
    url_kind: str  # "school" or "trust"
    slug: str


def places_for_user(*, user: User) -> list[Place]:
    """Every school and trust the user can open, for the header switcher and home page."""
    with scopes_disabled():  # cross-school by design: every row is filtered by this user
        trusts = Trust.objects.filter(memberships__user_id=user.pk, memberships__is_active=True)
        staff_school_ids = StaffMembership.objects.filter(
            user_id=user.pk, is_active=True
        ).values_list("school_id", flat=True)
        parent_school_ids = ParentLink.objects.filter(user_id=user.pk).values_list(
            "school_id", flat=True
        )
        schools = School.objects.filter(
            Q(pk__in=staff_school_ids) | Q(pk__in=parent_school_ids) | Q(trust__in=trusts),
            is_active=True,
        ).distinct()
        places = [Place(label=t.name, url_kind="trust", slug=t.slug) for t in trusts]
        places += [Place(label=s.name, url_kind="school", slug=s.slug) for s in schools]
    return places


def trust_schools_with_roll(*, trust: Trust, on: dt.date) -> list[School]:
    """The trust's active schools, each with ``roll``: pupils on the admission register on
    ``on``. Reads across the trust's schools, and only those (TEN-04)."""
    schools = list(School.objects.filter(trust=trust, is_active=True).order_by("name"))
    with schools_scope(schools):  # one trust, several schools, and only those
        counts = dict(
            Enrolment.objects.filter(school__in=schools, start_date__lte=on)
            .filter(Q(leaving_date__isnull=True) | Q(leaving_date__gte=on))
            .values("school_id")
            .annotate(n=Count("pupil_id", distinct=True))
            .values_list("school_id", "n")
        )
    for school in schools:
        school.roll = counts.get(school.pk, 0)  # type: ignore[attr-defined]
    return schools


# --- Calendar -------------------------------------------------------------------------------


def school_calendar_get(*, school: School) -> SchoolCalendar:
    """The school's whole calendar (every term and closure on record), built once.

    Two small queries; the result answers every school-day, session and school-week question.
    """
    terms = [
        DateRange(start, end)
        for start, end in Term.objects.filter(school=school).values_list("start_date", "end_date")
    ]
    closures = [
        ClosedRange(start, end, Session(session) if session else None)
        for start, end, session in Closure.objects.filter(school=school).values_list(
            "start_date", "end_date", "session"
        )
    ]
    return SchoolCalendar(terms=terms, closures=closures)


def academic_year_for(*, school: School, on: dt.date) -> AcademicYear | None:
    return AcademicYear.objects.filter(school=school, start_date__lte=on, end_date__gte=on).first()


# --- Roll -----------------------------------------------------------------------------------


def pupils_in_form_on(*, school: School, form: FormGroup, on: dt.date) -> QuerySet[Pupil]:
    """Pupils placed in ``form`` on ``on`` and on the admission register that day."""
    placed = FormPlacement.objects.filter(school=school, form=form, start_date__lte=on).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=on)
    )
    pupils: QuerySet[Pupil] = (
        Pupil.objects.filter(school=school, pk__in=placed.values("pupil_id"))
        .on_roll(on)
        .order_by("legal_surname", "legal_forename")
    )
    return pupils


def form_roll_counts(*, school: School, on: dt.date) -> dict[int, int]:
    """Pupils on roll in each form on ``on``, keyed by form id (one query)."""
    on_roll = Pupil.objects.filter(school=school).on_roll(on).values("pk")
    rows = (
        FormPlacement.objects.filter(school=school, start_date__lte=on, pupil_id__in=on_roll)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .values("form_id")
        .annotate(n=Count("pupil_id", distinct=True))
    )
    return {row["form_id"]: row["n"] for row in rows}


def forms_for_tutor(
    *, school: School, membership: StaffMembership, on: dt.date
) -> QuerySet[FormGroup]:
    return FormGroup.objects.filter(
        school=school,
        tutors__membership=membership,
        academic_year__start_date__lte=on,
        academic_year__end_date__gte=on,
    ).select_related("year_group")


def forms_on(*, school: School, on: dt.date) -> QuerySet[FormGroup]:
    return FormGroup.objects.filter(
        school=school, academic_year__start_date__lte=on, academic_year__end_date__gte=on
    ).select_related("year_group")


def forms_for_year_groups(
    *, school: School, membership: StaffMembership, on: dt.date
) -> QuerySet[FormGroup]:
    """The forms on ``on`` of the year groups ``membership`` looks after (a pastoral lead's,
    ``StaffYearGroup``); none assigned, none."""
    return forms_on(school=school, on=on).filter(
        year_group__in=StaffYearGroup.objects.filter(school=school, membership=membership).values(
            "year_group_id"
        )
    )


def year_groups_with_forms(*, school: School, on: dt.date) -> QuerySet[YearGroup]:
    return YearGroup.objects.filter(school=school).prefetch_related(
        Prefetch("forms", queryset=forms_on(school=school, on=on), to_attr="current_forms")
    )


def form_get(*, school: School, form_id: int) -> FormGroup:
    """One of this school's forms; ``Http404`` if it is missing or another school's."""
    form = FormGroup.objects.filter(school=school, pk=form_id).select_related("year_group").first()
    if form is None:
        raise Http404("Form not found")
    return form


def children_of_parent(*, school: School, user: User) -> QuerySet[Pupil]:
    return Pupil.objects.filter(school=school, parent_links__user_id=user.pk)


def pupil_visible_to(
    *, school: School, access: SchoolAccess, user: User, on: dt.date
) -> QuerySet[Pupil]:
    """The pupils this user may open at this school, by ``permissions.pupil_scope``.

    Whole-school staff see every pupil; tutors the pupils placed in their forms this year;
    parents their own children; pastoral leads the pupils placed this day in a form of their
    year groups (``StaffYearGroup``).
    """
    pupils: QuerySet[Pupil] = Pupil.objects.filter(school=school)
    scope = pupil_scope(access)
    if scope is PupilScope.WHOLE_SCHOOL:
        return pupils
    if scope is PupilScope.OWN_CHILDREN:
        return pupils.filter(parent_links__user_id=user.pk)
    if access.membership is None:
        return pupils.none()  # fail closed: no forms without a staff membership
    if scope is PupilScope.YEAR_GROUPS:  # none assigned: none seen
        forms = forms_for_year_groups(school=school, membership=access.membership, on=on)
        return pupils.filter(
            Q(placements__end_date__isnull=True) | Q(placements__end_date__gte=on),
            placements__form__in=forms,
            placements__start_date__lte=on,
        ).distinct()
    forms = forms_for_tutor(school=school, membership=access.membership, on=on)
    return pupils.filter(placements__form__in=forms).distinct()


def pupil_visible_get(
    *, school: School, access: SchoolAccess, user: User, pupil_id: int, on: dt.date
) -> Pupil:
    """One pupil this user may open on ``on`` (``pupil_visible_to``'s role matrix); ``Http404``
    for a missing pupil, another school's, or one outside the user's view alike."""
    pupil = (
        pupil_visible_to(school=school, access=access, user=user, on=on).filter(pk=pupil_id).first()
    )
    if pupil is None:
        raise Http404("Pupil not found")  # missing, another school's, or not this user's
    return pupil
