from __future__ import annotations

from django.apps import AppConfig


class InterventionsConfig(AppConfig):
    name = "interventions"

    def ready(self) -> None:
        # The timeline on the pupil page (schools.pupil_page is the slot).
        from interventions import timeline  # noqa: F401
        from interventions.retention import RULES
        from schools.retention import retention_rules_register

        # Casework and notices' free text, erased by the register's nightly retention job.
        retention_rules_register(*RULES)
