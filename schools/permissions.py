"""The role matrix: which roles may do what at a school, in one table (TEN-04, ASVS 8.1.1).

``ROLE_MATRIX`` maps each named ``Capability`` to the roles that have it. Everything that asks
"may this user do X here?" asks this module:

- HTML views: ``@require_capability(Capability.X)``;
- DRF views: ``permission_classes = [HasCapability]`` and ``required_capability = Capability.X``;
- services: ``check_capability(membership, Capability.X, school=school, message=...)``;
- templates: ``caps.X`` from ``schools.context_processors.navigation``;
- tests: ``tests/test_tenancy.py`` builds its expected outcomes from ``ROLE_MATRIX``.

A role that may not see a page gets the same 404 as a missing page, so the response tells
nothing about what exists (TEN-01).

Two questions, kept apart:

1. *May this role do X at this school?* ``can(actor, capability)``: the role alone decides.
2. *Which pupils does this actor see?* ``pupil_scope(access)``: the whole school, the
   tutor's own forms, or a parent's own children. ``schools.selectors.pupil_visible_to``
   narrows every pupil query by it, so a pupil outside the scope is a 404 like a missing one.

Pastoral leads see their year groups (``PupilScope.YEAR_GROUPS``, from
``schools.StaffYearGroup``; none assigned, none seen): they are not in ``VIEW_ALL_PUPILS``, and
``pupil_visible_to`` (so the pupil pages, cases and queue items) narrows to those year groups'
pupils. Pages that are not about one pupil fall back to the narrow view for anyone without
``VIEW_ALL_PUPILS`` (fail closed). If a service must
check a capability for one pupil (``can(actor, cap, pupil=...)``), that keyword goes on
``can``/``check_capability`` and answers ``pupil in pupil_visible_to(...)``; nothing needs it
today.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from schools.models import Role, StaffMembership
from schools.types import SchoolAccess

if TYPE_CHECKING:
    from schools.models import School

_View = TypeVar("_View", bound=Callable[..., HttpResponse])


class Capability(StrEnum):
    """Something a role may do at a school. Add one here and a row in ``ROLE_MATRIX``."""

    OPEN_SCHOOL = "open_school"  # the school's home page
    VIEW_PUPILS = "view_pupils"  # pupil pages and the pupils API, within pupil_scope()
    VIEW_PUPIL_RECORD = "view_pupil_record"  # UPN, needs, contacts, the amendment history
    VIEW_ALL_PUPILS = "view_all_pupils"  # pupil_scope() is the whole school
    VIEW_FORMS = "view_forms"  # form pages (a tutor: their own forms)
    TAKE_REGISTER = "take_register"  # the register list, taking a register
    VIEW_MARKS = "view_marks"  # a pupil's marks
    AMEND_MARK = "amend_mark"  # amend a mark after its register closed (with a reason)
    VIEW_UNRESOLVED_N = "view_unresolved_n"  # the list of N marks still to resolve
    WORK_INBOX = "work_inbox"  # parents' absence reports: read, accept, reject
    DECIDE_LEAVE = "decide_leave"  # approve or refuse leave of absence
    MAKE_PARENT_REQUESTS = "make_parent_requests"  # report an absence, ask for leave
    EDIT_SCHOOL_SETTINGS = "edit_school_settings"  # register times, target, Welsh
    EDIT_ATTENDANCE_RULES = "edit_attendance_rules"  # attendance bands, the LA's rules
    VIEW_PUPIL_ATTENDANCE = "view_pupil_attendance"  # a pupil's results and events
    VIEW_SUMMARIES = "view_summaries"  # the school's attendance figures by group
    VIEW_DASHBOARD = "view_dashboard"  # the school dashboard (issue 12)
    VIEW_CASES = "view_cases"  # cases, notices and returns (a tutor: their forms' open cases)
    WORK_CASES = "work_cases"  # open and work cases, NTIs, penalty-notice requests, returns
    SIGN_OFF_PENALTY_NOTICE = "sign_off_penalty_notice"  # the head's sign-off of a PN request
    WORK_QUEUES = "work_queues"  # the attendance officer's queues: claim, snooze, close, call
    EDIT_LETTER_TEMPLATES = "edit_letter_templates"  # letter templates and the letterhead
    SEND_LETTERS = "send_letters"  # generate, read, email and print letters
    VIEW_AUDIT = "view_audit"  # the school's access and security trail (LOG-04)
    EXPORT_SUBJECT_ACCESS = "export_subject_access"  # everything held about one pupil (GDPR)


# Building blocks for the table below (spec/product.md "People and roles").
_STAFF = frozenset(
    {
        Role.FORM_TUTOR,
        Role.ATTENDANCE_OFFICER,
        Role.PASTORAL_LEAD,
        Role.HEADTEACHER,
        Role.SCHOOL_ADMIN,
        Role.TRUST_LEADER,
    }
)
_WHOLE_SCHOOL = _STAFF - {Role.FORM_TUTOR}  # a tutor sees only their own forms
_IN_SCHOOL_STAFF = _STAFF - {Role.TRUST_LEADER}  # trust leaders read; they take no registers
_OFFICE = frozenset({Role.ATTENDANCE_OFFICER, Role.SCHOOL_ADMIN, Role.HEADTEACHER})
_LEADERSHIP = frozenset({Role.HEADTEACHER, Role.SCHOOL_ADMIN})
_PARENT = frozenset({Role.PARENT})

ROLE_MATRIX: Mapping[Capability, frozenset[Role]] = {
    Capability.OPEN_SCHOOL: _STAFF | _PARENT,
    Capability.VIEW_PUPILS: _STAFF | _PARENT,
    Capability.VIEW_PUPIL_RECORD: _STAFF,
    # Pastoral leads: their year groups only (pupil_scope).
    Capability.VIEW_ALL_PUPILS: _WHOLE_SCHOOL - {Role.PASTORAL_LEAD},
    Capability.VIEW_FORMS: _STAFF,
    Capability.TAKE_REGISTER: _IN_SCHOOL_STAFF,
    Capability.VIEW_MARKS: _IN_SCHOOL_STAFF | _PARENT,
    Capability.AMEND_MARK: _OFFICE,
    Capability.VIEW_UNRESOLVED_N: _OFFICE | {Role.PASTORAL_LEAD},
    Capability.WORK_QUEUES: _OFFICE | {Role.PASTORAL_LEAD},
    Capability.WORK_INBOX: _OFFICE,
    Capability.DECIDE_LEAVE: frozenset({Role.HEADTEACHER}),
    Capability.MAKE_PARENT_REQUESTS: _PARENT,
    Capability.EDIT_SCHOOL_SETTINGS: _LEADERSHIP,
    Capability.EDIT_ATTENDANCE_RULES: _LEADERSHIP,
    Capability.VIEW_PUPIL_ATTENDANCE: _STAFF,
    Capability.VIEW_SUMMARIES: _WHOLE_SCHOOL,
    Capability.VIEW_DASHBOARD: frozenset(
        {
            Role.HEADTEACHER,
            Role.ATTENDANCE_OFFICER,
            Role.PASTORAL_LEAD,
            Role.SCHOOL_ADMIN,
            Role.TRUST_LEADER,  # the trust dashboard drills into each school's
        }
    ),
    Capability.VIEW_CASES: _IN_SCHOOL_STAFF,
    Capability.WORK_CASES: _OFFICE | {Role.PASTORAL_LEAD},
    Capability.SIGN_OFF_PENALTY_NOTICE: frozenset({Role.HEADTEACHER}),
    Capability.EDIT_LETTER_TEMPLATES: _LEADERSHIP,
    Capability.SEND_LETTERS: _OFFICE,
    Capability.VIEW_AUDIT: _LEADERSHIP,
    Capability.EXPORT_SUBJECT_ACCESS: _LEADERSHIP,
}
assert set(ROLE_MATRIX) == set(Capability), "every capability has a row in ROLE_MATRIX"


class PupilScope(StrEnum):
    """Which of a school's pupils an actor sees (see the module docstring)."""

    WHOLE_SCHOOL = "whole_school"
    OWN_FORMS = "own_forms"  # a tutor: the pupils placed in their forms
    OWN_CHILDREN = "own_children"  # a parent: their own children
    YEAR_GROUPS = "year_groups"  # a pastoral lead: the pupils of their year groups


