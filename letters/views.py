from __future__ import annotations

import io
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from interventions.models import Case, QueueItem
from interventions.selectors import academic_period_for
from letters import batches, casework, selectors, services
from letters.forms import FamilyLanguageForm, GenerateForm, LetterheadForm, TemplateBodyForm
from letters.models import EmailDelivery, LetterBatch, LetterLanguage
from letters.rendering import letter_html
from letters.templating import MERGE_FIELDS, TemplateProblem, TemplateProblemError
from letters.views_batches import stored_file_response
from schools.models import Pupil, StaffMembership
from schools.permissions import Capability, require_capability
from schools.selectors import pupil_visible_get
from schools.types import SchoolRequest


def _render(
    request: SchoolRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    return render(request, template, {"school": request.school, **context}, status=status)


def _membership(request: SchoolRequest) -> StaffMembership:
    # Only staff roles hold the letter capabilities; anyone else sees nothing.
    if request.access.membership is None:
        raise Http404("Staff only")
    return request.access.membership


@require_GET
@require_capability(Capability.SEND_LETTERS)
def letter_pdf(request: SchoolRequest, letter_id: int) -> HttpResponse:
    letter = selectors.letter_get(school=request.school, letter_id=letter_id)
    if not letter.pdf:  # every letter is made with its PDF: only retention removes it
        return _render(request, "letters/letter_erased.html", {"letter": letter}, status=410)
    return stored_file_response(letter.pdf, f"letter-{letter.pk}.pdf", "application/pdf")


@require_GET
@require_capability(Capability.EDIT_LETTER_TEMPLATES)
def template_list(request: SchoolRequest) -> HttpResponse:
    services.letter_templates_install_defaults(school=request.school)  # first use
    templates = selectors.letter_templates(school=request.school)
    batches = LetterBatch.objects.filter(school=request.school).order_by("-created_at")[:10]
    return _render(
        request, "letters/template_list.html", {"templates": templates, "batches": batches}
    )


def _preview(request: SchoolRequest, template: Any, body: str) -> tuple[str, list[TemplateProblem]]:
    pupil = Pupil.objects.filter(school=request.school).order_by("legal_surname", "pk").first()
    if pupil is None:
        return "", []
    today = timezone.localdate()
    start, _end = academic_period_for(school=request.school, on=today)
    contacts = services.letter_contacts(school=request.school, pupil=pupil)
    values = services.letter_snapshot(
        school=request.school,
        pupil=pupil,
        contacts=contacts,
        period_start=start,
        period_end=today,
        language=template.language,
    )
    try:
        html = letter_html(
            body_source=body,
            values=values,
            title=template.title,
            language="en" if template.language == "en" else "cy",
        )
    except TemplateProblemError as exc:
        return "", exc.problems
    return html, []


@require_http_methods(["GET", "POST"])
@require_capability(Capability.EDIT_LETTER_TEMPLATES)
@vary_on_headers("HX-Request")
def template_edit(request: SchoolRequest, template_id: int) -> HttpResponse:
    template = selectors.letter_template_get(school=request.school, template_id=template_id)
    problems: list[TemplateProblem] = []
    if request.method == "POST":
        form = TemplateBodyForm(request.POST)
        if form.is_valid():
            body = form.cleaned_data["body"]
            if request.POST.get("action") == "save":
                try:
                    services.letter_template_version_add(
                        school=request.school,
                        template=template,
                        body=body,
                        created_by=_membership(request),
                    )
                except TemplateProblemError as exc:
                    problems = exc.problems
                else:
                    messages.success(request, _("A new version of the letter is saved."))
                    return redirect(
                        "letters:template-edit",
                        school_slug=request.school.slug,
                        template_id=template.pk,
                    )
    else:
        form = TemplateBodyForm(initial={"body": template.current.body if template.current else ""})
    body = form.data.get("body") if form.is_bound else form.initial["body"]
    preview, preview_problems = _preview(request, template, str(body or ""))
    context = {
        "template": template,
        "form": form,
        "problems": problems or preview_problems,
        "preview": preview,
        "versions": template.versions.select_related("created_by__user").order_by("-number"),
        "fields": MERGE_FIELDS.values(),
    }
    page = "letters/template_edit.html"
    if request.htmx:
        page += "#preview"
    return _render(request, page, context)


@require_http_methods(["GET", "POST"])
@require_capability(Capability.SEND_LETTERS)
def pupil_letter_generate(request: SchoolRequest, pupil_id: int) -> HttpResponse:
    today = timezone.localdate()
    pupil = pupil_visible_get(
        school=request.school,
        access=request.access,
        user=request.user,
        pupil_id=pupil_id,
        on=today,
    )
    services.letter_templates_install_defaults(school=request.school)
    templates = list(selectors.letter_templates(school=request.school))
    family_language = services.family_letter_language(school=request.school, pupil=pupil)
    # The family's language is the default choice; whoever makes the letter may pick another.
    initial = next((t.pk for t in templates if t.language == family_language), None)
    form = GenerateForm(
        request.POST or None,
        choices=[(t.pk, f"{t.title} ({t.get_language_display()})") for t in templates],
        initial={"template": initial},
    )
    if request.method == "POST" and form.is_valid():
        template = selectors.letter_template_get(
            school=request.school, template_id=form.cleaned_data["template"]
        )
        start, _end = academic_period_for(school=request.school, on=today)
        try:
            letter = services.letter_generate(
                school=request.school,
                pupil=pupil,
                template=template,
                period_start=start,
                period_end=today,
                created_by=_membership(request),
            )
        except TemplateProblemError as exc:
            form.add_error(None, "; ".join(str(p) for p in exc.problems))
        else:
            messages.success(request, _("The letter is ready."))
            return redirect(
                "letters:letter-pdf", school_slug=request.school.slug, letter_id=letter.pk
            )
    letters = selectors.pupil_letters(school=request.school, pupil=pupil)
    return _render(
        request,
        "letters/pupil_letters.html",
        {
            "pupil": pupil,
            "form": form,
            "letters": letters,
            "language_form": _family_language_form(request, family_language),
        },
    )


def _family_language_form(
    request: SchoolRequest, current: str | None, data: Any = None
) -> FamilyLanguageForm | None:
    languages = services.school_letter_languages(school=request.school)
    if len(languages) < 2:  # an English-only school has nothing to choose
        return None
    return FamilyLanguageForm(
        data,
        choices=[(code, str(LetterLanguage(code).label)) for code in languages],
        initial={"language": current or LetterLanguage.ENGLISH},
    )


@require_http_methods(["GET", "POST"])
@require_capability(Capability.SEND_LETTERS)
def pupil_letter_language(request: SchoolRequest, pupil_id: int) -> HttpResponse:
    pupil = pupil_visible_get(
        school=request.school,
        access=request.access,
        user=request.user,
        pupil_id=pupil_id,
        on=timezone.localdate(),
    )
    if request.method != "POST":  # after the lookup: a foreign id is 404 for any method
        return HttpResponseNotAllowed(["POST"])
    form = _family_language_form(request, None, request.POST)
    if form is not None and form.is_valid():
        services.family_letter_language_set(
            school=request.school,
            pupil=pupil,
            language=form.cleaned_data["language"],
            updated_by=_membership(request),
        )
        messages.success(request, _("The family's letter language is saved."))
    return redirect("letters:pupil-letters", school_slug=request.school.slug, pupil_id=pupil.pk)


@require_http_methods(["GET", "POST"])
@require_capability(Capability.SEND_LETTERS)
def letter_send(request: SchoolRequest, letter_id: int) -> HttpResponse:
    letter = selectors.letter_get(school=request.school, letter_id=letter_id)
    if request.method != "POST":  # after the lookup: a foreign id is 404 for any method
        return HttpResponseNotAllowed(["POST"])
    try:
        made = services.letter_email_send(school=request.school, letter=letter)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(
            "letters:pupil-letters", school_slug=request.school.slug, pupil_id=letter.pupil_id
        )
    messages.success(request, _("Emails sent: %(count)s.") % {"count": len(made)})
    return redirect("letters:outbox", school_slug=request.school.slug)


@require_GET
@require_capability(Capability.SEND_LETTERS)
def outbox(request: SchoolRequest) -> HttpResponse:
    deliveries = (
        EmailDelivery.objects.filter(school=request.school)
        .select_related("letter__pupil", "letter__template_version__template", "contact")
        .order_by("-claimed_at")[:200]
    )
    return _render(request, "letters/outbox.html", {"deliveries": deliveries})


@require_http_methods(["GET", "POST"])
@require_capability(Capability.EDIT_LETTER_TEMPLATES)
def letterhead_edit(request: SchoolRequest) -> HttpResponse:
    letterhead = services.letterhead_get(school=request.school)
    if request.method == "POST":
        form = LetterheadForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            images: dict[str, tuple[bytes, str] | None] = {}
            for name in ("logo", "signature"):
                upload = data.get(name)
                if upload:
                    images[name] = (upload.read(), upload.letterhead_extension)
                elif data.get(f"remove_{name}"):
                    images[name] = None
            services.letterhead_save(
                school=request.school,
                updated_by=_membership(request),
                values={name: data.get(name) or "" for name in services.LETTERHEAD_TEXT_FIELDS},
                images=images,
            )
            messages.success(request, _("The letterhead is saved. Every new letter uses it."))
            return redirect("letters:letterhead", school_slug=request.school.slug)
    else:
        form = LetterheadForm(
            initial={name: getattr(letterhead, name) for name in services.LETTERHEAD_TEXT_FIELDS}
        )
    image_fields = [
        (form["logo"], form["remove_logo"], bool(letterhead.logo)),
        (form["signature"], form["remove_signature"], bool(letterhead.signature)),
    ]
    return _render(
        request,
        "letters/letterhead.html",
        {"form": form, "letterhead": letterhead, "images": image_fields},
    )


def _template_choices(request: SchoolRequest) -> list[tuple[int, str]]:
    services.letter_templates_install_defaults(school=request.school)
    return [
        (t.pk, f"{t.title} ({t.get_language_display()})")
        for t in selectors.letter_templates(school=request.school)
    ]


def _visible_case(request: SchoolRequest, case_id: int) -> Case:
    case = Case.objects.filter(school=request.school, pk=case_id).select_related("pupil").first()
    if case is None:
        raise Http404("No such case")
    # The pupil must be one this member of staff may see (a tutor's own forms, …).
    pupil_visible_get(
        school=request.school,
        access=request.access,
        user=request.user,
        pupil_id=case.pupil_id,
        on=timezone.localdate(),
    )
    return case


@require_http_methods(["GET", "POST"])
@require_capability(Capability.SEND_LETTERS)
def case_letter(request: SchoolRequest, case_id: int) -> HttpResponse:
    """Make a letter from a case (the form is on the case page); back to the case."""
    case = _visible_case(request, case_id)
    if request.method != "POST":  # after the lookup: a foreign id is 404 for any method
        return HttpResponseNotAllowed(["POST"])
    form = GenerateForm(request.POST, choices=_template_choices(request))
    if form.is_valid():
        template = selectors.letter_template_get(
            school=request.school, template_id=form.cleaned_data["template"]
        )
        try:
            casework.case_letter_generate(
                school=request.school, case=case, template=template, created_by=_membership(request)
            )
        except (TemplateProblemError, ValidationError) as exc:
            messages.error(request, _("The letter could not be made: %(why)s") % {"why": exc})
        else:
            messages.success(request, _("The letter is ready and recorded on the case."))
    return redirect("interventions:case-detail", school_slug=request.school.slug, case_id=case.pk)


@require_http_methods(["GET", "POST"])
@require_capability(Capability.SEND_LETTERS)
def queue_item_letter(request: SchoolRequest, item_id: int) -> HttpResponse:
    """Make a letter from a queue item: choose the template, then read the PDF."""
    item = (
        QueueItem.objects.filter(school=request.school, pk=item_id, pupil__isnull=False)
        .select_related("pupil")
        .first()
    )
    if item is None or item.pupil is None:
        raise Http404("No such queue item")
    pupil_visible_get(
        school=request.school,
        access=request.access,
        user=request.user,
        pupil_id=item.pupil.pk,
        on=timezone.localdate(),
    )
    family_language = services.family_letter_language(school=request.school, pupil=item.pupil)
    choices = _template_choices(request)
    form = GenerateForm(request.POST or None, choices=choices)
    if request.method == "POST" and form.is_valid():
        template = selectors.letter_template_get(
            school=request.school, template_id=form.cleaned_data["template"]
        )
        try:
            letter = casework.queue_item_letter_generate(
                school=request.school, item=item, template=template, created_by=_membership(request)
            )
        except (TemplateProblemError, ValidationError) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("The letter is ready and recorded on the queue item."))
            return redirect(
                "letters:letter-pdf", school_slug=request.school.slug, letter_id=letter.pk
            )
    return _render(
        request,
        "letters/queue_item_letter.html",
        {"item": item, "form": form, "family_language": family_language},
    )


