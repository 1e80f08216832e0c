"""Parents' absence reports: the parent's report and "My requests" pages, the public absence
form, and the attendance office's absence inbox (product.md "Parents")."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from registers import selectors
from registers.codes import codes_in_force
from registers.forms_parents import (
    AcceptForm,
    EvidenceForm,
    NoteForm,
    ParentAbsenceForm,
    PublicAbsenceForm,
)
from registers.models import REASON_CODES, AbsenceReport, ReportStatus
from registers.services import reports as services
from schools.models import Pupil, School
from schools.permissions import Capability, require_capability
from schools.scoping import school_scope
from schools.selectors import children_of_parent, school_calendar_get
from schools.types import SchoolRequest

# --- Parents ----------------------------------------------------------------------------------


def parent_children(request: SchoolRequest) -> QuerySet[Pupil]:
    return children_of_parent(school=request.school, user=request.user).order_by(
        "legal_forename", "legal_surname"
    )


def own_child(children: QuerySet[Pupil], raw: str | None) -> Pupil | None:
    """The child named in the request, if any; another child (or a made-up id) is the same
    404 as a missing page (TEN-01), never a form error that would confirm the id exists."""
    if not raw:
        return None
    child = children.filter(pk=int(raw)).first() if raw.isdigit() else None
    if child is None:
        raise Http404("Pupil not found")
    return child


def initial_child(children: QuerySet[Pupil], chosen: Pupil | None) -> Pupil | None:
    """The child a new request starts with: the one named in the link, else an only child."""
    if chosen is not None:
        return chosen
    first_two = list(children[:2])  # one query answers "is there exactly one?"
    return first_two[0] if len(first_two) == 1 else None


def my_requests_url(request: SchoolRequest) -> str:
    return reverse("absences:my-requests", kwargs={"school_slug": request.school.slug})


@require_http_methods(["GET", "POST"])
@require_capability(Capability.MAKE_PARENT_REQUESTS)
def absence_report_new(request: SchoolRequest) -> HttpResponse:
    school, today = request.school, timezone.localdate()
    children = parent_children(request)
    data = request.POST if request.method == "POST" else request.GET
    chosen = own_child(children, data.get("pupil"))
    if request.method == "POST":
        form = ParentAbsenceForm(request.POST, request.FILES, children=children)
        if form.is_valid():
            cleaned = form.cleaned_data
            try:
                services.absence_report_submit(
                    school=school,
                    pupil=cleaned["pupil"],
                    user=request.user,
                    first_date=cleaned["first_date"],
                    first_session=cleaned["first_session"],
                    last_date=cleaned["last_date"],
                    last_session=cleaned["last_session"],
                    reason=cleaned["reason"],
                    details=cleaned["details"],
                    evidence=cleaned["evidence"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    _(
                        "Thank you. The school has your report for %(name)s. "
                        "The attendance office will confirm it."
                    )
                    % {"name": cleaned["pupil"].display_name},
                )
                return redirect(my_requests_url(request))
    else:
        form = ParentAbsenceForm(
            children=children,
            initial={"pupil": initial_child(children, chosen), "first_date": today},
        )
    return render(
        request,
        "registers/parents/report.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


@require_GET
@require_capability(Capability.MAKE_PARENT_REQUESTS)
def my_requests(request: SchoolRequest) -> HttpResponse:
    found = selectors.requests_of_parent(school=request.school, user=request.user)
    return render(
        request,
        "registers/parents/mine.html",
        {"reports": found.reports, "leave_requests": found.leave},
    )


@require_http_methods(["GET", "POST"])
@require_capability(Capability.MAKE_PARENT_REQUESTS)
def my_evidence(request: SchoolRequest, report_id: int) -> HttpResponse:
    """Upload the evidence the office asked for; any other report is a 404."""
    report = (
        selectors.reports_of_parent(school=request.school, user=request.user)
        .filter(pk=report_id, status=ReportStatus.EVIDENCE_REQUESTED)
        .select_related("pupil")
        .first()
    )
    if report is None:
        raise Http404("Report not found")
    form = EvidenceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.absence_report_add_evidence(
                school=request.school,
                report=report,
                user=request.user,
                evidence=form.cleaned_data["evidence"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Thank you. The office has your evidence."))
            return redirect(my_requests_url(request))
    return render(
        request,
        "registers/parents/evidence.html",
        {"form": form, "report": report},
        status=400 if form.errors else 200,
    )


# --- The public form (no account) --------------------------------------------------------------

PUBLIC_IP_LIMIT, PUBLIC_IP_WINDOW = 10, 10 * 60  # submissions per client address
# Addresses per school: the school's cap counts *new* addresses, not submissions, so a few
# addresses (each held to its own limit) cannot close the form for every family (PUB-03).
PUBLIC_SCHOOL_LIMIT, PUBLIC_SCHOOL_WINDOW = 200, 60 * 60


def _window_open(key: str, window: int) -> int:
    """Open a fixed window at the key's first use; the Unix time it opened."""
    now = int(timezone.now().timestamp())
    cache.add(f"{key}:opened", now, timeout=window)
    opened = cache.get(f"{key}:opened")
    return int(opened) if opened is not None else now


