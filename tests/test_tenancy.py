from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils import timezone
from django_scopes import ScopeError, scopes_disabled

from interventions.models import (
    AttendanceBand,
    AttendanceEvent,
    AttendanceRules,
    Case,
    CaseAction,
    CaseStageChange,
    ContactAttempt,
    EnrolmentAttendance,
    LAReturn,
    NoticeToImprove,
    PenaltyNotice,
    PenaltyNoticeRequest,
    QueueItem,
    QueueItemChange,
    QueueSettings,
    RecomputeRun,
    RunKind,
    SchoolRollup,
    SchoolYearRollup,
    WeeklySummary,
)
from interventions.penalty_notices import NTI_FIELDS
from interventions.rules import EventKind
from letters.models import (
    EmailDelivery,
    FamilyLetterLanguage,
    Letter,
    LetterBatch,
    LetterBatchChunk,
    LetterBatchItem,
    Letterhead,
    LetterTemplate,
)
from registers.codes import CodeScheme
from registers.models import (
    AbsenceReason,
    AbsenceReport,
    AttendanceMark,
    LeaveRequest,
    MarkChange,
    MarkSource,
    PartTimeTimetable,
    Register,
    ReportStatus,
    RetentionRecord,
)
from schools.models import (
    Enrolment,
    FormGroup,
    ParentLink,
    Pupil,
    Role,
    School,
    StaffMembership,
    StaffYearGroup,
    TrustMembership,
)
from schools.permissions import ROLE_MATRIX, Capability, PupilScope, pupil_scope
from schools.scoping import SchoolOwned, school_scope, schools_scope
from schools.selectors import school_calendar_get
from schools.types import SchoolAccess
from tests import factories as f
from tests.conftest import STAFF_ROLES_IN_SCHOOL, SchoolWorld, World

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as TestResponse

pytestmark = pytest.mark.django_db

# Tenant isolation (spec/security.md part A): every URL, every role, every school-owned model.
#
# The URL patterns are read from the root URLConf, never listed by hand. A new pattern that
# takes route arguments fails test_every_pattern_has_sample_arguments until it gets an entry
# in SAMPLE_KWARGS; from then on the isolation matrix covers it.

# --- the URLConf, read automatically ---------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # "schools:pupil-detail"; unnamed patterns get "<namespace>:<unnamed route>"
    namespace: str
    segments: tuple[str, ...]  # the route (or regex) text of each level, outermost first
    kwargs: frozenset[str]
    callback: Callable[..., Any]
    named: bool


def _walk(
    patterns: Sequence[URLPattern | URLResolver],
    namespaces: tuple[str, ...] = (),
    segments: tuple[str, ...] = (),
    regex: str = "",
) -> Iterator[Route]:
    for entry in patterns:
        full_regex = regex + entry.pattern.regex.pattern.removeprefix("^")
        here = (*segments, str(entry.pattern))
        if isinstance(entry, URLResolver):
            inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry.url_patterns, inner, here, full_regex)
            continue
        label = entry.name or f"<unnamed {''.join(here)}>"
        yield Route(
            name=":".join((*namespaces, label)),
            namespace=":".join(namespaces),
            segments=here,
            kwargs=frozenset(re.compile(full_regex).groupindex),
            callback=entry.callback,
            named=entry.name is not None,
        )


ROUTES = list(_walk(get_resolver().url_patterns))

# Sample route arguments for every pattern that takes any, built from one school of the world.
# A new pattern without an entry fails test_every_pattern_has_sample_arguments.
SampleKwargs = Callable[[SchoolWorld], dict[str, object]]


def _form(ws: SchoolWorld) -> FormGroup:
    assert ws.form is not None
    return ws.form


def _form_id(ws: SchoolWorld) -> int:
    return _form(ws).pk


def _school_day(ws: SchoolWorld) -> dt.date:
    """The latest school day up to today in the school's own calendar."""
    with scopes_disabled():
        calendar = school_calendar_get(school=ws.school)
    day = calendar.school_day_before(timezone.localdate() + dt.timedelta(days=1))
    assert day is not None, "the world's calendar has school days before today"
    return day


def _trust_slug(ws: SchoolWorld) -> str:
    assert ws.school.trust is not None
    return ws.school.trust.slug


def _report_id(ws: SchoolWorld) -> int:
    with scopes_disabled():
        report = AbsenceReport.objects.filter(school=ws.school).order_by("pk").first()
    assert report is not None, "build_school_world makes an absence report"
    return report.pk


def _leave_id(ws: SchoolWorld) -> int:
    with scopes_disabled():
        leave = LeaveRequest.objects.filter(school=ws.school).order_by("pk").first()
    assert leave is not None, "build_school_world makes a leave request"
    return leave.pk


def _case_id(ws: SchoolWorld) -> int:
    with scopes_disabled():
        case = Case.objects.filter(school=ws.school).order_by("pk").first()
    assert case is not None, "build_school_world opens a case"
    return case.pk


def _letter_id(ws: SchoolWorld) -> int:
    with scopes_disabled():
        letter = Letter.objects.filter(school=ws.school).order_by("pk").first()
    assert letter is not None, "build_school_world makes a letter"
    return letter.pk


def _letter_template_id(ws: SchoolWorld) -> int:
    with scopes_disabled():
        template = LetterTemplate.objects.filter(school=ws.school).order_by("pk").first()
    assert template is not None, "build_school_world makes a letter template"
    return template.pk


def _batch_id(ws: SchoolWorld) -> int:
    with scopes_disabled():
        batch = LetterBatch.objects.filter(school=ws.school).order_by("pk").first()
    assert batch is not None, "build_school_world makes a letter batch"
    return batch.pk


def _first_id(model: type[models.Model], ws: SchoolWorld) -> int:
    """The school's first row of ``model`` (the world builder makes one of each)."""
    with scopes_disabled():
        row = model._default_manager.filter(school=ws.school).order_by("pk").first()
    assert row is not None, f"build_school_world makes a {model._meta.label}"
    pk: int = row.pk
    return pk


def _case_kwargs(ws: SchoolWorld) -> dict[str, object]:
    return {"school_slug": ws.school.slug, "case_id": _case_id(ws)}


def _sample_queue_item_id(ws: SchoolWorld) -> int:
    with scopes_disabled():
        item = QueueItem.objects.filter(school=ws.school, key="world-sample").first()
    assert item is not None, "build_school_world makes a queue item"
    return item.pk


