"""What a staff member's home page leads with: to-dos with counts, and extra context such as a
tutor's register to take now.

``schools`` is the base app and imports none of the apps above it, so it only defines the slot:
each app with work to show registers a provider (``@home_provider``) when Django loads it (its
``AppConfig.ready``), and the home page asks every provider. Registers adds the absence inbox,
leave, unresolved ``N`` and registers not taken; casework will add its queues the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from schools.models import School
from schools.types import SchoolAccess


@dataclass(frozen=True)
class Todo:
    """One line of the to-do list: a count of things waiting, and the page that works them."""

    label: str
    count: int
    url: str
    detail: str = ""
    attention: bool = False


@dataclass
class HomeItems:
    """What the providers give the home page: to-dos in order, and template context."""

    todos: list[Todo] = field(default_factory=list)
    context: dict[str, object] = field(default_factory=dict)

    def extend(self, other: HomeItems) -> None:
        self.todos.extend(other.todos)
        self.context.update(other.context)


HomeProvider = Callable[[School, SchoolAccess, dt.datetime], HomeItems]
_PROVIDERS: list[HomeProvider] = []


def home_provider(provider: HomeProvider) -> HomeProvider:
    """Register ``provider`` (called with the school, the user's access and now)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def home_items(*, school: School, access: SchoolAccess, now: dt.datetime) -> HomeItems:
    """Every provider's to-dos and context for this user at this school, in registration order."""
    items = HomeItems()
    for provider in _PROVIDERS:
        items.extend(provider(school, access, now))
    return items
