from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseFormSet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from interventions import dashboard_breakdowns, rules, selectors, services
from interventions.forms import (
    BAND_FORMSET_PREFIX,
    DEFAULT_COLOUR,
    AttendancePeriodForm,
    AttendanceRulesForm,
    BandForm,
    BandFormSet,
    PresetForm,
)
from interventions.periods import Period, period_requested
from interventions.services import BAND_PRESETS, BandInput
from interventions.templatetags.attendance_figures import percent1
from interventions.views import dashboard_breakdowns as breakdown_views
from registers.selectors import pupil_mark_calendar
from schools.components import Cell, Column
from schools.models import Jurisdiction, School
from schools.permissions import Capability, require_capability
from schools.selectors import pupil_visible_get
from schools.types import SchoolRequest, TrustRequest

_BAND_FIELDS = ("name", "lower_bound", "inclusive", "colour", "meaning", "DELETE")


@dataclass(frozen=True)
class BandRow:
    band: rules.Band
    rates: str  # which rates the band holds, in words


def _pct(value: Fraction) -> str:
    if value.denominator == 1:
        return f"{value.numerator}%"
    decimal = Decimal(value.numerator) / Decimal(value.denominator)
    return f"{decimal.quantize(Decimal('0.01')).normalize():f}%"


def _band_rows(bands: tuple[rules.Band, ...]) -> list[BandRow]:
    """Each band with the rates it holds, as ``rules.band_for`` assigns them."""
    rows = []
    for index, band in enumerate(bands):
        low = _pct(band.lower_bound)
        if index == 0:
            rates = (
                _("%(low)s and above") % {"low": low}
                if band.inclusive
                else _("above %(low)s") % {"low": low}
            )
        else:
            higher = bands[index - 1]
            high = _pct(higher.lower_bound)
            if band.inclusive and higher.inclusive:
                rates = _("from %(low)s to below %(high)s")
            elif band.inclusive:
                rates = _("from %(low)s up to and including %(high)s")
            elif higher.inclusive:
                rates = _("above %(low)s to below %(high)s")
            else:
                rates = _("above %(low)s up to and including %(high)s")
            rates = rates % {"low": low, "high": high}
        rows.append(BandRow(band=band, rates=rates))
    return rows


def _uncovered(bands: tuple[rules.Band, ...]) -> str:
    """The rates no band holds, in words, or "" if every rate has a band."""
    lowest = bands[-1]
    if lowest.lower_bound == 0 and lowest.inclusive:
        return ""
    if lowest.inclusive:
        return _("below %(low)s") % {"low": _pct(lowest.lower_bound)}
    return _("%(low)s or below") % {"low": _pct(lowest.lower_bound)}


def _band_initial(band: rules.Band | BandInput) -> dict[str, object]:
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
    return selectors.attendance_rules_get(school=school).as_fields()


def _by_bound(bands: list[BandInput]) -> list[BandInput]:
    # rules.band_for's order: highest bound first and, at an equal bound, the band that
    # excludes it ("strictly above") before the one that includes it. The sort is stable, so
    # a true duplicate stays as entered and the service names it.
    return sorted(bands, key=lambda b: (b.lower_bound, not b.inclusive), reverse=True)


@require_http_methods(["GET", "POST"])
@require_capability(Capability.EDIT_ATTENDANCE_RULES)
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
                        _("Bands saved. Pupils' stored bands follow at the next recompute."),
                    )
                    return redirect("interventions:attendance-settings", school_slug=school.slug)
            status = 400
        elif action == "install-preset":
            preset_form = PresetForm(request.POST)
            if preset_form.is_valid():
                key = preset_form.cleaned_data["preset"]
                services.bands_install_preset(school=school, preset=key)
                messages.success(
                    request,
                    _("Bands set from the preset: %(preset)s.")
                    % {"preset": BAND_PRESETS[key].label},
                )
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
                    messages.success(request, _("Local-authority rules saved."))
                    return redirect("interventions:attendance-settings", school_slug=school.slug)
            status = 400
        else:
            band_errors = [_("Choose what to save.")]
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


