"""Pure rules of the first-day queue (issue 10): a pupil's vulnerability tier and the queue's
order. No ORM, so they are table-tested.

Default tier order (configurable per school by listing the flags in ``tier_order``):
1 child protection plan; 2 looked after; 3 child in need; 4 young carer, EHCP, or a first-day
call in the last 20 school days that reached nobody; 5 everyone else. Within a tier: more
consecutive school days of unexplained absence first, then pupils already persistently
absent, then surname, forename, UPN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

# Flags in the default order; flags sharing a tier are grouped.
DEFAULT_TIER_ORDER: tuple[tuple[str, ...], ...] = (
    ("child_protection_plan",),
    ("looked_after",),
    ("child_in_need",),
    ("young_carer", "ehcp", "unreached_recently"),
)
TIER_FLAGS = frozenset(flag for tier in DEFAULT_TIER_ORDER for flag in tier)
# Why a pupil is in their tier, as the queue page says it ("" is the last tier).
TIER_REASONS = {
    "child_protection_plan": _("Child protection plan"),
    "looked_after": _("Looked after"),
    "child_in_need": _("Child in need"),
    "young_carer": _("Young carer"),
    "ehcp": _("EHCP"),
    "unreached_recently": _("A first-day call in the last 20 school days reached nobody"),
    "": _("No vulnerability flag"),
}
# Tiers whose day-3 alert is "tell the social worker today".
SOCIAL_WORKER_TIERS = frozenset({1, 2, 3})
NO_CONTACT_ALERT_DAY = 3


@dataclass(frozen=True)
class PupilFlags:
    child_protection_plan: bool = False
    looked_after: bool = False
    child_in_need: bool = False
    young_carer: bool = False
    ehcp: bool = False
    unreached_recently: bool = False


def tier_order_parse(raw: object) -> tuple[tuple[str, ...], ...]:
    """A school's stored tier order (a list of flag names or lists of them), or the default
    when it is empty or names an unknown flag."""
    if not isinstance(raw, list) or not raw:
        return DEFAULT_TIER_ORDER
    tiers: list[tuple[str, ...]] = []
    for entry in raw:
        group = tuple(entry) if isinstance(entry, list) else (entry,)
        if not group or not all(isinstance(f, str) and f in TIER_FLAGS for f in group):
            return DEFAULT_TIER_ORDER
        tiers.append(group)
    return tuple(tiers)


def pupil_tier(
    flags: PupilFlags, order: Sequence[Sequence[str]] = DEFAULT_TIER_ORDER
) -> tuple[int, str]:
    """The pupil's tier (1 is called first) and the flag that put them there ("" for the last
    tier, everyone else)."""
    for number, group in enumerate(order, start=1):
        for flag in group:
            if getattr(flags, flag):
                return number, flag
    return len(order) + 1, ""


def first_day_sort_key(
    *,
    tier: int,
    days_absent: int,
    persistently_absent: bool,
    surname: str,
    forename: str,
    upn: str,
) -> tuple[int, int, int, str, str, str]:
    """The first-day queue's order: tier, then more consecutive days first, then persistently
    absent first, then surname, forename, UPN (case-insensitive names)."""
    return (
        tier,
        -days_absent,
        0 if persistently_absent else 1,
        surname.casefold(),
        forename.casefold(),
        upn,
    )


def no_contact_alert(*, tier: int, days_absent: int, reached: bool) -> str:
    """The alert a first-day item raises: "" when none; on day 3 of unexplained absence with
    nobody reached a home visit or letter (seed 001), and for tiers 1-3 the social worker."""
    if reached or days_absent < NO_CONTACT_ALERT_DAY:
        return ""
    return "social-worker" if tier in SOCIAL_WORKER_TIERS else "home-visit"