SAMPLE_KWARGS: dict[str, SampleKwargs] = {
    "letters:templates": lambda ws: {"school_slug": ws.school.slug},
    "letters:outbox": lambda ws: {"school_slug": ws.school.slug},
    "letters:letterhead": lambda ws: {"school_slug": ws.school.slug},
    "letters:print-pile": lambda ws: {"school_slug": ws.school.slug},
    "letters:print-pile-pdf": lambda ws: {"school_slug": ws.school.slug},
    "letters:letter-pdf": lambda ws: {"school_slug": ws.school.slug, "letter_id": _letter_id(ws)},
    "letters:letter-send": lambda ws: {"school_slug": ws.school.slug, "letter_id": _letter_id(ws)},
    "letters:template-edit": lambda ws: {
        "school_slug": ws.school.slug,
        "template_id": _letter_template_id(ws),
    },
    "letters:batch-create": lambda ws: {
        "school_slug": ws.school.slug,
        "template_id": _letter_template_id(ws),
    },
    "letters:pupil-letters": lambda ws: {
        "school_slug": ws.school.slug,
        "pupil_id": ws.pupils[0].pk,
    },
    "letters:pupil-letter-language": lambda ws: {
        "school_slug": ws.school.slug,
        "pupil_id": ws.pupils[0].pk,
    },
    "letters:case-letter": lambda ws: {"school_slug": ws.school.slug, "case_id": _case_id(ws)},
    "letters:queue-item-letter": lambda ws: {
        "school_slug": ws.school.slug,
        "item_id": _sample_queue_item_id(ws),
    },
    "letters:batch": lambda ws: {"school_slug": ws.school.slug, "batch_id": _batch_id(ws)},
    "letters:batch-cancel": lambda ws: {"school_slug": ws.school.slug, "batch_id": _batch_id(ws)},
    "letters:batch-pdf": lambda ws: {"school_slug": ws.school.slug, "batch_id": _batch_id(ws)},
    "letters:batch-zip": lambda ws: {"school_slug": ws.school.slug, "batch_id": _batch_id(ws)},
    "letters:batch-resume": lambda ws: {"school_slug": ws.school.slug, "batch_id": _batch_id(ws)},
    "letters:batch-new": lambda ws: {"school_slug": ws.school.slug},
    "password_reset_confirm": lambda ws: {"uidb64": "MQ", "token": "set-password"},
    "schools:home": lambda ws: {"school_slug": ws.school.slug},
    "schools:settings": lambda ws: {"school_slug": ws.school.slug},
    "schools:staff-year-groups": lambda ws: {"school_slug": ws.school.slug},
    "schools:audit": lambda ws: {"school_slug": ws.school.slug},
    "schools:subject-access": lambda ws: {
        "school_slug": ws.school.slug,
        "pupil_id": ws.pupils[0].pk,
    },
    "interventions:attendance-settings": lambda ws: {"school_slug": ws.school.slug},
    "interventions:pupil-attendance": lambda ws: {
        "school_slug": ws.school.slug,
        "pupil_id": ws.pupils[0].pk,
    },
    "interventions:child-days-missed": lambda ws: {
        "school_slug": ws.school.slug,
        "pupil_id": ws.pupils[0].pk,
    },
    "interventions:attendance-summary": lambda ws: {"school_slug": ws.school.slug},
    "interventions:dashboard": lambda ws: {"school_slug": ws.school.slug},
    "interventions:dashboard-pupils": lambda ws: {"school_slug": ws.school.slug},
    "interventions:dashboard-breakdowns": lambda ws: {"school_slug": ws.school.slug},
    "interventions:my-forms-attendance": lambda ws: {"school_slug": ws.school.slug},
    "interventions:queues": lambda ws: {"school_slug": ws.school.slug},
    "interventions:trust-attendance": lambda ws: {"trust_slug": _trust_slug(ws)},
    "interventions:trust-dashboard": lambda ws: {"trust_slug": _trust_slug(ws)},
    "schools:form-detail": lambda ws: {"school_slug": ws.school.slug, "form_id": _form_id(ws)},
    "schools:pupil-detail": lambda ws: {
        "school_slug": ws.school.slug,
        "pupil_id": ws.pupils[0].pk,
    },
    "schools:trust-home": lambda ws: {"trust_slug": _trust_slug(ws)},
    "registers:list": lambda ws: {"school_slug": ws.school.slug},
    "registers:take": lambda ws: {
        "school_slug": ws.school.slug,
        "form_id": _form_id(ws),
        "date": _school_day(ws).isoformat(),
        "session": "AM",
    },
    "registers:pupil-marks": lambda ws: {
        "school_slug": ws.school.slug,
        "pupil_id": ws.pupils[0].pk,
    },
    "registers:amend": lambda ws: {
        "school_slug": ws.school.slug,
        "pupil_id": ws.pupils[0].pk,
        "date": _school_day(ws).isoformat(),
        "session": "AM",
    },
    "registers:unresolved-n": lambda ws: {"school_slug": ws.school.slug},
    "absences:report-absence": lambda ws: {"school_slug": ws.school.slug},
    "absences:request-leave": lambda ws: {"school_slug": ws.school.slug},
    "absences:my-requests": lambda ws: {"school_slug": ws.school.slug},
    "absences:my-evidence": lambda ws: {"school_slug": ws.school.slug, "report_id": _report_id(ws)},
    "absences:public-report": lambda ws: {"school_ref": ws.school.slug},
    "absences:inbox": lambda ws: {"school_slug": ws.school.slug},
    "absences:inbox-report": lambda ws: {
        "school_slug": ws.school.slug,
        "report_id": _report_id(ws),
    },
    "absences:inbox-evidence": lambda ws: {
        "school_slug": ws.school.slug,
        "report_id": _report_id(ws),
    },
    "absences:leave-list": lambda ws: {"school_slug": ws.school.slug},
    "absences:leave-decide": lambda ws: {"school_slug": ws.school.slug, "leave_id": _leave_id(ws)},
    "api:pupil-list": lambda ws: {"school_slug": ws.school.slug},
    "api:pupil-detail": lambda ws: {"school_slug": ws.school.slug, "pupil_id": ws.pupils[0].pk},
    "api:pupil-marks": lambda ws: {"school_slug": ws.school.slug, "pupil_id": ws.pupils[0].pk},
    "api:register": lambda ws: {
        "school_slug": ws.school.slug,
        "form_id": _form_id(ws),
        "date": _school_day(ws).isoformat(),
        "session": "AM",
    },
    "api:mark-amend": lambda ws: {"school_slug": ws.school.slug},
    "api:pupil-attendance": lambda ws: {
        "school_slug": ws.school.slug,
        "pupil_id": ws.pupils[0].pk,
    },
    "api:attendance-summary": lambda ws: {"school_slug": ws.school.slug},
    "api:attendance-events": lambda ws: {"school_slug": ws.school.slug},
    "api:queues": lambda ws: {"school_slug": ws.school.slug},
    "api:queue-items": lambda ws: {"school_slug": ws.school.slug},
    **{
        f"api:queue-item-{name}": lambda ws: {
            "school_slug": ws.school.slug,
            "item_id": _first_id(QueueItem, ws),
        }
        for name in ("claim", "snooze", "close", "decide", "contacts")
    },
    "api:cases": lambda ws: {"school_slug": ws.school.slug},
    **{
        f"api:case-{name}": _case_kwargs
        for name in ("detail", "stage", "close", "actions", "contacts", "ntis", "pn-requests")
    },
    "api:case-action-done": lambda ws: _case_kwargs(ws) | {"action_id": _first_id(CaseAction, ws)},
    "api:case-action": lambda ws: _case_kwargs(ws) | {"action_id": _first_id(CaseAction, ws)},
    "api:nti-outcome": lambda ws: {
        "school_slug": ws.school.slug,
        "nti_id": _first_id(NoticeToImprove, ws),
    },
    "api:pn-request-sign-off": lambda ws: {
        "school_slug": ws.school.slug,
        "request_id": _first_id(PenaltyNoticeRequest, ws),
    },
    "api:pupil-penalty-notices": lambda ws: {
        "school_slug": ws.school.slug,
        "pupil_id": ws.pupils[0].pk,
    },
    "api:penalty-notice-status": lambda ws: {
        "school_slug": ws.school.slug,
        "notice_id": _first_id(PenaltyNotice, ws),
    },
    "api:la-returns": lambda ws: {"school_slug": ws.school.slug},
    "api:la-return-sent": lambda ws: {
        "school_slug": ws.school.slug,
        "return_id": _first_id(LAReturn, ws),
    },
    "api:la-return-enquiries": lambda ws: {
        "school_slug": ws.school.slug,
        "return_id": _first_id(LAReturn, ws),
    },
    "interventions:case-list": lambda ws: {"school_slug": ws.school.slug},
    "interventions:la-returns": lambda ws: {"school_slug": ws.school.slug},
    "interventions:case-detail": lambda ws: {
        "school_slug": ws.school.slug,
        "case_id": _case_id(ws),
    },
}

