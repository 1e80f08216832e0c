from __future__ import annotations

from django.urls import path

from letters import views, views_batches

app_name = "letters"

urlpatterns = [
    path("s/<slug:school_slug>/letters/", views.template_list, name="templates"),
    path(
        "s/<slug:school_slug>/letters/templates/<int:template_id>/",
        views.template_edit,
        name="template-edit",
    ),
    path(
        "s/<slug:school_slug>/letters/templates/<int:template_id>/batch/",
        views_batches.batch_create,
        name="batch-create",
    ),
    path("s/<slug:school_slug>/letters/letterhead/", views.letterhead_edit, name="letterhead"),
    path("s/<slug:school_slug>/letters/print/", views.print_pile, name="print-pile"),
    path("s/<slug:school_slug>/letters/print/pdf/", views.print_pile_pdf, name="print-pile-pdf"),
    path("s/<slug:school_slug>/letters/outbox/", views.outbox, name="outbox"),
    path("s/<slug:school_slug>/letters/<int:letter_id>/pdf/", views.letter_pdf, name="letter-pdf"),
    path(
        "s/<slug:school_slug>/letters/<int:letter_id>/send/", views.letter_send, name="letter-send"
    ),
    path(
        "s/<slug:school_slug>/pupils/<int:pupil_id>/letters/",
        views.pupil_letter_generate,
        name="pupil-letters",
    ),
    path("s/<slug:school_slug>/letters/batches/new/", views_batches.batch_new, name="batch-new"),
    path(
        "s/<slug:school_slug>/letters/batches/<int:batch_id>/",
        views_batches.batch_detail,
        name="batch",
    ),
    path(
        "s/<slug:school_slug>/pupils/<int:pupil_id>/letters/language/",
        views.pupil_letter_language,
        name="pupil-letter-language",
    ),
    path(
        "s/<slug:school_slug>/cases/<int:case_id>/letters/",
        views.case_letter,
        name="case-letter",
    ),
    path(
        "s/<slug:school_slug>/queues/items/<int:item_id>/letter/",
        views.queue_item_letter,
        name="queue-item-letter",
    ),
    path(
        "s/<slug:school_slug>/letters/batches/<int:batch_id>/cancel/",
        views_batches.batch_cancel,
        name="batch-cancel",
    ),
    path(
        "s/<slug:school_slug>/letters/batches/<int:batch_id>/resume/",
        views_batches.batch_resume,
        name="batch-resume",
    ),
    path(
        "s/<slug:school_slug>/letters/batches/<int:batch_id>/pdf/",
        views_batches.batch_pdf,
        name="batch-pdf",
    ),
    path(
        "s/<slug:school_slug>/letters/batches/<int:batch_id>/zip/",
        views_batches.batch_zip,
        name="batch-zip",
    ),
]
