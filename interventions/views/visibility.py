"""Which pupils the signed-in user may open, for the views that list pupils by name."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from schools.models import Pupil
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