# Plausible bodies for POST, so a view that wrongly accepted the request would act on it.
SAMPLE_POST_DATA: dict[str, dict[str, str]] = {
    "interventions:attendance-settings": {"action": "install-preset", "preset": "seed_002"},
    "absences:inbox-report": {"action": "accept", "code": "I"},
    "absences:leave-decide": {"action": "approve", "note": "Cross-school approval attempt"},
    "registers:amend": {"code": "O", "reason": "Cross-school amendment attempt"},
    "interventions:case-detail": {"action": "close", "outcome": "Cross-school close attempt"},
    "interventions:queues": {"action": "close", "item": "1", "outcome": "Cross-school close"},
    "schools:settings": {
        "attendance_target": "80.0",
        "welsh_language": "on",
        "am_register_opens": "08:00",
        "am_register_closes": "08:20",
        "am_session_ends": "11:00",
        "pm_register_opens": "12:00",
        "pm_register_closes": "12:20",
        "pm_session_ends": "14:00",
    },
}
DEFAULT_POST_DATA = {"legal_surname": "Changed", "name": "Changed", "code": "O", "note": "x"}

# TEN-11: the only patterns an anonymous visitor may use. Code review approves every entry.
PUBLIC_PATTERNS = frozenset(
    {
        "login",  # signing in
        "password_reset",  # asking for a reset link (answers the same for unknown addresses)
        "password_reset_done",
        "password_reset_confirm",  # the emailed link; the token is the credential
        "password_reset_complete",
        "health",  # uptime probe; answers {"status": "ok"} and nothing else
        "accessibility",  # the accessibility statement: the same text for everyone
        # The English | Cymraeg switcher: sets the language cookie (and, when signed in, the
        # account's preference, only the user's own); reads no school data.
        "set_language",
        "admin:login",  # the platform admin's own sign-in page
        # Parents without an account report an absence (spec/security.md part E): it only
        # ever creates an unverified report, answers alike for known and unknown pupils, and
        # is rate-limited per client and per school.
        "absences:public-report",
    }
)
# Platform pages, not tenant pages: Django admin for platform superusers (TEN-12). They take
# no school; they send anonymous visitors to the admin's own sign-in page, and their route
# arguments come from ADMIN_SAMPLE_KWARGS by argument name.
PLATFORM_NAMESPACES = frozenset({"admin"})
ADMIN_SAMPLE_KWARGS = {
    "object_id": "1",
    "content_type_id": "1",
    "id": "1",
    "app_label": "auth",
    "url": "no-such-page/",
    "pk": "1",  # django-otp admin: a TOTP device's config and QR pages
}

# TEN-01 says "every method"; the anonymous check (TEN-11) uses the same list.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# Route arguments that name the tenant, resolved by the middleware (STYLE.md rule 2).
TENANT_KWARGS = frozenset({"school_slug", "trust_slug"})

TRUST_LEADER = Role.TRUST_LEADER
A1_ACTORS = [*STAFF_ROLES_IN_SCHOOL, Role.PARENT, TRUST_LEADER]


def _is_platform(route: Route) -> bool:
    return route.namespace.split(":")[0] in PLATFORM_NAMESPACES


def _kwargs_for(route: Route, ws: SchoolWorld) -> dict[str, object]:
    if _is_platform(route):
        return {name: ADMIN_SAMPLE_KWARGS[name] for name in route.kwargs}
    return SAMPLE_KWARGS[route.name](ws) if route.kwargs else {}


def _url(route: Route, kwargs: dict[str, object]) -> str:
    if route.named:
        return reverse(route.name, kwargs=kwargs)

    # Unnamed (admin) patterns cannot be reversed: fill in the route text and check that it
    # resolves back to the same view.
    def fill(segment: str) -> str:
        segment = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m[1]]), segment)
        segment = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m[1]]), segment)
        return segment.removeprefix("^").removesuffix("$").removesuffix(r"\Z")

    url = "/" + "".join(fill(segment) for segment in route.segments)
    assert resolve(url).func == route.callback, f"could not build a URL for {route.name}"
    return url


def _user(world: World, actor: Role) -> Any:
    return world.trust_a_leader if actor == TRUST_LEADER else world.a1.users[actor]


def _request(client: Client, method: str, url: str, route: Route) -> TestResponse:
    if method == "GET":
        return client.get(url)
    body = urlencode(SAMPLE_POST_DATA.get(route.name, DEFAULT_POST_DATA))
    return client.generic(method, url, body, content_type="application/x-www-form-urlencoded")


def _identifiers(ws: SchoolWorld) -> list[str]:
    """Strings that would tell a reader something about this school's people."""
    school = ws.school
    found = [school.name, school.slug, school.urn]
    if school.trust is not None:
        found += [school.trust.name, school.trust.slug]
    if ws.form is not None:
        found.append(ws.form.name)
    for pupil in ws.pupils:
        found += [pupil.upn, pupil.display_name, f"{pupil.legal_forename} {pupil.legal_surname}"]
    for contact in ws.contacts:
        found += [contact.full_name, contact.email]
    return found


def _found_in(body: str, texts: list[str]) -> list[str]:
    """The texts that appear in ``body`` as whole tokens ("School 1" is not in "School 12")."""
    return [
        text
        for text in texts
        if re.search(rf"(?<![\w-]){re.escape(text)}(?![\w-])", body) is not None
    ]


