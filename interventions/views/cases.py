"""Casework pages: the case list, one case (stage, actions, NTIs, penalty notices) and the LA
returns. Each page's forms post back to the page with an ``action`` field; every object named
in a form is looked up within this school and this case (404 otherwise)."""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from interventions import casework
from interventions.models import (
    ActionKind,
    Case,
    CaseAction,
    CaseStage,
    LAReturn,
    NoticeToImprove,
    PenaltyNotice,
    PenaltyNoticeRequest,
    ReferralTo,
    ReturnKind,
)
from interventions.penalty_notices import NTI_CONTENTS, NoticeStatus
from schools.models import Contact, StaffMembership
from schools.permissions import Capability, can, require_capability
from schools.selectors import pupil_visible_get, pupil_visible_to
from schools.types import SchoolRequest


def _visible_cases(request: SchoolRequest) -> Any:
    """Cases of the pupils this user sees; without WORK_CASES (a tutor) only open ones."""
    pupils = pupil_visible_to(
        school=request.school, access=request.access, user=request.user, on=timezone.localdate()
    )
    cases = Case.objects.filter(school=request.school, pupil__in=pupils.values("pk"))
    if not can(request.access, Capability.WORK_CASES):
        cases = cases.filter(closed_at__isnull=True)
    return cases.select_related("pupil", "stage", "owner__user")


def _membership(request: SchoolRequest) -> StaffMembership:
    membership = request.access.membership
    if membership is None:
        raise Http404("Not found")
    return membership


