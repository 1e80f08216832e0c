from __future__ import annotations

from django.urls import path

from registers import converters
from registers.views import marks as views

__all__ = ["converters"]  # imported for its URL converters


app_name = "registers"

urlpatterns = [
    path("s/<slug:school_slug>/registers/", views.register_list, name="list"),
    path(
        "s/<slug:school_slug>/registers/<int:form_id>/<isodate:date>/<session:session>/",
        views.register_take,
        name="take",
    ),
    path(
        "s/<slug:school_slug>/pupils/<int:pupil_id>/marks/",
        views.pupil_marks,
        name="pupil-marks",
    ),
    path(
        "s/<slug:school_slug>/pupils/<int:pupil_id>/marks/<isodate:date>/<session:session>/amend/",
        views.mark_amend,
        name="amend",
    ),
    path("s/<slug:school_slug>/unresolved-n/", views.unresolved_n, name="unresolved-n"),
]
