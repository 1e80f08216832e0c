"""The work queues page: one tab per queue, each open item with the forms that work it (claim,
snooze, close, and a threshold's decision). Every form posts back to the page with the item's
id and an ``action``; the item is looked up within this school (404 otherwise) and the work is
done by ``interventions.queues``. A refused form is shown again, bound, under the page's error
summary."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from interventions.casework import case_actions_overdue
from interventions.forms import (
    ME,
    ContactCallForm,
    QueueClaimForm,
    QueueCloseForm,
    QueueDecideForm,
    QueueSnoozeForm,
)
from interventions.models import ContactAttempt, Queue, QueueItem, QueueKind
from interventions.queue_rules import TIER_REASONS
from interventions.queues import (
    contact_attempt_record,
    queue_counts_now_and_waiting,
    queue_item_claim,
    queue_item_close,
    queue_item_decide,
    queue_item_snooze,
    queue_items,
    queue_items_visible,
)
from interventions.visibility import visible_pupils
from schools.models import Contact, StaffMembership
from schools.permissions import ROLE_MATRIX, Capability, require_capability
from schools.types import SchoolRequest

_FORMS: dict[str, type[forms.Form]] = {
    "claim": QueueClaimForm,
    "snooze": QueueSnoozeForm,
    "close": QueueCloseForm,
    "decide": QueueDecideForm,
    "call": ContactCallForm,
}
_FIRST_DAY = frozenset({QueueKind.FIRST_DAY_AM, QueueKind.FIRST_DAY_PM})
# A tab of its own: case actions past their due date and not done (casework's, not items).
OVERDUE_ACTIONS = "overdue-actions"
_DONE = {
    "claim": gettext_lazy("Item assigned."),
    "snooze": gettext_lazy("Item snoozed."),
    "close": gettext_lazy("Item closed."),
    "decide": gettext_lazy("Decision recorded."),
    "call": gettext_lazy("Call logged."),
}


def _colleagues(request: SchoolRequest) -> QuerySet[StaffMembership]:
    """Who an item may be assigned to: this school's active staff who work the queues."""
    return (
        StaffMembership.objects.filter(
            school=request.school,
            is_active=True,
            role__in=list(ROLE_MATRIX[Capability.WORK_QUEUES]),
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "pk")
    )


def _contacts(school_id: int, pupil_ids: list[int]) -> dict[int, list[Contact]]:
    """Each pupil's contacts in the order to call them (priority, then name)."""
    out: dict[int, list[Contact]] = {pupil_id: [] for pupil_id in pupil_ids}
    for contact in Contact.objects.filter(school_id=school_id, pupil_id__in=pupil_ids).order_by(
        "pupil_id", "priority", "full_name", "pk"
    ):
        out[contact.pupil_id].append(contact)
    return out


def _forms_for(
    item: QueueItem,
    colleagues: list[StaffMembership],
    contacts: list[Contact],
    data: Any = None,
    only: str = "",
) -> dict[str, forms.Form]:
    """The item's forms (unbound, or ``only`` bound to ``data``), ids unique on the page:
    a decision for a threshold, a call for a first-day item."""
    out: dict[str, forms.Form] = {}
    for action, form_class in _FORMS.items():
        if action == "decide" and item.kind != QueueKind.PN_THRESHOLD_MET:
            continue
        if action == "call" and item.kind not in _FIRST_DAY:
            continue
        kwargs: dict[str, Any] = {"auto_id": f"id_q{item.pk}_{action}_%s"}
        if action == "claim":
            kwargs["colleagues"] = colleagues
        if action == "call":
            kwargs["contacts"] = contacts
        if action == only:
            kwargs["data"] = data
        out[action] = form_class(**kwargs)
    return out


def _apply(
    request: SchoolRequest,
    item: QueueItem,
    action: str,
    form: forms.Form,
    by: StaffMembership,
    colleagues: list[StaffMembership],
    contacts: list[Contact],
) -> None:
    school, data = request.school, form.cleaned_data
    if action == "claim":
        chosen = data["claimant"]
        claimant = by if chosen in ("", ME) else next(m for m in colleagues if str(m.pk) == chosen)
        queue_item_claim(school=school, item=item, by=by, claimant=claimant)
    elif action == "snooze":
        queue_item_snooze(
            school=school, item=item, until=data["until"], reason=data["reason"], by=by
        )
    elif action == "close":
        queue_item_close(
            school=school, item=item, outcome=data["outcome"], note=data["note"], by=by
        )
    elif action == "call":
        assert isinstance(form, ContactCallForm)
        assert item.pupil is not None  # first-day items are pupils'
        contact_attempt_record(
            school=school,
            pupil=item.pupil,
            item=item,
            method=data["method"],
            outcome=data["outcome"],
            contact=next((c for c in contacts if c.pk == data["contact"]), None),
            reason_given=form.reason_text(),
            note=data["note"],
            code=form.code(),
            by=by,
        )
    else:
        queue_item_decide(
            school=school, item=item, decision=data["decision"], reason=data["reason"], by=by
        )


