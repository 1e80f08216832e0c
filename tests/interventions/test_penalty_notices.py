from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interventions.penalty_notices import (
    ALTERNATIVE_ACTION,
    ENGLAND,
    NTI_CONTENTS,
    NTI_FIELDS,
    WALES,
    NoticeRecord,
    NoticeStatus,
    NoticeVerdict,
    ProsecutionOutcome,
    add_years,
    amount_due,
    counts_towards_limit,
    next_notice,
    nti_end_date,
    nti_missing_contents,
    nti_period_check,
    nti_period_error,
    payment_terms,
)
from schools.models import Jurisdiction

D = dt.date
PARENT_A, PARENT_B, CHILD_C, CHILD_D = "parent-a", "parent-b", "child-c", "child-d"

S = NoticeStatus
Outcome = ProsecutionOutcome


def notice(
    issued_on: dt.date,
    *,
    status: NoticeStatus = S.PAID,
    parent: str = PARENT_A,
    child: str = CHILD_C,
    received_on: dt.date | None = None,
    sequence: int = 1,
    jurisdiction: str = ENGLAND,
    outcome: ProsecutionOutcome | None = None,
) -> NoticeRecord:
    return NoticeRecord(
        parent=parent,
        child=child,
        status=status,
        jurisdiction=jurisdiction,
        sequence=sequence,
        issued_on=issued_on,
        received_on=issued_on if received_on is None else received_on,
        paid_on=issued_on if status is S.PAID else None,
        prosecution_outcome=outcome,
    )


# TC-15: PN1 issued and received Tue 1 Oct 2024; PN2 received Mon 10 Mar 2025.
PN1 = notice(D(2024, 10, 1))
PN2 = notice(D(2025, 3, 10), sequence=2)


def test_jurisdiction_values_match_the_school_model():
    assert (Jurisdiction.ENGLAND.value, Jurisdiction.WALES.value) == (ENGLAND, WALES)


@pytest.mark.parametrize(
    ("paid_on", "owed"),
    [
        (D(2024, 10, 1), 8_000),  # day 1: the day of receipt
        (D(2024, 10, 21), 8_000),  # day 21
        (D(2024, 10, 22), 16_000),  # day 22
        (D(2024, 10, 28), 16_000),  # day 28
        (D(2024, 10, 29), None),  # unpaid: the LA decides on prosecution or withdrawal
    ],
)
def test_tc15_first_notice_amount_by_payment_day(paid_on, owed):
    received = notice(D(2024, 10, 1), status=S.RECEIVED)
    assert amount_due(received, paid_on) == owed


def test_tc15_first_notice_terms():
    terms = payment_terms(1, D(2024, 10, 1), ENGLAND)
    assert (terms.reduced_amount, terms.reduced_due_by) == (8_000, D(2024, 10, 21))
    assert (terms.full_amount, terms.full_due_by) == (16_000, D(2024, 10, 28))


def test_tc15_second_notice_is_160_flat_due_sunday_6_april():
    decision = next_notice([PN1], PARENT_A, CHILD_C, D(2025, 3, 10), ENGLAND)
    assert decision.verdict is NoticeVerdict.ALLOWED
    assert decision.sequence == 2
    assert (decision.reduced_amount, decision.reduced_due_by) == (None, None)
    assert (decision.full_amount, decision.full_due_by) == (16_000, D(2025, 4, 6))
    assert decision.full_due_by.strftime("%A") == "Sunday"
    assert decision.bar_lifts_on == D(2027, 10, 1)


@pytest.mark.parametrize(
    ("paid_on", "owed"),
    [(D(2025, 3, 10), 16_000), (D(2025, 4, 6), 16_000), (D(2025, 4, 7), None)],
)
def test_tc15_second_notice_has_no_reduced_rate(paid_on, owed):
    assert amount_due(PN2, paid_on) == owed


