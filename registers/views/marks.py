"""Registers and marks: the day's registers, taking one, amending a mark after it closed, a
pupil's marks and the unresolved N list."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from registers import selectors
from registers.codes import codes_for_session
from registers.rules import N_RESOLVE_SCHOOL_DAYS, Phase
from registers.services import marks as services
from registers.services.marks import RegisterEntry
from schools.models import FormGroup, School
from schools.permissions import Capability, can, require_capability
from schools.redirects import safe_next_url
from schools.selectors import pupil_visible_get, school_calendar_get
from schools.types import SchoolRequest

# The keys a tutor presses most; every other code is in the picker (product.md, Registers).
QUICK_KEYS = ["/", "L", "N", "I", "M", "O", "U", "G", "C", "R", "E", "B", "V"]


def _tap_keys(session: str) -> list[str]:
    """The common codes offered as tap targets beside each pupil (issue 9)."""
    return ["/" if session == "AM" else "\\", "L", "N", "I", "M"]


def _current_session(school: School, now: dt.datetime) -> str:
    clock = selectors.register_clock(school=school, now=now)
    return "PM" if clock.time() >= school.pm_register_opens else "AM"


def _parse_date(value: str | None, default: dt.date) -> dt.date:
    if not value:
        return default
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Http404("Not a date") from exc


def _parse_session(value: str | None, default: str) -> str:
    if value in (None, ""):
        return default
    if value not in ("AM", "PM"):
        raise Http404("Not a session")
    return value


@require_GET
@require_capability(Capability.TAKE_REGISTER)
def register_list(request: SchoolRequest) -> HttpResponse:
    """Today's registers (or another day's): each form with how many pupils are marked.

    Registers past their close time and still incomplete are listed first for the officer.
    """
    school, now = request.school, timezone.now()
    day = _parse_date(
        request.GET.get("date"), selectors.register_clock(school=school, now=now).date()
    )
    session = _parse_session(request.GET.get("session"), _current_session(school, now))
    calendar = school_calendar_get(school=school)
    forms = list(selectors.register_forms(school=school, access=request.access, on=day))
    summaries = selectors.register_summaries(school=school, forms=forms, date=day, session=session)
    phases = {
        s.form.pk: selectors.register_phase_now(
            school=school, date=day, session=session, taken=s.complete, now=now
        )
        for s in summaries
    }
    # Past its close time whatever its state: a complete register would be locked by now.
    past_close = (
        selectors.register_phase_now(school=school, date=day, session=session, taken=True, now=now)
        is Phase.LOCKED
    )
    late = [s for s in summaries if past_close and not s.complete]
    return render(
        request,
        "registers/list.html",
        {
            "day": day,
            "session": session,
            "is_session": calendar.is_session(day, session),
            "summaries": [(s, phases[s.form.pk]) for s in summaries],
            "late": late,
            "previous_day": calendar.school_day_before(day),
            "next_day": calendar.nth_school_day_after(day, 1),
            "demo_clock": selectors.demo_clock_time(school=school, now=now),
        },
    )


@require_http_methods(["GET", "POST"])
@require_capability(Capability.TAKE_REGISTER)
@vary_on_headers("HX-Request")
def register_take(request: SchoolRequest, form_id: int, date: str, session: str) -> HttpResponse:
    school = request.school
    day = _parse_date(date, timezone.localdate())
    session = _parse_session(session, "AM")
    form = selectors.register_form_get(
        school=school, access=request.access, form_id=form_id, on=day
    )
    calendar = selectors.session_calendar_get(school=school, date=day, session=session)

    errors: dict[int, str] = {}
    conflicts: dict[int, str] = {}
    status = ""
    if request.method == "POST":
        entries, errors = _entries_from_post(request)
        if not errors:
            assert request.access.membership is not None
            try:
                result = services.register_save(
                    school=school,
                    form=form,
                    date=day,
                    session=session,
                    entries=entries,
                    membership=request.access.membership,
                    calendar=calendar,
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect(_take_url(school, form, day, session))
            errors = result.errors
            conflicts = {
                pupil_id: services.mark_conflict_message(school=school, mark=mark)
                for pupil_id, mark in result.conflicts.items()
            }
            if result.ok and not request.htmx:
                messages.success(request, _saved_message(result.missing))
                return redirect(_take_url(school, form, day, session))
            if result.ok:
                status = _saved_message(result.missing)

    register = selectors.register_find(school=school, form=form, date=day, session=session)
    rows = selectors.register_rows(
        school=school, form=form, date=day, session=session, calendar=calendar
    )
    problems = bool(errors or conflicts)
    for row in rows:
        row.error = errors.get(row.pupil.pk, "")
        row.conflict = conflicts.get(row.pupil.pk, "")
        if problems:  # nothing was saved: show what the tutor typed, not what is stored
            row.entered_code = request.POST.get(f"code-{row.pupil.pk}", "")
            row.entered_minutes = request.POST.get(f"minutes-{row.pupil.pk}", "")
    taken = register is not None and register.taken_at is not None
    phase = selectors.register_phase_now(
        school=school, date=day, session=session, taken=taken, now=timezone.now()
    )
    codes = codes_for_session(jurisdiction=school.jurisdiction, on=day, session=session)
    codes_by_key = {c.code: c for c in codes}
    context = {
        "form": form,
        "day": day,
        "session": session,
        "rows": rows,
        "register": register,
        "phase": phase,
        "locked": phase is Phase.LOCKED,
        "upcoming": phase is Phase.UPCOMING,
        "can_amend": can(request.access, Capability.AMEND_MARK),
        "codes": codes,
        "taps": [codes_by_key[k] for k in _tap_keys(session) if k in codes_by_key],
        "marked_count": sum(1 for row in rows if row.input_code),
        "quick_keys": QUICK_KEYS,
        "times": selectors.register_times(school=school, session=session),
        "has_problems": problems,
        "status": status,
        "demo_clock": selectors.demo_clock_time(school=school),
    }
    template = "registers/take.html#register-form" if request.htmx else "registers/take.html"
    return render(request, template, context, status=200)


def _entries_from_post(request: SchoolRequest) -> tuple[list[RegisterEntry], dict[int, str]]:
    """Read ``code-<pupil>``, ``minutes-<pupil>`` and ``version-<pupil>`` fields, with an error
    for each pupil whose minutes late are not a whole number. Whether minutes go with the code
    is ``mark_validate``'s to say, as it is for the API."""
    entries, errors = [], {}
    for key in request.POST:
        pupil_ref = key.removeprefix("code-")
        if key == pupil_ref or not pupil_ref.isdigit():
            continue
        pupil_id = int(pupil_ref)
        minutes = request.POST.get(f"minutes-{pupil_id}", "").strip()
        version = request.POST.get(f"version-{pupil_id}", "0")
        if minutes and not (minutes.isascii() and minutes.isdigit()):
            errors[pupil_id] = _("Minutes late must be a whole number.")
            continue
        entries.append(
            RegisterEntry(
                pupil_id=pupil_id,
                code=request.POST.get(key, ""),
                minutes_late=int(minutes) if minutes else None,
                loaded_version=int(version) if version.isdigit() else 0,
            )
        )
    return entries, errors


