from __future__ import annotations

from django.urls import path

from letters import views

app_name = "letters"

urlpatterns = [
    path(
        "s/<slug:school_slug>/letters/<int:letter_id>/pdf/",
        views.letter_pdf,
        name="letter-pdf",
    ),
]
