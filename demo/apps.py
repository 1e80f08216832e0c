from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The Northfield demo trust (``manage.py seed_demo``). It sits above the domain apps:
    it imports them, writes marks only through ``registers.services``, and nothing imports it."""

    name = "demo"
    verbose_name = "Demo trust"