def _tenant_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models() if issubclass(model, SchoolOwned)]


def _snapshot(school: School) -> dict[str, tuple[int, str]]:
    """Count and hash of every field of every row the school owns, and of the school itself."""
    with scopes_disabled():
        querysets: list[tuple[str, models.QuerySet[Any]]] = [
            ("schools.School", School.objects.filter(pk=school.pk))
        ]
        querysets += [
            (model._meta.label, model._default_manager.filter(school=school))
            for model in _tenant_models()
        ]
        snapshot = {}
        for label, queryset in querysets:
            fields = [field.attname for field in queryset.model._meta.concrete_fields]
            rows = list(queryset.order_by("pk").values_list(*fields))
            digest = hashlib.sha256(repr(rows).encode()).hexdigest()
            snapshot[label] = (len(rows), digest)
    return snapshot


# --- the URLConf is covered ------------------------------------------------------------------


def test_every_pattern_has_sample_arguments(world):
    missing = [
        f"{route.name} takes {sorted(route.kwargs)}: add an entry to SAMPLE_KWARGS in "
        "tests/test_tenancy.py so the isolation matrix covers it"
        for route in ROUTES
        if route.kwargs and not _is_platform(route) and route.name not in SAMPLE_KWARGS
    ]
    assert missing == []

    by_name = {route.name: route for route in ROUTES}
    stale = sorted(set(SAMPLE_KWARGS) - set(by_name))
    assert stale == [], "SAMPLE_KWARGS names patterns that no longer exist"
    for name, sample in SAMPLE_KWARGS.items():
        assert set(sample(world.a1)) == by_name[name].kwargs, name
        reverse(name, kwargs=sample(world.a1))


def test_every_app_pattern_is_named():
    # Unnamed patterns cannot carry SAMPLE_KWARGS or be reversed in templates.
    unnamed = [route.name for route in ROUTES if not route.named and not _is_platform(route)]
    assert unnamed == []


def test_platform_patterns_take_only_known_admin_arguments():
    unknown = {
        route.name: sorted(route.kwargs - set(ADMIN_SAMPLE_KWARGS))
        for route in ROUTES
        if _is_platform(route) and route.kwargs - set(ADMIN_SAMPLE_KWARGS)
    }
    assert unknown == {}, "add a sample value to ADMIN_SAMPLE_KWARGS"


def test_the_tenant_patterns_are_found():
    # Guards the walker itself: if it stopped descending into includes, the matrix would
    # silently test nothing.
    names = {route.name for route in ROUTES}
    assert {"schools:home", "schools:pupil-detail", "schools:trust-home"} <= names
    assert any(route.name.startswith("admin:") for route in ROUTES)


def test_every_app_pattern_with_object_ids_names_its_tenant():
    # A pattern that takes ids but no school or trust would escape the isolation matrix, and
    # would have to find the tenant some second, unchecked way (STYLE.md rule 2).
    untenanted = [
        route.name
        for route in ROUTES
        if route.kwargs
        and not route.kwargs & TENANT_KWARGS
        and not _is_platform(route)
        and route.name not in PUBLIC_PATTERNS
    ]
    assert untenanted == []


# --- TEN-11: every URL needs a signed-in user, except the allowlist ------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_everywhere_else(world, client):
    login_url = resolve_url(settings.LOGIN_URL)
    admin_login_url = reverse("admin:login")
    failures = []
    for route in ROUTES:
        if route.name in PUBLIC_PATTERNS:
            continue
        url = _url(route, _kwargs_for(route, world.a1))
        sign_in_pages = (login_url, admin_login_url) if _is_platform(route) else (login_url,)
        for method in METHODS:
            response = _request(client, method, url, route)
            location = response.get("Location", "")
            if response.status_code in (401, 403):
                continue
            if response.status_code == 302 and location.startswith(sign_in_pages):
                continue
            failures.append(f"{method} {url} ({route.name}): {response.status_code} {location}")
    assert failures == []


def test_the_public_allowlist_is_real_and_really_public(world, client):
    by_name = {route.name: route for route in ROUTES}
    assert sorted(PUBLIC_PATTERNS - set(by_name)) == []
    login_url = resolve_url(settings.LOGIN_URL)
    for name in PUBLIC_PATTERNS:
        route = by_name[name]
        response = client.get(_url(route, _kwargs_for(route, world.a1)))
        # An entry that now needs signing in should leave the allowlist.
        assert response.status_code in (200, 302), name
        assert not response.get("Location", "").startswith(login_url), name


# --- TEN-01: another school's objects are 404, on every school URL, for every A1 role ---------


@pytest.mark.parametrize("actor", A1_ACTORS)
def test_a1_users_get_404_for_b1_on_every_school_url(world, client_for, actor):
    client = client_for(_user(world, actor))
    a1, b1 = world.a1, world.b1
    b1_identifiers = _identifiers(b1)
    school_routes = [route for route in ROUTES if "school_slug" in route.kwargs]
    assert school_routes
    before = _snapshot(b1.school)

    failures = []
    for route in school_routes:
        b1_kwargs = SAMPLE_KWARGS[route.name](b1)
        cases = {"B1's slug and ids": b1_kwargs}
        if route.kwargs - {"school_slug"}:
            cases["A1's slug, B1's ids"] = b1_kwargs | {"school_slug": a1.school.slug}
        for case, kwargs in cases.items():
            url = _url(route, kwargs)
            for method in METHODS:
                response = _request(client, method, url, route)
                where = f"{actor} {method} {route.name} with {case}"
                status = response.status_code
                if status == 405 and case.startswith("A1"):
                    # A method the view never accepts is refused before any object is looked
                    # up, so the answer says nothing about B1: the same request for A1's own
                    # object must be refused the same way.
                    own = _request(
                        client, method, _url(route, SAMPLE_KWARGS[route.name](a1)), route
                    )
                    if own.status_code != 405:
                        failures.append(f"{where}: 405, but {own.status_code} for A1's own")
                elif status != 404:
                    failures.append(f"{where}: {status}, expected 404")
                leaked = _found_in(response.content.decode(), b1_identifiers)
                if leaked:
                    failures.append(f"{where}: body shows B1's {leaked}")
        # Once per pattern, after all its methods and cases: cheap enough to grow with the app.
        after = _snapshot(b1.school)
        if changed := sorted(label for label in after if after[label] != before[label]):
            failures.append(f"{actor} requests to {route.name} changed B1's {changed}")
            before = after
    assert failures == []


MISSING_IDS = {"never used": 10**9 + 7, "beyond bigint": 2**64}


def _without_csrf(body: str) -> str:
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1", body)


