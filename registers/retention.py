"""How long the registers' data is kept, in one place (security REG-02, GDPR-04).

- **Register entries and their amendment history**: at least six years from the date each was
  entered (regulations §3.5, reg 7; WTISA para 36), counted per entry, never from the pupil's
  leaving date. A mark goes once its session date and ``recorded_at`` are six years old and so
  is every amendment of it (``changed_at``): the history goes with its mark, never before it.
  Each removal leaves a ``RetentionRecord`` (table, count, range of dates, when), naming no
  pupil. The database applies the same six years (migrations 0003 and 0004), so a bug here
  cannot delete a younger entry.
- **Free text of absence reports and leave requests** (parents' details, decision notes, the
  evidence file): erased at the end of the academic year after the one the absence fell in
  (security.md Part 7: "end of the academic year + 1 year", to be agreed with the DPO;
  ``RETENTION_REPORTS_EXTRA_YEARS``). The request itself stays: it explains a mark that is
  still kept.

The rules of the other apps (casework and notices in ``interventions.retention``, letters in
``letters.retention``) and the audit trail's (``schools.retention``) run from the same job and
command: ``apply_retention`` applies every registered ``FreeTextRule`` to the school in the same
transaction, and ``apply_retention_everywhere`` ends with the audit trail.

"Six years" is calendar years: an entry of 29 February is kept until 1 March six years on,
the day PostgreSQL's ``CURRENT_DATE - INTERVAL '6 years'`` also lets it go.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from registers.models import (
    AbsenceReport,
    AttendanceMark,
    LeaveRequest,
    MarkChange,
    RetentionRecord,
)
from schools.models import School
from schools.retention import (
    FREE_TEXT_RULES,
    FreeTextRule,
    Removal,
    audit_retention,
    summarise,
    years_before,
)
from schools.scoping import school_scope

REGISTER_RETENTION_YEARS = 6  # reg 7: at least six years from the date entered (REG-02)

DELETE_BATCH = 2000  # marks per DELETE (a school's first run may find years of them)

REGISTER_RULE = f"register entry: {REGISTER_RETENTION_YEARS} years from the date entered"


def expired_marks(school: School, now: dt.datetime) -> models.QuerySet[AttendanceMark]:
    """The marks whose retention has ended, with every amendment of theirs (``now`` is
    counted in UTC, as the database's own rule is)."""
    now = now.astimezone(dt.UTC)
    day = years_before(now.date(), REGISTER_RETENTION_YEARS)
    moment = years_before(now, REGISTER_RETENTION_YEARS)
    younger_change = MarkChange.objects.filter(mark=OuterRef("pk"), changed_at__gt=moment)
    return AttendanceMark.objects.filter(
        school=school, date__lte=day, recorded_at__lte=moment
    ).exclude(Exists(younger_change))


# Parents' free text in absence reports and leave requests (the rows stay).
FREE_TEXT = (
    FreeTextRule(
        model=AbsenceReport,
        date_field="last_date",
        erased={"details": "", "decision_note": "", "evidence": ""},
        years_setting="RETENTION_REPORTS_EXTRA_YEARS",
        what="free text of absence reports",
    ),
    FreeTextRule(
        model=LeaveRequest,
        date_field="last_date",
        erased={"reason": "", "decision_note": "", "exceptional_circumstances": ""},
        years_setting="RETENTION_REPORTS_EXTRA_YEARS",
        what="free text of leave requests",
    ),
)


def apply_retention(
    school: School, *, now: dt.datetime | None = None, dry_run: bool = False
) -> list[Removal]:
    """Apply every rule above to one school; with ``dry_run`` only say what would go."""
    now = now or timezone.now()
    with school_scope(school), transaction.atomic():
        marks = expired_marks(school, now)
        changes = MarkChange.objects.filter(school=school, mark__in=marks)
        found = [summarise(changes, "date", REGISTER_RULE), summarise(marks, "date", REGISTER_RULE)]
        if not dry_run:
            _delete_register_entries(marks)
        # Parents' free text, then casework, notices and letters (the rules the apps above
        # registered in schools.retention).
        found += [rule.apply(school, now, dry_run=dry_run) for rule in FREE_TEXT]
        found += [rule.apply(school, now, dry_run=dry_run) for rule in FREE_TEXT_RULES]
        removals = [removal for removal in found if removal is not None]
        if not dry_run:
            RetentionRecord.objects.bulk_create(
                RetentionRecord(
                    school=school,
                    table=removal.table,
                    count=removal.count,
                    first_date=removal.first_date,
                    last_date=removal.last_date,
                    rule=removal.rule,
                    applied_at=now,
                )
                for removal in removals
            )
    return removals


def _delete_register_entries(marks: models.QuerySet[AttendanceMark]) -> None:
    """In batches, so a school's first run (years of marks) holds no huge list of ids; each
    batch's amendments first, as they hold their mark (PROTECT)."""
    while pks := list(marks.values_list("pk", flat=True)[:DELETE_BATCH]):
        _delete_changes(pks)
        AttendanceMark.objects.filter(pk__in=pks).delete()


def _delete_changes(mark_pks: list[int]) -> None:
    """The amendments of these marks. The runtime role may not DELETE from the append-only
    table in PostgreSQL, so it asks the owner's function (migration 0004); the table's trigger
    refuses any row younger than six years either way."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT registers_markchange_remove(%s::bigint[])", [mark_pks])
    else:
        MarkChange.objects.filter(mark_id__in=mark_pks).delete()


def apply_retention_everywhere(
    *, dry_run: bool = False, now: dt.datetime | None = None
) -> dict[School | None, list[Removal]]:
    """The nightly job: every school, each in its own transaction; then the audit trail,
    which is every school's at once (reported under ``None``)."""
    now = now or timezone.now()
    done: dict[School | None, list[Removal]] = {
        school: apply_retention(school, now=now, dry_run=dry_run)
        for school in School.objects.order_by("pk")
    }
    audit = audit_retention(now=now, dry_run=dry_run)
    done[None] = [audit] if audit is not None else []
    return done