def _saved_message(missing: int) -> str:
    if missing:
        return ngettext(
            "Saved. %(count)s pupil still without a mark.",
            "Saved. %(count)s pupils still without a mark.",
            missing,
        ) % {"count": missing}
    return _("Register saved and complete.")


def _take_url(school: School, form: FormGroup, day: dt.date, session: str) -> str:
    return reverse(
        "registers:take",
        kwargs={
            "school_slug": school.slug,
            "form_id": form.pk,
            "date": day.isoformat(),
            "session": session,
        },
    )


@require_http_methods(["GET", "POST"])
@require_capability(Capability.AMEND_MARK)
def mark_amend(request: SchoolRequest, pupil_id: int, date: str, session: str) -> HttpResponse:
    school = request.school
    day = _parse_date(date, timezone.localdate())
    session = _parse_session(session, "AM")
    pupil = pupil_visible_get(
        school=school, access=request.access, user=request.user, pupil_id=pupil_id, on=day
    )
    # A day or half-day without a school session has no mark to amend: our 404 page.
    selectors.session_calendar_get(school=school, date=day, session=session)
    mark = selectors.mark_get(school=school, pupil=pupil, date=day, session=session)
    error = ""
    if request.method == "POST":
        assert request.access.membership is not None
        minutes = request.POST.get("minutes_late", "").strip()
        try:
            if minutes and not (minutes.isascii() and minutes.isdigit()):
                raise ValidationError(_("Minutes late must be a whole number."))
            services.mark_amend(
                school=school,
                pupil=pupil,
                date=day,
                session=session,
                code=request.POST.get("code", ""),
                minutes_late=int(minutes) if minutes else None,
                reason=request.POST.get("reason", ""),
                membership=request.access.membership,
            )
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(
                request,
                _("Mark for %(pupil)s on %(date)s %(session)s amended.")
                % {"pupil": pupil, "date": date_format(day, "D d M"), "session": session},
            )
            fallback = reverse(
                "registers:pupil-marks", kwargs={"school_slug": school.slug, "pupil_id": pupil.pk}
            )
            return redirect(safe_next_url(request, fallback))
    history = selectors.mark_history(school=school, pupil=pupil).filter(date=day, session=session)
    return render(
        request,
        "registers/amend.html",
        {
            "pupil": pupil,
            "day": day,
            "session": session,
            "mark": mark,
            "history": history,
            "error": error,
            "codes": codes_for_session(jurisdiction=school.jurisdiction, on=day, session=session),
            "posted": request.POST,
            "next": safe_next_url(request, ""),
        },
        status=400 if error else 200,
    )


