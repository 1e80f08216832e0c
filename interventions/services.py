"""Writes to the attendance engine's configuration: a school's attendance bands and its local
authority's rules (spec/regulations.md §4.1, §5.2, §6.2). Only services write (STYLE.md rule 5).

Results (the stored summaries, events and runs) are written by the recompute, not here: a
change of bands or rules shows in them from the next run.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from interventions import rules
from interventions.models import AttendanceBand, AttendanceRules
from interventions.selectors import attendance_rules_get
from schools.models import School, StaffMembership
from schools.permissions import Capability, check_capability

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")
_NAME_MAX, _MEANING_MAX = 60, 300  # AttendanceBand.name and .meaning max_length
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class BandInput:
    """One band as a user entered it: ``lower_bound`` is a percentage (0 to 100, 2 dp)."""

    name: str
    lower_bound: Decimal
    inclusive: bool = True
    colour: str = "#6b7280"
    meaning: str = ""


# --- Presets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BandPreset:
    key: str
    label: StrOrPromise  # gettext_lazy: shown in the reader's language
    bands: tuple[rules.Band, ...]
    colours: tuple[str, ...]  # one per band, from green (highest) to red (lowest)


# A green-to-red ramp with enough contrast on white for a swatch beside its name.
_GREEN, _LIME, _YELLOW, _AMBER = "#15803d", "#65a30d", "#ca8a04", "#ea580c"
_RED, _DARK_RED, _MAROON = "#dc2626", "#b91c1c", "#7f1d1d"

BAND_PRESETS: dict[str, BandPreset] = {
    preset.key: preset
    for preset in (
        BandPreset(
            key="dfe",
            label=gettext_lazy(
                "DfE default: above 90 per cent, persistent absence (90 per cent or below), "
                "severe absence (50 per cent or below)"
            ),
            bands=rules.DFE_DEFAULT,
            colours=(_GREEN, _AMBER, _DARK_RED),
        ),
        BandPreset(
            key="seed_002",
            label=gettext_lazy(
                "Seed 002 (Bedford High School): bands A to G (97, 95, 93, 90, 80, 50, 0 per cent)"
            ),
            bands=rules.SEED_002_BEDFORD,
            colours=(_GREEN, _LIME, _YELLOW, _AMBER, _RED, _DARK_RED, _MAROON),
        ),
        BandPreset(
            key="seed_000",
            label=gettext_lazy(
                "Seed 000 (King Henry VIII 3-19 School, Wales): tiers 96, 90-96, 81-90, 51-80 "
                "and 31-50 per cent"
            ),
            bands=rules.SEED_000_KING_HENRY,
            colours=(_GREEN, _LIME, _YELLOW, _AMBER, _DARK_RED),
        ),
        BandPreset(
            key="seed_004",
            label=gettext_lazy(
                "Seed 004 (a staged approach): above 97 per cent, cause for concern levels 1 and 2"
            ),
            bands=rules.SEED_004_STAGED,
            colours=(_GREEN, _AMBER, _DARK_RED),
        ),
    )
}
# For a ChoiceField: (key, human label).
BAND_PRESET_CHOICES: tuple[tuple[str, StrOrPromise], ...] = tuple(
    (preset.key, preset.label) for preset in BAND_PRESETS.values()
)


def _decimal_bound(bound: Fraction) -> Decimal:
    value = (Decimal(bound.numerator) / Decimal(bound.denominator)).quantize(_CENT)
    if Fraction(value) != bound:
        raise ValueError(f"A band bound of {bound} cannot be stored to 2 decimal places.")
    return value


def preset_inputs(preset: str) -> list[BandInput]:
    """The preset's bands as ``BandInput`` rows, coloured; ``ValidationError`` if unknown."""
    found = BAND_PRESETS.get(preset)
    if found is None:
        raise ValidationError(_("Unknown band preset %(preset)r.") % {"preset": preset})
    return [
        BandInput(
            name=band.name,
            lower_bound=_decimal_bound(band.lower_bound),
            inclusive=band.inclusive,
            colour=colour,
            meaning=band.meaning,
        )
        for band, colour in zip(found.bands, found.colours, strict=True)
    ]


# --- Bands ----------------------------------------------------------------------------------


def _row(number: int, band: BandInput) -> str:
    name = band.name.strip()
    if name:
        return _("Row %(number)s (%(name)s)") % {"number": number, "name": name}
    return _("Row %(number)s") % {"number": number}


def band_errors(bands: Sequence[BandInput]) -> list[str]:
    """Every problem with ``bands`` as a whole, each naming its row (1-based, in the given
    order); empty if they can be saved. Pure: no database access."""
    if not bands:
        return [_("Define at least one band.")]
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, band in enumerate(bands, start=1):
        name, row = band.name.strip(), _row(number, band)
        if not name:
            errors.append(_("%(row)s: give the band a name.") % {"row": row})
        elif len(name) > _NAME_MAX:
            errors.append(
                _("%(row)s: the name can be at most %(max)s characters.")
                % {"row": row, "max": _NAME_MAX}
            )
        elif name.casefold() in seen:
            errors.append(
                _("%(row)s: the name is already used by row %(other)s.")
                % {"row": row, "other": seen[name.casefold()]}
            )
        else:
            seen[name.casefold()] = number
        bound = band.lower_bound
        if not bound.is_finite() or not Decimal(0) <= bound <= _HUNDRED:
            errors.append(
                _("%(row)s: the lower bound must be a percentage from 0 to 100.") % {"row": row}
            )
        elif bound != bound.quantize(_CENT):
            errors.append(
                _("%(row)s: the lower bound can have at most 2 decimal places.") % {"row": row}
            )
        if COLOUR_RE.fullmatch(band.colour) is None:
            errors.append(
                _("%(row)s: the colour must be written #rrggbb, e.g. #15803d.") % {"row": row}
            )
        if len(band.meaning.strip()) > _MEANING_MAX:
            errors.append(
                _("%(row)s: the meaning can be at most %(max)s characters.")
                % {"row": row, "max": _MEANING_MAX}
            )
    for number, (higher, lower) in enumerate(itertools.pairwise(bands), start=2):
        if not (higher.lower_bound.is_finite() and lower.lower_bound.is_finite()):
            continue
        # rules.band_for's order: by bound, and at an equal bound "strictly above" (not
        # inclusive) ranks higher. Equal keys would leave the lower band unreachable, so the
        # order must be strict.
        if (higher.lower_bound, not higher.inclusive) <= (lower.lower_bound, not lower.inclusive):
            if higher.lower_bound == lower.lower_bound:
                problem = _(
                    "%(row)s: two bands share this lower bound, so the upper one must exclude "
                    "it (not inclusive) and the lower one include it."
                )
            else:
                problem = _("%(row)s: bands must be listed from the highest lower bound down.")
            errors.append(problem % {"row": _row(number, lower)})
    return errors


