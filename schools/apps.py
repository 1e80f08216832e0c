from __future__ import annotations

from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = "Schools, people and calendars"

    def ready(self) -> None:
        from schools.audit import audit_signals_connect

        audit_signals_connect()