@require_http_methods(["GET", "POST"])
@require_capability(Capability.SEND_LETTERS)
def print_pile(request: SchoolRequest) -> HttpResponse:
    """Letters for families without an email address, not yet printed: download them as one
    PDF, put them in envelopes, then mark them printed (the ones ticked, or all shown)."""
    pile = selectors.print_pile(school=request.school)
    if request.method == "POST":
        ids = [int(value) for value in request.POST.getlist("letter") if value.isdigit()]
        count = services.letters_mark_printed(
            school=request.school, letter_ids=ids, marked_by=_membership(request)
        )
        messages.success(request, _("Letters marked printed: %(count)s.") % {"count": count})
        return redirect("letters:print-pile", school_slug=request.school.slug)
    letters = list(pile[: selectors.PRINT_PILE_LIMIT])
    return _render(
        request,
        "letters/print_pile.html",
        {"letters": letters, "more": pile.count() > len(letters)},
    )


@require_GET
@require_capability(Capability.SEND_LETTERS)
def print_pile_pdf(request: SchoolRequest) -> HttpResponse:
    """The print pile as one PDF, each letter padded to an even page count for duplex."""
    letters = list(selectors.print_pile(school=request.school)[: selectors.PRINT_PILE_LIMIT])
    if not letters:
        raise Http404("Nothing to print")
    merged = io.BytesIO()
    batches.letters_merge(letters=letters, out=merged)
    response = HttpResponse(merged.getvalue(), content_type="application/pdf")
    response["Content-Disposition"] = 'attachment; filename="letters-to-print.pdf"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
