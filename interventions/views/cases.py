"""Casework pages: the case list, one case (stage, actions, NTIs, penalty notices) and the LA
returns. Each page's forms post back to the page with an ``action`` field; every object named
in a form is looked up within this school and this case (404 otherwise)."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from interventions import casework
from interventions.forms import ContactCallForm
from interventions.forms_cases import (
    ActionAddForm,
    ActionCompleteForm,
    CloseForm,
    NtiForm,
    NtiOutcomeForm,
    OpenCaseForm,
    PenaltyNoticeUpdateForm,
    ReturnEnquiriesForm,
    ReturnSentForm,
    StageForm,
    cleaned,
)
from interventions.models import (
    Case,
    CaseAction,
    CaseStage,
    LAReturn,
    NoticeToImprove,
    PenaltyNotice,
    PenaltyNoticeRequest,
    ReturnKind,
)
from interventions.queues import contact_attempt_record
from interventions.visibility import visible_cases, visible_pupils
from schools.models import Contact, StaffMembership
from schools.permissions import Capability, can, require_capability
from schools.selectors import pupil_visible_get
from schools.types import SchoolRequest


def _membership(request: SchoolRequest) -> StaffMembership:
    membership = request.access.membership
    if membership is None:
        raise Http404("Not found")
    return membership


@require_http_methods(["GET", "POST"])
@require_capability(Capability.VIEW_CASES)
def case_list(request: SchoolRequest) -> HttpResponse:
    """Open cases (and, for caseworkers, closed ones with ``?closed=1``); caseworkers open a
    case for a pupil from here."""
    school = request.school
    if request.method == "POST":
        if not can(request.access, Capability.WORK_CASES):
            raise Http404("Not found")
        open_form = OpenCaseForm(request.POST)
        pupil = pupil_visible_get(
            school=school,
            access=request.access,
            user=request.user,
            pupil_id=_int(request.POST.get("pupil_id")),
            on=timezone.localdate(),
        )
        try:
            data = cleaned(open_form)
            case = casework.case_open_or_advance(
                school=school,
                pupil=pupil,
                by=_membership(request),
                reason=data["reason"].strip() or _("Opened by staff"),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("interventions:case-list", school_slug=school.slug)
        return redirect("interventions:case-detail", school_slug=school.slug, case_id=case.pk)
    show_closed = request.GET.get("closed") == "1" and can(request.access, Capability.WORK_CASES)
    cases = visible_cases(request)
    cases = cases.filter(closed_at__isnull=not show_closed)
    return render(
        request,
        "interventions/cases/list.html",
        {
            "cases": cases.order_by("stage__position", "pupil__legal_surname"),
            "show_closed": show_closed,
            "overdue": casework.case_actions_overdue(school=school, on=timezone.localdate()),
            "can_work": can(request.access, Capability.WORK_CASES),
            "open_form": OpenCaseForm(),
        },
    )


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError as exc:
        raise Http404("Not found") from exc


def _handle(request: SchoolRequest, case: Case) -> None:
    """One posted form on the case page; raises ValidationError for a refused request."""
    school, by, post = request.school, _membership(request), request.POST
    action = post.get("action")
    if action == "stage":
        stages = CaseStage.objects.filter(school=school)
        stage = stages.filter(pk=_int(post.get("stage_id"))).first()
        if stage is None:
            raise Http404("Not found")
        data = cleaned(StageForm(post, stages=stages))
        casework.case_open_or_advance(
            school=school, pupil=case.pupil, by=by, stage=stage, reason=data["reason"]
        )
    elif action == "close":
        data = cleaned(CloseForm(post))
        casework.case_close(school=school, case=case, by=by, outcome=data["outcome"])
    elif action == "action-add":
        data = cleaned(ActionAddForm(post))
        details: dict[str, Any] = {
            key: data[key] for key in ("attendees", "barriers", "agreed", "targets") if data[key]
        }
        if data["review_on"]:
            details["review_on"] = data["review_on"].isoformat()
        casework.case_action_add(
            school=school,
            case=case,
            by=by,
            kind=data["kind"],
            summary=data["summary"].strip() or _("Action"),
            due_on=data["due_on"],
            referral_to=data["referral_to"],
            details=details,
        )
    elif action == "action-complete":
        item = CaseAction.objects.filter(school=school, case=case, pk=_int(post.get("action_id")))
        found = item.first()
        if found is None:
            raise Http404("Not found")
        data = cleaned(ActionCompleteForm(post))
        casework.case_action_complete(
            school=school,
            action=found,
            by=by,
            done_on=data["done_on"],
            outcome=data["outcome"],
            referral_status=data["referral_status"],
        )
    elif action == "nti":
        nti_form = NtiForm(post)
        data = cleaned(nti_form)
        casework.nti_issue(
            school=school,
            case=case,
            by=by,
            contents=nti_form.contents(),
            period_start=data["period_start"],
            school_days=data["school_days"],
            criteria_rate=data["criteria_rate"],
        )
    elif action == "nti-outcome":
        nti = NoticeToImprove.objects.filter(school=school, case=case, pk=_int(post.get("nti_id")))
        found_nti = nti.first()
        if found_nti is None:
            raise Http404("Not found")
        data = cleaned(NtiOutcomeForm(post))
        casework.nti_outcome_record(
            school=school,
            nti=found_nti,
            by=by,
            improved=data["improved"] == "yes",
            note=data["note"],
            on=timezone.localdate(),
        )
    elif action == "pn-prepare":
        parent = Contact.objects.filter(
            school=school, pupil=case.pupil, pk=_int(post.get("parent_id"))
        ).first()
        if parent is None:
            raise Http404("Not found")
        latest_nti = case.ntis.order_by("-issued_on").first()
        casework.penalty_notice_request_prepare(
            school=school, case=case, parent=parent, by=by, nti=latest_nti
        )
    elif action == "pn-sign-off":
        pn_request = PenaltyNoticeRequest.objects.filter(
            school=school, case=case, pk=_int(post.get("request_id"))
        ).first()
        if pn_request is None:
            raise Http404("Not found")
        casework.penalty_notice_request_sign_off(school=school, request=pn_request, by=by)
    elif action == "pn-update":
        notice = PenaltyNotice.objects.filter(
            school=school, pupil=case.pupil, pk=_int(post.get("notice_id"))
        ).first()
        if notice is None:
            raise Http404("Not found")
        data = cleaned(PenaltyNoticeUpdateForm(post))
        casework.penalty_notice_update(
            school=school,
            notice=notice,
            by=by,
            status=data["status"],
            issued_on=data["issued_on"],
            received_on=data["received_on"],
            paid_on=data["paid_on"],
            prosecution_outcome=data["prosecution_outcome"],
        )
    elif action == "call":
        contacts = list(Contact.objects.filter(school=school, pupil=case.pupil))
        call_form = ContactCallForm(post, contacts=contacts, with_code=False)
        data = cleaned(call_form)
        # A case's call writes no code: only a first-day item's call amends its N mark.
        contact_attempt_record(
            school=school,
            pupil=case.pupil,
            case=case,
            method=data["method"],
            outcome=data["outcome"],
            contact=next((c for c in contacts if c.pk == data["contact"]), None),
            reason_given=call_form.reason_text(),
            note=data["note"],
            by=by,
        )
    else:
        raise ValidationError(_("Unknown request."))


@require_http_methods(["GET", "POST"])
@require_capability(Capability.VIEW_CASES)
def case_detail(request: SchoolRequest, case_id: int) -> HttpResponse:
    """One case: its stage and history, actions, NTIs with their review, penalty-notice
    requests and each liable parent's ledger. Caseworkers post changes here."""
    school = request.school
    case = visible_cases(request).filter(pk=case_id).first()
    if case is None:
        raise Http404("Case not found")
    can_work = can(request.access, Capability.WORK_CASES)
    if request.method == "POST":
        action = request.POST.get("action")
        allowed = (
            can(request.access, Capability.SIGN_OFF_PENALTY_NOTICE)
            if action == "pn-sign-off"
            else can_work
        )
        if not allowed:
            raise Http404("Not found")
        try:
            _handle(request, case)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved."))
        return redirect("interventions:case-detail", school_slug=school.slug, case_id=case.pk)
    today = timezone.localdate()
    parents = list(casework.liable_parents(school=school, pupil=case.pupil))
    stages = CaseStage.objects.filter(school=school).order_by("position")
    return render(
        request,
        "interventions/cases/detail.html",
        {
            "case": case,
            "can_work": can_work and case.is_open,
            "can_sign_off": can(request.access, Capability.SIGN_OFF_PENALTY_NOTICE),
            "stage_form": StageForm(
                initial={"stage_id": case.stage_id}, stages=stages, auto_id="id_stage_%s"
            ),
            "close_form": CloseForm(auto_id="id_close_%s"),
            "add_form": ActionAddForm(initial={"due_on": today}, auto_id="id_add_%s"),
            "nti_form": NtiForm(
                initial={"period_start": today, "school_days": 20, "criteria_rate": 90},
                auto_id="id_nti_%s",
            ),
            "history": case.stage_changes.select_related(
                "from_stage", "to_stage", "changed_by__user"
            ),
            "actions": [
                (
                    item,
                    ActionCompleteForm(initial={"done_on": today}, auto_id=f"id_done{item.pk}_%s"),
                )
                for item in case.actions.select_related("owner__user")
            ],
            "reviews": [
                (
                    casework.nti_review(school=school, nti=nti, on=today),
                    NtiOutcomeForm(auto_id=f"id_nti{nti.pk}_%s"),
                )
                for nti in case.ntis.all()
            ],
            "requests": case.pn_requests.select_related("parent", "signed_off_by__user"),
            "ledgers": [
                (
                    parent,
                    [
                        (
                            row,
                            PenaltyNoticeUpdateForm(
                                initial={"status": row.notice.status},
                                auto_id=f"id_pn{row.notice.pk}_%s",
                            ),
                        )
                        for row in casework.penalty_notice_ledger(
                            school=school, pupil=case.pupil, parent=parent
                        )
                    ],
                    casework.penalty_notice_decision(
                        school=school, pupil=case.pupil, parent=parent, on=today
                    ),
                )
                for parent in parents
            ],
            "call_form": ContactCallForm(
                contacts=Contact.objects.filter(school=school, pupil=case.pupil),
                with_code=False,
                auto_id="id_call_%s",
            ),
            "contact_log": case.contact_attempts.select_related("contact", "made_by__user"),
            "today": today,
        },
    )