Actor = SchoolAccess | StaffMembership | None


def _role(actor: Actor) -> Role | None:
    if actor is None:
        return None
    return Role(actor.role)


def can(actor: Actor, capability: Capability) -> bool:
    """Whether ``actor`` (a request's ``SchoolAccess`` or a ``StaffMembership``) has
    ``capability`` by its role. ``None`` (no access to the school) has none."""
    role = _role(actor)
    return role is not None and role in ROLE_MATRIX[capability]


def capabilities_of(actor: Actor) -> frozenset[Capability]:
    return frozenset(capability for capability in Capability if can(actor, capability))


def pupil_scope(access: SchoolAccess) -> PupilScope:
    """How far ``access`` sees into the school's roll."""
    if can(access, Capability.VIEW_ALL_PUPILS):
        return PupilScope.WHOLE_SCHOOL
    if access.role == Role.PARENT:
        return PupilScope.OWN_CHILDREN
    if access.role == Role.PASTORAL_LEAD:
        return PupilScope.YEAR_GROUPS
    return PupilScope.OWN_FORMS  # anyone else: their own forms, none if they have none


def request_can(request: HttpRequest, capability: Capability) -> bool:
    return can(getattr(request, "access", None), capability)


def require_capability(capability: Capability) -> Callable[[_View], _View]:
    """Let the view run only for roles with ``capability`` at ``request.school``; 404 for
    anyone else. The view keeps ``required_capability`` so tests can read what it needs."""

    def decorator(view: _View) -> _View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request_can(request, capability):
                raise Http404("Not found")
            return view(request, *args, **kwargs)

        wrapped.required_capability = capability  # type: ignore[attr-defined]
        return cast("_View", wrapped)

    return decorator


def check_capability(
    membership: StaffMembership, capability: Capability, *, school: School, message: str
) -> None:
    """For services: raise ``ValidationError(message)`` unless ``membership`` belongs to
    ``school`` and its role has ``capability``. Services called from a view behind
    ``require_capability`` check again, so a second caller (the API, a task, the shell)
    cannot skip it."""
    if membership.school_id != school.pk or not can(membership, capability):
        raise ValidationError(message)


class HasCapability(BasePermission):
    """DRF permission: the user's role here must have the view's ``required_capability``.

    A view without one is refused (fail closed). Refusals raise ``Http404`` rather than
    returning ``False`` (which DRF turns into 403).
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user.is_authenticated:
            # DRF views are exempt from LoginRequiredMiddleware: answer 401/403, not 404 (TEN-11).
            raise NotAuthenticated
        capability: Capability | None = getattr(view, "required_capability", None)
        if capability is None or not request_can(request._request, capability):
            raise Http404("Not found")
        return True
