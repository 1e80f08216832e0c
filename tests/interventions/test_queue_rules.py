from __future__ import annotations

import pytest

from interventions.queue_rules import (
    DEFAULT_TIER_ORDER,
    PupilFlags,
    first_day_sort_key,
    no_contact_alert,
    pupil_tier,
    tier_order_parse,
)


@pytest.mark.parametrize(
    ("flags", "tier", "reason"),
    [
        (PupilFlags(child_protection_plan=True, looked_after=True), 1, "child_protection_plan"),
        (PupilFlags(looked_after=True, child_in_need=True), 2, "looked_after"),
        (PupilFlags(child_in_need=True), 3, "child_in_need"),
        (PupilFlags(young_carer=True), 4, "young_carer"),
        (PupilFlags(ehcp=True), 4, "ehcp"),
        (PupilFlags(unreached_recently=True), 4, "unreached_recently"),
        (PupilFlags(), 5, ""),
    ],
)
def test_tiers_in_the_default_order(flags, tier, reason):
    assert pupil_tier(flags) == (tier, reason)


def test_a_school_can_reorder_the_tiers_and_a_bad_order_falls_back():
    order = tier_order_parse(["looked_after", ["child_protection_plan", "ehcp"]])
    assert pupil_tier(PupilFlags(looked_after=True, ehcp=True), order) == (1, "looked_after")
    assert pupil_tier(PupilFlags(ehcp=True), order) == (2, "ehcp")
    assert pupil_tier(PupilFlags(child_in_need=True), order) == (3, "")
    assert tier_order_parse(["no_such_flag"]) == DEFAULT_TIER_ORDER
    assert tier_order_parse([]) == DEFAULT_TIER_ORDER


def test_order_within_a_tier_days_then_persistent_absence_then_names_then_upn():
    def key(tier, days, pa, surname, forename, upn):
        return first_day_sort_key(
            tier=tier,
            days_absent=days,
            persistently_absent=pa,
            surname=surname,
            forename=forename,
            upn=upn,
        )

    rows = {
        "tier2": key(2, 1, False, "Zed", "A", "Z1"),
        "more_days": key(3, 3, False, "Young", "A", "Y1"),
        "pa": key(3, 1, True, "Young", "A", "Y2"),
        "abbot": key(3, 1, False, "abbot", "B", "A3"),
        "abbot_a": key(3, 1, False, "Abbot", "A", "A9"),
        "abbot_a_upn": key(3, 1, False, "Abbot", "A", "A1"),
        "tier5": key(5, 9, True, "Aaron", "A", "A0"),
    }
    assert sorted(rows, key=rows.__getitem__) == [
        "tier2",
        "more_days",
        "pa",
        "abbot_a_upn",
        "abbot_a",
        "abbot",
        "tier5",
    ]


@pytest.mark.parametrize(
    ("tier", "days", "reached", "alert"),
    [
        (5, 2, False, ""),
        (5, 3, False, "home-visit"),
        (4, 4, False, "home-visit"),
        (1, 3, False, "social-worker"),
        (3, 3, False, "social-worker"),
        (1, 3, True, ""),
    ],
)
def test_day_three_with_nobody_reached_raises_an_alert(tier, days, reached, alert):
    assert no_contact_alert(tier=tier, days_absent=days, reached=reached) == alert
