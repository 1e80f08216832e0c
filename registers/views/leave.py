"""Leave of absence in term time: the parent's request and the headteacher's decisions
(product.md "Parents")."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from registers import selectors
from registers.forms_parents import LeaveApproveForm, LeaveRequestForm, NoteForm
from registers.models import LeaveRequest, LeaveStatus
from registers.services import leave as services
from registers.views.reports import (
    form_error,
    initial_child,
    my_requests_url,
    own_child,
    parent_children,
    status_tag,
)
from schools.calendar import SchoolCalendar
from schools.models import Jurisdiction, School
from schools.permissions import Capability, require_capability
from schools.selectors import school_calendar_get
from schools.types import SchoolRequest


@require_http_methods(["GET", "POST"])
@require_capability(Capability.MAKE_PARENT_REQUESTS)
def leave_request_new(request: SchoolRequest) -> HttpResponse:
    school, today = request.school, timezone.localdate()
    children = parent_children(request)
    data = request.POST if request.method == "POST" else request.GET
    chosen = own_child(children, data.get("pupil"))
    if request.method == "POST":
        form = LeaveRequestForm(request.POST, children=children)
        if form.is_valid():
            cleaned = form.cleaned_data
            try:
                leave = services.leave_request_submit(
                    school=school,
                    pupil=cleaned["pupil"],
                    user=request.user,
                    first_date=cleaned["first_date"],
                    last_date=cleaned["last_date"],
                    is_holiday=cleaned["is_holiday"],
                    reason=cleaned["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Your request has been sent to the headteacher."))
                if services.leave_short_notice(first_date=leave.first_date, today=today):
                    # Accepted all the same: the head decides (see LEAVE_NOTICE_DAYS).
                    messages.warning(
                        request,
                        _(
                            "You gave less than two weeks' notice. The headteacher will still "
                            "consider your request, but may not decide before the leave starts."
                        ),
                    )
                return redirect(my_requests_url(request))
    else:
        form = LeaveRequestForm(
            children=children, initial={"pupil": initial_child(children, chosen)}
        )
    return render(
        request,
        "registers/parents/leave.html",
        {
            "form": form,
            "notice_days": services.LEAVE_NOTICE_DAYS,
            "is_wales": school.jurisdiction == Jurisdiction.WALES,
            "holiday_limit": services.WALES_HOLIDAY_SCHOOL_DAYS,
        },
        status=400 if form.errors else 200,
    )


# --- The headteacher's leave decisions ----------------------------------------------------------


def _leave_facts(
    school: School, leave: LeaveRequest, calendar: SchoolCalendar
) -> dict[str, object]:
    requested_on = timezone.localdate(leave.requested_at)
    facts: dict[str, object] = {
        "leave": leave,
        "school_days": len(calendar.school_days_between(leave.first_date, leave.last_date)),
        "notice_days": (leave.first_date - requested_on).days,
        "short_notice": services.leave_short_notice(
            first_date=leave.first_date, today=requested_on
        ),
        "code": services.leave_code(school=school, leave=leave),
    }
    if facts["code"] == "H":
        days, year_name = services.leave_holiday_days(school=school, leave=leave, calendar=calendar)
        facts |= {
            "holiday_days": days,
            "year_name": year_name,
            "over_limit": days > services.WALES_HOLIDAY_SCHOOL_DAYS,
        }
    return facts


LEAVE_STATUS_COLOURS = {
    LeaveStatus.PENDING: "blue",
    LeaveStatus.APPROVED: "green",
    LeaveStatus.REFUSED: "red",
    LeaveStatus.WITHDRAWN: "grey",
}


def _leave_rows(facts: dict[str, object], holiday_limit: int) -> list[dict[str, object]]:
    """The rows of the leave request's summary list (``_components/summary_list.html``)."""
    leave = facts["leave"]
    assert isinstance(leave, LeaveRequest)
    school_days, notice_days = facts["school_days"], facts["notice_days"]
    assert isinstance(school_days, int)
    assert isinstance(notice_days, int)
    dates = render_to_string("registers/parents/_leave_dates.html", {"leave": leave}).strip()
    asker = leave.requested_by
    notice = ngettext(
        "%(name)s, %(when)s (%(days)s day's notice)",
        "%(name)s, %(when)s (%(days)s days' notice)",
        notice_days,
    ) % {
        "name": asker.get_full_name() or asker.get_username(),
        "when": date_format(timezone.localtime(leave.requested_at), "j M Y"),
        "days": notice_days,
    }
    asked: object = notice
    if facts["short_notice"]:
        asked = SafeString(
            f"{conditional_escape(notice)} "
            + status_tag(text=_("Less than two weeks' notice"), colour="orange")
        )
    rows: list[dict[str, object]] = [
        {
            "key": _("Dates"),
            "value": SafeString(
                dates
                + " "
                + conditional_escape(
                    ngettext("(%(days)s school day)", "(%(days)s school days)", school_days)
                    % {"days": school_days}
                )
            ),
        },
        {"key": _("Family holiday"), "value": _("Yes") if leave.is_holiday else _("No")},
        {"key": _("Reason"), "value": leave.reason},
        {"key": _("Asked by"), "value": asked},
        {
            "key": _("Status"),
            "value": status_tag(
                text=leave.get_status_display(),
                colour=LEAVE_STATUS_COLOURS.get(LeaveStatus(leave.status), "grey"),
                code=leave.applied_code,
            ),
        },
    ]
    if leave.decision_note:
        rows.append({"key": _("Note"), "value": leave.decision_note})
    if leave.exceptional_circumstances:
        rows.append(
            {"key": _("Exceptional circumstances"), "value": leave.exceptional_circumstances}
        )
    holiday_days = facts.get("holiday_days")
    if isinstance(holiday_days, int) and holiday_days:
        rows.append(
            {
                "key": _("Holiday leave in %(year)s") % {"year": facts["year_name"]},
                "value": ngettext(
                    "%(days)s school day if approved (the limit is %(limit)s save in "
                    "exceptional circumstances)",
                    "%(days)s school days if approved (the limit is %(limit)s save in "
                    "exceptional circumstances)",
                    holiday_days,
                )
                % {"days": holiday_days, "limit": holiday_limit},
            }
        )
    return rows


