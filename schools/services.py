"""Writes about schools and people. Only services write (STYLE.md rule 5)."""

from __future__ import annotations

import copy

from django.core.exceptions import ValidationError
from django.db import transaction

from schools.models import School

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
        raise ValidationError(f"Not a school setting: {', '.join(sorted(unknown))}")
    candidate = copy.copy(school)
    for name, value in changes.items():
        setattr(candidate, name, value)
    others = [f.name for f in School._meta.fields if f.name not in SETTINGS_FIELDS]
    candidate.full_clean(exclude=others, validate_unique=False)
    for name, value in changes.items():
        setattr(school, name, value)
    school.save(update_fields=list(changes))
    return school