def _normalised(bands: Sequence[BandInput]) -> list[tuple[str, Decimal, bool, str, str]]:
    return [
        (b.name.strip(), b.lower_bound, b.inclusive, b.colour.lower(), b.meaning.strip())
        for b in bands
    ]


def _bands_write(*, school: School, bands: Sequence[BandInput]) -> list[AttendanceBand]:
    errors = band_errors(bands)
    if errors:
        raise ValidationError(errors)
    wanted = _normalised(bands)
    current = list(AttendanceBand.objects.filter(school=school).order_by("position"))
    have = [(b.name, b.lower_bound, b.inclusive, b.colour.lower(), b.meaning) for b in current]
    if have == wanted:
        # Unchanged: keep the rows (and the stored results that point at them).
        return current
    AttendanceBand.objects.filter(school=school).delete()
    rows = [
        AttendanceBand(
            school=school,
            position=position,
            name=name,
            lower_bound=bound,
            inclusive=inclusive,
            colour=colour,
            meaning=meaning,
        )
        for position, (name, bound, inclusive, colour, meaning) in enumerate(wanted)
    ]
    for row in rows:
        row.full_clean(validate_unique=False, validate_constraints=False)
    return AttendanceBand.objects.bulk_create(rows)


@transaction.atomic
def bands_replace(
    *, school: School, bands: Sequence[BandInput], membership: StaffMembership
) -> list[AttendanceBand]:
    """Make ``bands`` (highest lower bound first) ``school``'s attendance bands.

    The whole list is checked first (``band_errors``): at least one band; names non-empty and
    unique; bounds 0 to 100 with 2 decimal places, strictly descending in
    ``rules.band_for``'s order (an equal bound only with the upper band exclusive and the
    lower inclusive); colours ``#rrggbb``. Raises ``ValidationError`` with one message per
    problem, each naming its row, or if ``membership`` is not a headteacher or administrator
    of ``school``; nothing is saved then. An unchanged list writes nothing. Otherwise the
    rows are replaced (positions 0..n-1); stored results lose their band link until the next
    recompute names the new band.
    """
    check_capability(
        membership,
        Capability.EDIT_ATTENDANCE_RULES,
        school=school,
        message=_("Only the headteacher and school administrators change the bands."),
    )
    return _bands_write(school=school, bands=bands)


@transaction.atomic
def bands_install_preset(*, school: School, preset: str) -> list[AttendanceBand]:
    """Give ``school`` the bands of ``preset`` (a key of ``BAND_PRESETS``: "dfe",
    "seed_002", "seed_000", "seed_004"), each with its colour from green down to red.

    Idempotent: if the school already has exactly these bands nothing is written. Raises
    ``ValidationError`` for an unknown preset.
    """
    return _bands_write(school=school, bands=preset_inputs(preset))


# --- Local-authority rules ------------------------------------------------------------------

RULES_FIELDS = (
    "pn_enabled",
    "pn_sessions",
    "pn_school_weeks",
    "pn_include_n",
    "illness_days",
    "illness_mode",
)
_AT_LEAST_ONE = {
    "pn_sessions": gettext_lazy("The penalty-notice threshold needs at least 1 session."),
    "pn_school_weeks": gettext_lazy("The penalty-notice window needs at least 1 school week."),
    "illness_days": gettext_lazy("The illness return needs at least 1 school day."),
}


@transaction.atomic
def attendance_rules_update(*, school: School, **fields: object) -> AttendanceRules:
    """Set some of ``school``'s local-authority rules (``RULES_FIELDS``), creating its
    ``AttendanceRules`` row if it has none.

    A new row starts from the jurisdiction's defaults (``attendance_rules_get``): in Wales
    the penalty-notice rule stays off unless ``pn_enabled`` is given. Raises
    ``ValidationError`` for an unknown field or an invalid value (a count below 1, an unknown
    illness mode); nothing is saved then.
    """
    unknown = set(fields) - set(RULES_FIELDS)
    if unknown:
        raise ValidationError(
            _("Not an attendance rule: %(names)s") % {"names": ", ".join(sorted(unknown))}
        )
    errors: dict[str, str] = {}
    for name, message in _AT_LEAST_ONE.items():
        value = fields.get(name, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            errors[name] = str(message)
    if errors:
        raise ValidationError(errors)
    rules = AttendanceRules.objects.select_for_update().filter(school=school).first()
    if rules is None:
        rules = AttendanceRules(school=school, **attendance_rules_get(school=school).as_fields())
    for name, value in fields.items():
        setattr(rules, name, value)
    rules.full_clean(exclude=["school"], validate_unique=False)
    rules.save()
    return rules
