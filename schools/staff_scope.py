"""Pastoral leads' year groups (``StaffYearGroup``): which year groups a member of staff looks
after. ``permissions.pupil_scope`` gives pastoral leads ``YEAR_GROUPS``, and
``selectors.pupil_visible_to`` narrows to these; none assigned, none seen."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from schools.models import School, StaffMembership, StaffYearGroup, YearGroup


def year_groups_find(*, school: School, names: Iterable[str]) -> list[YearGroup]:
    """The school's year groups by name or NC year ("Year 7" or "7"), in the order given;
    ``ValidationError`` naming any the school does not have."""
    found: list[YearGroup] = []
    missing: list[str] = []
    for name in names:
        group = YearGroup.objects.filter(
            Q(name__iexact=name.strip()) | Q(nc_year=name.strip()), school=school
        ).first()
        if group is None:
            missing.append(name)
        elif group not in found:
            found.append(group)
    if missing:
        raise ValidationError(f"No such year group at {school.slug}: {', '.join(missing)}")
    return found


@transaction.atomic
def staff_year_groups_set(
    *, school: School, membership: StaffMembership, year_groups: Iterable[YearGroup]
) -> list[YearGroup]:
    """Make ``year_groups`` exactly the year groups ``membership`` looks after."""
    groups = list(year_groups)
    if membership.school_id != school.pk or any(g.school_id != school.pk for g in groups):
        raise ValidationError("The person and the year groups must be at this school.")
    StaffYearGroup.objects.filter(school=school, membership=membership).exclude(
        year_group__in=groups
    ).delete()
    have = set(
        StaffYearGroup.objects.filter(school=school, membership=membership).values_list(
            "year_group_id", flat=True
        )
    )
    StaffYearGroup.objects.bulk_create(
        StaffYearGroup(school=school, membership=membership, year_group=g)
        for g in groups
        if g.pk not in have
    )
    return sorted(groups, key=lambda g: (g.sort_order, g.name))
