"""Unique Pupil Numbers: the DfE check-letter algorithm (pure, no ORM).

A UPN is 13 characters: a check letter, then 12 characters (LA code, establishment number,
year of allocation, serial). The last character is a letter for a temporary UPN. The check
letter is the weighted sum of characters 2 to 13 (weights 2 to 13) modulo 23, read off ``_LETTERS``.
Source: DfE, "Unique pupil numbers (UPNs): guidance for schools and local authorities", annex.
"""

from __future__ import annotations

import re

_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"  # 23 letters: I, O and S are never used
# [0-9], not \d: \d also matches non-ASCII digits. Used with fullmatch, so a trailing newline fails.
_SHAPE = re.compile(rf"[{_LETTERS}][0-9]{{11}}[0-9{_LETTERS}]")


def _value(char: str) -> int:
    return int(char) if char.isdigit() else _LETTERS.index(char)


def upn_check_letter(body: str) -> str:
    """The check letter for the 12 characters after it."""
    total = sum(_value(char) * weight for weight, char in enumerate(body, start=2))
    return _LETTERS[total % 23]


def upn_error(upn: str) -> str | None:
    """Why ``upn`` is not a valid UPN, or ``None`` if it is."""
    if not _SHAPE.fullmatch(upn):
        return "A UPN is a letter, 11 digits, then a digit or letter (13 characters, capitals)."
    if upn_check_letter(upn[1:]) != upn[0]:
        return f"The check letter of UPN {upn} should be {upn_check_letter(upn[1:])}."
    return None


def upn_make(body: str) -> str:
    """A full UPN from its 12-character body (used by the demo data and the tests)."""
    return upn_check_letter(body) + body
