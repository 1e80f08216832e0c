"""Penalty notices and Notices to Improve as pure rules (no ORM): the one place for them.

Source: spec/regulations.md §5.3 (NTI), §5.4 (amounts, limits, counting), §2 (Wales), §11
item 8 and worked cases TC-15 and TC-18. Money is in integer pence; dates are ``datetime.date``.

Conventions (the spec tags them [U]; each is also listed in the README):

- **Payment periods begin with the day of receipt** ("the period of 21 days beginning with the
  date on which the notice is received", SI 2024/210): the 21-day period ends on receipt + 20
  days, the 28-day period on receipt + 27. Wales (£60 within 28 days, £120 within 42) is read
  the same way: receipt + 27 and receipt + 41.
- **Three years from an issue date** end the day before its third anniversary, so the bar lifts
  *on* the anniversary (issued 1 Oct 2024: a notice is possible on or after 1 Oct 2027). From
  29 February the anniversary is 1 March.
- **The ledger is per parent, per child.** Another parent's notices never count.
- **Live notices count.** Issued, received and unpaid notices whose prosecution is not yet
  decided count towards the limit, as do paid notices and unpaid ones where the parent pleaded
  or was found guilty. Withdrawn notices, acquittals and notices only requested (not issued)
  do not.
- **Wales** has no national two-notice limit in the spec (§2: the England framework does not
  apply; each LA's code of conduct governs, with a fine as a last resort). Every Welsh notice is
  £60 / £120, whatever its number; a repeat notice for the same parent and child within 3 years
  goes to a person to decide rather than being allowed or refused here.
- **After the 3-year bar lifts while a later notice is still within its own 3 years** (§5.4,
  §11 item 8: the sources are silent) the decision needs a person. The terms offered with it
  are the stricter reading (a second notice, £160 flat), marked provisional in the reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

# The values of schools.models.Jurisdiction, reused by value so this module needs no Django.
ENGLAND = "england"
WALES = "wales"
JURISDICTIONS = (ENGLAND, WALES)

Key = int | str  # a parent's or a child's key: whatever the caller's ledger uses (e.g. a pk)

LIMIT_YEARS = 3

# England (§5.4, TC-15), in pence.
ENGLAND_FIRST_REDUCED = 8_000
ENGLAND_FULL = 16_000
# Wales (§2, TC-18), in pence.
WALES_REDUCED = 6_000
WALES_FULL = 12_000

# Payment windows in days, counting the day of receipt as day 1.
ENGLAND_REDUCED_DAYS = 21
ENGLAND_FULL_DAYS = 28
WALES_REDUCED_DAYS = 28
WALES_FULL_DAYS = 42

ALTERNATIVE_ACTION = "alternative action (e.g. prosecution / other legal intervention)"

NTI_MIN_SCHOOL_DAYS = 15  # 3 school weeks (§5.3: "between 3 and 6 weeks", read as school weeks)
NTI_MAX_SCHOOL_DAYS = 30  # 6 school weeks
_NTI_SEARCH_DAYS = 366  # a calendar with too few school days in a year is not loaded, not a rule

# The eight contents an NTI is "expected to include" (§5.3), in order: forms and letters use
# this one list. Each entry is (field name, the spec's wording).
NTI_CONTENTS: tuple[tuple[str, str], ...] = (
    ("attendance_record", "Details of the pupil's attendance record and of the offences"),
    (
        "benefits_and_duty",
        "The benefits of regular attendance, and the parent's duty under s7 Education Act 1996",
    ),
    ("support_so_far", "Details of the support provided so far"),
    (
        "further_support",
        (
            "Opportunities for further support, and the option to take up support offered "
            "before but not engaged with"
        ),
    ),
    (
        "warning",
        (
            "A clear warning that a penalty notice may be issued, or prosecution considered, "
            "if attendance has not improved within the improvement period"
        ),
    ),
    ("improvement_period", "A clear timeframe for the improvement period, between 3 and 6 weeks"),
    (
        "sufficient_improvement",
        "What sufficient improvement within that timeframe looks like, decided case by case",
    ),
    (
        "early_issue_grounds",
        (
            "The grounds on which a penalty notice may be issued before the end of the "
            "improvement period"
        ),
    ),
)
NTI_FIELDS: tuple[str, ...] = tuple(name for name, _wording in NTI_CONTENTS)


class NoticeStatus(StrEnum):
    REQUESTED = "requested"  # asked of the LA, not issued: no issue date yet
    ISSUED = "issued"
    RECEIVED = "received"
    PAID = "paid"
    UNPAID = "unpaid"  # the last payment day has passed; the LA decides what follows
    WITHDRAWN = "withdrawn"
    PROSECUTED = "prosecuted"


class ProsecutionOutcome(StrEnum):
    PLEADED_GUILTY = "pleaded_guilty"
    FOUND_GUILTY = "found_guilty"
    ACQUITTED = "acquitted"


class NoticeVerdict(StrEnum):
    ALLOWED = "allowed"
    BLOCKED = "blocked"  # a third notice within 3 years: propose alternative action instead
    MANUAL_DECISION = "manual_decision"  # the sources are silent: a person decides


@dataclass(frozen=True, kw_only=True)
class NoticeRecord:
    """One penalty notice in the ledger of one parent for one child.

    ``sequence`` is the notice's number when it was issued (1 or 2 in England: it fixes the
    amounts) and ``jurisdiction`` is the school's. Raises ``ValueError`` for impossible rows:
    an issued notice without an issue date, receipt before issue, a paid notice without a
    payment date, or a prosecution outcome on a notice that was not left unpaid or prosecuted.
    """

    parent: Key
    child: Key
    status: NoticeStatus
    jurisdiction: str
    sequence: int = 1
    issued_on: dt.date | None = None
    received_on: dt.date | None = None
    paid_on: dt.date | None = None
    prosecution_outcome: ProsecutionOutcome | None = None

    def __post_init__(self) -> None:
        _check_jurisdiction(self.jurisdiction)
        if self.sequence < 1:
            raise ValueError(f"A notice's sequence starts at 1, not {self.sequence}.")
        if self.status is not NoticeStatus.REQUESTED and self.issued_on is None:
            raise ValueError(f"A {self.status} notice needs its issue date.")
        if self.received_on is not None and (
            self.issued_on is None or self.received_on < self.issued_on
        ):
            raise ValueError("A notice cannot be received before it is issued.")
        if self.status is NoticeStatus.PAID and self.paid_on is None:
            raise ValueError("A paid notice needs its payment date.")
        if self.prosecution_outcome is not None and self.status not in (
            NoticeStatus.UNPAID,
            NoticeStatus.PROSECUTED,
        ):
            raise ValueError(f"A {self.status} notice has no prosecution outcome.")


@dataclass(frozen=True, kw_only=True)
class PaymentTerms:
    """What a notice costs and until when, from its receipt date.

    ``reduced_amount`` / ``reduced_due_by`` are ``None`` where there is no reduced rate
    (an English second notice). Due-by dates are the last day on which that amount is enough.
    """

    sequence: int
    jurisdiction: str
    received_on: dt.date
    reduced_amount: int | None
    reduced_due_by: dt.date | None
    full_amount: int
    full_due_by: dt.date

    def amount_on(self, paid_on: dt.date) -> int | None:
        """What a payment made on ``paid_on`` must be; ``None`` once the last day has passed.

        A payment before the recorded receipt date (paid online before the letter was deemed
        received) owes the lowest amount.
        """
        if self.reduced_due_by is not None and paid_on <= self.reduced_due_by:
            return self.reduced_amount
        if paid_on <= self.full_due_by:
            return self.full_amount
        return None


@dataclass(frozen=True, kw_only=True)
class NoticeDecision:
    """Whether a further notice may go to one parent for one child on a date, and on what terms.

    ``terms`` is ``None`` when blocked. ``bar_lifts_on`` is the first day the running 3-year
    period no longer counts (the first counted notice's issue date + 3 years), or ``None``
    when no period is running. ``counted`` lists the notices that counted, oldest first.
    """

    parent: Key
    child: Key
    on: dt.date
    jurisdiction: str
    verdict: NoticeVerdict
    sequence: int
    terms: PaymentTerms | None
    bar_lifts_on: dt.date | None
    reason: str
    proposal: str | None = None
    counted: tuple[NoticeRecord, ...] = field(default=())

    @property
    def allowed(self) -> bool:
        return self.verdict is NoticeVerdict.ALLOWED

    @property
    def blocked(self) -> bool:
        return self.verdict is NoticeVerdict.BLOCKED

    @property
    def needs_manual_decision(self) -> bool:
        return self.verdict is NoticeVerdict.MANUAL_DECISION

    @property
    def reduced_amount(self) -> int | None:
        return None if self.terms is None else self.terms.reduced_amount

    @property
    def reduced_due_by(self) -> dt.date | None:
        return None if self.terms is None else self.terms.reduced_due_by

    @property
    def full_amount(self) -> int | None:
        return None if self.terms is None else self.terms.full_amount

    @property
    def full_due_by(self) -> dt.date | None:
        return None if self.terms is None else self.terms.full_due_by


def add_years(day: dt.date, years: int) -> dt.date:
    """The same day ``years`` later; 29 February becomes 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def counts_towards_limit(record: NoticeRecord) -> bool:
    """Whether a notice counts towards the two-in-three-years limit (§5.4).

    Counts: paid notices; unpaid or prosecuted notices where the parent pleaded or was found
    guilty; and live notices (issued, received, or unpaid / prosecuted with no outcome yet),
    because they may still end paid or in a conviction, and a third must not slip out while
    the second is pending. Does not count: withdrawn notices, acquittals, and notices only
    requested (not issued, so there is no issue date to start 3 years from).
    """
    if record.status in (NoticeStatus.REQUESTED, NoticeStatus.WITHDRAWN):
        return False
    return record.prosecution_outcome is not ProsecutionOutcome.ACQUITTED


def payment_terms(sequence: int, received_on: dt.date, jurisdiction: str) -> PaymentTerms:
    """The amounts and last payment days of a notice received on ``received_on`` (§5.4, §2).

    England: the 1st is £80 by receipt + 20 days, else £160 by receipt + 27; the 2nd is £160
    flat by receipt + 27. Wales: £60 by receipt + 27, else £120 by receipt + 41, for every
    notice (the spec gives Wales no second-notice rule). Raises ``ValueError`` for an unknown
    jurisdiction, a sequence below 1, or an English sequence above 2 (it cannot be issued).
    """
    _check_jurisdiction(jurisdiction)
    if sequence < 1:
        raise ValueError(f"A notice's sequence starts at 1, not {sequence}.")
    if jurisdiction == WALES:
        return PaymentTerms(
            sequence=sequence,
            jurisdiction=jurisdiction,
            received_on=received_on,
            reduced_amount=WALES_REDUCED,
            reduced_due_by=_last_day(received_on, WALES_REDUCED_DAYS),
            full_amount=WALES_FULL,
            full_due_by=_last_day(received_on, WALES_FULL_DAYS),
        )
    if sequence > 2:
        raise ValueError(
            "A third penalty notice within 3 years cannot be issued in England: "
            f"propose {ALTERNATIVE_ACTION}."
        )
    first = sequence == 1
    return PaymentTerms(
        sequence=sequence,
        jurisdiction=jurisdiction,
        received_on=received_on,
        reduced_amount=ENGLAND_FIRST_REDUCED if first else None,
        reduced_due_by=_last_day(received_on, ENGLAND_REDUCED_DAYS) if first else None,
        full_amount=ENGLAND_FULL,
        full_due_by=_last_day(received_on, ENGLAND_FULL_DAYS),
    )


def amount_due(record: NoticeRecord, paid_on: dt.date) -> int | None:
    """What a payment of ``record`` made on ``paid_on`` must be, in pence; ``None`` when the last
    payment day has passed (the notice is unpaid and the LA decides what follows).

    Raises ``ValueError`` for a notice that owes nothing (withdrawn or only requested) or whose
    receipt date is unknown (the windows run from receipt).
    """
    if record.status in (NoticeStatus.REQUESTED, NoticeStatus.WITHDRAWN):
        raise ValueError(f"A {record.status} notice owes nothing.")
    if record.received_on is None:
        raise ValueError("The payment windows run from receipt: record the receipt date first.")
    terms = payment_terms(record.sequence, record.received_on, record.jurisdiction)
    return terms.amount_on(paid_on)


def next_notice(
    history: Iterable[NoticeRecord],
    parent: Key,
    child: Key,
    on: dt.date,
    jurisdiction: str,
    *,
    received_on: dt.date | None = None,
) -> NoticeDecision:
    """Whether a notice may be issued to ``parent`` for ``child`` on ``on``, and its terms.

    Only that parent's notices for that child, issued on or before ``on`` and counting towards
    the limit, are read from ``history``. ``received_on`` (default: ``on``, a notice handed over
    the day it is issued) fixes the payment windows of the terms.

    England (§5.4): the first counted notice starts a 3-year period. A notice in it is the 2nd
    (£160 flat); a 3rd is blocked with ``proposal`` = alternative action, until ``bar_lifts_on``.
    The next notice on or after that day starts a new period. Where a notice of an earlier
    period is still within 3 years of its own issue, a person decides (§11 item 8), unless the
    running period already blocks.
    Wales (§2): never blocked here; a repeat within 3 years goes to a person (module docstring).
    """
    _check_jurisdiction(jurisdiction)
    counted = tuple(
        sorted(
            (
                record
                for record in history
                if record.parent == parent
                and record.child == child
                and record.issued_on is not None
                and record.issued_on <= on
                and counts_towards_limit(record)
            ),
            key=_issued_on,
        )
    )
    receipt = on if received_on is None else received_on
    within_3_years = [r for r in counted if on < add_years(_issued_on(r), LIMIT_YEARS)]

    def decision(
        verdict: NoticeVerdict,
        sequence: int,
        reason: str,
        *,
        bar_lifts_on: dt.date | None = None,
        proposal: str | None = None,
    ) -> NoticeDecision:
        terms = (
            None
            if verdict is NoticeVerdict.BLOCKED
            else payment_terms(sequence, receipt, jurisdiction)
        )
        return NoticeDecision(
            parent=parent,
            child=child,
            on=on,
            jurisdiction=jurisdiction,
            verdict=verdict,
            sequence=sequence,
            terms=terms,
            bar_lifts_on=bar_lifts_on,
            reason=reason,
            proposal=proposal,
            counted=counted,
        )

    if jurisdiction == WALES:
        sequence = len(within_3_years) + 1
        if sequence == 1:
            return decision(NoticeVerdict.ALLOWED, 1, "No counted notice in the last 3 years.")
        return decision(
            NoticeVerdict.MANUAL_DECISION,
            sequence,
            f"{len(within_3_years)} counted notice(s) for this parent and child in the last "
            "3 years. Wales has no national limit (§2): the LA's code of conduct decides, "
            "and a fine is a last resort.",
        )

    period = _current_period(counted, on)
    if period:
        lifts_on = add_years(_issued_on(period[0]), LIMIT_YEARS)
        first_issued = _issued_on(period[0]).isoformat()
        # Every counted notice issued on or after the period's first belongs to the period.
        earlier = [r for r in within_3_years if _issued_on(r) < _issued_on(period[0])]
        if len(period) == 1 and earlier:
            return decision(
                NoticeVerdict.MANUAL_DECISION,
                2,
                f"A second notice in the period from {first_issued}, but the notice issued on "
                f"{_issued_on(earlier[-1]).isoformat()} in the period before is still within "
                "its own 3 years (§11 item 8). Provisional terms: a second notice, £160 flat.",
                bar_lifts_on=lifts_on,
            )
        if len(period) == 1:
            return decision(
                NoticeVerdict.ALLOWED,
                2,
                f"Second notice within 3 years of the first's issue on {first_issued}: "
                "£160 flat, no reduced rate.",
                bar_lifts_on=lifts_on,
            )
        return decision(
            NoticeVerdict.BLOCKED,
            len(period) + 1,
            f"Already {len(period)} counted notices within 3 years of the first's issue on "
            f"{first_issued}: a further notice cannot be issued before "
            f"{lifts_on.isoformat()}.",
            bar_lifts_on=lifts_on,
            proposal=ALTERNATIVE_ACTION,
        )
    if within_3_years:
        latest = _issued_on(within_3_years[-1]).isoformat()
        return decision(
            NoticeVerdict.MANUAL_DECISION,
            2,
            "The 3-year bar has lifted, but the notice issued on "
            f"{latest} is still within its own 3 years; the sources do not say how to count "
            "it (§11 item 8). Provisional terms: a second notice, £160 flat.",
        )
    return decision(NoticeVerdict.ALLOWED, 1, "First notice: £80 within 21 days, else £160.")


def nti_period_error(school_days: int) -> str | None:
    """Why an improvement period of ``school_days`` is refused (§5.3), or ``None`` if it is not."""
    if NTI_MIN_SCHOOL_DAYS <= school_days <= NTI_MAX_SCHOOL_DAYS:
        return None
    return (
        f"The improvement period must be between {NTI_MIN_SCHOOL_DAYS} and "
        f"{NTI_MAX_SCHOOL_DAYS} school days (3 to 6 school weeks); {school_days} is not."
    )


def nti_period_check(school_days: int) -> int:
    """``school_days`` if it is an allowed improvement period; raises ``ValueError`` if not."""
    error = nti_period_error(school_days)
    if error is not None:
        raise ValueError(error)
    return school_days


def nti_end_date(
    start: dt.date, school_days: int, is_school_day: Callable[[dt.date], bool]
) -> dt.date:
    """The last day of an improvement period of ``school_days`` school days from ``start``.

    The end date is the ``school_days``-th school day counting ``start`` as day 1 if it is a
    school day (the "beginning with" convention of §5.4); otherwise the count begins at the
    next school day. ``is_school_day`` is the school calendar, e.g. a selector's predicate or
    ``frozenset(days).__contains__``. Raises ``ValueError`` for a period outside 15..30, or if
    the calendar has too few school days in the year from ``start`` (not loaded).
    """
    nti_period_check(school_days)
    counted = 0
    day = start
    for _ in range(_NTI_SEARCH_DAYS):
        if is_school_day(day):
            counted += 1
            if counted == school_days:
                return day
        day += dt.timedelta(days=1)
    raise ValueError(
        f"The school calendar has only {counted} school days in the year from "
        f"{start.isoformat()}: load the calendar before setting an improvement period."
    )


def nti_missing_contents(contents: Mapping[str, str]) -> tuple[str, ...]:
    """The NTI fields (``NTI_FIELDS``) that ``contents`` leaves missing or blank, in order."""
    return tuple(name for name in NTI_FIELDS if not contents.get(name, "").strip())


def _check_jurisdiction(jurisdiction: str) -> None:
    if jurisdiction not in JURISDICTIONS:
        raise ValueError(f"Unknown jurisdiction {jurisdiction!r}: expected one of {JURISDICTIONS}.")


def _issued_on(record: NoticeRecord) -> dt.date:
    if record.issued_on is None:  # pragma: no cover - filtered out before any call
        raise ValueError("A notice without an issue date has no place in the 3-year count.")
    return record.issued_on


def _last_day(received_on: dt.date, period_days: int) -> dt.date:
    # "The period of N days beginning with" receipt: the receipt day is day 1.
    return received_on + dt.timedelta(days=period_days - 1)


def _current_period(counted: tuple[NoticeRecord, ...], on: dt.date) -> tuple[NoticeRecord, ...]:
    """The counted notices of the 3-year period running on ``on`` (empty if none runs).

    A period starts with a counted notice and lasts 3 years from its issue; the first counted
    notice issued on or after its end starts the next period.
    """
    period: list[NoticeRecord] = []
    for record in counted:
        if not period or _issued_on(record) >= add_years(_issued_on(period[0]), LIMIT_YEARS):
            period = [record]
        else:
            period.append(record)
    if period and on < add_years(_issued_on(period[0]), LIMIT_YEARS):
        return tuple(period)
    return ()
