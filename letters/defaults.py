"""The default letters every school starts with (issue 11 item 2). The texts are data files in
templates/letters/defaults/<key>.<language>.j2, written in plain language that leads with the
days and sessions missed and the period, the percentage second (regulations.md §9); the seed
policies 001 and 004 are their model. A bilingual letter is the Welsh text, then the English."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

DEFAULTS_DIR = Path(settings.BASE_DIR) / "templates" / "letters" / "defaults"
BILINGUAL_SEPARATOR = '\n<hr class="language-break">\n'


@dataclass(frozen=True)
class DefaultLetter:
    key: str
    title_en: str
    title_cy: str


DEFAULT_LETTERS = (
    DefaultLetter(
        "first_day_no_contact", "Absence: please contact us", "Absenoldeb: cysylltwch â ni"
    ),
    DefaultLetter("attendance_concern_1", "Attendance concern", "Pryder am bresenoldeb"),
    DefaultLetter(
        "attendance_concern_2",
        "Attendance concern: invitation to meet",
        "Pryder am bresenoldeb: gwahoddiad i gyfarfod",
    ),
    DefaultLetter("persistent_absence", "Persistent absence", "Absenoldeb parhaus"),
    DefaultLetter("severe_absence", "Severe absence", "Absenoldeb difrifol"),
    DefaultLetter("lateness", "Lateness", "Cyrraedd yn hwyr"),
    DefaultLetter(
        "meeting_invitation",
        "Invitation to an attendance meeting",
        "Gwahoddiad i gyfarfod presenoldeb",
    ),
    # The eight contents of regulations.md §5.3 are the nti.* merge fields, from the case.
    DefaultLetter("notice_to_improve", "Notice to Improve", "Hysbysiad i Wella"),
    DefaultLetter("penalty_warning", "Warning: a penalty notice", "Rhybudd: hysbysiad cosb"),
    DefaultLetter("termly_report", "Attendance report", "Adroddiad presenoldeb"),
    DefaultLetter("celebration", "Well done: attendance", "Da iawn: presenoldeb"),
    DefaultLetter(
        "la_referral",
        "Referral to the local authority",
        "Atgyfeiriad at yr awdurdod lleol",
    ),
)
# Letters that state the NTI fields (nti.*): generated from a case that holds them.
NEEDS_NTI = frozenset({"notice_to_improve"})
# Letters addressed to the local authority's attendance team (the letterhead's la_team and
# la_address), not to the family: the family is named in the body and is not emailed it.
ADDRESSED_TO_LA = frozenset({"la_referral"})
DEFAULTS_BY_KEY = {letter.key: letter for letter in DEFAULT_LETTERS}


def default_body(key: str, language: str) -> str:
    """The default text of ``key`` in ``language`` ("en", "cy" or "bilingual")."""
    if language == "bilingual":
        return default_body(key, "cy") + BILINGUAL_SEPARATOR + default_body(key, "en")
    return (DEFAULTS_DIR / f"{key}.{language}.j2").read_text(encoding="utf-8")


def default_title(key: str, language: str) -> str:
    letter = DEFAULTS_BY_KEY[key]
    if language == "cy":
        return letter.title_cy
    if language == "bilingual":
        return f"{letter.title_cy} / {letter.title_en}"
    return letter.title_en
