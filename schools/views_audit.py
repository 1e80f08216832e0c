"""The school's access and security trail for its administrators and head (security LOG-04,
GDPR-06): who looked at a pupil's record, what was downloaded, what was refused; and the
subject-access archive of one pupil (GDPR-02)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from schools.audit import audit_events
from schools.components import Column
from schools.models import Pupil
from schools.permissions import Capability, require_capability
from schools.subject_access import subject_access_archive
from schools.types import SchoolRequest

AUDIT_DAYS_DEFAULT, AUDIT_DAYS_MAX, AUDIT_ROWS_SHOWN = 30, 366, 500


def _days(raw: str | None) -> int:
    try:
        return min(max(int(raw or AUDIT_DAYS_DEFAULT), 1), AUDIT_DAYS_MAX)
    except ValueError:
        return AUDIT_DAYS_DEFAULT


@require_GET
@require_capability(Capability.VIEW_AUDIT)
def audit_trail(request: SchoolRequest) -> HttpResponse:
    school = request.school
    days = _days(request.GET.get("days"))
    upn = (request.GET.get("upn") or "").strip().upper()
    pupil = Pupil.objects.filter(school=school, upn=upn).first() if upn else None
    events = audit_events(
        school=school,
        since=timezone.now() - dt.timedelta(days=days),
        pupil_id=pupil.pk if pupil is not None else None,
    )
    shown = list(events[:AUDIT_ROWS_SHOWN]) if not upn or pupil is not None else []
    rows = [
        [
            formats.date_format(timezone.localtime(event.at), "DATETIME_FORMAT"),
            event.actor_label or _("(no account)"),
            event.get_action_display(),
            f"{event.target_type} {event.target_id}" if event.target_id else "",
            event.path,
            event.ip,
        ]
        for event in shown
    ]
    head = [
        Column(_("When")),
        Column(_("Who")),
        Column(_("What")),
        Column(_("Record")),
        Column(_("Page")),
        Column(_("Address")),
    ]
    return render(
        request,
        "schools/audit.html",
        {
            "days": days,
            "upn": upn,
            "pupil": pupil,
            "unknown_upn": bool(upn) and pupil is None,
            "head": head,
            "rows": rows,
            "limit": AUDIT_ROWS_SHOWN,
            "truncated": len(shown) == AUDIT_ROWS_SHOWN,
        },
    )


@never_cache
@require_GET
@require_capability(Capability.EXPORT_SUBJECT_ACCESS)
def subject_access_export(request: SchoolRequest, pupil_id: int) -> HttpResponse:
    pupil = Pupil.objects.filter(school=request.school, pk=pupil_id).first()
    if pupil is None:
        raise Http404("Pupil not found")
    response = HttpResponse(
        subject_access_archive(school=request.school, pupil=pupil),
        content_type="application/zip",
    )
    response["Content-Disposition"] = (
        content_disposition_header(as_attachment=True, filename=f"subject-access-{pupil.upn}.zip")
        or "attachment"
    )
    return response
