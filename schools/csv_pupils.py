"""Checking a pupils CSV (``manage.py import_pupils``) against the school's roll.

Columns: ``upn,forename,surname,date_of_birth,gender,year_group,form,start_date,leave_date``
and optionally ``fsm,sen,eal,looked_after,child_in_need,young_carer,ethnicity``
and ``child_protection_plan,ehcp`` (true/false).
``pupils_plan`` loads the roll once (pupils, enrolments, placements, forms, year groups and
academic years: a fixed number of queries), checks every row and returns the rows to create
and change; it writes nothing (``schools.services.pupils_import`` applies the plan).

Rules chosen for the import (see the README's "CSV import and export"):
- a pupil is identified by (school, UPN); names, date of birth, gender and the optional columns
  present in the file are updated to the file's values; optional columns that are absent are
  left as they are;
- the file gives each pupil's form *on the reference day*: today while the pupil is on roll,
  the start date if they have not started yet, the leave date if they have left. The form
  belongs to the academic year containing that day, which the calendar must already hold
  ("import the calendar first"); a pupil who started in an earlier year is in this year's
  form, not the form of the year they joined;
- a form's year group is the one its first pupil gives; a row that puts a pupil of another NC
  year into it is an error (the data model has one year group per form);
- the enrolment is identified by its start date: the same start with another leave date
  updates the leaving date (an empty leave date clears it, unless the leaving was recorded
  with a deletion ground, which is then an error). A start date that differs from an existing,
  overlapping enrolment is an error: a corrected start date changes which marks are valid and
  must be made in the app. A start date after every earlier enrolment is a readmission;
- the placement in the form runs from the later of the start date and the academic year's
  first day, to the leave date. When a re-import names another form, the old placement ends
  the day before the new one starts: the reference day for a move within the year, the
  academic year's first day for a new year's form. A placement that would end before it
  starts (the same day's re-import) is moved to the new form instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from schools.calendar import academic_year_name, academic_year_start
from schools.csv_io import (
    DATE_HELP,
    CsvRow,
    CsvTable,
    ImportCounts,
    RowErrors,
    parse_date,
    parse_yes_no,
)
from schools.models import (
    NC_YEAR_ORDER,
    AcademicYear,
    Enrolment,
    FormGroup,
    FormPlacement,
    Gender,
    NCYear,
    Pupil,
    School,
    SenStatus,
    YearGroup,
    stored_label,
)
from schools.upn import upn_error

REQUIRED = (
    "upn",
    "forename",
    "surname",
    "date_of_birth",
    "gender",
    "year_group",
    "form",
    "start_date",
    "leave_date",
)
# Optional Y/N columns and the Pupil field each sets.
FLAG_FIELDS = {
    "fsm": "fsm",
    "eal": "eal",
    "looked_after": "looked_after",
    "child_in_need": "child_in_need",
    "young_carer": "young_carer",
}
# Optional true/false columns for the first-day queue's ranking (issue 10); Y/N also read.
BOOL_FIELDS = {
    "child_protection_plan": "child_protection_plan",
    "ehcp": "ehcp",
}
OPTIONAL = (*FLAG_FIELDS, *BOOL_FIELDS, "sen", "ethnicity")
# Choices read once: ``.values`` is rebuilt on every access.
GENDERS, NC_YEARS, SEN_STATUSES = (
    frozenset(Gender.values),
    frozenset(NCYear.values),
    frozenset(SenStatus.values),
)
NAME_MAX = Pupil._meta.get_field("legal_forename").max_length or 100
FORM_MAX = FormGroup._meta.get_field("name").max_length or 20


@dataclass
class PupilsPlan:
    """What importing the file will do. Model instances are unsaved (new) or changed."""

    new_year_groups: list[YearGroup] = field(default_factory=list)
    new_forms: list[FormGroup] = field(default_factory=list)
    new_pupils: list[Pupil] = field(default_factory=list)
    changed_pupils: list[Pupil] = field(default_factory=list)
    changed_pupil_fields: set[str] = field(default_factory=set)
    new_enrolments: list[Enrolment] = field(default_factory=list)
    changed_enrolments: list[Enrolment] = field(default_factory=list)
    new_placements: list[FormPlacement] = field(default_factory=list)
    changed_placements: list[FormPlacement] = field(default_factory=list)
    pupils: ImportCounts = field(default_factory=ImportCounts)


@dataclass(frozen=True)
class _Row:
    line: int
    upn: str
    fields: dict[str, object]  # Pupil field → value
    nc_year: str
    form: str
    start: dt.date
    leave: dt.date | None


@dataclass
class _Roll:
    """The school's roll as it stands, loaded once."""

    pupils: dict[str, Pupil]
    enrolments: dict[int, list[Enrolment]]
    placements: dict[int, list[FormPlacement]]
    forms: dict[tuple[dt.date, str], FormGroup]  # (academic year start, name)
    form_lines: dict[tuple[dt.date, str], int]  # forms new in this file: their first line
    year_groups: dict[str, YearGroup]
    years: list[AcademicYear]

    @classmethod
    def load(cls, school: School) -> _Roll:
        enrolments: dict[int, list[Enrolment]] = {}
        for enrolment in Enrolment.objects.filter(school=school):
            enrolments.setdefault(enrolment.pupil_id, []).append(enrolment)
        placements: dict[int, list[FormPlacement]] = {}
        for placement in (
            FormPlacement.objects.filter(school=school)
            .select_related("form__academic_year", "form__year_group")
            .order_by("start_date", "pk")
        ):
            placements.setdefault(placement.pupil_id, []).append(placement)
        return cls(
            pupils={p.upn: p for p in Pupil.objects.filter(school=school)},
            enrolments=enrolments,
            placements=placements,
            forms={
                (f.academic_year.start_date, f.name): f
                for f in FormGroup.objects.filter(school=school).select_related(
                    "academic_year", "year_group"
                )
            },
            form_lines={},
            year_groups={y.nc_year: y for y in YearGroup.objects.filter(school=school)},
            years=list(AcademicYear.objects.filter(school=school)),
        )

    def year_on(self, day: dt.date) -> AcademicYear | None:
        return next((y for y in self.years if y.start_date <= day <= y.end_date), None)