# --- Attendance results: a pupil, the school, the trust ---------------------------------------

EVENTS_SHOWN = 200  # newest first; the API pages through the whole ledger


def _period_asked(
    request: SchoolRequest, *, school: School, today: dt.date, dfe: bool
) -> tuple[AttendancePeriodForm, Period | None, int]:
    """The period form of a page, the period it asks to compute now (``None``: the stored
    results) and the status to answer with (400 when the form has errors)."""
    form = AttendancePeriodForm(request.GET or None, dfe=dfe)
    period: Period | None = None
    if form.is_bound and form.is_valid() and form.computes:
        try:
            period = period_requested(school=school, data=form.cleaned_data, today=today)
        except ValidationError as exc:
            form.add_error(None, exc)
    return form, period, 400 if form.errors else 200


@require_GET
@require_capability(Capability.VIEW_PUPIL_ATTENDANCE)
def pupil_attendance(request: SchoolRequest, pupil_id: int) -> HttpResponse:
    """A pupil's stored result for this academic year (or, with ``?from=&to=&as_of=``, one
    computed now) and the pupil's events from the ledger."""
    school, today = request.school, timezone.localdate()
    pupil = pupil_visible_get(
        school=school, access=request.access, user=request.user, pupil_id=pupil_id, on=today
    )
    form, period, status = _period_asked(request, school=school, today=today, dfe=False)
    if period is not None:
        results = selectors.pupil_attendance_computed(
            school=school,
            pupil=pupil,
            period_start=period.start,
            period_end=period.end,
            as_of=period.as_of,
        )
    else:
        results = selectors.pupil_attendance_stored(school=school, pupil=pupil, on=today)
    events = selectors.attendance_events(school=school, pupil_ids=[pupil.pk])[:EVENTS_SHOWN]
    year_line = dashboard_breakdowns.pupil_running_line(school=school, pupil=pupil, on=today)
    shown = period or Period(*selectors.academic_period_for(school=school, on=today), today)
    year = rules.dfe_academic_year(
        period_start=shown.start, period_end=shown.end, as_of=shown.as_of
    )
    return render(
        request,
        "interventions/pupil_attendance.html",
        {
            "pupil": pupil,
            "results": results,
            "period": period,
            "form": form,
            "events": events,
            "events_shown": EVENTS_SHOWN,
            "in_dfe_cohort": rules.in_dfe_cohort(
                date_of_birth=pupil.date_of_birth, academic_year=year
            ),
            "calendar": pupil_mark_calendar(school=school, pupil=pupil, today=today),
            **breakdown_views.pupil_year_context(request, year_line),
        },
        status=status,
    )


# The summary tables' figure columns, in the order of _totals_cells (and the CSV's).
TOTALS_COLUMNS = (
    gettext_lazy("Enrolments"),
    gettext_lazy("Possible sessions"),
    gettext_lazy("Attendance %"),
    gettext_lazy("Absence %"),
    gettext_lazy("Authorised %"),
    gettext_lazy("Unauthorised %"),
    gettext_lazy("Persistent absence %"),
    gettext_lazy("Severe absence %"),
)


def _totals_columns(first: str) -> list[Column]:
    return [
        Column(text=first),
        *(Column(text=str(text), numeric=True) for text in TOTALS_COLUMNS),
    ]


def _share(rate: Fraction | None, flagged: int, of: int) -> Cell:
    # "50.0 (1 of 2)": the rate, then the enrolments it counts, so a small group reads right.
    counts = _("(%(flagged)s of %(of)s)") % {"flagged": flagged, "of": of}
    return Cell(
        format_html('{} <span class="muted">{}</span>', percent1(rate), counts),
        sort_value=-1 if rate is None else float(rate),
        numeric=True,
    )


