"""The attendance results API, included in the "api" namespace by ``attendance_app.api_urls``."""

from __future__ import annotations

from django.urls import path

from interventions import api

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
