from __future__ import annotations

from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "letters"

    def ready(self) -> None:
        # Letters on the pupil's timeline (interventions.timeline is the slot).
        from letters import timeline  # noqa: F401
