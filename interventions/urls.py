from __future__ import annotations

from django.urls import path

from interventions.views import attendance as views
from interventions.views import cases as case_views

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
    path("t/<slug:trust_slug>/attendance/", views.trust_attendance, name="trust-attendance"),
    path("s/<slug:school_slug>/cases/", case_views.case_list, name="case-list"),
    path("s/<slug:school_slug>/cases/<int:case_id>/", case_views.case_detail, name="case-detail"),
    path("s/<slug:school_slug>/la-returns/", case_views.la_returns, name="la-returns"),
]
