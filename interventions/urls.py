from __future__ import annotations

from django.urls import path

from interventions.views import attendance as views
from interventions.views import queues as queue_views

app_name = "interventions"

urlpatterns = [
    path(
        "s/<slug:school_slug>/settings/attendance/",
        views.attendance_settings,
        name="attendance-settings",
    ),
    path(
        "s/<slug:school_slug>/pupils/<int:pupil_id>/attendance/",
        views.pupil_attendance,
        name="pupil-attendance",
    ),
    path("s/<slug:school_slug>/attendance/", views.attendance_summary, name="attendance-summary"),
    path("s/<slug:school_slug>/queues/", queue_views.queues_page, name="queues"),
    path("t/<slug:trust_slug>/attendance/", views.trust_attendance, name="trust-attendance"),
]
