from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.i18n import set_language

from schools import selectors, services
from schools.components import Cell, Column
from schools.context_processors import user_places
from schools.forms import SchoolSettingsForm
from schools.home import home_items
from schools.i18n import SUPPORTED, language_remember
from schools.models import Contact, Enrolment, FormPlacement, Pupil, School
from schools.permissions import (
    Capability,
    PupilScope,
    can,
    pupil_scope,
    require_capability,
)
from schools.pupil_page import pupil_sections
from schools.types import AuthedRequest, SchoolRequest, TrustRequest


@login_not_required
@require_GET
def health(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"status": "ok"})


@login_not_required
@require_GET
def accessibility(request: HttpRequest) -> HttpResponse:
    """The accessibility statement (GOV.UK format), public."""
    return render(request, "accessibility.html")


@login_not_required
@require_http_methods(["GET", "POST"])
def language_set(request: HttpRequest) -> HttpResponse:
    """The header's English | Cymraeg switcher: Django's ``set_language`` (on POST the cookie;
    a safe redirect back to ``next`` or the Referer) and, for a signed-in user, the choice
    saved on the account. A GET only redirects, as Django's does."""
    response = set_language(request)
    language = request.POST.get("language", "")
    if request.method == "POST" and request.user.is_authenticated and language in SUPPORTED:
        services.user_preference_set(user=request.user, language=language)
        language_remember(request, chosen=language)
    return response


@require_GET
def home(request: AuthedRequest) -> HttpResponse:
    """Send a user with one place straight there; otherwise list their schools and trusts."""
    places = user_places(request)
    if len(places) == 1:
        place = places[0]
        if place.url_kind == "school":
            return redirect("schools:home", school_slug=place.slug)
        return redirect("schools:trust-home", trust_slug=place.slug)
    return render(request, "schools/choose.html", {"places_list": places})


@require_GET
@require_capability(Capability.OPEN_SCHOOL)
def school_home(request: SchoolRequest) -> HttpResponse:
    school, access = request.school, request.access
    today = timezone.localdate()
    context: dict[str, object] = {"today": today, "school": school}
    scope = pupil_scope(access)
    if scope is PupilScope.OWN_CHILDREN:
        children = selectors.children_of_parent(school=school, user=request.user)
        context["children"] = children.prefetch_related("placements__form")
        return render(request, "schools/home_parent.html", context)
    if scope is PupilScope.OWN_FORMS:
        assert access.membership is not None
        forms = list(
            selectors.forms_for_tutor(school=school, membership=access.membership, on=today)
        )
        context["forms"] = [
            (form, selectors.pupils_in_form_on(school=school, form=form, on=today))
            for form in forms
        ]
        context |= home_items(school=school, access=access, now=timezone.now()).context
        return render(request, "schools/home_tutor.html", context)
    roll_counts = selectors.form_roll_counts(school=school, on=today)
    year_groups = list(selectors.year_groups_with_forms(school=school, on=today))
    for year_group in year_groups:
        for form in year_group.current_forms:  # type: ignore[attr-defined]
            form.on_roll = roll_counts.get(form.pk, 0)
        year_group.on_roll = sum(f.on_roll for f in year_group.current_forms)  # type: ignore[attr-defined]
    context["year_groups"] = year_groups
    context["roll"] = sum(roll_counts.values())
    calendar = selectors.school_calendar_get(school=school)
    context["is_school_day"] = calendar.is_school_day(today)
    context["next_school_day"] = calendar.nth_school_day_after(today, 1)
    context["todos"] = home_items(school=school, access=access, now=timezone.now()).todos
    return render(request, "schools/home_staff.html", context)


@require_GET
@require_capability(Capability.VIEW_FORMS)
def form_detail(request: SchoolRequest, form_id: int) -> HttpResponse:
    school, access = request.school, request.access
    today = timezone.localdate()
    form = selectors.form_get(school=school, form_id=form_id)
    if not can(access, Capability.VIEW_ALL_PUPILS) and (  # a tutor: only their own forms
        access.membership is None
        or not (
            form.tutors.filter(membership=access.membership).exists()
            # a pastoral lead: the forms of their year groups
            or (
                pupil_scope(access) is PupilScope.YEAR_GROUPS
                and selectors.forms_for_year_groups(
                    school=school, membership=access.membership, on=today
                )
                .filter(pk=form.pk)
                .exists()
            )
        )
    ):
        raise Http404("Form not found")  # another tutor's form: same answer as missing
    pupils = list(selectors.pupils_in_form_on(school=school, form=form, on=today))
    tutors = form.tutors.select_related("membership__user")
    head = [Column(_("Pupil")), Column(_("UPN")), Column(_("Date of birth"))]
    rows = [
        [
            Cell(
                format_html(
                    '<a class="govuk-link" href="{}">{}</a>',
                    reverse(
                        "schools:pupil-detail",
                        kwargs={"school_slug": school.slug, "pupil_id": pupil.pk},
                    ),
                    pupil.display_name,
                ),
                sort_value=pupil.display_name,
            ),
            pupil.upn,
            Cell(
                formats.date_format(pupil.date_of_birth, "j M Y"),
                sort_value=pupil.date_of_birth.isoformat(),
            ),
        ]
        for pupil in pupils
    ]
    return render(
        request,
        "schools/form_detail.html",
        {
            "form": form,
            "pupils": pupils,
            "tutors": tutors,
            "today": today,
            "head": head,
            "rows": rows,
        },
    )


