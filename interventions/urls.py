from __future__ import annotations

from django.urls import path

from interventions.views import attendance as views
from interventions.views import cases as case_views
from interventions.views import dashboard_breakdowns, dashboards, parents
from interventions.views import queues as queue_views
from interventions.views import trust_dashboard as trust_views

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
    path(
        "s/<slug:school_slug>/children/<int:pupil_id>/days-missed/",
        parents.child_days_missed,
        name="child-days-missed",
    ),
    path("s/<slug:school_slug>/attendance/", views.attendance_summary, name="attendance-summary"),
    path("s/<slug:school_slug>/dashboard/", dashboards.school_dashboard, name="dashboard"),
    path(
        "s/<slug:school_slug>/dashboard/pupils/",
        dashboards.dashboard_pupils,
        name="dashboard-pupils",
    ),
    path(
        "s/<slug:school_slug>/dashboard/breakdowns/",
        dashboard_breakdowns.breakdowns_page,
        name="dashboard-breakdowns",
    ),
    path(
        "s/<slug:school_slug>/my-forms/attendance/",
        dashboard_breakdowns.my_forms_attendance,
        name="my-forms-attendance",
    ),
    path(
        "t/<slug:trust_slug>/dashboard/",
        trust_views.trust_dashboard_page,
        name="trust-dashboard",
    ),
    path("s/<slug:school_slug>/queues/", queue_views.queues_page, name="queues"),
    path("t/<slug:trust_slug>/attendance/", views.trust_attendance, name="trust-attendance"),
    path("s/<slug:school_slug>/cases/", case_views.case_list, name="case-list"),
    path("s/<slug:school_slug>/cases/<int:case_id>/", case_views.case_detail, name="case-detail"),
    path("s/<slug:school_slug>/la-returns/", case_views.la_returns, name="la-returns"),
]
