"""How long casework's and notices' free text is kept (security GDPR-04; the rules run from
the register's nightly job, ``registers.retention``, which finds them in ``schools.retention``).

- **Casework notes** (a closed queue item's outcome note, snooze and decision reasons; a
  contact attempt's note and the reason given; a closed case's trigger note and outcome, and
  its actions' outcomes and details such as a meeting's attendees and what was agreed): erased
  once the academic year the work ended in, and ``RETENTION_CASEWORK_EXTRA_YEARS`` more (1),
  are over: the reading security.md Part 7 proposes for parents' free text, to be agreed with
  the DPO. Open items and open cases are live work and are never touched, however old.
- **Notices to improve and penalty notices** (the NTI's eight contents and outcome note, the
  penalty notice's note, the request's evidence pack): kept ``RETENTION_NOTICES_EXTRA_YEARS``
  (3) after the academic year of issue, because a notice counts for three years when the next
  one is decided (regulations §5: a second notice within 3 years of the first is £160, a third
  cannot be issued); the rows (dates, amounts, statuses) stay for that rule.

The rows themselves stay: only what people wrote is erased, and each run leaves a
``RetentionRecord`` per table naming no pupil.
"""

from __future__ import annotations

from django.db.models import Q

from interventions.models import (
    Case,
    CaseAction,
    ContactAttempt,
    NoticeToImprove,
    PenaltyNotice,
    PenaltyNoticeRequest,
    QueueItem,
)
from schools.retention import FreeTextRule

CASEWORK = "RETENTION_CASEWORK_EXTRA_YEARS"
NOTICES = "RETENTION_NOTICES_EXTRA_YEARS"

NTI_TEXT = [
    "attendance_record",
    "benefits_and_duty",
    "support_so_far",
    "further_support",
    "warning",
    "improvement_period",
    "sufficient_improvement",
    "early_issue_grounds",
    "outcome_note",
]

RULES = (
    FreeTextRule(
        model=QueueItem,
        date_field="closed_at",
        erased={"outcome_note": "", "snooze_reason": "", "decision_reason": ""},
        years_setting=CASEWORK,
        what="closed work-queue notes",
        only=Q(closed_at__isnull=False),
    ),
    FreeTextRule(
        model=ContactAttempt,
        date_field="made_at",
        erased={"note": "", "reason_given": ""},
        years_setting=CASEWORK,
        what="contact attempt notes",
        only=Q(case__isnull=True) | Q(case__closed_at__isnull=False),  # not an open case's
    ),
    FreeTextRule(
        model=Case,
        date_field="closed_at",
        erased={"trigger_note": "", "outcome": ""},
        years_setting=CASEWORK,
        what="closed case notes",
        only=Q(closed_at__isnull=False),
    ),
    FreeTextRule(
        model=CaseAction,
        date_field="case__closed_at",
        erased={"outcome": "", "details": {}},
        years_setting=CASEWORK,
        what="closed case action notes",
        only=Q(case__closed_at__isnull=False),
    ),
    FreeTextRule(
        model=NoticeToImprove,
        date_field="issued_on",
        erased=dict.fromkeys(NTI_TEXT, ""),
        years_setting=NOTICES,
        what="notice to improve text",
    ),
    FreeTextRule(
        model=PenaltyNoticeRequest,
        date_field="prepared_at",
        erased={"evidence": {}},
        years_setting=NOTICES,
        what="penalty notice evidence packs",
    ),
    FreeTextRule(
        model=PenaltyNotice,
        date_field="updated_at",
        erased={"note": ""},
        years_setting=NOTICES,
        what="penalty notice notes",
    ),
)
