"""Parents' reports and leave requests, the public absence form, the office's absence inbox
and the head's leave decisions."""

from __future__ import annotations

from django.urls import path

from registers.views import leave, reports

app_name = "absences"

urlpatterns = [
    # Parents (their own children only)
    path("s/<slug:school_slug>/report-absence/", reports.absence_report_new, name="report-absence"),
    path("s/<slug:school_slug>/request-leave/", leave.leave_request_new, name="request-leave"),
    path("s/<slug:school_slug>/my-requests/", reports.my_requests, name="my-requests"),
    path(
        "s/<slug:school_slug>/my-requests/<int:report_id>/evidence/",
        reports.my_evidence,
        name="my-evidence",
    ),
    # The public form: no account, so no ``school_slug`` (see the view).
    path("report-absence/<slug:school_ref>/", reports.public_report, name="public-report"),
    # The attendance office
    path("s/<slug:school_slug>/absence-inbox/", reports.inbox, name="inbox"),
    path(
        "s/<slug:school_slug>/absence-inbox/<int:report_id>/",
        reports.inbox_report,
        name="inbox-report",
    ),
    path(
        "s/<slug:school_slug>/absence-inbox/<int:report_id>/evidence/",
        reports.inbox_evidence,
        name="inbox-evidence",
    ),
    # The headteacher
    path("s/<slug:school_slug>/leave-requests/", leave.leave_list, name="leave-list"),
    path(
        "s/<slug:school_slug>/leave-requests/<int:leave_id>/",
        leave.leave_decide,
        name="leave-decide",
    ),
]
