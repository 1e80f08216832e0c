"""The dashboard's breakdowns page and the pupils behind its numbers (issue 12 item 1), and
the DfE-comparable toggle (``?dfe=1``, spec/regulations.md §4.2) every dashboard link keeps.

The breakdowns have their own page, linked from the dashboard, so the headline page keeps
its own speed budget (issue 12 item 6) while this one reads the weekly code counts and the
marks' weekday pattern. Every number links to its pupils; every table downloads as CSV
(``?table=<key>&format=csv``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET

from interventions import dashboard_breakdowns as bd
from interventions.dashboards import Totals
from interventions.rules import pct1, percentage
from interventions.visibility import visible_pupils
from schools.components import Cell, Column
from schools.permissions import Capability, require_capability
from schools.types import SchoolRequest

NO_FIGURE = "\u2013"
CATEGORY_LABELS = {
    "present": _lazy("present"),
    "aea": _lazy("approved educational activity"),
    "authorised": _lazy("authorised absence"),
    "unauthorised": _lazy("unauthorised absence"),
    "not_counted": _lazy("not a possible session"),
}
SESSION_LABELS = {"AM": _lazy("AM"), "PM": _lazy("PM")}


def dfe_asked(request: HttpRequest) -> bool:
    """``?dfe=1``: only what the DfE counts (§4.2), on every figure and drill-down."""
    return request.GET.get("dfe") == "1"


def with_dfe(request: HttpRequest, query: dict[str, str]) -> str:
    """``query`` as a query string, keeping the DfE toggle of ``request``."""
    return urlencode({**query, **({"dfe": "1"} if dfe_asked(request) else {})})


def pct(value: Fraction | None) -> str:
    return NO_FIGURE if value is None else f"{pct1(value)}%"


def bar(value: Fraction | None) -> SafeString:
    """A bar as wide as ``value`` percent, drawn in SVG (the strict CSP forbids style
    attributes); decorative: the figure is written beside it."""
    width = 0 if value is None else round(float(min(max(value, Fraction(0)), Fraction(100))), 1)
    return format_html(
        '<svg class="app-bar" viewBox="0 0 100 8" width="100" height="8" aria-hidden="true" '
        'focusable="false"><rect class="app-bar__track" width="100" height="8"/>'
        '<rect class="app-bar__fill" width="{}" height="8"/></svg>',
        width,
    )


@dataclass(frozen=True)
class Figure:
    """A table cell with its plain text (for CSV), an optional drill-down and bar."""

    text: object
    link: str = ""
    sort: object | None = None
    numeric: bool = False
    bar: Fraction | None = None
    has_bar: bool = False

    def html(self) -> object:
        value: object = self.text
        if self.link:
            value = format_html('<a class="govuk-link" href="{}">{}</a>', self.link, self.text)
        if self.has_bar:
            value = format_html('<span class="app-bar-cell">{} {}</span>', bar(self.bar), value)
        if self.numeric or self.sort is not None:
            return Cell(value, self.sort, numeric=self.numeric)
        return value


@dataclass(frozen=True)
class Table:
    key: str
    caption: str
    head: list[Column]
    rows: list[list[Figure]]

    def html_rows(self) -> list[list[object]]:
        return [[cell.html() for cell in row] for row in self.rows]


def _pupils_url(request: SchoolRequest, measure: str, group: str = "") -> str:
    url = reverse("interventions:dashboard-pupils", kwargs={"school_slug": request.school.slug})
    return f"{url}?{with_dfe(request, {'measure': measure, **({'group': group} if group else {})})}"


def _number(value: int, link: str) -> Figure:
    return Figure(value, link=link, sort=value, numeric=True)


def _place_table(
    request: SchoolRequest, key: str, caption: str, first: str, rows: list[tuple[bd.Place, Totals]]
) -> Table:
    head = [
        Column(first),
        Column(_("Pupils"), numeric=True),
        Column(_("Attendance"), numeric=True),
        Column(_("Sessions missed"), numeric=True),
        Column(_("Persistent absence"), numeric=True),
        Column(_("Severe absence"), numeric=True),
    ]
    body = []
    for place, totals in rows:
        group = f"{key}:{place.key}"
        body.append(
            [
                Figure(place.label),
                _number(totals.enrolments, _pupils_url(request, "all", group)),
                Figure(
                    pct(totals.attendance_rate),
                    sort=float(totals.attendance_rate or 0),
                    numeric=True,
                    bar=totals.attendance_rate,
                    has_bar=True,
                ),
                Figure(totals.absence, sort=totals.absence, numeric=True),
                _number(totals.persistent, _pupils_url(request, "persistent", group)),
                _number(totals.severe, _pupils_url(request, "severe", group)),
            ]
        )
    return Table(key, caption, head, body)


def _code_tables(request: SchoolRequest, board: bd.Breakdowns) -> list[Table]:
    codes = Table(
        "codes",
        _("Sessions by code"),
        [
            Column(_("Code")),
            Column(_("Meaning")),
            Column(_("Category")),
            Column(_("Sessions"), numeric=True),
            Column(_("Share of possible sessions"), numeric=True),
            Column(_("Pupils"), numeric=True),
        ],
        [
            [
                Figure(row.code),
                Figure(str(row.definition.meaning) if row.definition else NO_FIGURE),
                Figure(
                    capfirst(str(CATEGORY_LABELS[str(row.definition.category)]))
                    if row.definition
                    else NO_FIGURE
                ),
                Figure(row.sessions, sort=row.sessions, numeric=True),
                Figure(
                    pct(percentage(row.sessions, board.possible)),
                    sort=row.sessions,
                    numeric=True,
                    bar=percentage(row.sessions, board.possible),
                    has_bar=True,
                ),
                _number(row.pupils, _pupils_url(request, f"code:{row.code}")),
            ]
            for row in board.codes
        ],
    )
    categories = Table(
        "categories",
        _("Sessions by category"),
        [
            Column(_("Category")),
            Column(_("Sessions"), numeric=True),
            Column(_("Share of possible sessions"), numeric=True),
        ],
        [
            [
                Figure(capfirst(str(CATEGORY_LABELS[category]))),
                _number(sessions, _pupils_url(request, f"category:{category}")),
                Figure(
                    pct(percentage(sessions, board.possible))
                    if category != "not_counted"
                    else NO_FIGURE,
                    sort=sessions,
                    numeric=True,
                    bar=percentage(sessions, board.possible) if category != "not_counted" else None,
                    has_bar=category != "not_counted",
                ),
            ]
            for category, sessions in board.categories.items()
        ],
    )
    return [codes, categories]


def _pattern_table(request: SchoolRequest, board: bd.Breakdowns) -> Table:
    return Table(
        "pattern",
        _("Absence by day of the week and session"),
        [
            Column(_("Session")),
            Column(_("Sessions missed"), numeric=True),
            Column(_("Possible sessions"), numeric=True),
            Column(_("Absence"), numeric=True),
        ],
        [
            [
                Figure(f"{WEEKDAYS[slot.weekday]} {SESSION_LABELS[slot.session]}"),
                _number(slot.absence, _pupils_url(request, f"slot:{slot.key}")),
                Figure(slot.possible, sort=slot.possible, numeric=True),
                Figure(
                    pct(percentage(slot.absence, slot.possible)),
                    sort=float(percentage(slot.absence, slot.possible) or 0),
                    numeric=True,
                    bar=percentage(slot.absence, slot.possible),
                    has_bar=True,
                ),
            ]
            for slot in board.pattern
        ],
    )


def _near_table(request: SchoolRequest, board: bd.Breakdowns) -> Table:
    rows = []
    for pupil in board.pupils:
        if not (pupil.near_persistent or pupil.near_band):
            continue
        band_change = NO_FIGURE
        if pupil.near_band is not None:
            band_change = _("%(now)s to %(then)s") % {
                "now": pupil.band.name if pupil.band else _("no band"),
                "then": pupil.near_band.name,
            }
        rows.append(
            [
                Figure(
                    pupil.name,
                    link=reverse(
                        "interventions:pupil-attendance",
                        kwargs={"school_slug": request.school.slug, "pupil_id": pupil.pupil_id},
                    ),
                ),
                Figure(
                    pct(percentage(pupil.attendance, pupil.possible)),
                    sort=float(percentage(pupil.attendance, pupil.possible) or 0),
                    numeric=True,
                ),
                Figure(pupil.absence, sort=pupil.absence, numeric=True),
                Figure(pupil.possible, sort=pupil.possible, numeric=True),
                Figure(_("Yes") if pupil.near_persistent else _("No")),
                Figure(band_change),
            ]
        )
    return Table(
        "near",
        _("Pupils within one week of a boundary"),
        [
            Column(_("Pupil")),
            Column(_("Attendance"), numeric=True),
            Column(_("Sessions missed"), numeric=True),
            Column(_("Possible sessions"), numeric=True),
            Column(_("One week from persistent absence")),
            Column(_("One week from another band")),
        ],
        rows,
    )


def breakdown_tables(request: SchoolRequest, board: bd.Breakdowns) -> list[Table]:
    return [
        _place_table(request, "year", _("By year group"), _("Year group"), board.years),
        _place_table(request, "form", _("By form"), _("Form"), board.forms),
        *_code_tables(request, board),
        _pattern_table(request, board),
        _near_table(request, board),
    ]


def csv_response(
    filename: str, head: Sequence[Column], rows: Sequence[Sequence[object]]
) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow([str(c.text) for c in head])
    writer.writerows(rows)
    return response


@require_GET
@require_capability(Capability.VIEW_DASHBOARD)
def breakdowns_page(request: SchoolRequest) -> HttpResponse:
    """Breakdowns by year group, form, code, category, weekday and session, and the pupils
    near a boundary; ``?table=<key>&format=csv`` downloads one table."""
    board = bd.school_breakdowns(
        school=request.school, on=timezone.localdate(), dfe=dfe_asked(request)
    )
    tables = breakdown_tables(request, board)
    if request.GET.get("format") == "csv":
        chosen = next((t for t in tables if t.key == request.GET.get("table")), None)
        if chosen is None:
            raise Http404
        return csv_response(
            f"dashboard-{chosen.key}.csv",
            chosen.head,
            [[cell.text for cell in row] for row in chosen.rows],
        )
    near_counts = (
        sum(p.near_persistent for p in board.pupils),
        sum(p.near_band is not None for p in board.pupils),
    )
    return render(
        request,
        "interventions/dashboards/breakdowns.html",
        {
            "board": board,
            "tables": [
                (
                    t,
                    t.html_rows(),
                    f"{request.path}?{with_dfe(request, {'table': t.key, 'format': 'csv'})}",
                )
                for t in tables
            ],
            "dfe": dfe_asked(request),
            "near_persistent": _number(
                near_counts[0], _pupils_url(request, "near-persistent")
            ).html(),
            "near_band": _number(near_counts[1], _pupils_url(request, "near-band")).html(),
            "sessions_per_week": bd.SESSIONS_PER_WEEK,
        },
    )


def handles(request: HttpRequest, old_measures: Sequence[str]) -> bool:
    """Whether the drill-down asked is one of the breakdowns' (or in DfE mode), so
    ``views.dashboards.dashboard_pupils`` hands it to ``breakdown_pupils``."""
    key = request.GET.get("group", "").partition(":")[0]
    return (
        dfe_asked(request)
        or request.GET.get("measure", "all") not in old_measures
        or key in bd.PLACEMENT_GROUPS
    )


MEASURE_COLUMNS: dict[str, Callable[[], Column]] = {
    "code": lambda: Column(_("Sessions of the code"), numeric=True),
    "slot": lambda: Column(_("Sessions missed in that session"), numeric=True),
    "category": lambda: Column(_("Sessions in the category"), numeric=True),
}


def breakdown_pupils(request: SchoolRequest) -> HttpResponse:
    """The pupils behind a breakdown's number (any ``measure`` of ``bd.pupils_behind``,
    any group including ``year:<id>`` and ``form:<id>``), in DfE mode too; CSV with
    ``&format=csv``. The capability was checked by the calling view."""
    measure = request.GET.get("measure", "all")
    group = request.GET.get("group", "")
    on, dfe = timezone.localdate(), dfe_asked(request)
    kind, _sep, detail = measure.partition(":")
    slot_missed = None
    if kind == "slot":
        slot = bd.parse_slot(detail)
        if slot is None:
            raise Http404
        slot_missed = bd.slot_absences(
            school=request.school, on=on, weekday=slot[0], session=slot[1], dfe=dfe
        )
    board = bd.school_breakdowns(school=request.school, on=on, dfe=dfe)
    chosen = bd.pupils_behind(board, measure=measure, group=group, slot_missed=slot_missed)
    if chosen is None:
        raise Http404
    # Only the names this user may open (a pastoral lead: their year groups').
    visible = set(
        visible_pupils(request, on=on)  # on the day the figures are for
        .filter(pk__in=[pupil.pupil_id for pupil in chosen])
        .values_list("pk", flat=True)
    )
    chosen = [pupil for pupil in chosen if pupil.pupil_id in visible]
    head = [
        Column(_("Pupil")),
        Column(_("Possible sessions"), numeric=True),
        Column(_("Sessions missed"), numeric=True),
        Column(_("Attendance"), numeric=True),
    ]
    extra = MEASURE_COLUMNS.get(kind)
    if extra is not None:
        head.append(extra())
    rows: list[list[object]] = []
    for pupil in chosen:
        row: list[object] = [
            pupil.name,
            pupil.possible,
            pupil.absence,
            pct(percentage(pupil.attendance, pupil.possible)),
        ]
        if kind == "code":
            row.append(pupil.codes[detail])
        if kind == "slot":
            row.append((slot_missed or {}).get(pupil.pupil_id, 0))
        if kind == "category":
            row.append(sum(pupil.codes[c] for c in bd.codes_in_category(board, detail)))
        rows.append(row)
    if request.GET.get("format") == "csv":
        return csv_response("dashboard-pupils.csv", head, rows)
    query = {"measure": measure, "format": "csv", **({"group": group} if group else {})}
    return render(
        request,
        "interventions/dashboards/pupils.html",
        {
            "head": head,
            "rows": rows,
            "csv_url": f"{request.path}?{with_dfe(request, query)}",
            "measure": measure,
            "group": group,
            "dfe": dfe,
        },
    )


def running_chart(points: Sequence[bd.RunningPoint]) -> dict[str, object] | None:
    """Coordinates of a pupil's running attendance line (server-side SVG, as the dashboard's
    trend chart), with the 90% line below which a pupil is persistently absent; ``None``
    with fewer than two school weeks."""
    rates = [p.rate for p in points if p.rate is not None]
    if len(rates) < 2:
        return None
    width, height, left, top = 640.0, 200.0, 40.0, 10.0
    low = min(int(min(rates)) // 10 * 10, 80)
    span = 100 - low

    def y(value: Fraction) -> float:
        return round(top + (height - top - 20) * float((100 - value) / span), 1)

    step = (width - left - 10) / (len(rates) - 1)
    marks = [(round(left + step * i, 1), y(rate)) for i, rate in enumerate(rates)]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - 10,
        "points": " ".join(f"{a},{b}" for a, b in marks),
        "marks": marks,
        "ticks": [(y(Fraction(v)), v) for v in range(low, 101, 10)],
        "persistent_y": y(Fraction(90)),
    }


def pupil_year_context(
    request: SchoolRequest, points: Sequence[bd.RunningPoint]
) -> dict[str, object]:
    """The running line's chart and table for the pupil page."""
    return {
        "running_chart": running_chart(points),
        "running_head": [
            Column(_("Week beginning")),
            Column(_("Possible sessions"), numeric=True),
            Column(_("Sessions attended"), numeric=True),
            Column(_("Attendance so far"), numeric=True),
        ],
        "running_rows": [[p.week_start, p.possible, p.attendance, pct(p.rate)] for p in points],
    }


