from __future__ import annotations

from django.urls import include, path

from registers import api, converters

__all__ = ["converters"]  # imported for its URL converters
from schools import api as schools_api

app_name = "api"

urlpatterns = [
    path("s/<slug:school_slug>/pupils/", schools_api.PupilListApi.as_view(), name="pupil-list"),
    path(
        "s/<slug:school_slug>/pupils/<int:pupil_id>/",
        schools_api.PupilDetailApi.as_view(),
        name="pupil-detail",
    ),
    path(
        "s/<slug:school_slug>/pupils/<int:pupil_id>/marks/",
        api.MarkListApi.as_view(),
        name="pupil-marks",
    ),
    path(
        "s/<slug:school_slug>/registers/<int:form_id>/<isodate:date>/<session:session>/",
        api.RegisterDetailApi.as_view(),
        name="register",
    ),
    path("s/<slug:school_slug>/marks/amend/", api.MarkAmendApi.as_view(), name="mark-amend"),
    path("", include("interventions.api_urls")),  # attendance results, same "api" namespace
]
