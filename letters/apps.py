from __future__ import annotations

from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"

    def ready(self) -> None:
        # Letters on the pupil's timeline (interventions.timeline is the slot).
        # Registers the hook that records a letter on its case or queue item.
        from letters import (
            casework,  # noqa: F401
            timeline,  # noqa: F401
        )
        from letters.retention import RULES
        from schools.retention import retention_rules_register

        # Letters' snapshots and files, removed by the register's nightly retention job.
        retention_rules_register(*RULES)