def test_a_b1_id_answers_exactly_like_an_id_that_does_not_exist(world, client_for):
    # "Not yours" must be indistinguishable from "does not exist" (TEN-01, STYLE.md rule 2),
    # down to the page; asked as the headteacher, who may see every pupil of A1.
    client = client_for(world.a1.users[Role.HEADTEACHER])
    slug = world.a1.school.slug
    id_routes = [r for r in ROUTES if "school_slug" in r.kwargs and r.kwargs - TENANT_KWARGS]
    assert id_routes

    differences = []
    for route in id_routes:
        foreign = SAMPLE_KWARGS[route.name](world.b1) | {"school_slug": slug}
        foreign_body = _without_csrf(client.get(_url(route, foreign)).content.decode())
        for label, missing_id in MISSING_IDS.items():
            missing = {
                name: missing_id if isinstance(value, int) else value
                for name, value in foreign.items()
            }
            response = client.get(_url(route, missing))
            if response.status_code != 404:
                differences.append(f"{route.name} {label}: {response.status_code}")
            elif _without_csrf(response.content.decode()) != foreign_body:
                differences.append(f"{route.name}: B1's id and a {label} id give different pages")
    assert differences == []


# --- trusts (TEN-04) ---------------------------------------------------------------------------


def _trust_url(ws: SchoolWorld) -> str:
    return reverse("schools:trust-home", kwargs={"trust_slug": _trust_slug(ws)})


def _home_url(ws: SchoolWorld) -> str:
    return reverse("schools:home", kwargs={"school_slug": ws.school.slug})


def test_trust_leader_sees_their_trust_and_not_another(world, client_for):
    body = client_for(world.trust_a_leader).get(_trust_url(world.a1)).content.decode()

    a_schools = [world.a1.school.name, world.a2.school.name]
    assert _found_in(body, a_schools) == a_schools
    assert _found_in(body, _identifiers(world.b1)) == []


def test_every_trust_url_is_404_for_another_trusts_leader(world, client_for):
    trust_routes = [route for route in ROUTES if "trust_slug" in route.kwargs]
    assert trust_routes
    leader_a = client_for(world.trust_a_leader)
    before = _snapshot(world.b1.school)

    failures = []
    for route in trust_routes:
        url = _url(route, SAMPLE_KWARGS[route.name](world.b1))
        for method in METHODS:
            response = _request(leader_a, method, url, route)
            if response.status_code != 404:
                failures.append(f"{method} {route.name}: {response.status_code}")
            if leaked := _found_in(response.content.decode(), _identifiers(world.b1)):
                failures.append(f"{method} {route.name}: body shows {leaked}")
    assert failures == []
    assert _snapshot(world.b1.school) == before


def test_every_trust_url_is_404_for_school_users_of_that_trust(world, client_for):
    trust_routes = [route for route in ROUTES if "trust_slug" in route.kwargs]
    outcomes = {
        (role, route.name): client_for(world.a1.users[role])
        .get(_url(route, SAMPLE_KWARGS[route.name](world.a1)))
        .status_code
        for role in [*STAFF_ROLES_IN_SCHOOL, Role.PARENT]
        for route in trust_routes
    }
    assert outcomes
    assert set(outcomes.values()) == {404}, outcomes


def test_trust_leader_opens_every_school_of_the_trust_and_no_other(world, client_for):
    leader_a = client_for(world.trust_a_leader)

    assert leader_a.get(_home_url(world.a1)).status_code == 200
    assert leader_a.get(_home_url(world.a2)).status_code == 200
    assert leader_a.get(_home_url(world.b1)).status_code == 404
    assert client_for(world.trust_b_leader).get(_home_url(world.a1)).status_code == 404


# --- TEN-10: a revoked role ends access on the next request ------------------------------------


@pytest.mark.parametrize("revoke", ["deactivate", "delete"])
def test_staff_who_lose_their_membership_get_404_on_the_next_request(world, client_for, revoke):
    head = world.a1.users[Role.HEADTEACHER]
    client = client_for(head)
    settings_url = reverse("schools:settings", kwargs={"school_slug": world.a1.school.slug})
    assert client.get(_home_url(world.a1)).status_code == 200
    assert client.get(settings_url).status_code == 200

    with school_scope(world.a1.school):
        membership = StaffMembership.objects.get(user=head)
        if revoke == "deactivate":
            membership.is_active = False
            membership.save(update_fields=["is_active"])
        else:
            membership.delete()

    assert client.get(_home_url(world.a1)).status_code == 404
    assert client.get(settings_url).status_code == 404
    assert client.post(settings_url, SAMPLE_POST_DATA["schools:settings"]).status_code == 404


def test_trust_leader_who_loses_the_trust_gets_404_on_the_next_request(world, client_for):
    client = client_for(world.trust_a_leader)
    assert client.get(_trust_url(world.a1)).status_code == 200
    assert client.get(_home_url(world.a2)).status_code == 200

    TrustMembership.objects.filter(user=world.trust_a_leader).update(is_active=False)

    assert client.get(_trust_url(world.a1)).status_code == 404
    assert client.get(_home_url(world.a2)).status_code == 404


def test_parent_whose_link_is_removed_gets_404_on_the_next_request(world, client_for):
    parent = world.a1.users[Role.PARENT]
    client = client_for(parent)
    child_url = reverse(
        "schools:pupil-detail",
        kwargs={"school_slug": world.a1.school.slug, "pupil_id": world.a1.pupils[0].pk},
    )
    assert client.get(child_url).status_code == 200

    with school_scope(world.a1.school):
        ParentLink.objects.filter(user=parent).delete()

    assert client.get(child_url).status_code == 404
    assert client.get(_home_url(world.a1)).status_code == 404


# --- TEN-07: school-owned models fail closed ---------------------------------------------------

# Rows for school-owned models that the ``world`` fixture does not create, so the scoping test
# has something in two schools to tell apart. Each maker runs with scopes disabled.
NOW = dt.datetime(2024, 9, 9, 9, 0, tzinfo=dt.UTC)


def _mark(ws: SchoolWorld, day: dt.date) -> AttendanceMark:
    return AttendanceMark.objects.create(
        school=ws.school,
        pupil=ws.pupils[0],
        date=day,
        session="AM",
        code="N",
        scheme=CodeScheme.ENG_2024,
        source=MarkSource.REGISTER,
        recorded_at=NOW,
    )


def _mark_change(ws: SchoolWorld) -> MarkChange:
    mark = _mark(ws, dt.date(2024, 9, 10))
    return MarkChange.objects.create(
        school=ws.school,
        mark=mark,
        pupil=mark.pupil,
        date=mark.date,
        session=mark.session,
        original_code="N",
        original_recorded_at=NOW,
        new_code="I",
        reason="Parent rang",
        changed_at=NOW,
        changed_by_name="A Officer",
        changed_by_position="Attendance officer",
        source=MarkSource.AMENDMENT,
    )


def _enrolment(ws: SchoolWorld) -> Enrolment:
    enrolment = Enrolment.objects.filter(school=ws.school, pupil=ws.pupils[0]).first()
    assert enrolment is not None, "the world's pupils are enrolled"
    return enrolment


