"""The API's one exception handler (``REST_FRAMEWORK["EXCEPTION_HANDLER"]``).

Services raise Django's ``ValidationError`` and the domain errors; API views let them
propagate and this turns them into responses, so no view catches them by hand:

- ``django.core.exceptions.ValidationError`` → 400 ``{"detail": "<messages joined>"}``, plus
  ``"fields": {field: [messages]}`` when the error names fields;
- ``registers.services.marks.MarkConflictError`` → 409 ``{"conflicts": {pupil id: current mark}, "messages": {…}}``,
  the same body as a register save's conflicts;
- anything else → DRF's own handler (``Http404`` → 404, DRF's ``ValidationError`` → 400, …).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from registers.api import conflicts_data
from registers.services.marks import MarkConflictError
from schools.types import school_request


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ValidationError):
        body: dict[str, Any] = {"detail": " ".join(exc.messages)}
        if hasattr(exc, "error_dict"):
            body["fields"] = exc.message_dict
        set_rollback()
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, MarkConflictError):
        current = {write.pupil.pk: mark for write, mark in exc.conflicts}
        set_rollback()
        school = school_request(context["request"]).school  # resolved by the tenant middleware
        return Response(
            conflicts_data(school=school, conflicts=current), status=status.HTTP_409_CONFLICT
        )
    return exception_handler(exc, context)


# Django answers some requests under /api/ before any DRF view runs, with its HTML pages: a URL
# that matches no route (404), a CSRF refusal by the middleware (403), a crash (500). An API
# client reads JSON, so those become DRF's own shape, ``{"detail": …}``, with the same status.
_DETAILS = {
    400: _("Bad request."),
    403: _("You do not have permission to perform this action."),
    404: _("Not found."),
    405: _("Method not allowed."),
    500: _("A server error occurred."),
}


class ApiJsonErrorsMiddleware:
    """Every error under ``/api/`` in JSON: an HTML error response there is replaced by
    ``{"detail": …}`` with its status. JSON (DRF's and the tenant middleware's) and the
    schema's own formats pass through untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path_info.startswith("/api/")
            and response.status_code >= 400
            and response.get("Content-Type", "").startswith("text/html")
        ):
            detail = (
                _DETAILS.get(response.status_code)
                or _DETAILS[500 if response.status_code >= 500 else 400]
            )
            json_response = JsonResponse({"detail": str(detail)}, status=response.status_code)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    json_response[header] = response[header]
            return json_response
        return response