def _totals_cells(label: object, totals: selectors.AttendanceTotals) -> list[object]:
    def rate(value: Fraction | None) -> Cell:
        return Cell(percent1(value), sort_value=-1 if value is None else float(value), numeric=True)

    return [
        label,
        Cell(totals.enrolments, sort_value=totals.enrolments, numeric=True),
        Cell(totals.possible_sessions, sort_value=totals.possible_sessions, numeric=True),
        rate(totals.attendance_rate),
        rate(totals.overall_absence_rate),
        rate(totals.authorised_rate),
        rate(totals.unauthorised_rate),
        _share(totals.pa_rate, totals.pa_enrolments, totals.enrolments_with_possible),
        _share(totals.sa_rate, totals.sa_enrolments, totals.enrolments_with_possible),
    ]


def _totals_csv_row(label: str, totals: selectors.AttendanceTotals) -> list[object]:
    return [
        label,
        totals.enrolments,
        totals.possible_sessions,
        percent1(totals.attendance_rate),
        percent1(totals.overall_absence_rate),
        percent1(totals.authorised_rate),
        percent1(totals.unauthorised_rate),
        percent1(totals.pa_rate),
        percent1(totals.sa_rate),
        totals.pa_enrolments,
        totals.sa_enrolments,
        totals.enrolments_with_possible,
    ]


def _summary_csv(school: School, aggregate: selectors.AttendanceAggregate) -> HttpResponse:
    """The summary's tables as one CSV: a row per group, the group's kind first."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attendance-{school.slug}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            _("Grouped by"),
            _("Group"),
            *(str(text) for text in TOTALS_COLUMNS),
            _("Persistent absence enrolments"),
            _("Severe absence enrolments"),
            _("Enrolments with a possible session"),
        ]
    )
    writer.writerow([_("Whole school"), *_totals_csv_row(school.name, aggregate.total)])
    for breakdown in aggregate.breakdowns:
        if breakdown.group_by == "school":
            continue
        for group in breakdown.groups:
            writer.writerow([breakdown.label, *_totals_csv_row(group.label, group.totals)])
    return response


@require_GET
@require_capability(Capability.VIEW_SUMMARIES)
def attendance_summary(request: SchoolRequest) -> HttpResponse:
    """The school's attendance in total, per form, per year group and per pupil group: the
    stored results, or with ``?dfe=1`` / ``?from=&to=&as_of=`` computed now."""
    school, today = request.school, timezone.localdate()
    form, period, status = _period_asked(request, school=school, today=today, dfe=True)
    if period is not None:
        aggregate = selectors.school_attendance_computed(
            school=school,
            period_start=period.start,
            period_end=period.end,
            as_of=period.as_of,
            dfe_comparable=bool(form.cleaned_data.get("dfe")),
        )
    else:
        aggregate = selectors.school_attendance_stored(school=school, on=today)
    if request.GET.get("format") == "csv" and status == 200:
        return _summary_csv(school, aggregate)
    csv_query = request.GET.copy()
    csv_query["format"] = "csv"
    tables = [
        {
            "id": f"totals-{breakdown.group_by}",
            "caption": _("By group: %(group)s") % {"group": breakdown.label}
            + (
                " " + _("(form placement on the as-of date)")
                if breakdown.group_by in ("form", "year")
                else ""
            ),
            "head": _totals_columns(breakdown.label),
            "rows": [_totals_cells(group.label, group.totals) for group in breakdown.groups],
        }
        for breakdown in aggregate.breakdowns
        if breakdown.group_by != "school"
    ]
    return render(
        request,
        "interventions/attendance_summary.html",
        {
            "school": school,
            "aggregate": aggregate,
            "form": form,
            "period": period,
            "csv_url": "?" + csv_query.urlencode(),
            "school_head": _totals_columns(_("Group")),
            "school_rows": [_totals_cells(_("Whole school"), aggregate.total)],
            "tables": tables,
        },
        status=status,
    )


@require_GET
def trust_attendance(request: TrustRequest) -> HttpResponse:
    """Every school of the trust side by side on its stored results (the middleware has
    checked that the user leads this trust: 404 otherwise)."""
    today = timezone.localdate()
    summary = selectors.trust_attendance_stored(trust=request.trust, on=today)
    return render(
        request, "interventions/trust_attendance.html", {"summary": summary, "today": today}
    )
