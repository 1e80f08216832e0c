"""The registers and marks API, included in the "api" namespace by ``attendance_app.api_urls``."""

from __future__ import annotations

from django.urls import path

from registers import api, converters

__all__ = ["converters"]  # imported for its URL converters

urlpatterns = [
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
]