def _seconds_left(key: str, window: int) -> int:
    """How long until ``key``'s window closes: the truthful ``Retry-After``."""
    opened = _window_open(key, window)
    return max(1, opened + window - int(timezone.now().timestamp()))


def _hits(key: str, window: int) -> int:
    """Count one hit in a fixed window that starts at the key's first hit (atomic on Redis)."""
    _window_open(key, window)
    cache.add(key, 0, timeout=window)  # no-op while the window is open
    try:
        return cache.incr(key)
    except ValueError:  # the window closed between add() and incr()
        cache.set(key, 1, timeout=window)
        return 1


def _rate_limited(request: HttpRequest, school: School) -> int | None:
    """Seconds the client should wait, or None when it may submit.

    The client's own limit comes first. Then the school's cap: an address that already
    submitted to this school in the window carries on (within its own limit); only addresses
    new to the school are turned away once the cap is reached."""
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client chose to send, so trusting it
    # would let a script reset its own counter with every request (PUB-03). Behind a proxy,
    # the deployment must set REMOTE_ADDR from the proxy it trusts (e.g. gunicorn's
    # --forwarded-allow-ips with a proxy-fix), never this view from a header.
    client = request.META.get("REMOTE_ADDR", "") or "unknown"
    # The client's counter spans every school, so hopping between schools does not help.
    ip_key = f"absences:public:ip:{client}"
    if _hits(ip_key, PUBLIC_IP_WINDOW) > PUBLIC_IP_LIMIT:
        return _seconds_left(ip_key, PUBLIC_IP_WINDOW)
    school_key = f"absences:public:school:{school.pk}"
    known_key = f"{school_key}:address:{client}"
    if cache.get(known_key):
        return None
    if _hits(school_key, PUBLIC_SCHOOL_WINDOW) > PUBLIC_SCHOOL_LIMIT:
        return _seconds_left(school_key, PUBLIC_SCHOOL_WINDOW)
    cache.set(known_key, 1, timeout=_seconds_left(school_key, PUBLIC_SCHOOL_WINDOW))
    return None


@login_not_required  # TEN-11 allowlist: parents without an account report here
@require_http_methods(["GET", "POST"])
def public_report(request: HttpRequest, school_ref: str) -> HttpResponse:
    """The public absence form. Known and unknown pupils get the same page, status and words
    (PUB-01); a submission only ever creates an unverified report (PUB-02); a filled
    honeypot gets the same answer and stores nothing (PUB-03)."""
    # Not ``school_slug``: the tenant middleware would then demand a membership. Schools are
    # public (their pages name them), so an unknown or closed school is a plain 404.
    school = School.objects.filter(slug=school_ref, is_active=True).first()
    if school is None:
        raise Http404("School not found")
    context: dict[str, object] = {"school": school}
    if request.method == "GET":
        context["form"] = PublicAbsenceForm()
        return render(request, "registers/parents/public_form.html", context)

    wait = _rate_limited(request, school)
    if wait is not None:
        response = render(request, "registers/parents/public_busy.html", context, status=429)
        response["Retry-After"] = str(wait)
        return response
    if request.POST.get("website"):
        return render(request, "registers/parents/public_sent.html", context)
    form = PublicAbsenceForm(request.POST)
    if form.is_valid():
        cleaned = form.cleaned_data
        try:
            with school_scope(school):
                services.absence_report_submit_public(
                    school=school,
                    pupil_forename=cleaned["pupil_forename"],
                    pupil_surname=cleaned["pupil_surname"],
                    date_of_birth=cleaned["date_of_birth"],
                    reporter_name=cleaned["reporter_name"],
                    contact_phone=cleaned["contact_phone"],
                    contact_email=cleaned["contact_email"],
                    first_date=cleaned["first_date"],
                    first_session=cleaned["first_session"],
                    last_date=cleaned["last_date"],
                    last_session=cleaned["last_session"],
                    reason=cleaned["reason"],
                    details=cleaned["details"],
                )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            # Nothing from the submission is echoed: no name, no reason, no details (PUB-05).
            return render(request, "registers/parents/public_sent.html", context)
    context["form"] = form
    return render(request, "registers/parents/public_form.html", context, status=400)


# --- The attendance office's inbox ---------------------------------------------------------------


def _inbox_url(request: SchoolRequest) -> str:
    return reverse("absences:inbox", kwargs={"school_slug": request.school.slug})


