"""Header counts for the absence inbox and leave requests: one indexed count each, run only
for the roles that see the link."""

from __future__ import annotations

from typing import Any

from django import template

from registers import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def absence_inbox_count(context: dict[str, Any]) -> int:
    school = getattr(context.get("request"), "school", None)
    return selectors.absence_inbox_count(school=school) if school is not None else 0


@register.simple_tag(takes_context=True)
def leave_pending_count(context: dict[str, Any]) -> int:
    school = getattr(context.get("request"), "school", None)
    return selectors.leave_pending_count(school=school) if school is not None else 0
