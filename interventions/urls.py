from __future__ import annotations

from django.urls import path

from interventions import views

app_name = "interventions"

urlpatterns = [
    path(
        "s/<slug:school_slug>/settings/attendance/",
        views.attendance_settings,
        name="attendance-settings",
    ),
]