def _needs_and_context(pupil: Pupil) -> str:
    """The pupil's SEN status and flags, in words, joined by middle dots."""
    flags = [
        (pupil.fsm, _("FSM")),
        (pupil.pupil_premium, _("pupil premium")),
        (pupil.eal, _("EAL")),
        (pupil.looked_after, _("looked after")),
        (pupil.child_in_need, _("child in need")),
        (pupil.child_protection_plan, _("child protection plan")),
        (pupil.young_carer, _("young carer")),
    ]
    parts = [str(pupil.get_sen_status_display()), *(text for on, text in flags if on)]
    return " · ".join(part for part in parts if part)


@require_GET
@require_capability(Capability.VIEW_PUPILS)
def pupil_detail(request: SchoolRequest, pupil_id: int) -> HttpResponse:
    school = request.school
    today = timezone.localdate()
    pupil = selectors.pupil_visible_get(
        school=school, access=request.access, user=request.user, pupil_id=pupil_id, on=today
    )
    is_parent = not can(request.access, Capability.VIEW_PUPIL_RECORD)
    facts: list[dict[str, object]] = [
        {"key": _("Legal name"), "value": f"{pupil.legal_forename} {pupil.legal_surname}"},
        {"key": _("Date of birth"), "value": formats.date_format(pupil.date_of_birth, "j F Y")},
    ]
    contact_head: list[Column] = []
    contact_rows: list[list[object]] = []
    if not is_parent:
        facts += [
            {"key": _("UPN"), "value": pupil.upn},
            {"key": _("Needs and context"), "value": _needs_and_context(pupil)},
        ]
        contact_head = [
            Column(_("Priority"), numeric=True),
            Column(_("Name")),
            Column(_("Relationship")),
            Column(_("Phone"), sortable=False),
            Column(_("Email"), sortable=False),
        ]
        tag = '<strong class="govuk-tag govuk-tag--grey app-tag">{}</strong>'
        for c in Contact.objects.filter(school=school, pupil=pupil):
            name = format_html(
                "{}{}{}",
                c.full_name,
                format_html(" " + tag, _("parental responsibility"))
                if c.parental_responsibility
                else "",
                format_html(" " + tag, _("lives with the pupil")) if c.lives_with_pupil else "",
            )
            contact_rows.append(
                [
                    Cell(c.priority, sort_value=c.priority, numeric=True),
                    Cell(name, sort_value=c.full_name),
                    c.get_relationship_display(),
                    c.mobile_phone or c.home_phone,
                    c.email,
                ]
            )
    context = {
        "pupil": pupil,
        "facts": facts,
        "enrolments": Enrolment.objects.filter(school=school, pupil=pupil),
        "placements": FormPlacement.objects.filter(school=school, pupil=pupil).select_related(
            "form"
        ),
        "contact_head": contact_head,
        "contact_rows": contact_rows,
        "is_parent": is_parent,
        # Other apps' sections (the casework timeline): schools.pupil_page is the slot.
        "sections": pupil_sections(school=school, access=request.access, pupil=pupil, today=today),
    }
    return render(request, "schools/pupil_detail.html", context)


@require_http_methods(["GET", "POST"])
@require_capability(Capability.EDIT_SCHOOL_SETTINGS)
def school_settings(request: SchoolRequest) -> HttpResponse:
    school = request.school
    form = SchoolSettingsForm(request.POST or None, instance=School.objects.get(pk=school.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.school_update_settings(
                school=school,
                **{name: form.cleaned_data[name] for name in services.SETTINGS_FIELDS},
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("schools:settings", school_slug=school.slug)
    return render(request, "schools/settings.html", {"form": form})


@require_GET
def trust_home(request: TrustRequest) -> HttpResponse:
    today = timezone.localdate()
    schools = selectors.trust_schools_with_roll(trust=request.trust, on=today)
    head = [
        Column(_("School")),
        Column(_("Phase")),
        Column(_("Jurisdiction")),
        Column(_("On roll"), numeric=True),
        Column(_("Target"), numeric=True),
    ]
    rows = [
        [
            Cell(
                format_html(
                    '<a class="govuk-link" href="{}">{}</a>',
                    reverse("schools:home", kwargs={"school_slug": school.slug}),
                    school.name,
                ),
                sort_value=school.name,
            ),
            school.get_phase_display(),
            school.get_jurisdiction_display(),
            Cell(school.roll, sort_value=school.roll, numeric=True),  # type: ignore[attr-defined]
            Cell(
                f"{school.attendance_target}%",
                sort_value=school.attendance_target,
                numeric=True,
            ),
        ]
        for school in schools
    ]
    return render(
        request,
        "schools/trust_home.html",
        {"schools": schools, "today": today, "head": head, "rows": rows},
    )