def _run(ws: SchoolWorld) -> RecomputeRun:
    return RecomputeRun.objects.create(
        school=ws.school, kind=RunKind.FULL, as_of=dt.date(2024, 9, 9), started_at=NOW
    )


def _case(ws: SchoolWorld) -> Case:
    return Case.objects.filter(school=ws.school).order_by("pk")[0]


def _pn_request(ws: SchoolWorld) -> PenaltyNoticeRequest:
    case = _case(ws)
    return PenaltyNoticeRequest.objects.create(
        school=ws.school,
        case=case,
        pupil=case.pupil,
        parent=ws.contacts[0],
        prepared_by=case.owner,
        prepared_at=NOW,
    )


def _queue_item(ws: SchoolWorld, key: str = "2024-09-09-AM") -> QueueItem:
    return QueueItem.objects.create(
        school=ws.school,
        kind="unresolved-n",
        pupil=ws.pupils[0],
        key=key,
        since=dt.date(2024, 9, 9),
        opened_at=NOW,
    )


def _officer(ws: SchoolWorld) -> StaffMembership:
    return StaffMembership.objects.get(school=ws.school, user=ws.users[Role.ATTENDANCE_OFFICER])


def _letter_batch(ws: SchoolWorld) -> LetterBatch:
    letter = Letter.objects.filter(school=ws.school).select_related("template_version").first()
    assert letter is not None
    return LetterBatch.objects.create(
        school=ws.school,
        template=letter.template_version.template,
        period_start=dt.date(2024, 9, 1),
        period_end=dt.date(2024, 12, 20),
        created_by=StaffMembership.objects.filter(school=ws.school).earliest("pk"),
        created_at=NOW,
    )


EXTRA_ROWS: dict[str, Callable[[SchoolWorld], object]] = {
    "interventions.CaseStageChange": lambda ws: CaseStageChange.objects.create(
        school=ws.school,
        case=_case(ws),
        to_stage=_case(ws).stage,
        changed_by=_case(ws).owner,
        changed_at=NOW,
        reason="Opened",
    ),
    "interventions.CaseAction": lambda ws: CaseAction.objects.create(
        school=ws.school,
        case=_case(ws),
        kind="call",
        summary="Call home",
        owner=_case(ws).owner,
        due_on=dt.date(2024, 9, 20),
        created_at=NOW,
    ),
    "interventions.NoticeToImprove": lambda ws: NoticeToImprove.objects.create(
        school=ws.school,
        case=_case(ws),
        **dict.fromkeys(NTI_FIELDS, "x"),
        issued_on=dt.date(2024, 9, 20),
        period_start=dt.date(2024, 9, 23),
        school_days=15,
        period_end=dt.date(2024, 10, 11),
        criteria_rate=90,
        issued_by=_case(ws).owner,
    ),
    "interventions.PenaltyNoticeRequest": _pn_request,
    "interventions.PenaltyNotice": lambda ws: PenaltyNotice.objects.create(
        school=ws.school,
        pupil=ws.pupils[0],
        parent=ws.contacts[0],
        request=_pn_request(ws),
        updated_at=NOW,
    ),
    "interventions.LAReturn": lambda ws: LAReturn.objects.create(
        school=ws.school,
        pupil=ws.pupils[0],
        enrolment=_enrolment(ws),
        kind="ten_day",
        episode="event:2024-09-09",
        triggered_on=dt.date(2024, 9, 20),
        due_on=dt.date(2024, 9, 27),
        raised_at=NOW,
    ),
    "interventions.QueueItem": _queue_item,
    "interventions.QueueItemChange": lambda ws: QueueItemChange.objects.create(
        school=ws.school, item=_queue_item(ws, "2024-09-10-AM"), action="claim", changed_at=NOW
    ),
    "interventions.QueueSettings": lambda ws: QueueSettings.objects.create(school=ws.school),
    "interventions.ContactAttempt": lambda ws: ContactAttempt.objects.create(
        school=ws.school,
        pupil=ws.pupils[0],
        method="phone",
        outcome="no-answer",
        made_at=NOW,
        made_by=_officer(ws),
    ),
    "interventions.AttendanceBand": lambda ws: AttendanceBand.objects.create(
        school=ws.school, position=0, name="At or above 90%", lower_bound=90
    ),
    "interventions.AttendanceRules": lambda ws: AttendanceRules.objects.create(school=ws.school),
    "interventions.RecomputeRun": _run,
    "interventions.EnrolmentAttendance": lambda ws: EnrolmentAttendance.objects.create(
        school=ws.school,
        enrolment=_enrolment(ws),
        pupil=ws.pupils[0],
        period_start=dt.date(2024, 9, 1),
        period_end=dt.date(2025, 8, 31),
        as_of=dt.date(2024, 9, 9),
        computed_at=NOW,
    ),
    "interventions.WeeklySummary": lambda ws: WeeklySummary.objects.create(
        school=ws.school,
        enrolment=_enrolment(ws),
        pupil=ws.pupils[0],
        period_start=dt.date(2024, 9, 1),
        week_start=dt.date(2024, 9, 9),
    ),
    "interventions.SchoolRollup": lambda ws: SchoolRollup.objects.create(
        school=ws.school, period_start=dt.date(2024, 9, 1), week_start=dt.date(2024, 9, 9)
    ),
    "interventions.SchoolYearRollup": lambda ws: SchoolYearRollup.objects.create(
        school=ws.school, period_start=dt.date(2024, 9, 1)
    ),
    "interventions.AttendanceEvent": lambda ws: AttendanceEvent.objects.create(
        school=ws.school,
        enrolment=_enrolment(ws),
        pupil=ws.pupils[0],
        kind=EventKind.PA_STARTED,
        key="2024-09-09",
        occurred_on=dt.date(2024, 9, 9),
        created_at=NOW,
        run=_run(ws),
    ),
    "schools.Closure": lambda ws: f.ClosureFactory(school=ws.school),
    "registers.RetentionRecord": lambda ws: RetentionRecord.objects.create(
        school=ws.school,
        table="registers_attendancemark",
        count=1,
        first_date=dt.date(2018, 9, 3),
        last_date=dt.date(2018, 9, 3),
        rule="test",
        applied_at=NOW,
    ),
    "schools.StaffYearGroup": lambda ws: StaffYearGroup.objects.create(
        school=ws.school, membership=_officer(ws), year_group=_form(ws).year_group
    ),
    "letters.Letterhead": lambda ws: Letterhead.objects.create(school=ws.school),
    "letters.FamilyLetterLanguage": lambda ws: FamilyLetterLanguage.objects.update_or_create(
        school=ws.school,
        pupil=ws.pupils[0],
        defaults={"language": "cy", "updated_by": _officer(ws), "updated_at": NOW},
    )[0],
    "letters.LetterBatch": _letter_batch,
    "letters.LetterBatchChunk": lambda ws: LetterBatchChunk.objects.create(
        school=ws.school, batch=_letter_batch(ws), number=0
    ),
    "letters.LetterBatchItem": lambda ws: LetterBatchItem.objects.create(
        school=ws.school, batch=_letter_batch(ws), pupil=ws.pupils[0], position=0
    ),
    "letters.EmailDelivery": lambda ws: EmailDelivery.objects.create(
        school=ws.school,
        letter=Letter.objects.filter(school=ws.school).earliest("pk"),
        contact=ws.contacts[0],
        address="parent@example.org",
        status="sent",
        claimed_at=NOW,
    ),
    "registers.Register": lambda ws: Register.objects.create(
        school=ws.school, form=_form(ws), date=dt.date(2024, 9, 9), session="AM"
    ),
    "registers.AttendanceMark": lambda ws: _mark(ws, dt.date(2024, 9, 9)),
    "registers.MarkChange": _mark_change,
    "registers.AbsenceReport": lambda ws: AbsenceReport.objects.create(
        school=ws.school,
        pupil=ws.pupils[0],
        reporter_name="A Parent",
        first_date=dt.date(2024, 9, 11),
        last_date=dt.date(2024, 9, 11),
        reason=AbsenceReason.ILLNESS,
        status=ReportStatus.PENDING,
        submitted_at=NOW,
    ),
    "registers.LeaveRequest": lambda ws: LeaveRequest.objects.create(
        school=ws.school,
        pupil=ws.pupils[0],
        requested_by=ws.users[Role.PARENT],
        first_date=dt.date(2024, 9, 12),
        last_date=dt.date(2024, 9, 13),
        reason="Family wedding",
        requested_at=NOW,
    ),
    "registers.PartTimeTimetable": lambda ws: PartTimeTimetable.objects.create(
        school=ws.school,
        pupil=ws.pupils[0],
        start_date=dt.date(2024, 9, 9),
        end_date=dt.date(2024, 10, 4),
        sessions_off=["Fri PM"],
        agreed_with="A Parent",
    ),
}