@require_GET
@require_capability(Capability.WORK_INBOX)
def inbox(request: SchoolRequest) -> HttpResponse:
    school = request.school
    return render(
        request,
        "registers/office/inbox.html",
        {
            "reports": selectors.absence_inbox(school=school),
            "decided": selectors.absence_reports_decided(school=school),
        },
    )


def _accept_form(school: School, report: AbsenceReport, data: object | None = None) -> AcceptForm:
    codes = [
        c
        for c in codes_in_force(jurisdiction=school.jurisdiction, on=report.first_date)
        # Absence codes only; N ("no reason yet") and the lateness code U answer nothing here.
        if c.is_absence and c.code != "N" and not c.records_minutes_late
    ]
    return AcceptForm(data, codes=codes, suggested=REASON_CODES.get(report.reason, ""))


# The colour of a report's status tag (the words are the status's label; colour never alone).
REPORT_STATUS_COLOURS = {
    ReportStatus.UNVERIFIED: "orange",
    ReportStatus.PENDING: "blue",
    ReportStatus.EVIDENCE_REQUESTED: "yellow",
    ReportStatus.ACCEPTED: "green",
    ReportStatus.REJECTED: "red",
}


def status_tag(*, text: object, colour: str, code: str = "") -> SafeString:
    """The tag component rendered for a summary-list value."""
    return SafeString(
        render_to_string(
            "_components/tag.html", {"text": text, "colour": colour, "code": code}
        ).strip()
    )


def _report_facts(
    request: SchoolRequest, report: AbsenceReport, sessions: int
) -> list[dict[str, object]]:
    """The rows of the report's summary list (``_components/summary_list.html``)."""
    slug = request.school.slug
    if report.status == ReportStatus.UNVERIFIED:
        status = format_html(
            "{} {}",
            status_tag(text=_("Unverified"), colour="orange"),
            _("sent with the public form, without an account"),
        )
    else:
        status = status_tag(
            text=report.get_status_display(),
            colour=REPORT_STATUS_COLOURS.get(ReportStatus(report.status), "grey"),
            code=report.applied_code if report.status == ReportStatus.ACCEPTED else "",
        )
    sender = report.reporter_name
    if report.reporter_contact:
        sender = f"{sender}, {report.reporter_contact}"
    rows: list[dict[str, object]] = [
        {
            "key": _("Pupil"),
            "value": SafeString(
                render_to_string("registers/office/_pupil.html", {"r": report}).strip()
            ),
        },
        {
            "key": _("Dates"),
            "value": SafeString(
                render_to_string("registers/parents/_dates.html", {"r": report}).strip()
            ),
        },
        {"key": _("Status"), "value": status},
        {"key": _("School sessions"), "value": sessions},
        {"key": _("Reason"), "value": report.get_reason_display()},
        {"key": _("Details"), "value": report.details},
        {
            "key": _("From"),
            "value": _("%(sender)s (%(when)s)")
            % {
                "sender": sender,
                "when": date_format(timezone.localtime(report.submitted_at), "j M Y H:i"),
            },
        },
    ]
    if report.pupil_id and report.stated_pupil_name:
        rows.append(
            {
                "key": _("Stated on the form"),
                "value": _("%(name)s, born %(born)s")
                % {
                    "name": report.stated_pupil_name,
                    "born": date_format(report.stated_date_of_birth, "j M Y")
                    if report.stated_date_of_birth
                    else "",
                },
            }
        )
    evidence_url = reverse(
        "absences:inbox-evidence", kwargs={"school_slug": slug, "report_id": report.pk}
    )
    rows.append(
        {
            "key": _("Evidence"),
            "value": format_html(
                '<a class="govuk-link" href="{}">{}</a>', evidence_url, _("Download the evidence")
            )
            if report.evidence
            else _("None"),
        }
    )
    if report.decision_note:
        rows.append({"key": _("Note"), "value": report.decision_note})
    if report.decided_by and report.decided_at:
        user = report.decided_by.user
        decided = _("%(name)s, %(when)s") % {
            "name": user.get_full_name() or user.get_username(),
            "when": date_format(timezone.localtime(report.decided_at), "j M Y H:i"),
        }
        if report.applied_code:
            decided = _("%(decided)s: recorded as %(code)s") % {
                "decided": decided,
                "code": report.applied_code,
            }
        rows.append({"key": _("Decided"), "value": decided})
    return rows