def _points(value: Fraction | None) -> str:
    """A change in percentage points, signed, with words so it never rests on colour."""
    if value is None:
        return NO_FIGURE
    text = pct1(value)
    if value > 0:
        return _("up %(points)s points") % {"points": text}
    if value < 0:
        return _("down %(points)s points") % {"points": text.lstrip("-")}
    return _("no change")


@require_GET
@require_capability(Capability.VIEW_PUPIL_ATTENDANCE)
def my_forms_attendance(request: SchoolRequest) -> HttpResponse:
    """A form tutor's forms: each pupil's rate, band and change (last four school weeks
    against the weeks before), and the pupils in the mentoring band seed 000 gives tutors
    (``rules.in_mentoring_band``)."""
    forms = bd.tutor_forms_attendance(
        school=request.school, membership=request.access.membership, on=timezone.localdate()
    )
    head = [
        Column(_("Pupil")),
        Column(_("Attendance"), numeric=True),
        Column(_("Band")),
        Column(_("Last 4 school weeks"), numeric=True),
        Column(_("Before them"), numeric=True),
        Column(_("Change")),
        Column(_("Mentoring band")),
    ]

    def row(pupil: bd.TutorPupil) -> list[object]:
        url = reverse(
            "interventions:pupil-attendance",
            kwargs={"school_slug": request.school.slug, "pupil_id": pupil.pupil_id},
        )
        return [
            format_html('<a class="govuk-link" href="{}">{}</a>', url, pupil.name),
            Cell(pct(pupil.rate), float(pupil.rate or 0), numeric=True),
            pupil.band.name if pupil.band else NO_FIGURE,
            Cell(pct(pupil.recent), float(pupil.recent or 0), numeric=True),
            Cell(pct(pupil.before), float(pupil.before or 0), numeric=True),
            Cell(_points(pupil.change), float(pupil.change or 0)),
            _("Yes") if pupil.mentoring else "",
        ]

    tables = [(tutored.form.name, [row(p) for p in tutored.pupils]) for tutored in forms]
    mentoring = [row(p) for tutored in forms for p in tutored.pupils if p.mentoring]
    return render(
        request,
        "interventions/dashboards/my_forms.html",
        {"head": head, "tables": tables, "mentoring": mentoring, "forms": forms},
    )
