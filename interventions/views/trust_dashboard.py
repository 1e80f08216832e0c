"""The trust dashboard page (issue 12 item 2): every school side by side, sortable by links
(no script needed), each school drilling into its own dashboard, and a CSV of the table."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import urlencode

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from interventions.dashboards import Totals
from interventions.rules import pct1
from interventions.trust_dashboard import SchoolColumn, TrustDashboard, trust_dashboard
from schools.components import Cell, Column
from schools.types import TrustRequest

NO_FIGURE = "\u2013"
# The sparkline's box: 50% at the bottom, 100% at the top.
SPARK_WIDTH, SPARK_HEIGHT, SPARK_FLOOR = 100, 24, Fraction(50)


@dataclass(frozen=True)
class Measure:
    """A sortable column: its heading, and the value a school sorts by (None sorts last)."""

    key: str
    heading: object
    sort_value: Callable[[SchoolColumn], object]


def _gap(column: SchoolColumn) -> Fraction | None:
    rate = column.totals.attendance_rate
    return None if rate is None or column.target is None else rate - column.target


MEASURES = (
    Measure("school", _lazy("School"), lambda c: c.school.name.casefold()),
    Measure("pupils", _lazy("Pupils"), lambda c: c.totals.enrolments),
    Measure("attendance", _lazy("Attendance"), lambda c: c.totals.attendance_rate),
    Measure("target", _lazy("Against target"), _gap),
    Measure(
        "last_year", _lazy("Same week last year"), lambda c: c.last_year_to_date.attendance_rate
    ),
    Measure("absence", _lazy("Overall absence"), lambda c: c.totals.absence_rate),
    Measure("authorised", _lazy("Authorised absence"), lambda c: c.totals.authorised_rate),
    Measure("unauthorised", _lazy("Unauthorised absence"), lambda c: c.totals.unauthorised_rate),
    Measure("persistent", _lazy("Persistent absence"), lambda c: c.totals.persistent_rate),
    Measure("severe", _lazy("Severe absence"), lambda c: c.totals.severe_rate),
)
BY_KEY = {m.key: m for m in MEASURES}


def _pct(value: Fraction | None) -> str:
    return NO_FIGURE if value is None else f"{pct1(value)}%"


def _points(value: Fraction | None) -> str:
    """A difference of two percentages, in percentage points with its sign."""
    if value is None:
        return NO_FIGURE
    text = pct1(value)
    return _("%(sign)s%(points)s points") % {
        "sign": "+" if value > 0 and text != "0.0" else "",
        "points": text,
    }


def _sort_key(value: object) -> tuple[bool, object]:
    return (value is None, value if value is not None else 0)


def _sorted(columns: list[SchoolColumn], key: str, descending: bool) -> list[SchoolColumn]:
    measure = BY_KEY[key]
    present = [c for c in columns if measure.sort_value(c) is not None]
    missing = [c for c in columns if measure.sort_value(c) is None]
    # A school without the figure stays at the bottom whichever way the column is sorted.
    present.sort(key=lambda c: _sort_key(measure.sort_value(c)), reverse=descending)
    return present + missing


def _sparkline(rates: list[Fraction | None]) -> SafeString | str:
    """The school's weekly attendance this year as an SVG line, with its text alternative
    (first and latest week) for screen readers and as a tooltip."""
    values = [r for r in rates if r is not None]
    if len(values) < 2:
        return NO_FIGURE
    step = SPARK_WIDTH / (len(values) - 1)
    span = 100 - SPARK_FLOOR
    points = " ".join(
        f"{round(i * step, 1)},{round(SPARK_HEIGHT * float((100 - max(v, SPARK_FLOOR)) / span), 1)}"
        for i, v in enumerate(values)
    )
    label = _(
        "Weekly attendance over %(weeks)s school weeks: %(first)s in the first, "
        "%(latest)s in the latest; lowest %(low)s, highest %(high)s"
    ) % {
        "weeks": len(values),
        "first": _pct(values[0]),
        "latest": _pct(values[-1]),
        "low": _pct(min(values)),
        "high": _pct(max(values)),
    }
    return format_html(
        '<svg class="app-sparkline" viewBox="0 0 {} {}" width="{}" height="{}" role="img" '
        'aria-label="{}"><title>{}</title><polyline points="{}" fill="none" '
        'stroke="#1d70b8" stroke-width="1.5"/></svg>',
        SPARK_WIDTH,
        SPARK_HEIGHT,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        label,
        label,
        points,
    )


def _with_count(rate: Fraction | None, count: int) -> str:
    return f"{_pct(rate)} ({count:,})"


def _cells(totals: Totals, last_year: Totals, target: Fraction | None) -> list[object]:
    """The measure cells of one row (a school or the trust), in ``MEASURES`` order after the
    name: each shows the rate and the sessions or pupils it is made of."""
    gap = None
    if totals.attendance_rate is not None and target is not None:
        gap = totals.attendance_rate - target
    return [
        Cell(totals.enrolments, totals.enrolments, numeric=True),
        Cell(_with_count(totals.attendance_rate, totals.attendance), None, numeric=True),
        Cell(
            f"{_points(gap)} ({_pct(target)})" if target is not None else NO_FIGURE,
            None,
            numeric=True,
        ),
        Cell(_pct(last_year.attendance_rate), None, numeric=True),
        Cell(_with_count(totals.absence_rate, totals.absence), None, numeric=True),
        Cell(_with_count(totals.authorised_rate, totals.authorised), None, numeric=True),
        Cell(_with_count(totals.unauthorised_rate, totals.unauthorised), None, numeric=True),
        Cell(_with_count(totals.persistent_rate, totals.persistent), None, numeric=True),
        Cell(_with_count(totals.severe_rate, totals.severe), None, numeric=True),
    ]


def _head(request: TrustRequest, key: str, descending: bool) -> list[Column]:
    """Column headings; each measure's heading is a link that sorts by it (the current
    column's link reverses the order), so sorting needs no script."""
    head = []
    for measure in MEASURES:
        current = measure.key == key
        # Names sort A-Z first; figures highest first.
        first_descending = measure.key != "school"
        next_descending = not descending if current else first_descending
        query = urlencode({"sort": measure.key, "order": "desc" if next_descending else "asc"})
        state = ""
        if current:
            state = _("sorted descending") if descending else _("sorted ascending")
        head.append(
            Column(
                format_html(
                    '<a class="govuk-link" href="?{}">{}</a>{}',
                    query,
                    measure.heading,
                    format_html(
                        ' <span aria-hidden="true">{}</span>'
                        '<span class="govuk-visually-hidden"> ({})</span>',
                        "\u25bc" if descending else "\u25b2",
                        state,
                    )
                    if current
                    else "",
                ),
                sortable=False,
                numeric=measure.key != "school",
            )
        )
    head.insert(1, Column(_("Trend this year"), sortable=False))
    return head


