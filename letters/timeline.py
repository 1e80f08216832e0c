"""Letters on a pupil's timeline (``interventions.timeline``): one row per letter generated,
with its template's title and status. One query, whatever the number of letters."""

from __future__ import annotations

from django.utils.translation import gettext as _

from interventions.timeline import TimelineEntry, timeline_provider
from letters.models import Letter
from schools.models import Pupil, School


@timeline_provider
def letter_entries(school: School, pupil: Pupil) -> list[TimelineEntry]:
    letters = Letter.objects.filter(school=school, pupil=pupil).select_related(
        "template_version__template", "created_by__user"
    )
    return [
        TimelineEntry(
            at=letter.created_at,
            kind="letter",
            title=_("Letter: %(title)s") % {"title": letter.template_version.template.title},
            detail=str(letter.get_status_display()),
            by="" if letter.created_by is None else letter.created_by.user.get_full_name(),
        )
        for letter in letters
    ]