@pytest.mark.parametrize(
    "pn2_status", [S.PAID, S.ISSUED, S.RECEIVED, S.UNPAID, S.PROSECUTED], ids=str
)
def test_tc15_third_notice_on_2_feb_2026_is_blocked(pn2_status):
    pn2 = notice(D(2025, 3, 10), sequence=2, status=pn2_status)
    decision = next_notice([PN1, pn2], PARENT_A, CHILD_C, D(2026, 2, 2), ENGLAND)
    assert decision.blocked
    assert not decision.allowed
    assert decision.terms is None
    assert decision.proposal == ALTERNATIVE_ACTION
    assert decision.proposal == "alternative action (e.g. prosecution / other legal intervention)"
    assert decision.bar_lifts_on == D(2027, 10, 1)
    assert decision.counted == (PN1, pn2)


@pytest.mark.parametrize("on", [D(2024, 10, 2), D(2025, 3, 10), D(2026, 2, 2), D(2027, 10, 1)])
def test_tc15_parent_b_same_child_is_on_a_first_notice(on):
    decision = next_notice([PN1, PN2], PARENT_B, CHILD_C, on, ENGLAND)
    assert decision.allowed
    assert decision.sequence == 1
    assert (decision.reduced_amount, decision.reduced_due_by) == (8_000, on + dt.timedelta(20))
    assert (decision.full_amount, decision.full_due_by) == (16_000, on + dt.timedelta(27))
    assert decision.counted == ()


def test_another_child_of_the_same_parent_has_its_own_ledger():
    decision = next_notice([PN1, PN2], PARENT_A, CHILD_D, D(2026, 2, 2), ENGLAND)
    assert (decision.verdict, decision.sequence) == (NoticeVerdict.ALLOWED, 1)


def test_tc15_withdrawn_pn1_makes_pn2_the_first():
    withdrawn = notice(D(2024, 10, 1), status=S.WITHDRAWN)
    as_pn2 = next_notice([withdrawn], PARENT_A, CHILD_C, D(2025, 3, 10), ENGLAND)
    assert (as_pn2.sequence, as_pn2.reduced_amount, as_pn2.full_amount) == (1, 8_000, 16_000)
    assert (as_pn2.reduced_due_by, as_pn2.full_due_by) == (D(2025, 3, 30), D(2025, 4, 6))

    # ... and a further notice is possible on 2 Feb 2026: the second, within 3 years of PN2.
    pn2_first = notice(D(2025, 3, 10), sequence=1)
    further = next_notice([withdrawn, pn2_first], PARENT_A, CHILD_C, D(2026, 2, 2), ENGLAND)
    assert (further.verdict, further.sequence, further.full_amount) == (
        NoticeVerdict.ALLOWED,
        2,
        16_000,
    )
    assert further.bar_lifts_on == D(2028, 3, 10)


@pytest.mark.parametrize(
    ("on", "verdict", "sequence"),
    [
        (D(2027, 9, 30), NoticeVerdict.BLOCKED, 3),  # the last day of the 3 years
        (D(2027, 10, 1), NoticeVerdict.MANUAL_DECISION, 2),  # bar lifted; PN2 within its 3 years
        (D(2028, 3, 9), NoticeVerdict.MANUAL_DECISION, 2),
        (D(2028, 3, 10), NoticeVerdict.ALLOWED, 1),  # PN2's 3 years are over too
    ],
)
def test_tc15_bar_lifts_on_1_october_2027_not_30_september(on, verdict, sequence):
    decision = next_notice([PN1, PN2], PARENT_A, CHILD_C, on, ENGLAND)
    assert (decision.verdict, decision.sequence) == (verdict, sequence)


def test_after_the_bar_a_second_notice_still_within_3_years_needs_a_person():
    decision = next_notice([PN1, PN2], PARENT_A, CHILD_C, D(2027, 10, 1), ENGLAND)
    assert decision.needs_manual_decision
    assert not decision.allowed
    assert not decision.blocked
    assert "§11 item 8" in decision.reason
    assert "Provisional" in decision.reason
    assert (decision.reduced_amount, decision.full_amount) == (None, 16_000)


def test_only_pn1_bar_lifted_is_a_fresh_first_notice():
    decision = next_notice([PN1], PARENT_A, CHILD_C, D(2027, 10, 1), ENGLAND)
    assert (decision.verdict, decision.sequence, decision.bar_lifts_on) == (
        NoticeVerdict.ALLOWED,
        1,
        None,
    )


