"""Retention (security GDPR-04, REG-02): what every app's rules share, the slot where the apps
above register theirs, and the audit trail's own rule.

- ``registers.retention`` runs everything, nightly (``registers.apply_retention``) and from
  ``manage.py apply_retention [--dry-run]``: the register's rules, then each ``FreeTextRule``
  registered here (``interventions.retention``, ``letters.retention``), per school in one
  transaction, each removal leaving a ``RetentionRecord`` that names no pupil; then the audit
  trail (``audit_retention``), which is one table for every school.
- A ``FreeTextRule`` erases the free text (and files) of rows whose date is past the end of an
  academic year plus a number of years from settings; the row stays (it explains a mark, a
  notice or a letter that is still kept), only what people wrote goes.
- The audit trail is kept ``RETENTION_AUDIT_DAYS`` (two years by default), never less than
  the year the database itself enforces (``schools/0007_audit_retention``). What the rule
  removes it records in the trail itself: one ``retention`` event (count and date range, no
  person), which is also shipped off-host, so a gap in the trail is always explained.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models import Count, Max, Min, Q
from django.db.models.fields.files import FieldFile

from schools.audit import audit_record
from schools.audit_models import AuditAction, AuditEvent
from schools.models import School

ACADEMIC_YEAR_LAST_MONTH = 8  # an academic year ends on 31 August
AUDIT_RETENTION_FLOOR_DAYS = 365  # the database refuses to delete younger events (0006)

_Day = TypeVar("_Day", dt.date, dt.datetime)


def years_before(moment: _Day, years: int) -> _Day:
    """The same calendar day ``years`` earlier; 29 February becomes 28 February, so everything
    on or before the result is at least ``years`` old on ``moment``."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February into a common year
        return moment.replace(year=moment.year - years, day=28)


def academic_year_cutoff(today: dt.date, extra_years: int) -> dt.date:
    """Dates on or before this one have had their academic year, and ``extra_years`` more,
    end by ``today``."""
    ended = today.year if today.month > ACADEMIC_YEAR_LAST_MONTH else today.year - 1
    return dt.date(ended - extra_years, ACADEMIC_YEAR_LAST_MONTH, 31)


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


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).date()
    return value


def summarise(queryset: models.QuerySet[Any], date_field: str, rule: str) -> Removal | None:
    """The rows ``queryset`` would remove, as a ``Removal`` (None when there are none)."""
    found = queryset.aggregate(n=Count("pk"), first=Min(date_field), last=Max(date_field))
    if not found["n"]:
        return None
    return Removal(
        table=queryset.model._meta.db_table,
        count=found["n"],
        first_date=_as_date(found["first"]),
        last_date=_as_date(found["last"]),
        rule=rule,
    )


def erase(rows: models.QuerySet[Any], erased: Mapping[str, Any]) -> None:
    """Set each field of ``erased`` to its value on every row; a file field's file is deleted
    from storage too, not only its name."""
    for row in rows.iterator():
        for name in erased:
            value = getattr(row, name)
            if isinstance(value, FieldFile) and value:
                value.delete(save=False)
        for name, value in erased.items():
            setattr(row, name, value)
        row.save(update_fields=list(erased))


@dataclass(frozen=True)
class FreeTextRule:
    """Erase ``erased`` (field → erased value) on ``model``'s rows dated (``date_field``) on or
    before the end of an academic year plus ``settings.<years_setting>`` years. ``only``
    narrows the rows (e.g. closed cases only: open casework is live work)."""

    model: type[models.Model]
    date_field: str
    erased: Mapping[str, Any]
    years_setting: str
    what: str
    only: Q = field(default_factory=Q)

    @property
    def extra_years(self) -> int:
        return int(getattr(settings, self.years_setting))

    @property
    def label(self) -> str:
        years = self.extra_years
        return f"{self.what}: end of the academic year + {years} year{'' if years == 1 else 's'}"

    def _date_field(self) -> Any:
        """The field ``date_field`` names, following relations (``case__closed_at``)."""
        model: Any = self.model
        found: Any = None
        for part in self.date_field.split("__"):
            found = model._meta.get_field(part)
            model = found.related_model
        return found

    def due(self, school: School, now: dt.datetime) -> models.QuerySet[Any]:
        held = Q()
        for name, value in self.erased.items():
            held |= ~Q(**{name: value})
        cutoff = academic_year_cutoff(now.date(), self.extra_years)
        lookup = "__date__lte" if isinstance(self._date_field(), models.DateTimeField) else "__lte"
        return self.model._default_manager.filter(
            self.only, held, school=school, **{f"{self.date_field}{lookup}": cutoff}
        )

    def apply(self, school: School, now: dt.datetime, *, dry_run: bool) -> Removal | None:
        rows = self.due(school, now)
        removal = summarise(rows, self.date_field, self.label)
        if removal is not None and not dry_run:
            erase(rows, self.erased)
        return removal


# The slot: the apps above (interventions, letters) add their rules when Django loads them
# (their AppConfig.ready), so the register's job runs them without importing those apps.
FREE_TEXT_RULES: list[FreeTextRule] = []


def retention_rules_register(*rules: FreeTextRule) -> None:
    for rule in rules:
        if rule not in FREE_TEXT_RULES:
            FREE_TEXT_RULES.append(rule)


# --- The audit trail --------------------------------------------------------------------------


def audit_retention_days() -> int:
    days = int(settings.RETENTION_AUDIT_DAYS)
    if days < AUDIT_RETENTION_FLOOR_DAYS:
        raise ImproperlyConfigured(
            f"RETENTION_AUDIT_DAYS must be at least {AUDIT_RETENTION_FLOOR_DAYS}: the database "
            "refuses to delete younger audit events (schools/0007_audit_retention)."
        )
    return days


def audit_retention(*, now: dt.datetime, dry_run: bool = False) -> Removal | None:
    """Remove audit events older than ``RETENTION_AUDIT_DAYS`` (every school's and those of
    no school, e.g. failed sign-ins) and record that in the trail; with ``dry_run`` only say
    what would go."""
    days = audit_retention_days()
    before = now - dt.timedelta(days=days)
    expired = AuditEvent.objects.filter(at__lt=before)
    removal = summarise(expired, "at", f"audit trail: {days} days")
    if removal is None or dry_run:
        return removal
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The runtime role has no DELETE on the trail: the owner's function removes the
            # rows, and the trail's trigger still refuses any younger than the floor.
            with connection.cursor() as cursor:
                cursor.execute("SELECT schools_auditevent_remove(%s)", [before])
        else:
            expired.delete()
        audit_record(
            action=AuditAction.RETENTION,
            actor_label="retention",
            target_type="auditevent",
            path=f"removed {removal.count} events of {removal.first_date} to "
            f"{removal.last_date} (kept {days} days)",
            outcome="removed",
        )
    return removal
