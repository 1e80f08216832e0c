"""Role checks for views and the API. A role that may not see a page gets the same 404 as a
missing page, so the response tells nothing about what exists (TEN-01)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar, cast

from django.http import Http404, HttpRequest, HttpResponse
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from schools.models import Role

_View = TypeVar("_View", bound=Callable[..., HttpResponse])


def has_role(request: HttpRequest, roles: Iterable[Role]) -> bool:
    access = getattr(request, "access", None)
    return access is not None and access.role in set(roles)


def require_role(*roles: Role | Iterable[Role]) -> Callable[[_View], _View]:
    """Let the view run only for these roles at ``request.school``; 404 for anyone else."""
    allowed: set[Role] = set()
    for role in roles:
        allowed |= {role} if isinstance(role, Role) else set(role)

    def decorator(view: _View) -> _View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request, allowed):
                raise Http404("Not found")
            return view(request, *args, **kwargs)

        return cast("_View", wrapped)

    return decorator


class HasSchoolRole(BasePermission):
    """DRF permission: the view's ``allowed_roles`` must include the user's role here.

    Refusals raise ``Http404`` rather than returning ``False`` (which DRF turns into 403).
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not request.user.is_authenticated:
            # DRF views are exempt from LoginRequiredMiddleware: answer 401/403, not 404 (TEN-11).
            raise NotAuthenticated
        allowed = getattr(view, "allowed_roles", ())
        if not has_role(request._request, allowed):
            raise Http404("Not found")
        return True