def _date(value: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError as exc:
        raise ValidationError(_("Enter a real date.")) from exc


def _optional_date(value: str | None) -> dt.date | None:
    return _date(value) if value else None


@require_http_methods(["GET", "POST"])
@require_capability(Capability.VIEW_CASES)
def case_list(request: SchoolRequest) -> HttpResponse:
    """Open cases (and, for caseworkers, closed ones with ``?closed=1``); caseworkers open a
    case for a pupil from here."""
    school = request.school
    if request.method == "POST":
        if not can(request.access, Capability.WORK_CASES):
            raise Http404("Not found")
        pupil = pupil_visible_get(
            school=school,
            access=request.access,
            user=request.user,
            pupil_id=_int(request.POST.get("pupil_id")),
            on=timezone.localdate(),
        )
        try:
            case = casework.case_open_or_advance(
                school=school,
                pupil=pupil,
                by=_membership(request),
                reason=request.POST.get("reason", "").strip() or _("Opened by staff"),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("interventions:case-list", school_slug=school.slug)
        return redirect("interventions:case-detail", school_slug=school.slug, case_id=case.pk)
    show_closed = request.GET.get("closed") == "1" and can(request.access, Capability.WORK_CASES)
    cases = _visible_cases(request)
    cases = cases.filter(closed_at__isnull=not show_closed)
    return render(
        request,
        "interventions/cases/list.html",
        {
            "cases": cases.order_by("stage__position", "pupil__legal_surname"),
            "show_closed": show_closed,
            "overdue": casework.case_actions_overdue(school=school, on=timezone.localdate()),
            "can_work": can(request.access, Capability.WORK_CASES),
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
        stage = CaseStage.objects.filter(school=school, pk=_int(post.get("stage_id"))).first()
        if stage is None:
            raise Http404("Not found")
        casework.case_open_or_advance(
            school=school, pupil=case.pupil, by=by, stage=stage, reason=post.get("reason", "")
        )
    elif action == "close":
        casework.case_close(school=school, case=case, by=by, outcome=post.get("outcome", ""))
    elif action == "action-add":
        details: dict[str, Any] = {}
        for key in ("attendees", "barriers", "agreed", "targets"):
            if post.get(key):
                details[key] = post[key]
        if post.get("review_on"):
            details["review_on"] = _date(post["review_on"]).isoformat()
        casework.case_action_add(
            school=school,
            case=case,
            by=by,
            kind=post.get("kind", ""),
            summary=post.get("summary", "").strip() or _("Action"),
            due_on=_date(post.get("due_on")),
            referral_to=post.get("referral_to", ""),
            details=details,
        )
    elif action == "action-complete":
        item = CaseAction.objects.filter(school=school, case=case, pk=_int(post.get("action_id")))
        found = item.first()
        if found is None:
            raise Http404("Not found")
        casework.case_action_complete(
            school=school,
            action=found,
            by=by,
            done_on=_date(post.get("done_on")),
            outcome=post.get("outcome", ""),
            referral_status=post.get("referral_status", ""),
        )
    elif action == "nti":
        try:
            criteria = Decimal(post.get("criteria_rate", ""))
        except InvalidOperation as exc:
            raise ValidationError(
                _("Enter the attendance percentage that counts as enough.")
            ) from exc
        casework.nti_issue(
            school=school,
            case=case,
            by=by,
            contents={name: post.get(name, "") for name, _wording in NTI_CONTENTS},
            period_start=_date(post.get("period_start")),
            school_days=_int(post.get("school_days")),
            criteria_rate=criteria,
        )
    elif action == "nti-outcome":
        nti = NoticeToImprove.objects.filter(school=school, case=case, pk=_int(post.get("nti_id")))
        found_nti = nti.first()
        if found_nti is None:
            raise Http404("Not found")
        casework.nti_outcome_record(
            school=school,
            nti=found_nti,
            by=by,
            improved=post.get("improved") == "yes",
            note=post.get("note", ""),
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
        casework.penalty_notice_update(
            school=school,
            notice=notice,
            by=by,
            status=post.get("status", ""),
            issued_on=_optional_date(post.get("issued_on")),
            received_on=_optional_date(post.get("received_on")),
            paid_on=_optional_date(post.get("paid_on")),
            prosecution_outcome=post.get("prosecution_outcome", ""),
        )
    else:
        raise ValidationError(_("Unknown request."))


@require_http_methods(["GET", "POST"])
@require_capability(Capability.VIEW_CASES)
def case_detail(request: SchoolRequest, case_id: int) -> HttpResponse:
    """One case: its stage and history, actions, NTIs with their review, penalty-notice
    requests and each liable parent's ledger. Caseworkers post changes here."""
    school = request.school
    case = _visible_cases(request).filter(pk=case_id).first()
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
    return render(
        request,
        "interventions/cases/detail.html",
        {
            "case": case,
            "can_work": can_work and case.is_open,
            "can_sign_off": can(request.access, Capability.SIGN_OFF_PENALTY_NOTICE),
            "stages": CaseStage.objects.filter(school=school).order_by("position"),
            "history": case.stage_changes.select_related(
                "from_stage", "to_stage", "changed_by__user"
            ),
            "actions": case.actions.select_related("owner__user"),
            "action_kinds": ActionKind.choices,
            "referral_choices": ReferralTo.choices,
            "nti_contents": NTI_CONTENTS,
            "reviews": [
                casework.nti_review(school=school, nti=nti, on=today) for nti in case.ntis.all()
            ],
            "requests": case.pn_requests.select_related("parent", "signed_off_by__user"),
            "ledgers": [
                (
                    parent,
                    casework.penalty_notice_ledger(school=school, pupil=case.pupil, parent=parent),
                    casework.penalty_notice_decision(
                        school=school, pupil=case.pupil, parent=parent, on=today
                    ),
                )
                for parent in parents
            ],
            "notice_statuses": [s.value for s in NoticeStatus],
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
    returns = LAReturn.objects.filter(school=school).select_related("pupil")
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
                    enquiries=request.POST.get("enquiries", ""),
                )
            else:
                casework.la_return_mark_sent(
                    school=school,
                    la_return=found,
                    by=_membership(request),
                    how=request.POST.get("how", ""),
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
        {"returns": returns, "kinds": ReturnKind.choices, "kind": kind},
    )
