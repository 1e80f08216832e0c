"""Pages of letter batches: the "New batch" page (a letter and who it goes to, with the count
previewed), the progress page (polled by htmx), cancel, resume, and the results (one merged
PDF for duplex printing, a zip of the individual PDFs)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from interventions.selectors import academic_period_for
from letters import batches, selectors
from letters.forms_batches import BatchForm
from letters.models import LetterBatch
from schools.models import Pupil, StaffMembership
from schools.permissions import Capability, require_capability
from schools.types import SchoolRequest


def _membership(request: SchoolRequest) -> StaffMembership:
    # Only staff roles hold the letter capabilities; anyone else sees nothing.
    if request.access.membership is None:
        raise Http404("Staff only")
    return request.access.membership


def stored_file_response(field: Any, filename: str, content_type: str) -> HttpResponse:
    """The only way to read a stored letter, batch PDF or zip: streamed from storage by a view
    that has checked tenancy and capability (never a public MEDIA_URL), as a download
    (security PDF-05: attachment, no-store)."""
    if not field:
        raise Http404("Not ready yet")
    response: HttpResponse = FileResponse(  # type: ignore[assignment]  # a streaming response
        field.open("rb"), content_type=content_type, filename=filename, as_attachment=True
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
@require_capability(Capability.SEND_LETTERS)
@vary_on_headers("HX-Request")
def batch_new(request: SchoolRequest) -> HttpResponse:
    """GET: the form (``?template=`` preselects a letter); with htmx, the count for the
    choice so far. POST ``preview``: the page again with the count; POST: start the batch."""
    school = request.school
    today = timezone.localdate()
    # A GET is bound only once it says who the letters go to (htmx sends the whole form), so
    # "?template=" from the letters list preselects a letter without showing errors.
    data = request.POST if request.method == "POST" else None
    if request.method == "GET" and "pupils" in request.GET:
        data = request.GET
    initial = {"pupils": "school", "template": request.GET.get("template")}
    form = BatchForm(data, school=school, on=today, initial=initial)
    count = None
    if form.is_bound and form.is_valid():
        pupils = batches.batch_pupils(school=school, choice=form.choice(), on=today)
        if request.method == "POST" and "preview" not in request.POST:
            template = selectors.letter_template_get(
                school=school, template_id=form.cleaned_data["template"]
            )
            start, _end = academic_period_for(school=school, on=today)
            batch = batches.letter_batch_create(
                school=school,
                template=template,
                pupils=list(pupils),
                period_start=start,
                period_end=today,
                created_by=_membership(request),
                selection=form.description(),
            )
            return redirect("letters:batch", school_slug=school.slug, batch_id=batch.pk)
        count = pupils.count()
    page = "letters/batch_new.html"
    if request.htmx and request.method == "GET":
        page += "#count"
    return render(request, page, {"school": school, "form": form, "count": count})


@require_http_methods(["GET", "POST"])
@require_capability(Capability.SEND_LETTERS)
def batch_create(request: SchoolRequest, template_id: int) -> HttpResponse:
    """The letters list's "Make a batch": the letter to every pupil on roll."""
    template = selectors.letter_template_get(school=request.school, template_id=template_id)
    if request.method != "POST":  # after the lookup: a foreign id is 404 for any method
        return HttpResponseNotAllowed(["POST"])
    today = timezone.localdate()
    start, _end = academic_period_for(school=request.school, on=today)
    pupils = Pupil.objects.filter(school=request.school).on_roll(today).distinct().order_by("pk")
    batch = batches.letter_batch_create(
        school=request.school,
        template=template,
        pupils=list(pupils),
        period_start=start,
        period_end=today,
        created_by=_membership(request),
        selection=_("Every pupil on roll"),
    )
    return redirect("letters:batch", school_slug=request.school.slug, batch_id=batch.pk)


# htmx stops polling when a response has this status (and still swaps its content).
HTMX_STOP_POLLING = 286


