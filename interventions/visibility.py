"""Which pupils (and their cases) the signed-in user may open, for the pages and the API that
list them by name."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from interventions.models import Case
from schools.models import Pupil
from schools.permissions import Capability, can
from schools.selectors import pupil_visible_to
from schools.types import SchoolRequest


def visible_pupils(request: SchoolRequest, *, on: dt.date | None = None) -> QuerySet[Pupil]:
    """``pupil_visible_to`` for this request's user, on ``on`` (default: the school's today)."""
    return pupil_visible_to(
        school=request.school,
        access=request.access,
        user=request.user,
        on=on or request.school.local_time().date(),
    )


def visible_cases(request: SchoolRequest) -> QuerySet[Case]:
    """Cases of the pupils this user sees; without WORK_CASES (a tutor) only open ones, read
    only."""
    cases = Case.objects.filter(
        school=request.school, pupil__in=visible_pupils(request).values("pk")
    )
    if not can(request.access, Capability.WORK_CASES):
        cases = cases.filter(closed_at__isnull=True)
    return cases.select_related("pupil", "stage", "owner__user")