@require_GET
def trust_dashboard_page(request: TrustRequest) -> HttpResponse:
    """Every school of the trust side by side (the middleware has checked that the user leads
    this trust: 404 otherwise). ``?sort=<measure>&order=asc|desc`` orders the schools;
    ``?format=csv`` downloads the table with the trust total."""
    board = trust_dashboard(trust=request.trust, on=timezone.localdate())
    key = request.GET.get("sort", "school")
    if key not in BY_KEY:
        key = "school"
    descending = request.GET.get("order") == "desc"
    columns = _sorted(board.schools, key, descending)
    if request.GET.get("format") == "csv":
        return _csv(columns, board)
    rows = [
        [
            format_html(
                '<a class="govuk-link" href="{}">{}</a>',
                reverse("interventions:dashboard", kwargs={"school_slug": column.school.slug}),
                column.school.name,
            ),
            _sparkline(column.weekly),
            *_cells(column.totals, column.last_year_to_date, column.target),
        ]
        for column in columns
    ]
    total_rows = [[_("Trust"), NO_FIGURE, *_cells(board.total, board.last_year_to_date, None)]]
    return render(
        request,
        "interventions/dashboards/trust.html",
        {
            "board": board,
            "head": _head(request, key, descending),
            # The total's table has the same columns, without the sorting links.
            "total_head": [
                Column(str(m.heading), sortable=False, numeric=m.key != "school")
                for m in MEASURES[:1]
            ]
            + [Column(_("Trend this year"), sortable=False)]
            + [Column(str(m.heading), sortable=False, numeric=True) for m in MEASURES[1:]],
            "rows": rows,
            "total_rows": total_rows,
            "csv_url": "?"
            + urlencode({"sort": key, "order": "desc" if descending else "asc", "format": "csv"}),
        },
    )


_CSV_HEAD = (
    _lazy("School"),
    _lazy("Pupils"),
    _lazy("Possible sessions"),
    _lazy("Sessions attended"),
    _lazy("Attendance %"),
    _lazy("Target %"),
    _lazy("Same week last year %"),
    _lazy("Sessions missed"),
    _lazy("Authorised sessions"),
    _lazy("Unauthorised sessions"),
    _lazy("Persistent absence (pupils)"),
    _lazy("Severe absence (pupils)"),
)


def _text(value: str) -> str:
    """A name as a spreadsheet shows it, never as a formula (security WEB-07)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\0") else value


def _csv_row(name: str, totals: Totals, last_year: Totals, target: Fraction | None) -> list[object]:
    def figure(value: Fraction | None) -> str:
        return "" if value is None else pct1(value)

    return [
        _text(name),
        totals.enrolments,
        totals.possible,
        totals.attendance,
        figure(totals.attendance_rate),
        figure(target),
        figure(last_year.attendance_rate),
        totals.absence,
        totals.authorised,
        totals.unauthorised,
        totals.persistent,
        totals.severe,
    ]


def _csv(columns: list[SchoolColumn], board: TrustDashboard) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="trust-dashboard.csv"'
    writer = csv.writer(response)
    writer.writerow([str(h) for h in _CSV_HEAD])
    for column in columns:
        writer.writerow(
            _csv_row(column.school.name, column.totals, column.last_year_to_date, column.target)
        )
    writer.writerow(_csv_row(str(_("Trust")), board.total, board.last_year_to_date, None))
    return response
