from __future__ import annotations

from django.apps import AppConfig


class RegistersConfig(AppConfig):
    name = "registers"

    def ready(self) -> None:
        # The registers' to-dos on the school home page (schools.home is the slot).
        from registers import home  # noqa: F401