@require_GET
@require_capability(Capability.DECIDE_LEAVE)
def leave_list(request: SchoolRequest) -> HttpResponse:
    school = request.school
    calendar = school_calendar_get(school=school)  # once for the page, not once a request
    return render(
        request,
        "registers/office/leave_list.html",
        {
            "pending": [
                _leave_facts(school, leave, calendar)
                for leave in selectors.leave_requests_pending(school=school)
            ],
            "decided": selectors.leave_requests_decided(school=school),
            "holiday_limit": services.WALES_HOLIDAY_SCHOOL_DAYS,
        },
    )


@require_http_methods(["GET", "POST"])
@require_capability(Capability.DECIDE_LEAVE)
def leave_decide(request: SchoolRequest, leave_id: int) -> HttpResponse:
    school = request.school
    leave = selectors.leave_request_get(school=school, leave_id=leave_id)
    membership = request.access.membership
    assert membership is not None  # the headteacher has a staff membership
    approve_form = LeaveApproveForm(auto_id="id_approve_%s")
    refuse_form = NoteForm(auto_id="id_refuse_%s")
    acting_form: LeaveApproveForm | NoteForm | None = None
    error = ""
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "approve":
                approve_form = acting_form = LeaveApproveForm(request.POST, auto_id="id_approve_%s")
                approve_form.is_valid()
                services.leave_request_approve(
                    school=school,
                    leave=leave,
                    membership=membership,
                    exceptional_circumstances=request.POST.get("exceptional_circumstances", ""),
                    note=request.POST.get("note", ""),
                )
                messages.success(
                    request,
                    _("Leave approved for %(name)s.") % {"name": leave.pupil.display_name},
                )
            elif action == "refuse":
                refuse_form = acting_form = NoteForm(request.POST, auto_id="id_refuse_%s")
                services.leave_request_refuse(
                    school=school,
                    leave=leave,
                    membership=membership,
                    note=request.POST.get("note", ""),
                )
                messages.success(
                    request,
                    _("Leave refused. The registers will show that an absence then is G."),
                )
            else:
                raise ValidationError(_("Choose whether to approve or refuse."))
        except ValidationError as exc:
            error = form_error(acting_form, exc)
        else:
            return redirect("absences:leave-list", school_slug=school.slug)
    facts = _leave_facts(school, leave, school_calendar_get(school=school))
    return render(
        request,
        "registers/office/leave.html",
        {
            **facts,
            "facts": _leave_rows(facts, services.WALES_HOLIDAY_SCHOOL_DAYS),
            "approve_form": approve_form,
            "refuse_form": refuse_form,
            "error": error,
            "acting_form": acting_form,
            "holiday_limit": services.WALES_HOLIDAY_SCHOOL_DAYS,
        },
        status=400 if error else 200,
    )