@require_http_methods(["GET", "POST"])
@require_capability(Capability.WORK_INBOX)
def inbox_report(request: SchoolRequest, report_id: int) -> HttpResponse:
    school, today = request.school, timezone.localdate()
    report = selectors.absence_report_get(school=school, report_id=report_id)
    membership = request.access.membership
    assert membership is not None  # office roles are staff memberships
    accept_form = _accept_form(school, report)
    reject_form = NoteForm(auto_id="id_reject_%s")
    evidence_form = NoteForm(auto_id="id_evidence_%s")
    acting_form: AcceptForm | NoteForm | None = None
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "accept":
                accept_form = acting_form = _accept_form(school, report, request.POST)
                if not accept_form.is_valid():
                    raise ValidationError(_("Choose the code to record."))
                result = services.absence_report_accept(
                    school=school,
                    report=report,
                    membership=membership,
                    code=accept_form.cleaned_data["code"],
                )
                written = result.created + result.changed + result.unchanged
                messages.success(
                    request,
                    ngettext(
                        "Report accepted: %(count)s session recorded as %(code)s.",
                        "Report accepted: %(count)s sessions recorded as %(code)s.",
                        written,
                    )
                    % {"count": written, "code": accept_form.cleaned_data["code"]},
                )
            elif action == "reject":
                reject_form = acting_form = NoteForm(request.POST, auto_id="id_reject_%s")
                services.absence_report_reject(
                    school=school,
                    report=report,
                    membership=membership,
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("Report rejected. No mark was written."))
            elif action == "evidence":
                evidence_form = acting_form = NoteForm(request.POST, auto_id="id_evidence_%s")
                services.absence_report_request_evidence(
                    school=school,
                    report=report,
                    membership=membership,
                    note=request.POST.get("note", ""),
                )
                messages.success(request, _("Evidence requested. The parent will see your note."))
            elif action == "match":
                raw = request.POST.get("pupil", "")
                pupil = (
                    Pupil.objects.filter(school=school, pk=int(raw)).first()
                    if raw.isdigit()
                    else None
                )
                if pupil is None:
                    raise ValidationError(_("Choose the pupil this report is about."))
                services.absence_report_match(
                    school=school, report=report, membership=membership, pupil=pupil
                )
                messages.success(
                    request, _("Report matched to %(name)s.") % {"name": pupil.display_name}
                )
                return redirect(request.path)
            else:
                raise ValidationError(_("Choose what to do with this report."))
        except ValidationError as exc:
            error = form_error(acting_form, exc)
        else:
            return redirect(_inbox_url(request))
    query = request.GET.get("q", "").strip()
    candidates = (
        selectors.pupils_for_matching(
            school=school, query=query, date_of_birth=report.stated_date_of_birth, on=today
        )
        if report.pupil_id is None
        else []
    )
    return render(
        request,
        "registers/office/report.html",
        {
            "report": report,
            "facts": _report_facts(request, report, _session_count(school, report)),
            "is_open": report.status in services.REPORT_OPEN_STATUSES,
            "accept_form": accept_form,
            "reject_form": reject_form,
            "evidence_form": evidence_form,
            "query": query,
            "candidates": candidates,
            "error": error,
            "acting_form": acting_form,
        },
        status=400 if error else 200,
    )


def form_error(form: forms.Form | None, exc: ValidationError) -> str:
    """Where a refused decision is shown: in the acting form (its error summary and field),
    keeping what was typed; the text for a banner when no form acted (matching a pupil)."""
    if form is None:
        return " ".join(exc.messages)
    form.errors.clear()  # the service's message says why, in place of the form's own checks
    # A one-field form (the note, the code) shows it on its field; otherwise above the form.
    field = next(iter(form.fields)) if len(form.fields) == 1 else None
    form.add_error(field, ValidationError(exc.messages))
    return " ".join(exc.messages)


def _session_count(school: School, report: AbsenceReport) -> int:
    return len(
        selectors.report_sessions(
            calendar=school_calendar_get(school=school),
            first_date=report.first_date,
            first_session=report.first_session,
            last_date=report.last_date,
            last_session=report.last_session,
        )
    )


@never_cache
@require_GET
@require_capability(Capability.WORK_INBOX)
def inbox_evidence(request: SchoolRequest, report_id: int) -> HttpResponse:
    """The evidence file, to this school's office only: never a public media URL, always a
    download (never rendered inline in our origin) and never cached (PDF-05 by analogy)."""
    report = selectors.absence_report_get(school=request.school, report_id=report_id)
    if not report.evidence:
        raise Http404("No evidence")
    extension = report.evidence.name.rsplit(".", 1)[-1].lower()
    with report.evidence.open("rb") as stored:
        content = stored.read()  # 5 MB at most (EVIDENCE_MAX_BYTES)
    response = HttpResponse(
        content,
        content_type=services.EVIDENCE_CONTENT_TYPES.get(extension, "application/octet-stream"),
    )
    # Always a download: an image or PDF rendered inline would run in our origin.
    response["Content-Disposition"] = (
        content_disposition_header(
            as_attachment=True, filename=f"absence-report-{report.pk}-evidence.{extension}"
        )
        or "attachment"
    )
    return response
