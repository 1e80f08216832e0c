"""Hooks for the apps that letters may not import: casework (interventions.models.cases) is
built beside letters and registers here, at import time, a callable run after a letter from a
case or queue item is committed, so the action is recorded on the case or queue item. Letters
then needs no import of casework, and nothing runs through Django signals."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from letters.models import Letter

LetterHook = Callable[["Letter"], None]
_letter_generated: list[LetterHook] = []


def on_letter_generated(hook: LetterHook) -> LetterHook:
    """Register ``hook(letter)``; it runs after commit for every generated letter."""
    _letter_generated.append(hook)
    return hook


def letter_generated(letter: Letter) -> None:
    for hook in list(_letter_generated):
        hook(letter)