def pupils_plan(*, school: School, table: CsvTable, today: dt.date) -> PupilsPlan:
    """Check every row of a pupils file against the school's roll; say what to write.

    ``today`` decides which academic year's forms the file describes (module docstring).
    Raises ``CsvInvalid`` with every problem found. Must run inside ``school_scope(school)``.
    """
    errors = RowErrors(table)
    rows: list[_Row] = []
    first_line: dict[str, int] = {}
    for raw in table.rows:
        row = _parse(raw, table, errors)
        if row is None:
            continue
        if row.upn in first_line:
            errors.add(row.line, "upn", f"UPN {row.upn} is also on line {first_line[row.upn]}")
            continue
        first_line[row.upn] = row.line
        rows.append(row)

    roll = _Roll.load(school)
    plan = PupilsPlan()
    for row in rows:
        _plan_row(school, row, roll, plan, errors, today)
    errors.raise_if_any()
    return plan


def _parse(raw: CsvRow, table: CsvTable, errors: RowErrors) -> _Row | None:
    before = len(errors)
    upn = raw.get("upn").upper()
    upn_problem = upn_error(upn)
    if upn_problem:
        errors.add(raw, "upn", upn_problem)
    pupil_fields: dict[str, object] = {}
    for column, field_name in (("forename", "legal_forename"), ("surname", "legal_surname")):
        value = raw.get(column)
        if not value:
            errors.add(raw, column, "required")
        elif len(value) > NAME_MAX:
            errors.add(raw, column, f"longer than {NAME_MAX} characters")
        pupil_fields[field_name] = value
    dates: dict[str, dt.date | None] = {}
    for column in ("date_of_birth", "start_date", "leave_date"):
        value = raw.get(column)
        dates[column] = parse_date(value)
        if dates[column] is None and (value or column != "leave_date"):
            errors.add(raw, column, f"{value!r} is not a date; {DATE_HELP}")
    born, start, leave = dates["date_of_birth"], dates["start_date"], dates["leave_date"]
    if born and start and born >= start:
        errors.add(raw, "date_of_birth", "the date of birth must be before the start date")
    if start and leave and leave < start:
        errors.add(raw, "leave_date", "the leave date is before the start date")
    pupil_fields["date_of_birth"] = born
    gender = raw.get("gender").upper()
    if gender not in GENDERS:
        errors.add(raw, "gender", f"{raw.get('gender')!r} is not a gender; use F or M")
    pupil_fields["gender"] = gender
    nc_year = raw.get("year_group").upper()
    if nc_year.isascii() and nc_year.isdigit():
        nc_year = nc_year.lstrip("0")  # some systems write Year 9 as "09"
    if nc_year not in NC_YEARS:
        errors.add(
            raw,
            "year_group",
            f"{raw.get('year_group')!r} is not an NC year; use N1, N2, R or 1 to 14",
        )
    form = raw.get("form")
    if not form:
        errors.add(raw, "form", "required")
    elif len(form) > FORM_MAX:
        errors.add(raw, "form", f"longer than {FORM_MAX} characters")
    for column, field_name in FLAG_FIELDS.items():
        if table.has(column):
            flag = parse_yes_no(raw.get(column))
            if flag is None:
                errors.add(raw, column, f"{raw.get(column)!r} is not Y or N")
            pupil_fields[field_name] = flag
    for column, field_name in BOOL_FIELDS.items():
        if table.has(column):
            value = raw.get(column).strip().lower()
            truth = {"true": True, "false": False, "y": True, "n": False}.get(value)
            if truth is None:
                errors.add(raw, column, f"{raw.get(column)!r} is not true or false")
            pupil_fields[field_name] = truth
    if table.has("sen"):
        sen = raw.get("sen").upper()
        if sen not in SEN_STATUSES:
            errors.add(raw, "sen", f"{raw.get('sen')!r} is not an SEN status; use N, K or E")
        pupil_fields["sen_status"] = sen
    if table.has("ethnicity"):
        ethnicity = raw.get("ethnicity").upper()
        if len(ethnicity) > 4:
            errors.add(raw, "ethnicity", "a DfE ethnicity code has at most 4 characters")
        pupil_fields["ethnicity"] = ethnicity
    if len(errors) > before or start is None:
        return None
    return _Row(raw.line, upn, pupil_fields, nc_year, form, start, leave)


