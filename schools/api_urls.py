"""The roll's API, included in the "api" namespace by ``attendance_app.api_urls``."""

from __future__ import annotations

from django.urls import path

from schools import api

urlpatterns = [
    path("s/<slug:school_slug>/pupils/", api.PupilListApi.as_view(), name="pupil-list"),
    path(
        "s/<slug:school_slug>/pupils/<int:pupil_id>/",
        api.PupilDetailApi.as_view(),
        name="pupil-detail",
    ),
]