def test_school_owned_models_exist():
    labels = {model._meta.label for model in _tenant_models()}
    assert {"schools.Pupil", "schools.StaffMembership", "schools.Contact"} <= labels
    assert sorted(set(EXTRA_ROWS) - labels) == [], "EXTRA_ROWS names models that do not exist"


def test_every_school_owned_model_raises_outside_a_scope():
    queries: dict[str, Callable[[models.Manager[Any]], object]] = {
        "count()": lambda manager: manager.count(),
        "all()": lambda manager: list(manager.all()),
        "filter()": lambda manager: list(manager.filter(pk__gt=0)),
    }
    unscoped = []
    for model in _tenant_models():
        for name, query in queries.items():
            try:
                query(model._default_manager)
            except ScopeError:
                continue
            unscoped.append(f"{model._meta.label}.{model._default_manager.name}.{name}")
    assert unscoped == []


def test_every_school_owned_model_filters_to_the_school_in_scope(world):
    schools = [world.a1.school, world.b1.school]
    with scopes_disabled():
        for make in EXTRA_ROWS.values():
            for ws in (world.a1, world.b1):
                make(ws)

    for model in _tenant_models():
        label = model._meta.label
        with scopes_disabled():
            per_school = Counter(model._default_manager.values_list("school_id", flat=True))
        assert all(per_school[school.pk] for school in schools), (
            f"{label} has no rows in A1 and B1: add a maker to EXTRA_ROWS in tests/test_tenancy.py"
        )
        for school in schools:
            with school_scope(school):
                seen = Counter(model._default_manager.values_list("school_id", flat=True))
            assert seen == {school.pk: per_school[school.pk]}, label


def test_every_school_owned_model_has_a_required_school_and_school_first_indexes():
    problems = []
    for model in _tenant_models():
        label = model._meta.label
        field = model._meta.get_field("school")
        if not isinstance(field, models.ForeignKey) or field.related_model is not School:
            problems.append(f"{label}.school is not a foreign key to School")
        elif field.null:
            problems.append(f"{label}.school is nullable")
        for index in model._meta.indexes:
            columns = [name.lstrip("-") for name in index.fields] or [
                str(expression) for expression in index.expressions
            ]
            if len(columns) > 1 and columns[0] != "school":
                problems.append(f"{label} index {columns} does not start with school")
    assert problems == []


# --- TEN-12: the Django admin is platform-only -------------------------------------------------


def test_no_school_owned_model_is_in_the_django_admin():
    registered = [
        model._meta.label for model in admin.site._registry if issubclass(model, SchoolOwned)
    ]
    assert registered == []


def test_there_is_no_admin_at_the_usual_address(world, client_for):
    assert client_for(world.a1.users[Role.HEADTEACHER]).get("/admin/").status_code == 404


# --- TEN-04: the role matrix inside one school -------------------------------------------------

# spec/product.md "People and roles", as schools.permissions holds it: who may open pupil and
# form pages and the settings comes from ROLE_MATRIX; which pupils and forms they then see
# comes from pupil_scope(). The tables below are built from them, never restated here.
SCOPE_SEES_PUPIL: dict[PupilScope, dict[str, int]] = {
    PupilScope.WHOLE_SCHOOL: {"parent's child": 200, "form classmate": 200, "other form": 200},
    PupilScope.OWN_FORMS: {"parent's child": 200, "form classmate": 200, "other form": 404},
    PupilScope.OWN_CHILDREN: {"parent's child": 200, "form classmate": 404, "other form": 404},
    # The world's pastoral lead looks after the year group of both forms (the other form is
    # in the same year group); none assigned, none seen: tests/interventions/test_queue_page.py
    PupilScope.YEAR_GROUPS: {"parent's child": 200, "form classmate": 200, "other form": 200},
}
SCOPE_SEES_FORM: dict[PupilScope, dict[str, int]] = {
    PupilScope.WHOLE_SCHOOL: {"tutor's form": 200, "other form": 200},
    PupilScope.OWN_FORMS: {"tutor's form": 200, "other form": 404},
    PupilScope.OWN_CHILDREN: {"tutor's form": 404, "other form": 404},
    PupilScope.YEAR_GROUPS: {"tutor's form": 200, "other form": 200},
}


def _scope(actor: Role) -> PupilScope:
    return pupil_scope(SchoolAccess(role=actor, membership=None))


def _gate(actor: Role, capability: Capability, outcomes: dict[str, int]) -> dict[str, int]:
    """``outcomes`` if the actor's role has ``capability``, else 404 for every case."""
    return outcomes if actor in ROLE_MATRIX[capability] else dict.fromkeys(outcomes, 404)


