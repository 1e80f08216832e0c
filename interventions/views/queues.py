from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from interventions.models import Queue, QueueItem
from interventions.queues import queue_counts, queue_item_claim, queue_item_close, queue_items
from schools.permissions import Capability, require_capability
from schools.types import SchoolRequest


@require_http_methods(["GET", "POST"])
@require_capability(Capability.WORK_QUEUES)
def queues_page(request: SchoolRequest) -> HttpResponse:
    queue = request.GET.get("queue") or Queue.FIRST_DAY
    if queue not in Queue.values:
        raise Http404("No such queue")
    if request.method == "POST":
        # The item is looked up within this school only: another school's id is a 404.
        item_id = request.POST.get("item", "")
        item = (
            QueueItem.objects.filter(school=request.school, pk=int(item_id)).first()
            if item_id.isdigit()
            else None
        )
        if item is None:
            raise Http404("Item not found")
        membership = request.access.membership
        if membership is None:  # trust leaders read; only school staff work items
            raise Http404("Item not found")
        try:
            if request.POST.get("action") == "claim":
                queue_item_claim(school=request.school, item=item, by=membership)
                messages.success(request, _("Item claimed."))
            elif request.POST.get("action") == "close":
                queue_item_close(
                    school=request.school,
                    item=item,
                    outcome=request.POST.get("outcome", ""),
                    by=membership,
                )
                messages.success(request, _("Item closed."))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect(f"{request.path}?queue={queue}")
    counts = queue_counts(school=request.school)
    tabs = [(value, label, counts[value]) for value, label in Queue.choices]
    return render(
        request,
        "interventions/queues/page.html",
        {
            "queue": queue,
            "queue_label": Queue(queue).label,
            "tabs": tabs,
            "items": queue_items(school=request.school, queue=queue),
        },
    )
