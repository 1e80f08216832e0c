"""Display filters for exact attendance figures: rates are ``Fraction`` percentages until
here, where ``rules.pct1`` rounds them to 1 dp for the page (never for a decision)."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from django import template

from interventions.rules import days1, pct1

register = template.Library()

NO_FIGURE = "\u2013"  # an en dash: no possible session, no rate


@register.filter
def percent1(value: Fraction | None) -> str:
    """A rate to 1 dp ("96.7"), or a dash when there is none."""
    return NO_FIGURE if value is None else pct1(value)


@register.filter
def days(sessions: int) -> str:
    """Sessions (half days) as school days ("12" or "12.5")."""
    return days1(sessions)


@register.filter
def points1(value: Fraction | None) -> str:
    """A change in percentage points to 1 dp with its sign ("+1.2", "-0.4", "0.0")."""
    if value is None:
        return NO_FIGURE
    shown = pct1(value)
    return f"+{shown}" if value > 0 and shown != "0.0" else shown


@register.filter
def sorted_items(value: Mapping[str, object]) -> list[tuple[str, object]]:
    """A mapping's items by key (PostgreSQL's jsonb does not keep the order written)."""
    return sorted(value.items())
