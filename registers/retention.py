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
  (security.md Part 7: "end of the academic year + 1 year", to be agreed with the DPO). The
  request itself stays: it explains a mark that is still kept.

"Six years" is calendar years: an entry of 29 February is kept until 1 March six years on,
the day PostgreSQL's ``CURRENT_DATE - INTERVAL '6 years'`` also lets it go.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connection, models, transaction
from django.db.models import Count, Exists, Max, Min, OuterRef, Q
from django.utils import timezone

from registers.models import (
    AbsenceReport,
    AttendanceMark,
    LeaveRequest,
    MarkChange,
    RetentionRecord,
)
from schools.models import School
from schools.scoping import school_scope

REGISTER_RETENTION_YEARS = 6  # reg 7: at least six years from the date entered (REG-02)
FREE_TEXT_EXTRA_YEARS = 1  # academic years kept after the one the absence fell in (GDPR-04)
ACADEMIC_YEAR_LAST_MONTH = 8  # an academic year ends on 31 August

DELETE_BATCH = 2000  # marks per DELETE (a school's first run may find years of them)

REGISTER_RULE = f"register entry: {REGISTER_RETENTION_YEARS} years from the date entered"
FREE_TEXT_RULE = f"free text: end of the academic year + {FREE_TEXT_EXTRA_YEARS} year"


_Day = TypeVar("_Day", dt.date, dt.datetime)


def years_before(moment: _Day, years: int) -> _Day:
    """The same calendar day ``years`` earlier; 29 February becomes 28 February, so everything
    on or before the result is at least ``years`` old on ``moment``."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February into a common year
        return moment.replace(year=moment.year - years, day=28)


@dataclass(frozen=True)
class Removal:
    """What one rule removes (or would remove) from one table of one school."""

    table: str
    count: int
    first_date: dt.date
    last_date: dt.date
    rule: str

    def describe(self) -> str:
        return f"{self.table}: {self.count} ({self.first_date} to {self.last_date}) — {self.rule}"


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


def free_text_cutoff(today: dt.date) -> dt.date:
    """Absences on or before this date have had their academic year and one more end."""
    ended = today.year if today.month > ACADEMIC_YEAR_LAST_MONTH else today.year - 1
    return dt.date(ended - FREE_TEXT_EXTRA_YEARS, ACADEMIC_YEAR_LAST_MONTH, 31)


# The free text each kind of request holds, and the value it is erased to.
FREE_TEXT_FIELDS: dict[type[models.Model], dict[str, Any]] = {
    AbsenceReport: {"details": "", "decision_note": "", "evidence": ""},
    LeaveRequest: {"reason": "", "decision_note": "", "exceptional_circumstances": ""},
}


def _summary(queryset: models.QuerySet[Any], date_field: str, rule: str) -> Removal | None:
    found = queryset.aggregate(n=Count("pk"), first=Min(date_field), last=Max(date_field))
    if not found["n"]:
        return None
    return Removal(
        table=queryset.model._meta.db_table,
        count=found["n"],
        first_date=found["first"],
        last_date=found["last"],
        rule=rule,
    )


def apply_retention(
    school: School, *, now: dt.datetime | None = None, dry_run: bool = False
) -> list[Removal]:
    """Apply every rule above to one school; with ``dry_run`` only say what would go."""
    now = now or timezone.now()
    with school_scope(school), transaction.atomic():
        marks = expired_marks(school, now)
        changes = MarkChange.objects.filter(school=school, mark__in=marks)
        texts = []
        for model, erased in FREE_TEXT_FIELDS.items():
            held = Q()
            for name in erased:
                held |= ~Q(**{name: ""})
            texts.append(
                model._default_manager.filter(
                    held, school=school, last_date__lte=free_text_cutoff(now.date())
                )
            )
        found = [
            _summary(changes, "date", REGISTER_RULE),
            _summary(marks, "date", REGISTER_RULE),
            *(_summary(rows, "last_date", FREE_TEXT_RULE) for rows in texts),
        ]
        removals = [removal for removal in found if removal is not None]
        if not dry_run:
            _delete_register_entries(marks)
            for rows in texts:
                _erase_free_text(rows)
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


def _erase_free_text(rows: models.QuerySet[Any]) -> None:
    erased = FREE_TEXT_FIELDS[rows.model]
    for row in rows:
        evidence = getattr(row, "evidence", None)
        if evidence:
            evidence.delete(save=False)  # the file too, not only its name
        for name, value in erased.items():
            setattr(row, name, value)
        row.save(update_fields=list(erased))


def apply_retention_everywhere(*, dry_run: bool = False) -> dict[School, list[Removal]]:
    """The nightly job: every school, each in its own transaction."""
    return {
        school: apply_retention(school, dry_run=dry_run) for school in School.objects.order_by("pk")
    }
