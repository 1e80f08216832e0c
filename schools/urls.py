from __future__ import annotations

from django.urls import path

from schools import views, views_audit, views_staff

app_name = "schools"

urlpatterns = [
    path("s/<slug:school_slug>/", views.school_home, name="home"),
    path("s/<slug:school_slug>/settings/", views.school_settings, name="settings"),
    path(
        "s/<slug:school_slug>/settings/year-groups/",
        views_staff.staff_year_groups,
        name="staff-year-groups",
    ),
    path("s/<slug:school_slug>/forms/<int:form_id>/", views.form_detail, name="form-detail"),
    path("s/<slug:school_slug>/pupils/<int:pupil_id>/", views.pupil_detail, name="pupil-detail"),
    path("s/<slug:school_slug>/audit/", views_audit.audit_trail, name="audit"),
    path(
        "s/<slug:school_slug>/pupils/<int:pupil_id>/subject-access/",
        views_audit.subject_access_export,
        name="subject-access",
    ),
    path("t/<slug:trust_slug>/", views.trust_home, name="trust-home"),
]
