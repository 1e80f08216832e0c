"""Hooks run after a letter is committed. ``letters.casework`` registers the one that records a
letter made from a case or a queue item on it (a "letter" CaseAction / QueueItemChange):
casework sits below letters (tests/test_layering.py) and never imports them, and nothing
runs through Django signals."""

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
