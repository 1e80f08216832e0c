from __future__ import annotations

from django.apps import AppConfig


class SchoolsConfig(AppConfig):
    name = "schools"
    verbose_name = "Schools, people and calendars"

    def ready(self) -> None:
        from django.core import checks

        from schools.account_security import signals_connect as account_signals_connect
        from schools.audit import audit_signals_connect
        from schools.mfa import demo_devices_check

        audit_signals_connect()
        account_signals_connect()
        # Deploy-only: it reads the database (check --deploy on the production settings).
        checks.register(demo_devices_check, checks.Tags.security, deploy=True)
