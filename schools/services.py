"""Writes about schools and people. Only services write (STYLE.md rule 5)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from schools.csv_calendar import CalendarPlan
from schools.csv_pupils import PupilsPlan
from schools.models import (
    AcademicYear,
    Closure,
    Enrolment,
    FormGroup,
    FormPlacement,
    Pupil,
    School,
    Term,
    Trust,
    UserPreference,
    YearGroup,
)

SETTINGS_FIELDS = (
    "attendance_target",
    "welsh_language",
    "am_register_opens",
    "am_register_closes",
    "am_session_ends",
    "pm_register_opens",
    "pm_register_closes",
    "pm_session_ends",
)


@transaction.atomic
def school_update_settings(*, school: School, **changes: object) -> School:
    """Change a school's own settings (target, Welsh option, register times).

    Raises ``ValidationError`` for any invalid value: a target outside 0 to 100, register windows
    that break spec/regulations.md §3.1 (over 30 minutes, closing before opening, AM and PM of
    different length). Nothing is saved then, and ``school`` is left as it was.
    """
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(
            _("Not a school setting: %(names)s") % {"names": ", ".join(sorted(unknown))}
        )
    candidate = copy.copy(school)
    for name, value in changes.items():
        setattr(candidate, name, value)
    candidate.full_clean(exclude=_fields_except(School, *SETTINGS_FIELDS), validate_unique=False)
    for name, value in changes.items():
        setattr(school, name, value)
    school.save(update_fields=list(changes))
    return school


# --- Provisioning and CSV imports (manage.py create_school, import_calendar, import_pupils) ---


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class SchoolProvisioned:
    school: School
    outcome: Outcome
    trust_created: bool = False


@transaction.atomic
def school_provision(
    *,
    slug: str,
    name: str,
    urn: str,
    jurisdiction: str,
    la_code: str | None = None,
    trust_slug: str | None = None,
) -> SchoolProvisioned:
    """Create the school at ``slug``, or bring it to these values: safe to repeat.

    The school is identified by slug and URN together. The same arguments again change nothing
    (``UNCHANGED``); a new name, or an ``la_code`` or ``trust_slug`` that is given and differs,
    updates it (``UPDATED``); ``None`` leaves those two as they are. A trust that does not exist
    yet is created with its slug as a provisional name. Raises ``ValidationError`` keyed by
    argument (``slug``, ``urn``, ``name``, ``la_code``, ``jurisdiction``, ``trust``) for an
    invalid value, for a slug or URN that belongs to another school, and for a change of
    jurisdiction (it would re-read every recorded mark under another code set).
    """
    candidate = School(
        slug=slug, name=name, urn=urn, jurisdiction=jurisdiction, la_code=la_code or ""
    )
    errors: dict[str, list[str]] = {}
    try:
        candidate.clean_fields(
            exclude=_fields_except(School, "slug", "name", "urn", "la_code", "jurisdiction")
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if trust_slug is not None:
        try:
            Trust(slug=trust_slug, name=trust_slug).clean_fields(
                exclude=_fields_except(Trust, "slug")
            )
        except ValidationError as exc:
            errors["trust"] = exc.message_dict["slug"]
    if errors:
        raise ValidationError(errors)

    by_slug = School.objects.select_for_update().filter(slug=slug).first()
    by_urn = School.objects.select_for_update().filter(urn=urn).first()
    if by_slug is not None and by_slug.urn != urn:
        errors["slug"] = [f"School {by_slug.name} already has this slug, with URN {by_slug.urn}."]
    if by_urn is not None and by_urn.slug != slug:
        errors["urn"] = [f"URN {urn} already belongs to school {by_urn.slug} ({by_urn.name})."]
    if by_slug is not None and not errors and by_slug.jurisdiction != jurisdiction:
        message = (
            f"{by_slug.name} is a school in {by_slug.get_jurisdiction_display()}; changing its "
            "jurisdiction would re-read its marks under another code set."
        )
        errors["jurisdiction"] = [message]
    if errors:
        raise ValidationError(errors)

    trust, trust_created = None, False
    if trust_slug is not None:
        trust, trust_created = Trust.objects.get_or_create(
            slug=trust_slug, defaults={"name": trust_slug}
        )
    if by_slug is None:
        candidate.trust = trust
        candidate.save()
        return SchoolProvisioned(candidate, Outcome.CREATED, trust_created)

    school = by_slug
    wanted: dict[str, object] = {"name": name}
    if la_code is not None:
        wanted["la_code"] = la_code
    if trust is not None:
        wanted["trust_id"] = trust.pk
    changed = [field for field, value in wanted.items() if getattr(school, field) != value]
    for field in changed:
        setattr(school, field, wanted[field])
    if changed:
        school.save(update_fields=[f.removesuffix("_id") for f in changed])
    return SchoolProvisioned(
        school, Outcome.UPDATED if changed else Outcome.UNCHANGED, trust_created
    )


def _fields_except(model: type[models.Model], *keep: str) -> list[str]:
    return [f.name for f in model._meta.fields if f.name not in keep]


def _check_school(school: School, *batches: Sequence[models.Model]) -> None:
    # Plans are built inside school_scope(school); this catches a plan passed to another school.
    if any(
        getattr(obj, "school_id", None) not in (school.pk, None)
        for batch in batches
        for obj in batch
    ):
        raise ValueError("The plan belongs to another school.")


@transaction.atomic
def calendar_import(*, school: School, plan: CalendarPlan) -> CalendarPlan:
    """Write a calendar plan checked by ``schools.csv_calendar.calendar_plan``: new academic
    years, new terms, changed term end dates and new closures, all or none. Returns the plan,
    whose counts say what was done."""
    _check_school(school, plan.new_years, plan.new_terms, plan.changed_terms, plan.new_closures)
    AcademicYear.objects.bulk_create(plan.new_years)
    Term.objects.bulk_create(plan.new_terms)
    Term.objects.bulk_update(plan.changed_terms, ["end_date"])
    Closure.objects.bulk_create(plan.new_closures)
    return plan


@transaction.atomic
def pupils_import(*, school: School, plan: PupilsPlan) -> PupilsPlan:
    """Write a roll plan checked by ``schools.csv_pupils.pupils_plan``: year groups, forms,
    pupils, enrolments and dated form placements, all or none, in a fixed number of queries.
    Returns the plan, whose counts say what was done."""
    _check_school(
        school,
        plan.new_year_groups,
        plan.new_forms,
        plan.new_pupils,
        plan.changed_pupils,
        plan.new_enrolments,
        plan.changed_enrolments,
        plan.new_placements,
        plan.changed_placements,
    )
    YearGroup.objects.bulk_create(plan.new_year_groups)
    FormGroup.objects.bulk_create(plan.new_forms)
    Pupil.objects.bulk_create(plan.new_pupils, batch_size=500)
    if plan.changed_pupils:
        Pupil.objects.bulk_update(
            plan.changed_pupils, sorted(plan.changed_pupil_fields), batch_size=500
        )
    Enrolment.objects.bulk_create(plan.new_enrolments, batch_size=500)
    Enrolment.objects.bulk_update(plan.changed_enrolments, ["leaving_date"], batch_size=500)
    FormPlacement.objects.bulk_update(plan.changed_placements, ["form", "end_date"], batch_size=500)
    FormPlacement.objects.bulk_create(plan.new_placements, batch_size=500)
    return plan


def user_preference_set(*, user: User, language: str) -> UserPreference:
    """Save the user's interface language ("" for the default)."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Not a language this service offers.")})
    preference, _created = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return preference