def test_a_notice_after_the_bar_starts_a_new_period():
    pn3 = notice(D(2028, 4, 3))  # a fresh first notice once both earlier ones are past 3 years
    decision = next_notice([PN1, PN2, pn3], PARENT_A, CHILD_C, D(2028, 6, 1), ENGLAND)
    assert (decision.verdict, decision.sequence, decision.bar_lifts_on) == (
        NoticeVerdict.ALLOWED,
        2,
        D(2031, 4, 3),
    )


def test_notices_issued_after_the_decision_date_are_ignored():
    decision = next_notice([PN1, PN2], PARENT_A, CHILD_C, D(2024, 12, 1), ENGLAND)
    assert (decision.sequence, decision.counted) == (2, (PN1,))


def test_received_on_moves_the_payment_windows():
    decision = next_notice(
        [], PARENT_A, CHILD_C, D(2024, 10, 1), ENGLAND, received_on=D(2024, 10, 3)
    )
    assert (decision.reduced_due_by, decision.full_due_by) == (D(2024, 10, 23), D(2024, 10, 30))


@pytest.mark.parametrize(
    ("status", "outcome", "counts"),
    [
        (S.REQUESTED, None, False),
        (S.ISSUED, None, True),  # live
        (S.RECEIVED, None, True),  # live
        (S.PAID, None, True),
        (S.UNPAID, None, True),  # live: the LA has not yet decided
        (S.UNPAID, Outcome.PLEADED_GUILTY, True),
        (S.UNPAID, Outcome.FOUND_GUILTY, True),
        (S.UNPAID, Outcome.ACQUITTED, False),
        (S.PROSECUTED, None, True),  # live: the case is pending
        (S.PROSECUTED, Outcome.PLEADED_GUILTY, True),
        (S.PROSECUTED, Outcome.FOUND_GUILTY, True),
        (S.PROSECUTED, Outcome.ACQUITTED, False),
        (S.WITHDRAWN, None, False),
    ],
)
def test_counts_towards_limit(status, outcome, counts):
    issued_on = None if status is S.REQUESTED else D(2024, 10, 1)
    record = NoticeRecord(
        parent=PARENT_A,
        child=CHILD_C,
        status=status,
        jurisdiction=ENGLAND,
        issued_on=issued_on,
        paid_on=D(2024, 10, 5) if status is S.PAID else None,
        prosecution_outcome=outcome,
    )
    assert counts_towards_limit(record) is counts


@pytest.mark.parametrize(
    ("outcome", "verdict"),
    [(Outcome.ACQUITTED, NoticeVerdict.ALLOWED), (Outcome.FOUND_GUILTY, NoticeVerdict.BLOCKED)],
)
def test_unpaid_and_acquitted_does_not_block_convicted_does(outcome, verdict):
    pn2 = notice(D(2025, 3, 10), sequence=2, status=S.PROSECUTED, outcome=outcome)
    decision = next_notice([PN1, pn2], PARENT_A, CHILD_C, D(2026, 2, 2), ENGLAND)
    assert decision.verdict is verdict


def test_requested_notice_does_not_count():
    requested = NoticeRecord(
        parent=PARENT_A, child=CHILD_C, status=S.REQUESTED, jurisdiction=ENGLAND
    )
    decision = next_notice([PN1, requested], PARENT_A, CHILD_C, D(2026, 2, 2), ENGLAND)
    assert (decision.verdict, decision.sequence) == (NoticeVerdict.ALLOWED, 2)


@pytest.mark.parametrize(
    ("issued_on", "years", "anniversary"),
    [
        (D(2024, 10, 1), 3, D(2027, 10, 1)),
        (D(2024, 2, 29), 3, D(2027, 3, 1)),  # leap day: 1 March in a common year
        (D(2024, 2, 29), 4, D(2028, 2, 29)),
        (D(2023, 3, 1), 1, D(2024, 3, 1)),
        (D(2024, 2, 28), 3, D(2027, 2, 28)),
    ],
)
def test_add_years(issued_on, years, anniversary):
    assert add_years(issued_on, years) == anniversary


