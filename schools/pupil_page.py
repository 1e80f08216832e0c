"""Sections that apps above ``schools`` add to the pupil page (for example the casework
timeline), the same way ``schools.home`` takes their to-dos: ``schools`` imports none of those
apps, so each registers a provider (``@pupil_section_provider``) in its ``AppConfig.ready`` and
the page asks every provider, in registration order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from schools.models import Pupil, School
from schools.types import SchoolAccess


@dataclass(frozen=True)
class PupilSection:
    """A template (a component under ``templates/``) and its context, shown on the page."""

    template: str
    context: dict[str, object] = field(default_factory=dict)


# Called with the school, the viewer's access, the pupil and today; ``None`` shows nothing
# (a provider decides who may see its section).
PupilSectionProvider = Callable[[School, SchoolAccess, Pupil, dt.date], PupilSection | None]
_PROVIDERS: list[PupilSectionProvider] = []


def pupil_section_provider(provider: PupilSectionProvider) -> PupilSectionProvider:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def pupil_sections(
    *, school: School, access: SchoolAccess, pupil: Pupil, today: dt.date
) -> list[PupilSection]:
    """Every provider's section for this viewer and pupil."""
    sections = (provider(school, access, pupil, today) for provider in _PROVIDERS)
    return [section for section in sections if section is not None]