def _plan_row(
    school: School,
    row: _Row,
    roll: _Roll,
    plan: PupilsPlan,
    errors: RowErrors,
    today: dt.date,
) -> None:
    reference = max(row.start, min(today, row.leave or today))
    year = roll.year_on(reference)
    if year is None:
        errors.add(
            row.line,
            "form",
            f"the calendar has no academic year {academic_year_name(academic_year_start(reference))}"
            f", the year of this pupil's form (the form on {reference}): import the calendar first",
        )
        return
    form = _form_for(school, row, year, roll, plan, errors)
    if form is None:
        return

    pupil = roll.pupils.get(row.upn)
    if pupil is None:
        pupil = Pupil(school=school, upn=row.upn, **row.fields)
        roll.pupils[row.upn] = pupil
        plan.new_pupils.append(pupil)
        plan.new_enrolments.append(
            Enrolment(school=school, pupil=pupil, start_date=row.start, leaving_date=row.leave)
        )
        plan.new_placements.append(
            FormPlacement(
                school=school,
                pupil=pupil,
                form=form,
                start_date=max(row.start, year.start_date),
                end_date=row.leave,
            )
        )
        plan.pupils.created += 1
        return

    changed = False
    changed_fields = [name for name, value in row.fields.items() if getattr(pupil, name) != value]
    if changed_fields:
        for name in changed_fields:
            setattr(pupil, name, row.fields[name])
        plan.changed_pupils.append(pupil)
        plan.changed_pupil_fields.update(changed_fields)
        changed = True
    changed |= _plan_enrolment(school, row, pupil, roll, plan, errors)
    changed |= _plan_placement(school, row, pupil, form, year, reference, roll, plan, errors)
    if changed:
        plan.pupils.updated += 1
    else:
        plan.pupils.unchanged += 1


