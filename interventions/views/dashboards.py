"""The school dashboard and the pupils behind each of its numbers (issue 12 item 1)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import urlencode

from django.db.models import Field
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from interventions import dashboards
from interventions.rules import pct1, percentage, persistent_absence, severe_absence
from interventions.views import dashboard_breakdowns
from interventions.visibility import visible_pupils
from schools.components import Cell, Column
from schools.models import Pupil
from schools.permissions import Capability, require_capability
from schools.types import SchoolRequest

NO_FIGURE = "\u2013"
MEASURES = ("all", "persistent", "severe")


GROUP_LABELS = {
    "fsm": _lazy("Free school meals"),
    "send": _lazy("SEND status"),
    "gender": _lazy("Gender"),
    "ethnicity": _lazy("Ethnicity"),
    "eal": _lazy("English as an additional language"),
    "looked_after": _lazy("Looked after"),
    "child_in_need": _lazy("Child in need"),
    "pupil_premium": _lazy("Pupil premium"),
}


def _value_label(field_name: str, value: str) -> str:
    """A group's value as people read it: Yes/No, or the choice's label."""
    if value in ("True", "False"):
        return str(_("Yes") if value == "True" else _("No"))
    model_field = Pupil._meta.get_field(field_name)
    flat = model_field.flatchoices if isinstance(model_field, Field) else []
    choices = dict(flat)
    return str(choices.get(value, value)) if value else str(_("Not recorded"))


def _pct(value: Fraction | None) -> str:
    return NO_FIGURE if value is None else f"{pct1(value)}%"


@dataclass(frozen=True)
class ChartLine:
    points: str  # "x,y x,y …" for <polyline>
    marks: list[tuple[float, float]]


def _chart(board: dashboards.Dashboard) -> dict[str, object]:
    """Coordinates of the weekly trend chart (server-side SVG: no script, prints, and the
    table beside it carries the same data)."""
    width, height, left, top = 640.0, 220.0, 40.0, 10.0
    values = [v for w in board.weeks for v in (w.this_year, w.last_year) if v is not None]
    if board.target is not None:
        values.append(board.target)
    low = int(min(values, default=Fraction(80))) // 10 * 10 if values else 80
    low = min(low, 90)
    span = 100 - low or 1
    count = max(len(board.weeks), 2)

    def x(index: int) -> float:
        return round(left + (width - left - 10) * index / (count - 1), 1)

    def y(value: Fraction) -> float:
        return round(top + (height - top - 30) * float((100 - value) / span), 1)

    def line(attr: str) -> ChartLine:
        marks = [
            (x(i), y(getattr(w, attr)))
            for i, w in enumerate(board.weeks)
            if getattr(w, attr) is not None
        ]
        return ChartLine(" ".join(f"{a},{b}" for a, b in marks), marks)

    ticks = [(y(Fraction(v)), v) for v in range(low, 101, 5 if span <= 20 else 10)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "this_year": line("this_year"),
        "last_year": line("last_year"),
        "target_y": y(board.target) if board.target is not None else None,
        "ticks": ticks,
        "axis_y": height - 20,
        "right": width - 10,
    }


def _link(request: SchoolRequest, text: object, measure: str, group: str = "") -> str:
    url = reverse("interventions:dashboard-pupils", kwargs={"school_slug": request.school.slug})
    query = {"measure": measure, **({"group": group} if group else {})}
    query_string = dashboard_breakdowns.with_dfe(request, query)
    return format_html('<a class="govuk-link" href="{}?{}">{}</a>', url, query_string, text)


@require_GET
@require_capability(Capability.VIEW_DASHBOARD)
def school_dashboard(request: SchoolRequest) -> HttpResponse:
    dfe = dashboard_breakdowns.dfe_asked(request)
    board = dashboards.school_dashboard(school=request.school, on=timezone.localdate(), dfe=dfe)
    t = board.total
    headline = [
        (
            _("Attendance"),
            _pct(t.attendance_rate),
            t.attendance,
            _link(request, t.attendance, "all"),
        ),
        (_("Overall absence"), _pct(t.absence_rate), t.absence, _link(request, t.absence, "all")),
        (_("Authorised absence"), _pct(t.authorised_rate), t.authorised, None),
        (_("Unauthorised absence"), _pct(t.unauthorised_rate), t.unauthorised, None),
    ]
    group_head = [
        Column(_("Group")),
        Column(_("Pupils"), numeric=True),
        Column(_("Attendance"), numeric=True),
        Column(_("Persistent absence"), numeric=True),
        Column(_("Severe absence"), numeric=True),
    ]
    group_tables = []
    fields = dict(dashboards.PUPIL_GROUPS)
    for key, rows in board.groups:
        group_tables.append(
            (
                GROUP_LABELS[key],
                [
                    [
                        _value_label(fields[key], value),
                        Cell(
                            _link(request, totals.enrolments, "all", f"{key}:{value}"),
                            totals.enrolments,
                            numeric=True,
                        ),
                        Cell(
                            _pct(totals.attendance_rate),
                            float(totals.attendance_rate or 0),
                            numeric=True,
                        ),
                        Cell(
                            _link(request, totals.persistent, "persistent", f"{key}:{value}"),
                            totals.persistent,
                            numeric=True,
                        ),
                        Cell(
                            _link(request, totals.severe, "severe", f"{key}:{value}"),
                            totals.severe,
                            numeric=True,
                        ),
                    ]
                    for value, totals in rows
                ],
            )
        )
    week_head = [
        Column(_("School week"), numeric=True),
        Column(_("Week beginning")),
        Column(_("This year"), numeric=True),
        Column(_("Last year"), numeric=True),
    ]
    week_rows = [
        [w.number, w.week_start or NO_FIGURE, _pct(w.this_year), _pct(w.last_year)]
        for w in board.weeks
    ]
    return render(
        request,
        "interventions/dashboards/school.html",
        {
            "board": board,
            "headline": headline,
            "persistent_link": _link(request, t.persistent, "persistent"),
            "severe_link": _link(request, t.severe, "severe"),
            "group_head": group_head,
            "group_tables": group_tables,
            "week_head": week_head,
            "week_rows": week_rows,
            "chart": _chart(board),
            "target": _pct(board.target),
            "persistent_rate": _pct(t.persistent_rate),
            "severe_rate": _pct(t.severe_rate),
            "last_year": _pct(board.last_year_to_date.attendance_rate),
            "dfe": dfe,
        },
    )


@require_GET
@require_capability(Capability.VIEW_DASHBOARD)
def dashboard_pupils(request: SchoolRequest) -> HttpResponse:
    """The pupils behind a dashboard number: ``measure`` (all, persistent, severe) within
    ``group`` (``key:value`` of a pupil group); ``?format=csv`` downloads the list."""
    if dashboard_breakdowns.handles(request, MEASURES):
        return dashboard_breakdowns.breakdown_pupils(request)
    measure = request.GET.get("measure", "all")
    group = request.GET.get("group", "")
    if measure not in MEASURES:
        raise Http404
    fields = dict(dashboards.PUPIL_GROUPS)
    key, _sep, value = group.partition(":")
    if group and key not in fields:
        raise Http404
    board = dashboards.school_dashboard(school=request.school, on=timezone.localdate())
    chosen = []
    for pupil_id, row in board.per_pupil.items():
        if group and str(row[f"pupil__{fields[key]}"]) != value:
            continue
        possible = row["possible_sessions"] or 0
        absence = (row["authorised_sessions"] or 0) + (row["unauthorised_sessions"] or 0)
        if measure == "persistent" and not persistent_absence(absence=absence, possible=possible):
            continue
        if measure == "severe" and not severe_absence(absence=absence, possible=possible):
            continue
        chosen.append((pupil_id, possible, absence))
    names = {
        p.pk: f"{p.legal_surname}, {p.preferred_forename or p.legal_forename}"
        # Only pupils this user may open: a pastoral lead sees their year groups' (the figures
        # above are the school's, the names behind them are not).
        for p in visible_pupils(request, on=timezone.localdate()).filter(  # the figures' day
            pk__in=[c[0] for c in chosen]
        )
    }
    chosen = [c for c in chosen if c[0] in names]
    rows = sorted(
        (
            [
                names.get(pupil_id, ""),
                possible,
                absence,
                _pct(percentage(possible - absence, possible)),
            ]
            for pupil_id, possible, absence in chosen
        ),
        key=lambda r: str(r[0]),
    )
    head = [
        Column(_("Pupil")),
        Column(_("Possible sessions"), numeric=True),
        Column(_("Sessions missed"), numeric=True),
        Column(_("Attendance"), numeric=True),
    ]
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="dashboard-pupils.csv"'
        writer = csv.writer(response)
        writer.writerow([c.text for c in head])
        writer.writerows(rows)
        return response
    csv_url = f"{request.path}?{urlencode({'measure': measure, 'group': group, 'format': 'csv'})}"
    return render(
        request,
        "interventions/dashboards/pupils.html",
        {"head": head, "rows": rows, "csv_url": csv_url, "measure": measure, "group": group},
    )