@pytest.mark.parametrize(
    ("on", "verdict", "bar_lifts_on"),
    [
        (D(2027, 2, 28), NoticeVerdict.BLOCKED, D(2027, 3, 1)),
        (D(2027, 3, 1), NoticeVerdict.ALLOWED, None),  # both notices' 3 years are over
    ],
)
def test_leap_day_first_notice_bar_lifts_on_1_march(on, verdict, bar_lifts_on):
    history = [notice(D(2024, 2, 29)), notice(D(2024, 3, 1), sequence=2)]
    decision = next_notice(history, PARENT_A, CHILD_C, on, ENGLAND)
    assert (decision.verdict, decision.bar_lifts_on) == (verdict, bar_lifts_on)


def test_payment_windows_across_a_leap_day():
    terms = payment_terms(1, D(2024, 2, 20), ENGLAND)
    assert (terms.reduced_due_by, terms.full_due_by) == (D(2024, 3, 11), D(2024, 3, 18))


@pytest.mark.parametrize("sequence", [1, 2, 3])
@pytest.mark.parametrize(
    ("paid_on", "owed"),
    [
        (D(2024, 10, 1), 6_000),
        (D(2024, 10, 28), 6_000),  # day 28
        (D(2024, 10, 29), 12_000),  # day 29
        (D(2024, 11, 11), 12_000),  # day 42
        (D(2024, 11, 12), None),  # day 43
    ],
)
def test_tc18_welsh_amounts_for_every_notice(sequence, paid_on, owed):
    record = notice(D(2024, 10, 1), status=S.RECEIVED, sequence=sequence, jurisdiction=WALES)
    assert amount_due(record, paid_on) == owed


def test_tc18_welsh_first_notice():
    decision = next_notice([], PARENT_A, CHILD_C, D(2024, 10, 1), WALES)
    assert (decision.verdict, decision.sequence) == (NoticeVerdict.ALLOWED, 1)
    assert (decision.reduced_amount, decision.reduced_due_by) == (6_000, D(2024, 10, 28))
    assert (decision.full_amount, decision.full_due_by) == (12_000, D(2024, 11, 11))


@pytest.mark.parametrize("count", [1, 2, 3])
def test_welsh_repeat_notice_is_never_blocked_but_goes_to_a_person(count):
    history = [
        notice(D(2024, 10, 1) + dt.timedelta(days=60 * i), jurisdiction=WALES, sequence=i + 1)
        for i in range(count)
    ]
    decision = next_notice(history, PARENT_A, CHILD_C, D(2026, 2, 2), WALES)
    assert decision.needs_manual_decision
    assert decision.sequence == count + 1
    assert (decision.reduced_amount, decision.full_amount) == (6_000, 12_000)
    assert "code of conduct" in decision.reason


def test_welsh_notice_older_than_3_years_is_not_a_repeat():
    history = [notice(D(2021, 10, 1), jurisdiction=WALES)]
    decision = next_notice(history, PARENT_A, CHILD_C, D(2024, 10, 1), WALES)
    assert (decision.verdict, decision.sequence) == (NoticeVerdict.ALLOWED, 1)


@pytest.mark.parametrize(
    ("sequence", "jurisdiction", "message"),
    [
        (3, ENGLAND, "cannot be issued"),
        (0, ENGLAND, "starts at 1"),
        (1, "scotland", "Unknown jurisdiction"),
    ],
)
def test_payment_terms_refusals(sequence, jurisdiction, message):
    with pytest.raises(ValueError, match=message):
        payment_terms(sequence, D(2024, 10, 1), jurisdiction)


