"""The API's root, ``/api/v1/``: each app's ``api_urls`` in one "api" namespace. Every route
is under ``s/<school_slug>/``, so the tenant middleware resolves the school first."""

from __future__ import annotations

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("schools.api_urls")),
    path("", include("registers.api_urls")),
    path("", include("interventions.api_urls")),
]
