"""Writes about schools and people. Only services write (STYLE.md rule 5)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from schools.models import School, register_window_errors

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

    Raises ``ValidationError`` when the register windows break spec/regulations.md §3.1
    (over 30 minutes, or AM and PM of different length); nothing is saved then.
    """
    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationError(f"Not a school setting: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(school, name, value)
    errors = register_window_errors(
        am_opens=school.am_register_opens,
        am_closes=school.am_register_closes,
        pm_opens=school.pm_register_opens,
        pm_closes=school.pm_register_closes,
    )
    if errors:
        raise ValidationError(errors)
    school.save(update_fields=list(changes))
    return school