@require_GET
@require_capability(Capability.SEND_LETTERS)
@vary_on_headers("HX-Request")
def batch_detail(request: SchoolRequest, batch_id: int) -> HttpResponse:
    """The progress page. Its poll (htmx, every 2 s) sends back what the page shows (the
    ``shown``, ``resume`` and ``actions`` keys of its hidden inputs) and gets: nothing (204, no
    swap) when nothing changed; else only the inside of the progress region (a polite live
    region), and the buttons and links out of band only when they changed. So a poll never replaces the
    element that has the keyboard focus, and a screen reader hears only real progress."""
    batch = selectors.letter_batch_get(school=request.school, batch_id=batch_id)
    progress = batches.letter_batch_progress(school=request.school, batch=batch)
    shown = "/".join(
        str(part)
        for part in (
            progress.done,
            progress.total,
            progress.made,
            len(progress.failures),
            batch.status,
            batch.finished_at is not None,
        )
    )
    finished = batch.finished_at is not None
    # The Resume button and the other actions are separate regions, so Resume appearing or
    # going does not replace a focused Cancel button.
    resume = f"{finished}/{progress.stalled}"
    actions = f"{finished}/{bool(batch.merged_pdf)}/{bool(batch.letters_zip)}"
    context = {
        "school": request.school,
        "batch": batch,
        "progress": progress,
        "shown": shown,
        "resume": resume,
        "actions": actions,
    }
    if not request.htmx:
        return render(request, "letters/batch.html", context)
    resume_changed = request.GET.get("resume") != resume
    actions_changed = request.GET.get("actions") != actions
    if not (finished or resume_changed or actions_changed or request.GET.get("shown") != shown):
        return HttpResponse(status=204)
    return render(
        request,
        "letters/batch.html#poll",
        {**context, "resume_out_of_band": resume_changed, "actions_out_of_band": actions_changed},
        status=HTMX_STOP_POLLING if finished else 200,
    )


def _post_on_batch(request: SchoolRequest, batch_id: int) -> LetterBatch | HttpResponse:
    batch = selectors.letter_batch_get(school=request.school, batch_id=batch_id)
    if request.method != "POST":  # after the lookup: a foreign id is 404 for any method
        return HttpResponseNotAllowed(["POST"])
    return batch


@require_http_methods(["GET", "POST"])
@require_capability(Capability.SEND_LETTERS)
def batch_cancel(request: SchoolRequest, batch_id: int) -> HttpResponse:
    batch = _post_on_batch(request, batch_id)
    if isinstance(batch, HttpResponse):
        return batch
    batches.letter_batch_cancel(
        school=request.school, batch=batch, cancelled_by=_membership(request)
    )
    return redirect("letters:batch", school_slug=request.school.slug, batch_id=batch.pk)


@require_http_methods(["GET", "POST"])
@require_capability(Capability.SEND_LETTERS)
def batch_resume(request: SchoolRequest, batch_id: int) -> HttpResponse:
    batch = _post_on_batch(request, batch_id)
    if isinstance(batch, HttpResponse):
        return batch
    batches.letter_batch_resume(school=request.school, batch=batch, resumed_by=_membership(request))
    return redirect("letters:batch", school_slug=request.school.slug, batch_id=batch.pk)


@require_GET
@require_capability(Capability.SEND_LETTERS)
def batch_pdf(request: SchoolRequest, batch_id: int) -> HttpResponse:
    batch = selectors.letter_batch_get(school=request.school, batch_id=batch_id)
    return stored_file_response(batch.merged_pdf, f"letters-{batch.pk}.pdf", "application/pdf")


@require_GET
@require_capability(Capability.SEND_LETTERS)
def batch_zip(request: SchoolRequest, batch_id: int) -> HttpResponse:
    batch = selectors.letter_batch_get(school=request.school, batch_id=batch_id)
    return stored_file_response(batch.letters_zip, f"letters-{batch.pk}.zip", "application/zip")
