"""The attendance results API, included in the "api" namespace by ``attendance_app.api_urls``."""

from __future__ import annotations

from django.urls import path

from interventions import api
from interventions import api_casework as casework_api

urlpatterns = [
    path(
        "s/<slug:school_slug>/pupils/<int:pupil_id>/attendance/",
        api.PupilAttendanceApi.as_view(),
        name="pupil-attendance",
    ),
    path(
        "s/<slug:school_slug>/attendance/summary/",
        api.AttendanceSummaryApi.as_view(),
        name="attendance-summary",
    ),
    path(
        "s/<slug:school_slug>/attendance/events/",
        api.AttendanceEventListApi.as_view(),
        name="attendance-events",
    ),
]

# Casework (issue 10): queues, contact attempts, cases, NTIs, penalty notices, LA returns.
_S = "s/<slug:school_slug>/"
urlpatterns += [
    path(f"{_S}queues/", casework_api.QueueCountsApi.as_view(), name="queues"),
    path(f"{_S}queue-items/", casework_api.QueueItemListApi.as_view(), name="queue-items"),
    path(
        f"{_S}queue-items/<int:item_id>/claim/",
        casework_api.QueueItemClaimApi.as_view(),
        name="queue-item-claim",
    ),
    path(
        f"{_S}queue-items/<int:item_id>/snooze/",
        casework_api.QueueItemSnoozeApi.as_view(),
        name="queue-item-snooze",
    ),
    path(
        f"{_S}queue-items/<int:item_id>/close/",
        casework_api.QueueItemCloseApi.as_view(),
        name="queue-item-close",
    ),
    path(
        f"{_S}queue-items/<int:item_id>/decide/",
        casework_api.QueueItemDecideApi.as_view(),
        name="queue-item-decide",
    ),
    path(
        f"{_S}queue-items/<int:item_id>/contacts/",
        casework_api.QueueItemContactsApi.as_view(),
        name="queue-item-contacts",
    ),
    path(f"{_S}cases/", casework_api.CaseListApi.as_view(), name="cases"),
    path(f"{_S}cases/<int:case_id>/", casework_api.CaseDetailApi.as_view(), name="case-detail"),
    path(f"{_S}cases/<int:case_id>/stage/", casework_api.CaseStageApi.as_view(), name="case-stage"),
    path(f"{_S}cases/<int:case_id>/close/", casework_api.CaseCloseApi.as_view(), name="case-close"),
    path(
        f"{_S}cases/<int:case_id>/actions/",
        casework_api.CaseActionsApi.as_view(),
        name="case-actions",
    ),
    path(
        f"{_S}cases/<int:case_id>/actions/<int:action_id>/",
        casework_api.CaseActionApi.as_view(),
        name="case-action",
    ),
    path(
        f"{_S}cases/<int:case_id>/actions/<int:action_id>/done/",
        casework_api.CaseActionDoneApi.as_view(),
        name="case-action-done",
    ),
    path(
        f"{_S}cases/<int:case_id>/contacts/",
        casework_api.CaseContactsApi.as_view(),
        name="case-contacts",
    ),
    path(f"{_S}cases/<int:case_id>/ntis/", casework_api.CaseNtisApi.as_view(), name="case-ntis"),
    path(
        f"{_S}ntis/<int:nti_id>/outcome/",
        casework_api.NtiOutcomeApi.as_view(),
        name="nti-outcome",
    ),
    path(
        f"{_S}cases/<int:case_id>/pn-requests/",
        casework_api.CasePnRequestsApi.as_view(),
        name="case-pn-requests",
    ),
    path(
        f"{_S}pn-requests/<int:request_id>/sign-off/",
        casework_api.PnRequestSignOffApi.as_view(),
        name="pn-request-sign-off",
    ),
    path(
        f"{_S}pupils/<int:pupil_id>/penalty-notices/",
        casework_api.PupilPenaltyNoticesApi.as_view(),
        name="pupil-penalty-notices",
    ),
    path(
        f"{_S}penalty-notices/<int:notice_id>/status/",
        casework_api.PenaltyNoticeStatusApi.as_view(),
        name="penalty-notice-status",
    ),
    path(f"{_S}la-returns/", casework_api.LAReturnListApi.as_view(), name="la-returns"),
    path(
        f"{_S}la-returns/<int:return_id>/sent/",
        casework_api.LAReturnSentApi.as_view(),
        name="la-return-sent",
    ),
    path(
        f"{_S}la-returns/<int:return_id>/enquiries/",
        casework_api.LAReturnEnquiriesApi.as_view(),
        name="la-return-enquiries",
    ),
]
