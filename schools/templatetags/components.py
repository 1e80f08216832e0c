"""Filters the ``templates/_components`` includes use to render form fields with GOV.UK
classes: ``{{ field|govuk_widget:"govuk-input" }}`` and ``{{ field|error_anchor }}``."""

from __future__ import annotations

from django import template
from django.forms import BoundField
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def govuk_widget(field: BoundField, css_class: str) -> SafeString:
    """The field's widget with ``css_class`` (plus the error modifier when it has errors) and
    ``aria-describedby`` pointing at its hint and error message."""
    classes = [css_class]
    if field.errors:
        base = css_class.split()[0]
        classes.append(f"{base}--error")
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}-hint")
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
    attrs: dict[str, str | bool] = {"class": " ".join(classes)}
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def error_anchor(field: BoundField) -> str:
    """The id an error summary links to: the field's control, or the first radio, checkbox or
    date box of a group (whose ``id_for_label`` is empty)."""
    return field.id_for_label or f"{field.auto_id}_0"
