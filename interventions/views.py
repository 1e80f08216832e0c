from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from interventions import reference, selectors, services
from interventions.forms import (
    BAND_FORMSET_PREFIX,
    DEFAULT_COLOUR,
    AttendanceRulesForm,
    BandForm,
    BandFormSet,
    PresetForm,
)
from interventions.services import BAND_PRESETS, BandInput
from schools.models import Jurisdiction, Role, School
from schools.permissions import require_role
from schools.types import SchoolRequest

_BAND_FIELDS = ("name", "lower_bound", "inclusive", "colour", "meaning", "DELETE")


@dataclass(frozen=True)
class BandRow:
    band: reference.Band
    rates: str  # which rates the band holds, in words


def _pct(value: Fraction) -> str:
    if value.denominator == 1:
        return f"{value.numerator}%"
    decimal = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{decimal.quantize(Decimal('0.01')).normalize():f}%"


def _band_rows(bands: tuple[reference.Band, ...]) -> list[BandRow]:
    """Each band with the rates it holds, as ``reference.band_for`` assigns them."""
    rows = []
    for index, band in enumerate(bands):
        start = (
            f"from {_pct(band.lower_bound)}"
            if band.inclusive
            else f"above {_pct(band.lower_bound)}"
        )
        if index == 0:
            rates = f"{_pct(band.lower_bound)} and above" if band.inclusive else start
        else:
            higher = bands[index - 1]
            end = (
                f"to below {_pct(higher.lower_bound)}"
                if higher.inclusive
                else f"up to and including {_pct(higher.lower_bound)}"
            )
            rates = f"{start} {end}"
        rows.append(BandRow(band=band, rates=rates))
    return rows


def _uncovered(bands: tuple[reference.Band, ...]) -> str:
    """The rates no band holds, in words, or "" if every rate has a band."""
    lowest = bands[-1]
    if lowest.lower_bound == 0 and lowest.inclusive:
        return ""
    if lowest.inclusive:
        return f"below {_pct(lowest.lower_bound)}"
    return f"{_pct(lowest.lower_bound)} or below"


def _band_initial(band: reference.Band | BandInput) -> dict[str, object]:
    bound = band.lower_bound
    if isinstance(bound, Fraction):
        bound = Decimal(bound.numerator) / Decimal(bound.denominator)
    return {
        "name": band.name,
        "lower_bound": bound,
        "inclusive": band.inclusive,
        "colour": band.colour,
        "meaning": band.meaning,
    }


def _band_formset(initial: list[dict[str, object]]) -> BaseFormSet[BandForm]:
    return BandFormSet(initial=initial, prefix=BAND_FORMSET_PREFIX)


def _rules_initial(school: School) -> dict[str, object]:
    rules = selectors.attendance_rules_get(school=school)
    return {
        "pn_enabled": rules.pn_rule.enabled,
        "pn_sessions": rules.pn_rule.sessions,
        "pn_school_weeks": rules.pn_rule.school_weeks,
        "pn_include_n": rules.pn_rule.include_n,
        "illness_days": rules.illness_rule.days,
        "illness_mode": rules.illness_rule.mode,
    }


def _by_bound(bands: list[BandInput]) -> list[BandInput]:
    # reference.band_for's order: highest bound first and, at an equal bound, the band that
    # excludes it ("strictly above") before the one that includes it. The sort is stable, so
    # a true duplicate stays as entered and the service names it.
    return sorted(bands, key=lambda b: (b.lower_bound, not b.inclusive), reverse=True)


@require_http_methods(["GET", "POST"])
@require_role(Role.HEADTEACHER, Role.SCHOOL_ADMIN)
def attendance_settings(request: SchoolRequest) -> HttpResponse:
    """The school's attendance bands (with presets) and its local authority's rules."""
    school = request.school
    bands = selectors.school_bands_get(school=school)
    band_formset = _band_formset([_band_initial(band) for band in bands])
    preset_form = PresetForm()
    rules_form = AttendanceRulesForm(initial=_rules_initial(school))
    band_errors: list[str] = []
    status = 200

    if request.method == "POST":
        action = request.POST.get("action")
        if action == "add-row":
            # Keep what was typed (unvalidated) and add one empty row below it.
            posted = BandFormSet(request.POST, prefix=BAND_FORMSET_PREFIX)
            typed = [{name: form[name].value() for name in _BAND_FIELDS} for form in posted]
            band_formset = _band_formset([*typed, {"colour": DEFAULT_COLOUR, "inclusive": True}])
        elif action == "save-bands":
            band_formset = BandFormSet(request.POST, prefix=BAND_FORMSET_PREFIX)
            if band_formset.is_valid():
                kept = [
                    form.band_input()
                    for form in band_formset
                    if not form.cleaned_data.get("DELETE")
                ]
                rows = _by_bound([row for row in kept if row is not None])
                membership = request.access.membership
                assert membership is not None  # headteachers and administrators are staff
                try:
                    services.bands_replace(school=school, bands=rows, membership=membership)
                except ValidationError as exc:
                    band_errors = exc.messages
                    # Show the rows in the order the messages number them.
                    band_formset = _band_formset([_band_initial(row) for row in rows])
                else:
                    messages.success(
                        request,
                        "Bands saved. Pupils' stored bands follow at the next recompute.",
                    )
                    return redirect("interventions:attendance-settings", school_slug=school.slug)
            status = 400
        elif action == "install-preset":
            preset_form = PresetForm(request.POST)
            if preset_form.is_valid():
                key = preset_form.cleaned_data["preset"]
                services.bands_install_preset(school=school, preset=key)
                messages.success(request, f"Bands set from the preset: {BAND_PRESETS[key].label}.")
                return redirect("interventions:attendance-settings", school_slug=school.slug)
            status = 400
        elif action == "save-rules":
            rules_form = AttendanceRulesForm(request.POST)
            if rules_form.is_valid():
                try:
                    services.attendance_rules_update(school=school, **rules_form.cleaned_data)
                except ValidationError as exc:
                    rules_form.add_error(None, exc)
                else:
                    messages.success(request, "Local-authority rules saved.")
                    return redirect("interventions:attendance-settings", school_slug=school.slug)
            status = 400
        else:
            band_errors = ["Choose what to save."]
            status = 400

    return render(
        request,
        "interventions/attendance_settings.html",
        {
            "school": school,
            "is_wales": school.jurisdiction == Jurisdiction.WALES,
            "band_rows": _band_rows(bands),
            "uncovered": _uncovered(bands),
            "own_bands": any(band.pk is not None for band in bands),
            "band_formset": band_formset,
            "band_errors": band_errors,
            "preset_form": preset_form,
            "rules_form": rules_form,
        },
        status=status,
    )