PUPIL_ACCESS: dict[Role, dict[str, int]] = {
    actor: _gate(actor, Capability.VIEW_PUPILS, SCOPE_SEES_PUPIL[_scope(actor)])
    for actor in A1_ACTORS
}
FORM_ACCESS: dict[Role, dict[str, int]] = {
    actor: _gate(actor, Capability.VIEW_FORMS, SCOPE_SEES_FORM[_scope(actor)])
    for actor in A1_ACTORS
}
SETTINGS_ACCESS: dict[Role, int] = {
    actor: 200 if actor in ROLE_MATRIX[Capability.EDIT_SCHOOL_SETTINGS] else 404
    for actor in A1_ACTORS
}


def _another_form_with_a_pupil(ws: SchoolWorld) -> tuple[FormGroup, Pupil]:
    assert ws.form is not None
    with scopes_disabled():
        form = f.FormGroupFactory(
            school=ws.school, academic_year=ws.form.academic_year, year_group=ws.form.year_group
        )
        pupil = f.PupilFactory(school=ws.school)
        f.EnrolmentFactory(pupil=pupil)
        f.FormPlacementFactory(pupil=pupil, form=form)
    return form, pupil


def test_role_matrix_for_pupils_and_forms(world, client_for):
    a1 = world.a1
    other_form, other_pupil = _another_form_with_a_pupil(a1)
    pupils = {
        "parent's child": a1.pupils[0],
        "form classmate": a1.pupils[1],
        "other form": other_pupil,
    }
    forms = {"tutor's form": a1.form, "other form": other_form}
    slug = a1.school.slug

    outcomes: dict[str, int] = {}
    expected: dict[str, int] = {}
    for actor in A1_ACTORS:
        client = client_for(_user(world, actor))
        for which, pupil in pupils.items():
            url = reverse(
                "schools:pupil-detail", kwargs={"school_slug": slug, "pupil_id": pupil.pk}
            )
            response = client.get(url)
            outcomes[f"{actor} pupil in {which}"] = response.status_code
            expected[f"{actor} pupil in {which}"] = PUPIL_ACCESS[actor][which]
            if response.status_code == 404:
                assert _found_in(response.content.decode(), [pupil.display_name, pupil.upn]) == []
        for which, form in forms.items():
            url = reverse("schools:form-detail", kwargs={"school_slug": slug, "form_id": form.pk})
            outcomes[f"{actor} form {which}"] = client.get(url).status_code
            expected[f"{actor} form {which}"] = FORM_ACCESS[actor][which]
    assert outcomes == expected


def test_role_matrix_for_school_settings(world, client_for):
    school = world.a1.school
    url = reverse("schools:settings", kwargs={"school_slug": school.slug})
    before = _snapshot(school)

    outcomes = {actor: client_for(_user(world, actor)).get(url).status_code for actor in A1_ACTORS}
    assert outcomes == SETTINGS_ACCESS

    for actor, status in SETTINGS_ACCESS.items():
        if status == 404:
            response = client_for(_user(world, actor)).post(
                url, SAMPLE_POST_DATA["schools:settings"]
            )
            assert response.status_code == 404, actor
    assert _snapshot(school) == before


def test_the_matrix_tables_are_not_trivial():
    # Built from ROLE_MATRIX, so check they still say something: someone is refused each.
    assert {200, 404} <= set(SETTINGS_ACCESS.values())
    assert any(404 in row.values() for row in PUPIL_ACCESS.values())
    assert any(404 in row.values() for row in FORM_ACCESS.values())


# --- TEN-04: every school URL asks the role matrix -------------------------------------------


def _capability(route: Route) -> Capability | None:
    view_class = getattr(route.callback, "cls", None)  # DRF: APIView.as_view() keeps the class
    holder = view_class if view_class is not None else route.callback
    capability: Capability | None = getattr(holder, "required_capability", None)
    return capability


SCHOOL_ROUTES = [route for route in ROUTES if "school_slug" in route.kwargs]
# Query strings a GET needs to get past input checks (a bad one is a 404 too).
SAMPLE_QUERY: dict[str, dict[str, str]] = {
    "api:pupil-marks": {"from": "2020-01-01", "to": "2030-12-31"},
}
# The world's absence report has no evidence file, so a role allowed to open it still gets
# a 404 for the missing file; only the refusals are checked there.
NOTHING_TO_SERVE = frozenset({"absences:my-evidence", "absences:inbox-evidence"})


def test_every_school_url_names_the_capability_it_needs():
    # require_capability / HasCapability keep it on the view; a new school URL without one
    # fails here instead of deciding its own roles.
    assert SCHOOL_ROUTES
    assert [route.name for route in SCHOOL_ROUTES if _capability(route) is None] == []


@pytest.mark.parametrize("actor", A1_ACTORS)
def test_every_school_url_refuses_exactly_the_roles_without_its_capability(
    world, client_for, actor
):
    # TEN-04's table-driven test, generated from ROLE_MATRIX: every role without a URL's
    # capability gets 404 on A1's own sample objects; every role with it gets past the
    # check (its answer is not a 404).
    client = client_for(_user(world, actor))
    outcomes, expected = {}, {}
    for route in SCHOOL_ROUTES:
        capability = _capability(route)
        assert capability is not None, route.name
        url = _url(route, SAMPLE_KWARGS[route.name](world.a1))
        status = client.get(url, SAMPLE_QUERY.get(route.name, {})).status_code
        allowed = actor in ROLE_MATRIX[capability]
        if allowed and route.name in NOTHING_TO_SERVE:
            continue  # past the check, the object's own 404: nothing to tell apart
        outcomes[route.name] = "refused" if status == 404 else "allowed"
        expected[route.name] = "allowed" if allowed else "refused"
    assert outcomes == expected


# --- TEN-07 on trust pages: scoped to the trust's schools, not unscoped -----------------------


def test_a_trust_request_runs_inside_its_own_schools_scope(world, rf):
    from schools.middleware import SchoolTenantMiddleware

    seen: list[set[int]] = []

    def forgetful_view(request: Any) -> Any:
        # A trust query that forgets its ``school`` filter: it must stay inside the trust.
        seen.append(set(Pupil.objects.values_list("school_id", flat=True)))
        seen.append(set(AttendanceMark.objects.values_list("school_id", flat=True)))
        return HttpResponse("ok")

    request = rf.get(_trust_url(world.a1))
    request.user = world.trust_a_leader
    response = SchoolTenantMiddleware(forgetful_view)(request)

    assert response.status_code == 200
    trust_a = {world.a1.school.pk, world.a2.school.pk}
    assert seen[0] == trust_a  # both of the trust's schools have pupils
    assert seen[1] <= trust_a
    assert world.b1.school.pk not in seen[0] | seen[1]


def test_the_trust_scope_filters_to_its_schools_and_an_empty_one_to_nothing(world):
    a_schools = [world.a1.school, world.a2.school]
    with schools_scope(a_schools):
        assert set(Pupil.objects.values_list("school_id", flat=True)) == {
            school.pk for school in a_schools
        }
        assert not Pupil.objects.filter(school=world.b1.school).exists()
    with schools_scope([]):
        assert Pupil.objects.count() == 0