def _form_for(
    school: School,
    row: _Row,
    year: AcademicYear,
    roll: _Roll,
    plan: PupilsPlan,
    errors: RowErrors,
) -> FormGroup | None:
    key = (year.start_date, row.form)
    form = roll.forms.get(key)
    if form is not None:
        if form.year_group.nc_year != row.nc_year:
            where = (
                f"on line {roll.form_lines[key]}"
                if key in roll.form_lines
                else f"in {year.name} already"
            )
            errors.add(
                row.line,
                "year_group",
                f"form {row.form} is a {form.year_group.name} form {where}; "
                f"a form has one year group",
            )
            return None
        return form
    year_group = roll.year_groups.get(row.nc_year)
    if year_group is None:
        year_group = YearGroup(
            school=school,
            nc_year=row.nc_year,
            name=stored_label(NCYear(row.nc_year).label),
            sort_order=NC_YEAR_ORDER[row.nc_year],
        )
        roll.year_groups[row.nc_year] = year_group
        plan.new_year_groups.append(year_group)
    form = FormGroup(school=school, academic_year=year, year_group=year_group, name=row.form)
    roll.forms[key] = form
    roll.form_lines[key] = row.line
    plan.new_forms.append(form)
    return form


def _plan_enrolment(
    school: School, row: _Row, pupil: Pupil, roll: _Roll, plan: PupilsPlan, errors: RowErrors
) -> bool:
    enrolments = roll.enrolments.get(pupil.pk, [])
    same = next((e for e in enrolments if e.start_date == row.start), None)
    if same is not None:
        if same.leaving_date == row.leave:
            return False
        if row.leave is None and same.deletion_ground:
            errors.add(
                row.line,
                "leave_date",
                f"the pupil left on {same.leaving_date} (deletion ground "
                f"{same.deletion_ground}); readmit them in the app rather than by import",
            )
            return False
        same.leaving_date = row.leave
        plan.changed_enrolments.append(same)
        return True
    far_future = dt.date.max
    for other in enrolments:
        if other.start_date <= (row.leave or far_future) and row.start <= (
            other.leaving_date or far_future
        ):
            until = f" to {other.leaving_date}" if other.leaving_date else ""
            errors.add(
                row.line,
                "start_date",
                f"overlaps the pupil's enrolment from {other.start_date}{until}; "
                "correct a start date in the app",
            )
            return False
    plan.new_enrolments.append(
        Enrolment(school=school, pupil=pupil, start_date=row.start, leaving_date=row.leave)
    )
    return True


def _plan_placement(
    school: School,
    row: _Row,
    pupil: Pupil,
    form: FormGroup,
    year: AcademicYear,
    reference: dt.date,
    roll: _Roll,
    plan: PupilsPlan,
    errors: RowErrors,
) -> bool:
    placements = roll.placements.get(pupil.pk, [])
    first_day = max(row.start, year.start_date)
    current = placements[-1] if placements else None
    if current is None:
        plan.new_placements.append(
            FormPlacement(
                school=school, pupil=pupil, form=form, start_date=first_day, end_date=row.leave
            )
        )
        return True
    if row.leave is not None and row.leave < current.start_date:
        errors.add(
            row.line,
            "leave_date",
            f"the pupil joined form {current.form.name} on {current.start_date}, after this "
            "leave date; correct the placement in the app",
        )
        return False
    if form.pk is not None and current.form_id == form.pk:
        if current.end_date == row.leave:
            return False
        current.end_date = row.leave
        plan.changed_placements.append(current)
        return True

    current_year = current.form.academic_year
    if current_year.start_date > year.start_date:
        errors.add(
            row.line,
            "form",
            f"the pupil is already in form {current.form.name} for {current_year.name}, "
            f"a later year than {year.name}",
        )
        return False
    # A move within the year happens on the reference day; a new year's form starts with it.
    moved_on = reference if current_year.start_date == year.start_date else first_day
    if current.start_date >= moved_on:
        current.form, current.end_date = form, row.leave
        plan.changed_placements.append(current)
        return True
    if current.end_date is None or current.end_date >= moved_on:
        current.end_date = moved_on - dt.timedelta(days=1)
        plan.changed_placements.append(current)
    plan.new_placements.append(
        FormPlacement(
            school=school, pupil=pupil, form=form, start_date=moved_on, end_date=row.leave
        )
    )
    return True
