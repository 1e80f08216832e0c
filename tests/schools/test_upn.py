from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from hypothesis import assume, given
from hypothesis import strategies as st

from schools.models import Gender, Pupil, School
from schools.scoping import school_scope
from schools.upn import upn_check_letter, upn_error, upn_make
from tests.factories import SchoolFactory

# Worked by hand from the algorithm in schools/upn.py's docstring: characters 2..13 weighted
# 2..13, the sum modulo 23 read off A B C D E F G H J K L M N P Q R T U V W X Y Z (0..22).
# A letter in position 13 (temporary UPN) counts as its index in that same alphabet.
KNOWN_GOOD = [
    # 0 -> A
    "A000000000000",
    # 8*2 + 2*3 + 2*4 + 2*5 + 0*6 + 2*7 + 4*8 + 0 + 0 + 0 + 0 + 1*13 = 99; 99 % 23 = 7 -> H
    "H822202400001",
    # 2 + 6 + 12 + 20 + 30 + 42 + 56 + 72 + 90 + 0 + 12 + 26 = 368 = 16 * 23 -> 0 -> A
    "A123456789012",
    # 9 * (2 + 3 + ... + 13) = 9 * 90 = 810; 810 - 35 * 23 = 5 -> F
    "F999999999999",
    # temporary: 86 (the digits above) + A(0) * 13 = 86; 86 - 3 * 23 = 17 -> U
    "U82220240000A",
    # temporary: 86 + Z(22) * 13 = 372; 372 - 16 * 23 = 4 -> E
    "E82220240000Z",
    # temporary: 86 + B(1) * 13 = 99 -> H, the same letter as the permanent "...0001" above
    "H82220240000B",
]

ALLOWED_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"
DIGITS = "0123456789"

bodies = st.builds(
    lambda digits, last: digits + last,
    st.text(alphabet=DIGITS, min_size=11, max_size=11),
    st.sampled_from(DIGITS + ALLOWED_LETTERS),
)


@pytest.mark.parametrize("upn", KNOWN_GOOD)
def test_known_good_upns_are_accepted(upn):
    assert upn_error(upn) is None
    assert upn_check_letter(upn[1:]) == upn[0]
    assert upn_make(upn[1:]) == upn


@pytest.mark.parametrize("upn", KNOWN_GOOD)
def test_every_other_check_letter_is_rejected(upn):
    for letter in ALLOWED_LETTERS.replace(upn[0], ""):
        error = upn_error(letter + upn[1:])
        assert error is not None
        assert f"should be {upn[0]}" in error


@pytest.mark.parametrize(
    "upn",
    [
        "",
        "H82220240000",  # 12 characters
        "H8222024000011",  # 14 characters
        "h822202400001",  # lowercase check letter
        "U82220240000a",  # lowercase temporary letter
        "H 822202400001",
        "822202400001H",  # check letter at the wrong end
        "HA22202400001",  # a letter in the digits
    ],
)
def test_badly_shaped_upns_are_rejected(upn):
    error = upn_error(upn)

    assert error is not None
    assert "13 characters" in error


@pytest.mark.parametrize(
    "upn",
    [
        "I000000000000",  # I, O and S are never check letters...
        "O000000000000",
        "S000000000000",
        "A82220240000I",  # ...nor temporary letters
        "A82220240000O",
        "A82220240000S",
    ],
)
def test_letters_i_o_and_s_are_never_valid(upn):
    error = upn_error(upn)

    assert error is not None
    assert "13 characters" in error


def _value(char: str) -> int:
    """A character's worth in the weighted sum (module docstring): digits count as themselves,
    a temporary UPN's letter as its place in the check-letter alphabet."""
    return int(char) if char in DIGITS else ALLOWED_LETTERS.index(char)


@given(body=bodies, position=st.integers(0, 11), data=st.data())
def test_any_single_character_change_is_caught(body, position, data):
    # The weights 2..13 are all coprime with 23, so changing one character's value always
    # changes the sum modulo 23: a mistyped UPN is never silently accepted. (A final letter
    # and the digit of the same value, "A" and "0", weigh the same: see KNOWN_GOOD.)
    alphabet = DIGITS + ALLOWED_LETTERS if position == 11 else DIGITS
    others = [char for char in alphabet if _value(char) != _value(body[position])]
    replacement = data.draw(st.sampled_from(others))
    typo = body[:position] + replacement + body[position + 1 :]

    assert upn_error(upn_make(body)) is None
    assert upn_error(upn_make(body)[0] + typo) is not None


@given(body=bodies, position=st.integers(0, 10))
def test_swapping_two_neighbouring_characters_is_caught(body, position):
    assume(_value(body[position]) != _value(body[position + 1]))
    swapped = body[:position] + body[position + 1] + body[position] + body[position + 2 :]

    assert upn_error(upn_make(body)[0] + swapped) is not None


def test_a_trailing_newline_is_reported_not_raised():
    assert upn_error("H822202400001\n") is not None


@pytest.mark.parametrize("upn", ["H\u066822202400001", "H\uff1822202400001"])
def test_only_ascii_digits_are_accepted(upn):
    assert upn_error(upn) is not None


@pytest.fixture
def school() -> School:
    return SchoolFactory()


def _pupil(school: School, upn: str) -> Pupil:
    return Pupil(
        school=school,
        upn=upn,
        legal_forename="Ada",
        legal_surname="Lovelace",
        date_of_birth=dt.date(2012, 12, 10),
        gender=Gender.FEMALE,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("upn", ["B822202400001", "H82220240000", "h822202400001"])
def test_pupil_full_clean_rejects_a_bad_upn(school, upn):
    with school_scope(school), pytest.raises(ValidationError) as excinfo:
        _pupil(school, upn).full_clean()

    assert "upn" in excinfo.value.message_dict


@pytest.mark.django_db
def test_pupil_full_clean_accepts_a_good_upn(school):
    with school_scope(school):
        _pupil(school, "H822202400001").full_clean()
