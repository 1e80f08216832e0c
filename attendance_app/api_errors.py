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

from typing import Any

from django.core.exceptions import ValidationError
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