@require_http_methods(["GET", "POST"])
@require_capability(Capability.WORK_QUEUES)
def queues_page(request: SchoolRequest) -> HttpResponse:
    queue = request.GET.get("queue") or Queue.FIRST_DAY
    if queue not in (*Queue.values, OVERDUE_ACTIONS):
        raise Http404("No such queue")
    visible = queue_items_visible(school=request.school, access=request.access, user=request.user)
    colleagues = list(_colleagues(request))
    failed: tuple[int, str, forms.Form] | None = None
    if request.method == "POST":
        # The item is looked up within this school only: another school's id is a 404.
        item_id = request.POST.get("item", "")
        item = (
            visible.filter(pk=int(item_id)).select_related("pupil", "source_event").first()
            if item_id.isdigit()
            else None
        )
        membership = request.access.membership
        action = request.POST.get("action", "")
        if item is None or membership is None or action not in _FORMS:
            raise Http404("Item not found")
        pupil_contacts = _contacts(request.school.pk, [item.pupil_id] if item.pupil_id else [])
        form = _forms_for(
            item, colleagues, pupil_contacts.get(item.pupil_id or 0, []), request.POST, action
        ).get(action)
        if form is None:  # a decision on an item that takes none
            raise Http404("Item not found")
        if form.is_valid():
            try:
                _apply(
                    request,
                    item,
                    action,
                    form,
                    membership,
                    colleagues,
                    pupil_contacts.get(item.pupil_id or 0, []),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _DONE[action])
                return redirect(f"{request.path}?queue={queue}")
        failed = (item.pk, action, form)
    today = request.school.local_time().date()
    overdue = case_actions_overdue(school=request.school, on=today).filter(
        case__pupil__in=visible_pupils(request)
    )
    # Items snoozed past today wait on their own list until their day comes.
    show_snoozed = request.GET.get("snoozed") == "1"
    items = (
        []
        if queue == OVERDUE_ACTIONS
        else queue_items(school=request.school, queue=queue, items=visible, snoozed=show_snoozed)
    )
    first_day = [i for i in items if i.kind in _FIRST_DAY]
    contacts = _contacts(request.school.pk, sorted({i.pupil_id for i in first_day if i.pupil_id}))
    calls: dict[int, list[ContactAttempt]] = {i.pk: [] for i in first_day}
    for attempt in ContactAttempt.objects.filter(
        school=request.school, item_id__in=list(calls)
    ).select_related("contact", "made_by__user"):
        if attempt.item_id is not None:
            calls[attempt.item_id].append(attempt)
    counts, waiting = queue_counts_now_and_waiting(school=request.school, items=visible)
    tabs: list[tuple[str, Any, int]] = [
        (value, label, counts[value]) for value, label in Queue.choices
    ]
    tabs.append((OVERDUE_ACTIONS, _("Overdue case actions"), overdue.count()))
    rows = []
    for item in items:
        own = contacts.get(item.pupil_id or 0, [])
        item_forms = _forms_for(item, colleagues, own)
        if failed is not None and failed[0] == item.pk:
            item_forms[failed[1]] = failed[2]
        rows.append(
            {
                "item": item,
                "forms": item_forms,
                "contacts": own,
                "calls": calls.get(item.pk, []),
                "tier_reason": TIER_REASONS.get((item.details or {}).get("tier_reason", ""), ""),
            }
        )
    return render(
        request,
        "interventions/queues/page.html",
        {
            "queue": queue,
            "queue_label": tabs[-1][1] if queue == OVERDUE_ACTIONS else Queue(queue).label,
            "overdue": overdue.order_by("due_on", "case__pupil__legal_surname", "pk")
            if queue == OVERDUE_ACTIONS
            else [],
            "tabs": tabs,
            "show_snoozed": show_snoozed,
            "snoozed_count": waiting.get(queue, 0),
            "rows": rows,
            "failed_form": failed[2] if failed else None,
        },
        status=400 if failed else 200,
    )