@require_http_methods(["GET", "POST"])
@require_capability(Capability.WORK_CASES)
def la_returns(request: SchoolRequest) -> HttpResponse:
    """The returns to the LA by kind, due first; ``?kind=…&format=csv`` downloads one kind's
    CSV for the LA. Posting records a return as sent, or a ground (i) enquiry's joint
    enquiries."""
    school = request.school
    kind = request.GET.get("kind", "")
    returns = LAReturn.objects.filter(
        school=school, pupil__in=visible_pupils(request).values("pk")
    ).select_related("pupil")
    if kind in ReturnKind.values:
        returns = returns.filter(kind=kind)
    if request.method == "POST":
        found = returns.filter(pk=_int(request.POST.get("return_id"))).first()
        if found is None:
            raise Http404("Not found")
        try:
            if request.POST.get("action") == "enquiries":
                casework.la_return_joint_enquiries_record(
                    school=school,
                    la_return=found,
                    by=_membership(request),
                    enquiries=cleaned(ReturnEnquiriesForm(request.POST))["enquiries"],
                )
            else:
                casework.la_return_mark_sent(
                    school=school,
                    la_return=found,
                    by=_membership(request),
                    how=cleaned(ReturnSentForm(request.POST))["how"],
                )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Saved."))
        return redirect("interventions:la-returns", school_slug=school.slug)
    if request.GET.get("format") == "csv" and kind in ReturnKind.values:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="la-returns-{kind}.csv"'
        header, rows = casework.la_returns_csv_rows(returns)
        writer = csv.writer(response)
        writer.writerow(header)
        writer.writerows(rows)
        return response
    return render(
        request,
        "interventions/cases/returns.html",
        {
            "returns": [
                (
                    item,
                    ReturnEnquiriesForm(auto_id=f"id_enquiries{item.pk}_%s"),
                    ReturnSentForm(auto_id=f"id_sent{item.pk}_%s"),
                )
                for item in returns
            ],
            "kinds": ReturnKind.choices,
            "kind": kind,
        },
    )
