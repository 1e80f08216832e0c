"""Resolve the tenant once, at the edge, and run the request inside its scope."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import cast

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotFound, JsonResponse
from django.shortcuts import render
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve
from rest_framework.views import APIView

from schools.models import School
from schools.scoping import school_scope, schools_scope
from schools.selectors import school_and_access_for, trust_for
from schools.types import AuthedRequest


class SchoolTenantMiddleware:
    """``/s/<school_slug>/…`` → ``request.school`` and ``request.access``, inside its scope;
    ``/t/<trust_slug>/…`` → ``request.trust``, inside the scope of the trust's schools
    (``school__in``): a trust query that forgets its filter still stays inside the trust.
    Anything else runs with no scope, so a school-owned query there fails closed.

    Anonymous requests pass through untouched: ``LoginRequiredMiddleware`` sends them to the
    login page (TEN-11) before any view runs. For signed-in users, a missing school and a
    school they do not belong to give the same 404 (TEN-01).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            kwargs: dict[str, object] = {}
            is_api = False
        else:
            kwargs = match.kwargs
            view_class = getattr(match.func, "cls", None)
            is_api = isinstance(view_class, type) and issubclass(view_class, APIView)
        school_slug, trust_slug = kwargs.get("school_slug"), kwargs.get("trust_slug")
        if not request.user.is_authenticated or (school_slug is None and trust_slug is None):
            return self.get_response(request)
        try:
            return self._in_tenant(
                cast("AuthedRequest", request), school_slug=school_slug, trust_slug=trust_slug
            )
        except Http404:
            if not is_api:
                raise
            # The API answers in JSON like DRF's own 404, the same for a missing school and
            # one that is not the user's (TEN-01).
            return JsonResponse({"detail": "Not found."}, status=404)

    def _in_tenant(
        self, request: AuthedRequest, *, school_slug: object, trust_slug: object
    ) -> HttpResponse:
        if trust_slug is not None:
            trust = trust_for(slug=str(trust_slug), user=request.user)
            request.trust = trust  # type: ignore[attr-defined]
            # Trust pages compare schools: they read across the trust's schools, and only
            # those. Every trust selector still filters by ``trust`` explicitly.
            with schools_scope(School.objects.filter(trust=trust)):
                return self._render(self.get_response(request))

        school, access = school_and_access_for(slug=str(school_slug), user=request.user)
        request.school, request.access = school, access  # type: ignore[attr-defined]
        with school_scope(school):
            return self._render(self.get_response(request))

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: list[object],
        view_kwargs: dict[str, object],
    ) -> None:
        # The slug is resolved into ``request.school``/``request.trust`` above; views take the
        # objects from there, never a slug they could look up a second, unchecked way.
        view_kwargs.pop("school_slug", None)
        view_kwargs.pop("trust_slug", None)

    @staticmethod
    def _render(response: HttpResponse) -> HttpResponse:
        if isinstance(response, TemplateResponse):
            response.render()  # lazy querysets in templates must evaluate inside the scope
        return response


class OwnNotFoundPageMiddleware:
    """Our 404 page in development too. With ``DEBUG`` on, Django answers a 404 with its
    technical page (every URL pattern, the resolver's attempts); ``make run`` is how people
    first try the product, so a Saturday's register URL or a mistyped date shows the same plain
    page of ours as in production. Only Django's own technical response is replaced (it is a
    bare ``HttpResponseNotFound``); the API keeps its JSON."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and type(response) is HttpResponseNotFound
            and response.get("Content-Type", "").startswith("text/html")
            and not request.path_info.startswith("/api/")
        ):
            # The header reads the school's counts: render inside the request's own scope.
            school, trust = getattr(request, "school", None), getattr(request, "trust", None)
            if school is not None:
                scope: AbstractContextManager[None] = school_scope(school)
            elif trust is not None:
                scope = schools_scope(School.objects.filter(trust=trust))
            else:
                scope = nullcontext()
            with scope:
                return render(request, "404.html", status=404)
        return response
