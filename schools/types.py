"""Typed requests, so views say which attributes the middleware has set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails

    from schools.models import Role, School, StaffMembership, Trust


@dataclass(frozen=True)
class SchoolAccess:
    """How the signed-in user reaches one school: a staff membership, trust leadership, or
    parent links. Resolved once per request from the database (TEN-06, TEN-10)."""

    role: Role
    membership: StaffMembership | None  # None for trust leaders and parents


class AuthedRequest(HttpRequest):
    """A request past ``LoginRequiredMiddleware``: the user is signed in."""

    user: User
    htmx: HtmxDetails


class SchoolRequest(AuthedRequest):
    school: School
    access: SchoolAccess


class TrustRequest(AuthedRequest):
    trust: Trust


def school_request(request: object) -> SchoolRequest:
    """The Django request behind a DRF ``Request``, with the attributes the tenant middleware
    set (``school``, ``access``): DRF wraps the request, so its type hides them."""
    django_request = getattr(request, "_request", request)
    if not hasattr(django_request, "school"):
        raise RuntimeError("No school on this request: is the URL under /s/<school_slug>/?")
    return cast("SchoolRequest", django_request)
