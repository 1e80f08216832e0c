"""URL converters for register dates and sessions, shared by the HTML and API routes."""

from __future__ import annotations

from django.urls import register_converter


class IsoDateConverter:
    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class SessionConverter:
    regex = "AM|PM"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


# Registered when this module is first imported; both URL modules import it.
register_converter(IsoDateConverter, "isodate")
register_converter(SessionConverter, "session")