def test_next_notice_refuses_unknown_jurisdiction():
    with pytest.raises(ValueError, match="Unknown jurisdiction"):
        next_notice([], PARENT_A, CHILD_C, D(2024, 10, 1), "England")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"status": S.ISSUED}, "needs its issue date"),
        (
            {"status": S.RECEIVED, "issued_on": D(2024, 10, 2), "received_on": D(2024, 10, 1)},
            "received before it is issued",
        ),
        ({"status": S.PAID, "issued_on": D(2024, 10, 1)}, "needs its payment date"),
        (
            {
                "status": S.PAID,
                "issued_on": D(2024, 10, 1),
                "paid_on": D(2024, 10, 2),
                "prosecution_outcome": Outcome.ACQUITTED,
            },
            "no prosecution outcome",
        ),
        ({"status": S.ISSUED, "issued_on": D(2024, 10, 1), "sequence": 0}, "starts at 1"),
    ],
)
def test_notice_record_refuses_impossible_rows(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NoticeRecord(parent=PARENT_A, child=CHILD_C, jurisdiction=ENGLAND, **kwargs)


@pytest.mark.parametrize("status", [S.WITHDRAWN])
def test_amount_due_refuses_a_withdrawn_notice(status):
    with pytest.raises(ValueError, match="owes nothing"):
        amount_due(notice(D(2024, 10, 1), status=status), D(2024, 10, 2))


def test_amount_due_needs_the_receipt_date():
    issued = NoticeRecord(
        parent=PARENT_A,
        child=CHILD_C,
        status=S.ISSUED,
        jurisdiction=ENGLAND,
        issued_on=D(2024, 10, 1),
    )
    with pytest.raises(ValueError, match="receipt date"):
        amount_due(issued, D(2024, 10, 2))


# --- Notice to Improve -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("school_days", "refused"), [(14, True), (15, False), (30, False), (31, True), (0, True)]
)
def test_nti_period_bounds(school_days, refused):
    error = nti_period_error(school_days)
    assert (error is not None) is refused
    if refused:
        with pytest.raises(ValueError, match="between 15 and 30 school days"):
            nti_period_check(school_days)
    else:
        assert nti_period_check(school_days) == school_days


def _cal_a(day: dt.date) -> bool:
    """TC shared calendar CAL-A, autumn 2024: weekdays from 2 Sep, half-term 28 Oct - 1 Nov."""
    return day.weekday() < 5 and not D(2024, 10, 28) <= day <= D(2024, 11, 1)


@pytest.mark.parametrize(
    ("start", "school_days", "end"),
    [
        (D(2024, 9, 2), 15, D(2024, 9, 20)),  # Mon start counts as day 1: three school weeks
        (D(2024, 9, 2), 30, D(2024, 10, 11)),
        (D(2024, 9, 1), 15, D(2024, 9, 20)),  # a Sunday start: the count begins on Monday
        (D(2024, 10, 14), 15, D(2024, 11, 8)),  # half-term is skipped
        (D(2024, 10, 25), 15, D(2024, 11, 21)),
    ],
)
def test_nti_end_date_on_cal_a(start, school_days, end):
    assert nti_end_date(start, school_days, _cal_a) == end


def test_nti_end_date_accepts_a_set_of_school_days():
    days = frozenset(D(2024, 9, 2) + dt.timedelta(days=i) for i in range(0, 60, 2))
    assert nti_end_date(D(2024, 9, 2), 15, days.__contains__) == D(2024, 9, 30)


@pytest.mark.parametrize("school_days", [14, 31])
def test_nti_end_date_refuses_a_period_outside_15_to_30(school_days):
    with pytest.raises(ValueError, match="between 15 and 30"):
        nti_end_date(D(2024, 9, 2), school_days, _cal_a)


def test_nti_end_date_refuses_a_calendar_not_loaded():
    few = frozenset({D(2024, 9, 2), D(2024, 9, 3)})
    with pytest.raises(ValueError, match="only 2 school days"):
        nti_end_date(D(2024, 9, 2), 15, few.__contains__)


def test_nti_contents_are_the_eight_of_section_5_3():
    assert len(NTI_CONTENTS) == 8
    assert len(set(NTI_FIELDS)) == 8
    assert NTI_CONTENTS[0] == (
        "attendance_record",
        "Details of the pupil's attendance record and of the offences",
    )
    assert "between 3 and 6 weeks" in dict(NTI_CONTENTS)["improvement_period"]
    assert "before the end of the improvement period" in dict(NTI_CONTENTS)["early_issue_grounds"]


def test_nti_missing_contents():
    filled = dict.fromkeys(NTI_FIELDS, "text")
    assert nti_missing_contents(filled) == ()
    filled["warning"] = "   "
    del filled["support_so_far"]
    assert nti_missing_contents(filled) == ("support_so_far", "warning")


# --- Properties -------------------------------------------------------------------------

dates = st.dates(min_value=D(2020, 1, 1), max_value=D(2035, 12, 31))
jurisdictions = st.sampled_from([ENGLAND, WALES])


