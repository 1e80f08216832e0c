"""``{% case_letters case %}``: the letters of a case and the form that makes one, for the
case page (casework's template includes it; casework's code never imports letters)."""

from __future__ import annotations

from typing import Any

from django import template

from letters import selectors, services
from letters.forms import GenerateForm
from schools.permissions import Capability, can

register = template.Library()


@register.inclusion_tag("letters/_case_letters.html", takes_context=True)
def case_letters(context: Any, case: Any) -> dict[str, Any]:
    request = context["request"]
    school = request.school
    may_send = can(request.access, Capability.SEND_LETTERS)
    form = None
    if may_send and case.is_open:
        services.letter_templates_install_defaults(school=school)
        form = GenerateForm(
            choices=[
                (t.pk, f"{t.title} ({t.get_language_display()})")
                for t in selectors.letter_templates(school=school)
            ],
            auto_id="id_letter_%s",
        )
    return {
        "request": request,
        "school": school,
        "case": case,
        "letters": selectors.case_letters(school=school, case_id=case.pk) if may_send else [],
        "may_send": may_send,
        "form": form,
    }


@register.simple_tag(takes_context=True)
def may_send_letters(context: Any) -> bool:
    """Whether the person viewing the page may make letters (the queue page's links)."""
    return can(context["request"].access, Capability.SEND_LETTERS)
