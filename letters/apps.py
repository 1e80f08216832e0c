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
