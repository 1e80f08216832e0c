"""The navigation's count of open queue items (one query, for the user's own view)."""

from __future__ import annotations

from typing import Any

from django import template

from interventions.queues import queue_counts, queue_items_visible

register = template.Library()


@register.simple_tag(takes_context=True)
def queue_open_count(context: dict[str, Any]) -> int:
    """Open items across the queues this user works, as the queues page counts them."""
    request = context.get("request")
    school = getattr(request, "school", None)
    access = getattr(request, "access", None)
    if request is None or school is None or access is None:
        return 0
    visible = queue_items_visible(school=school, access=access, user=request.user)
    return sum(queue_counts(school=school, items=visible).values())