@given(received_on=dates, sequence=st.integers(1, 2), jurisdiction=jurisdictions)
def test_reduced_window_ends_before_the_full_window(received_on, sequence, jurisdiction):
    terms = payment_terms(sequence, received_on, jurisdiction)
    assert received_on < terms.full_due_by
    if terms.reduced_due_by is not None:
        assert received_on < terms.reduced_due_by < terms.full_due_by
        assert terms.reduced_amount is not None
        assert terms.reduced_amount < terms.full_amount
        assert terms.amount_on(terms.reduced_due_by) == terms.reduced_amount
        assert terms.amount_on(terms.reduced_due_by + dt.timedelta(1)) == terms.full_amount
    assert terms.amount_on(terms.full_due_by) == terms.full_amount
    assert terms.amount_on(terms.full_due_by + dt.timedelta(1)) is None


statuses = st.sampled_from([s for s in NoticeStatus if s is not S.REQUESTED])


@st.composite
def records(draw: st.DrawFn, parent: str, child: str, jurisdiction: str) -> NoticeRecord:
    status = draw(statuses)
    outcome = (
        draw(st.sampled_from([None, *ProsecutionOutcome]))
        if status in (S.UNPAID, S.PROSECUTED)
        else None
    )
    return notice(
        draw(dates),
        status=status,
        parent=parent,
        child=child,
        jurisdiction=jurisdiction,
        outcome=outcome,
    )


@given(data=st.data(), on=dates, jurisdiction=jurisdictions)
def test_other_parents_and_children_never_change_the_decision(data, on, jurisdiction):
    own = data.draw(st.lists(records(PARENT_A, CHILD_C, jurisdiction), max_size=5))
    others = data.draw(
        st.lists(
            records(PARENT_B, CHILD_C, jurisdiction) | records(PARENT_A, CHILD_D, jurisdiction),
            max_size=5,
        )
    )
    mixed = data.draw(st.permutations(own + others))
    alone = next_notice(own, PARENT_A, CHILD_C, on, jurisdiction)
    together = next_notice(mixed, PARENT_A, CHILD_C, on, jurisdiction)
    # Notices issued the same day may be listed in either order; nothing else may differ.
    assert Counter(together.counted) == Counter(alone.counted)
    assert replace(together, counted=()) == replace(alone, counted=())


@given(data=st.data(), on=dates)
def test_england_never_allows_a_third_notice_in_a_running_period(data, on):
    history = data.draw(st.lists(records(PARENT_A, CHILD_C, ENGLAND), max_size=6))
    decision = next_notice(history, PARENT_A, CHILD_C, on, ENGLAND)
    if decision.allowed:
        assert decision.sequence in (1, 2)
        window = [
            r
            for r in decision.counted
            if r.issued_on is not None and on < add_years(r.issued_on, 3)
        ]
        assert len(window) == decision.sequence - 1
    if decision.blocked:
        assert decision.bar_lifts_on is not None
        assert decision.bar_lifts_on > on
        assert decision.proposal == ALTERNATIVE_ACTION


@given(day=dates)
def test_three_years_later_is_1095_or_1096_days(day):
    assert (add_years(day, 3) - day).days in (1095, 1096)


@given(
    start=dates, school_days=st.integers(15, 30), weekdays=st.sets(st.integers(0, 6), min_size=1)
)
def test_nti_end_date_is_the_nth_school_day(start, school_days, weekdays):
    def is_school_day(day: dt.date) -> bool:
        return day.weekday() in weekdays

    end = nti_end_date(start, school_days, is_school_day)
    assert is_school_day(end)
    span = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    assert sum(map(is_school_day, span)) == school_days


def test_a_new_period_with_an_earlier_notice_still_within_3_years_needs_a_person():
    pn3 = notice(D(2027, 10, 4))  # issued after a person decided, on or after the bar lifted
    decision = next_notice([PN1, PN2, pn3], PARENT_A, CHILD_C, D(2028, 1, 10), ENGLAND)
    assert decision.needs_manual_decision
    assert decision.bar_lifts_on == D(2030, 10, 4)
    pn4 = notice(D(2028, 1, 10), sequence=2)
    blocked = next_notice([PN1, PN2, pn3, pn4], PARENT_A, CHILD_C, D(2028, 2, 1), ENGLAND)
    assert blocked.blocked
