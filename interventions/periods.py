"""The period a results page or API call asks to compute now, shared by the HTML views and
the API (an API module does not import views)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from interventions import selectors
from interventions.forms import MAX_PERIOD_DAYS
from schools.models import School


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date
    as_of: dt.date


def period_requested(*, school: School, data: Mapping[str, Any], today: dt.date) -> Period:
    """The period of a valid ``AttendancePeriodForm`` (or the API's equivalent): the dates
    given, the academic year of ``as_of`` (default ``today``) for a missing end.
    ``ValidationError`` if the result is backwards or longer than ``MAX_PERIOD_DAYS``."""
    as_of = data.get("as_of") or today
    start, end = selectors.attendance_period_for(
        school=school, period_start=data.get("from"), period_end=data.get("to"), as_of=as_of
    )
    if end < start:
        raise ValidationError(_("The end of the period is before its start."))
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ValidationError(_("Choose a period of at most five years."))
    return Period(start=start, end=end, as_of=as_of)
