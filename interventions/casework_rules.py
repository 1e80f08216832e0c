"""Pure casework rules: case stage presets, action kinds, LA return kinds and their due dates.

No ORM here (table-tested in tests/interventions/test_casework_rules.py). Stage presets are
the ordered stage lists a school can start from: the DfE's six principles
(spec/regulations.md §9) by default, and the staged approaches that seeds 004, 002 and 000
describe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Final

from django.utils.translation import gettext_lazy as _

PlanReviewWeeks: Final = 4  # seed 004: a plan's targets are reviewed after 4 weeks

# (key, English name). Names are stored on the school's CaseStage rows, so the school can edit.
STAGE_PRESETS: Final[dict[str, tuple[str, ...]]] = {
    "dfe": (
        "Expect",
        "Monitor",
        "Listen and understand",
        "Facilitate support",
        "Formalise support",
        "Enforce",
    ),
    # seed 004: "A Staged Approach to Supporting Attendance"
    "seed_004": (
        "Cause for concern level 1 (AT1)",
        "Cause for concern level 2 (AT2)",
        "Attendance panel (fast track / legal considerations)",
    ),
    # seed 002: rewarding → monitored → pastoral action plan → LA officer → enforcement team
    "seed_002": (
        "Monitoring",
        "Pastoral action plan",
        "Local authority attendance officer",
        "Attendance enforcement team",
    ),
    # seed 000: the graduated approach by who leads it
    "seed_000": (
        "Class teacher / form tutor monitoring",
        "Personal attendance plan (AHT phase / WBLSO)",
        "Bespoke action plan (family engagement / wellbeing leader)",
        "Wellbeing and vulnerable learners support",
        "Education Welfare Service referral",
    ),
}
DEFAULT_PRESET: Final = "dfe"
PRESET_LABELS: Final = {
    "dfe": _("DfE six principles"),
    "seed_004": _("AT1, AT2, attendance panel"),
    "seed_002": _("Monitoring to enforcement team"),
    "seed_000": _("Graduated approach by lead"),
}


def stage_preset(key: str) -> tuple[str, ...]:
    """The ordered stage names of preset ``key``; raises ``KeyError`` for an unknown preset."""
    return STAGE_PRESETS[key]


def plan_review_default(start: dt.date) -> dt.date:
    """An attendance plan's default review date: 4 weeks after it starts (seed 004)."""
    return start + dt.timedelta(weeks=PlanReviewWeeks)


# LA returns (§6.1 to 6.2): the new-pupil return is due by the 5th school day after entry.
NEW_PUPIL_RETURN_SCHOOL_DAYS: Final = 5
CONTINUOUS_RETURN_SCHOOL_DAYS: Final = 5  # other returns: within 5 school days of the trigger


def return_due_on(
    trigger_day: dt.date, nth_school_day_after: Callable[[dt.date, int], dt.date | None]
) -> dt.date:
    """The due date of a return triggered on ``trigger_day``: the 5th school day after it
    (the day itself is day 0), or a week later when the calendar does not reach that far."""
    due = nth_school_day_after(trigger_day, NEW_PUPIL_RETURN_SCHOOL_DAYS)
    return due if due is not None else trigger_day + dt.timedelta(days=7)