@require_GET
@require_capability(Capability.VIEW_MARKS)
def pupil_marks(request: SchoolRequest, pupil_id: int) -> HttpResponse:
    """A pupil's marks this academic year, session by session, with the amendment history."""
    school, today = request.school, timezone.localdate()
    pupil = pupil_visible_get(
        school=school, access=request.access, user=request.user, pupil_id=pupil_id, on=today
    )
    is_parent = not can(request.access, Capability.VIEW_PUPIL_RECORD)
    # A parent sees the marks as a calendar with its legend (and the page of days missed,
    # whose figures are the engine's, links from here); staff see the weeks with amend links.
    marks = (
        [] if is_parent else selectors.pupil_recent_marks(school=school, pupil=pupil, until=today)
    )
    return render(
        request,
        "registers/pupil_marks.html",
        {
            "pupil": pupil,
            "weeks": marks,
            "calendar": (
                selectors.pupil_mark_calendar(school=school, pupil=pupil, today=today)
                if is_parent
                else None
            ),
            "history": [] if is_parent else selectors.mark_history(school=school, pupil=pupil)[:50],
            "can_amend": can(request.access, Capability.AMEND_MARK),
            "is_parent": is_parent,
        },
    )


@require_GET
@require_capability(Capability.VIEW_UNRESOLVED_N)
def unresolved_n(request: SchoolRequest) -> HttpResponse:
    today = timezone.localdate()
    items = selectors.unresolved_n_marks(school=request.school)
    return render(
        request,
        "registers/unresolved_n.html",
        {
            "items": [(item, item.is_overdue(today)) for item in items],
            "today": today,
            "resolve_days": N_RESOLVE_SCHOOL_DAYS,
            "can_amend": can(request.access, Capability.AMEND_MARK),
        },
    )
