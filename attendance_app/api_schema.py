"""The schema's error responses (WEB-08), stated once for every operation rather than on each
view: the errors below happen on every route, whatever the view declares.

- 403: signed out, or a write without the CSRF token (DRF's session authentication);
- 404: every route is under ``s/<school_slug>/``: an unknown school, or one not the user's,
  is a 404 before the view runs (``SchoolTenantMiddleware``), and so is an unknown page;
- 400: any operation that reads a body or query parameters can refuse them, with
  ``{"detail": …, "fields": …}`` (``api_errors``) or DRF's ``{field: [messages]}``.

A view's own ``extend_schema(responses=…)`` wins where it documents the same code."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

ERROR_BODY: dict[str, Any] = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "fields": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    # DRF's own field errors name the fields at the top level.
    "additionalProperties": True,
}


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        codes = ["403", "404"]
        if self.method in ("POST", "PUT", "PATCH") or self._has_query_parameters():
            codes.append("400")
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    ERROR_BODY, code, direction=direction
                )
        return responses

    def _has_query_parameters(self) -> bool:
        paginated = bool(self._get_paginator())  # type: ignore[no-untyped-call]
        return paginated or any(p.get("in") == "query" for p in self._get_parameters())
