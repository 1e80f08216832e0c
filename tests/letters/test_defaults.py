"""Every default letter, in every language a Welsh school has, rendered on a real pupil to PDF
and read back: plain language leading with the days and sessions missed and the period, the
percentage second (regulations.md §9), Welsh characters intact."""

from __future__ import annotations

import pytest

from letters.defaults import (
    ADDRESSED_TO_LA,
    DEFAULT_LETTERS,
    DEFAULTS_BY_KEY,
    NEEDS_NTI,
    default_body,
)
from letters.templating import example_values, template_check
from tests.letters.test_letters import generate, rw, stored_text  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db

BRIEF_KEYS = {
    "first_day_no_contact",
    "attendance_concern_1",
    "attendance_concern_2",
    "persistent_absence",
    "severe_absence",
    "lateness",
    "meeting_invitation",
    "notice_to_improve",
    "penalty_warning",
    "termly_report",
    "celebration",
    "la_referral",
}
# The fixture's pupil: 13 unauthorised sessions in the period, 6½ days.
WELSH_DAYS = "6½ diwrnod"
NTI_EXTRA = {name: value for name, value in example_values().items() if name.startswith("nti.")}


def test_the_default_set_is_complete_and_every_text_passes_the_sandbox_check():
    assert set(DEFAULTS_BY_KEY) == BRIEF_KEYS
    for letter in DEFAULT_LETTERS:
        for language in ("en", "cy"):
            body = default_body(letter.key, language)
            assert template_check(body, language=language) == [], (letter.key, language)


@pytest.mark.parametrize("key", sorted(BRIEF_KEYS))
def test_every_default_renders_on_a_real_pupil_in_english_welsh_and_bilingual(rw, key):  # noqa: F811
    extra = NTI_EXTRA if key in NEEDS_NTI else None
    english = stored_text(generate(rw, key=key, language="en", extra=extra))
    welsh = stored_text(generate(rw, key=key, language="cy", extra=extra))
    bilingual = stored_text(generate(rw, key=key, language="bilingual", extra=extra))

    if key in ADDRESSED_TO_LA:  # no team set in the letterhead: the authority's team
        assert "Dear Local authority attendance team" in english
        assert "Annwyl Tîm presenoldeb yr awdurdod lleol" in welsh
        assert "The parents are Sarah Jones and Dafydd Jones" in english
        assert "Y rhieni yw Sarah Jones a Dafydd Jones" in welsh
    else:
        assert "Dear Sarah Jones and Dafydd Jones" in english
        assert "Annwyl Sarah Jones a Dafydd Jones" in welsh
    assert "Ŵyn" in english
    assert "Ŵyn" in welsh
    # The period, then days and sessions; the percentage only after them.
    assert "2 September 2024" in english
    assert "18 October 2024" in english
    assert "2 Medi 2024" in welsh
    assert "18 Hydref 2024" in welsh
    assert "6½ days" in english
    assert "13 sessions" in english
    assert WELSH_DAYS in welsh
    assert "13 sesiwn" in welsh
    if key == "lateness":  # leads with the times late, then the days missed
        assert english.index("late") < english.index("6½ days")
    # A percentage, where a letter gives one, comes after the days missed.
    english_percent = english.find("%", english.index("Dear"))
    welsh_percent = welsh.find("%", welsh.index("Annwyl"))
    assert english_percent == -1 or english.index("6½ days") < english_percent
    assert welsh_percent == -1 or welsh.index(WELSH_DAYS) < welsh_percent
    # Bilingual: the Welsh text first, then the English.
    assert bilingual.index("Annwyl") < bilingual.index("Dear")


def test_the_notice_to_improve_states_the_eight_contents_and_the_period_dates(rw):  # noqa: F811
    text = stored_text(generate(rw, key="notice_to_improve", extra=NTI_EXTRA))
    positions = [text.index(f"{n}. ") for n in range(1, 9)]
    assert positions == sorted(positions)
    assert "from 21 October 2024 to 29 November 2024" in text
    assert "No unauthorised absence during the improvement period." in text
    assert "Any further holiday taken in term time." in text
    assert "section 7 of the Education Act 1996" in text


def test_the_penalty_warning_leads_with_the_unauthorised_days_and_sessions(rw):  # noqa: F811
    letter = generate(rw, key="penalty_warning")
    text = stored_text(letter)
    assert "Ŵyn missed 6½ days of school without authorisation (13 sessions)" in text
    assert letter.snapshot["sessions.unauthorised"] == 13
    assert letter.snapshot["days.unauthorised"] == "6½ days"
