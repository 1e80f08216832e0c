"""Writes for letters: installing the default templates, adding template versions, generating
a letter (snapshot → sandboxed template → WeasyPrint → storage, with its SHA-256) and emailing
it at most once per parent.

A letter's facts come from the engine's set-based entry point
(``interventions.selectors.enrolment_results``, all of a batch chunk's pupils at once) and the
register's marks; nothing here recomputes an attendance rule. Days are sessions ÷ 2
(``letters.templating.days_text``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import mimetypes
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from interventions.engine import EnrolmentState
from interventions.rules import pct1, percentage
from interventions.selectors import enrolment_results
from letters import hooks
from letters.defaults import ADDRESSED_TO_LA, DEFAULT_LETTERS, default_body, default_title
from letters.models import (
    DeliveryStatus,
    EmailDelivery,
    FamilyLetterLanguage,
    Letter,
    Letterhead,
    LetterLanguage,
    LetterStatus,
    LetterTemplate,
    LetterTemplateVersion,
)
from letters.rendering import letter_pdf
from letters.templating import (
    MERGE_FIELDS,
    NO_FIGURE,
    TemplateProblemError,
    and_list,
    date_text,
    days_text,
    template_check,
)
from registers.codes import code_lookup
from registers.models import AttendanceMark
from schools.models import Contact, FormPlacement, Pupil, Role, School, StaffMembership
from schools.permissions import Capability, check_capability

# --- Templates -------------------------------------------------------------------------------


def school_letter_languages(*, school: School) -> tuple[str, ...]:
    """The languages a school's letters come in: English everywhere; Welsh and bilingual as
    well for a school that offers Welsh."""
    if school.welsh_language or school.welsh_medium:
        return (LetterLanguage.ENGLISH, LetterLanguage.WELSH, LetterLanguage.BILINGUAL)
    return (LetterLanguage.ENGLISH,)


@transaction.atomic
def letter_templates_install_defaults(*, school: School) -> list[LetterTemplate]:
    """Give ``school`` every default letter it does not have yet, in each of its languages,
    as version 1 (created by nobody). Idempotent: an edited template is never touched."""
    installed = []
    existing = set(LetterTemplate.objects.filter(school=school).values_list("key", "language"))
    now = timezone.now()
    for default in DEFAULT_LETTERS:
        for language in school_letter_languages(school=school):
            if (default.key, language) in existing:
                continue
            template = LetterTemplate.objects.create(
                school=school,
                key=default.key,
                language=language,
                title=default_title(default.key, language),
            )
            version = LetterTemplateVersion.objects.create(
                school=school,
                template=template,
                number=1,
                body=default_body(default.key, language),
                created_at=now,
            )
            template.current = version
            template.save(update_fields=["current"])
            installed.append(template)
    return installed


@transaction.atomic
def letter_template_version_add(
    *, school: School, template: LetterTemplate, body: str, created_by: StaffMembership
) -> LetterTemplateVersion:
    """Save a new text for ``template`` and make it current; earlier versions stay as they
    were (a sent letter keeps its own). Raises ``TemplateProblemError`` (with line numbers)
    if the text has an unknown field or bad syntax, ``ValidationError`` if ``created_by`` may
    not edit templates at ``school``."""
    check_capability(
        created_by,
        Capability.EDIT_LETTER_TEMPLATES,
        school=school,
        message=_("You cannot edit this school's letters."),
    )
    if template.school_id != school.pk:
        raise ValidationError(_("This template belongs to another school."))
    problems = template_check(body, language=_render_language(template.language))
    if problems:
        raise TemplateProblemError(problems)
    locked = LetterTemplate.objects.select_for_update().get(pk=template.pk)
    last = locked.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = LetterTemplateVersion.objects.create(
        school=school,
        template=locked,
        number=last + 1,
        body=body,
        created_by=created_by,
        created_at=timezone.now(),
    )
    locked.current = version
    locked.save(update_fields=["current"])
    template.current = version
    return version


def _render_language(language: str) -> str:
    # Dates and "A and B" in a bilingual letter follow its first language, Welsh.
    return "en" if language == LetterLanguage.ENGLISH else "cy"


# --- Family language -------------------------------------------------------------------------

# Letters made without a person choosing the template for this one pupil (a batch item, a
# letter from a case or a queue item) follow the family's language.
FAMILY_LANGUAGE_SOURCES = frozenset({"batch", "case", "queue_item"})


def family_letter_languages(*, school: School, pupil_ids: Collection[int]) -> dict[int, str]:
    """The language each of ``pupil_ids``' families gets letters in, for the pupils whose school
    set one it still offers (a school that stops writing in Welsh falls back to the template's
    language). One query whatever the number of pupils."""
    offered = school_letter_languages(school=school)
    return {
        pupil_id: language
        for pupil_id, language in FamilyLetterLanguage.objects.filter(
            school=school, pupil_id__in=list(pupil_ids)
        ).values_list("pupil_id", "language")
        if language in offered
    }


def family_letter_language(*, school: School, pupil: Pupil) -> str | None:
    """The language ``pupil``'s family gets letters in (``family_letter_languages``)."""
    return family_letter_languages(school=school, pupil_ids=[pupil.pk]).get(pupil.pk)


@transaction.atomic
def family_letter_language_set(
    *, school: School, pupil: Pupil, language: str, updated_by: StaffMembership
) -> FamilyLetterLanguage:
    """Record the language ``pupil``'s family gets letters in. Raises ``ValidationError`` if
    ``updated_by`` may not send letters, the pupil is another school's, or the school does
    not write in ``language``."""
    check_capability(
        updated_by,
        Capability.SEND_LETTERS,
        school=school,
        message=_("You cannot send letters at this school."),
    )
    if pupil.school_id != school.pk:
        raise ValidationError(_("This pupil belongs to another school."))
    if language not in school_letter_languages(school=school):
        raise ValidationError(_("This school does not write letters in that language."))
    choice, _created = FamilyLetterLanguage.objects.update_or_create(
        school=school,
        pupil=pupil,
        defaults={"language": language, "updated_by": updated_by, "updated_at": timezone.now()},
    )
    return choice


def letter_template_for_family(
    *,
    school: School,
    pupil: Pupil,
    template: LetterTemplate,
    sources: LetterSources | None = None,
) -> LetterTemplate:
    """The same letter as ``template`` in the language of ``pupil``'s family, if the school
    has it; otherwise ``template`` itself. With ``sources`` (a batch chunk's) the family's
    language is the one read for the chunk, and each language's template is read once."""
    if sources is None:
        language = family_letter_language(school=school, pupil=pupil)
    else:
        language = sources.pupils[pupil.pk].family_language
    if language is None or language == template.language:
        return template
    key = (template.key, language)
    if sources is not None and key in sources.templates:
        return sources.templates[key] or template
    found = (
        LetterTemplate.objects.filter(
            school=school, key=template.key, language=language, current__isnull=False
        )
        .select_related("current")
        .first()
    )
    if sources is not None:
        sources.templates[key] = found
    return found or template


# --- Letterhead ------------------------------------------------------------------------------

LETTERHEAD_TEXT_FIELDS = (
    "address",
    "phone",
    "email",
    "signatory_name",
    "signatory_role",
    "la_team",
    "la_address",
)


def letterhead_get(*, school: School) -> Letterhead:
    """``school``'s letterhead (an unsaved empty one if it has none yet)."""
    return Letterhead.objects.filter(school=school).first() or Letterhead(school=school)


@transaction.atomic
def letterhead_save(
    *,
    school: School,
    updated_by: StaffMembership,
    values: Mapping[str, str],
    images: Mapping[str, tuple[bytes, str] | None] | None = None,
) -> Letterhead:
    """Save ``school``'s letterhead: the text ``values`` (``LETTERHEAD_TEXT_FIELDS``) and, per
    image field (``logo``, ``signature``), new ``(content, extension)`` or ``None`` to remove
    it; an image not named is kept. The images are stored on the storage API under a name
    chosen here (never the uploader's), and read only by the renderer. The caller validated
    them (``letters.forms.letterhead_image_check``). Raises ``ValidationError`` if
    ``updated_by`` may not edit the school's letters."""
    check_capability(
        updated_by,
        Capability.EDIT_LETTER_TEMPLATES,
        school=school,
        message=_("You cannot edit this school's letters."),
    )
    letterhead = Letterhead.objects.select_for_update().filter(school=school).first()
    if letterhead is None:
        letterhead = Letterhead(school=school)
    for name in LETTERHEAD_TEXT_FIELDS:
        setattr(letterhead, name, values.get(name, "").strip())
    letterhead.full_clean(exclude=["logo", "signature"])
    for name, image in (images or {}).items():
        field = getattr(letterhead, name)
        if field:
            field.delete(save=False)  # the old file: letters already made keep their own PDF
        if image is not None:
            content, extension = image
            field.save(f"{school.pk}/{name}.{extension}", ContentFile(content), save=False)
    letterhead.save()
    return letterhead


# --- Snapshot --------------------------------------------------------------------------------


def _contacts_by_pupil(*, school: School, pupil_ids: Collection[int]) -> dict[int, list[Contact]]:
    # The parents a letter is addressed to: contacts with parental responsibility, in priority
    # order. One query for any number of pupils.
    contacts: dict[int, list[Contact]] = {pupil_id: [] for pupil_id in pupil_ids}
    for contact in Contact.objects.filter(
        school=school, pupil_id__in=list(pupil_ids), parental_responsibility=True
    ).order_by("pupil_id", "priority", "full_name"):
        contacts[contact.pupil_id].append(contact)
    return contacts


def letter_contacts(*, school: School, pupil: Pupil) -> list[Contact]:
    """The parents a letter is addressed to: contacts with parental responsibility, in
    priority order."""
    return _contacts_by_pupil(school=school, pupil_ids=[pupil.pk])[pupil.pk]


# Who a letter to the local authority is addressed to when the letterhead names no team.
LA_TEAM_FALLBACK = gettext_lazy("Local authority attendance team")


def _meaning_text(meaning: object, *, language: str) -> str:
    """A code's meaning as plain text in the letter's language (Welsh for ``cy`` and the Welsh
    half of a bilingual letter, else English)."""
    with translation.override("en-gb" if language == "en" else "cy"):
        return str(meaning)


@dataclass
class LetterSchoolData:
    """What every letter of a school states or prints alike: the letterhead and the
    headteacher, read once for a batch chunk rather than once per letter. The letterhead's
    images are read from storage the first time a PDF needs them."""

    letterhead: Letterhead | None
    headteacher: str
    _images: tuple[str | None, str | None] | None = field(default=None, repr=False)

    def images(self) -> tuple[str | None, str | None]:
        """The logo and the signature as ``data:`` URLs (None where the school has none)."""
        if self._images is None:
            letterhead = self.letterhead
            self._images = (
                (_file_data_url(letterhead.logo), _file_data_url(letterhead.signature))
                if letterhead
                else (None, None)
            )
        return self._images


def letter_school_data(*, school: School) -> LetterSchoolData:
    """``school``'s letterhead and headteacher (two queries)."""
    head = (
        StaffMembership.objects.filter(school=school, role=Role.HEADTEACHER, is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return LetterSchoolData(
        letterhead=Letterhead.objects.filter(school=school).first(),
        headteacher=(head.user.get_full_name() or "") if head else "",
    )


@dataclass(frozen=True)
class LetterPupilFacts:
    """One pupil's facts for a period, as the engine and the register state them: the
    engine's results per enrolment, every mark of the period up to its as-of day, the form
    placement on that day, the parents addressed and the family's letter language."""

    states: tuple[EnrolmentState, ...]
    marks: tuple[AttendanceMark, ...]
    placement: FormPlacement | None
    contacts: tuple[Contact, ...]
    family_language: str | None


@dataclass(frozen=True)
class LetterSources:
    """Everything the letters of one school over one period are made from except the template:
    the school's shared data and each pupil's facts, read for a whole batch chunk in a fixed
    number of queries (``letter_sources``) instead of about twenty per letter. ``templates``
    remembers the family-language templates looked up while the chunk is worked."""

    school: LetterSchoolData
    pupils: Mapping[int, LetterPupilFacts]
    period_start: dt.date
    period_end: dt.date
    today: dt.date
    templates: dict[tuple[str, str], LetterTemplate | None] = field(default_factory=dict)


def letter_sources(
    *,
    school: School,
    pupil_ids: Collection[int],
    period_start: dt.date,
    period_end: dt.date,
    today: dt.date | None = None,
) -> LetterSources:
    """The facts of ``pupil_ids``' letters over the period, as of ``min(period_end, today)``:
    the engine's figures from its set-based entry point (``enrolment_results`` for all the
    pupils at once), their marks, placements, parents and family languages, and the school's
    letterhead and headteacher. A fixed number of queries whatever the number of pupils.
    ValueError if ``period_end`` is before ``period_start``."""
    ids = list(dict.fromkeys(pupil_ids))
    today = today or timezone.localdate()
    on = min(period_end, today)
    states: dict[int, list[EnrolmentState]] = {pupil_id: [] for pupil_id in ids}
    for result in enrolment_results(
        school=school,
        period_start=period_start,
        period_end=period_end,
        as_of=on,
        pupil_ids=ids,
    ):
        states[result.state.pupil_id].append(result.state)
    marks: dict[int, list[AttendanceMark]] = {pupil_id: [] for pupil_id in ids}
    for mark in AttendanceMark.objects.filter(
        school=school, pupil_id__in=ids, date__gte=period_start, date__lte=on
    ).order_by("pupil_id", "date", "session"):
        marks[mark.pupil_id].append(mark)
    placements: dict[int, FormPlacement] = {}
    for placement in (
        FormPlacement.objects.filter(school=school, pupil_id__in=ids, start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .select_related("form__year_group")
        .order_by("pupil_id", "-start_date")
    ):
        placements.setdefault(placement.pupil_id, placement)  # the latest start wins
    contacts = _contacts_by_pupil(school=school, pupil_ids=ids)
    languages = family_letter_languages(school=school, pupil_ids=ids)
    return LetterSources(
        school=letter_school_data(school=school),
        pupils={
            pupil_id: LetterPupilFacts(
                states=tuple(states[pupil_id]),
                marks=tuple(marks[pupil_id]),
                placement=placements.get(pupil_id),
                contacts=tuple(contacts[pupil_id]),
                family_language=languages.get(pupil_id),
            )
            for pupil_id in ids
        },
        period_start=period_start,
        period_end=period_end,
        today=today,
    )


def _one_pupils_sources(
    school: School, pupil: Pupil, period_start: dt.date, period_end: dt.date, today: dt.date | None
) -> LetterSources:
    """``letter_sources`` for a single letter, when no batch chunk has read them already."""
    return letter_sources(
        school=school,
        pupil_ids=[pupil.pk],
        period_start=period_start,
        period_end=period_end,
        today=today,
    )


def letter_snapshot(
    *,
    school: School,
    pupil: Pupil,
    contacts: Sequence[Contact],
    period_start: dt.date,
    period_end: dt.date,
    language: str,
    today: dt.date | None = None,
    extra: Mapping[str, object] | None = None,
    sources: LetterSources | None = None,
    to_local_authority: bool = False,
) -> dict[str, object]:
    """Every fact a letter states, as merge values (``letters.templating.MERGE_FIELDS``): the
    pupil, the parents addressed, the school and letterhead, the period, sessions and days
    missed, the rates (one decimal place), lateness, and the absence marks it lists; ``extra``
    adds the case stage and NTI fields. Figures come from the engine over the period, as of
    ``period_end`` (or today, if sooner). ``sources`` are the facts already read for a batch
    chunk (``letter_sources``, for the same period and day); without them they are read for
    this pupil alone. ``to_local_authority``: the letter is addressed to the local authority's
    attendance team at its address (the letterhead's), and ``parents`` still name the family."""
    if sources is None:
        sources = _one_pupils_sources(school, pupil, period_start, period_end, today)
    elif (sources.period_start, sources.period_end) != (period_start, period_end) or (
        today is not None and today != sources.today
    ):
        raise ValueError("The sources were read for another period or day.")
    render_language = _render_language(language)
    today = sources.today
    facts = sources.pupils[pupil.pk]
    results = facts.states
    possible = sum(r.possible_sessions for r in results)
    present = sum(r.present_sessions + r.aea_sessions for r in results)
    unauthorised = sum(r.unauthorised_sessions for r in results)
    missed = sum(r.authorised_sessions + r.unauthorised_sessions for r in results)
    lates = sum(r.late_sessions for r in results)
    late_minutes = sum(r.late_minutes + r.u_minutes for r in results)
    # Summed over the enrolments in the period (usually one), then the engine's percentage.
    rate = percentage(present, possible)
    unauth_rate = percentage(unauthorised, possible)

    marks = []
    all_marks = facts.marks
    for mark in all_marks:
        definition = code_lookup(jurisdiction=school.jurisdiction, code=mark.code, on=mark.date)
        if definition is None or not definition.is_absence:
            continue
        marks.append(
            {
                "date": mark.date,
                "session": mark.session,
                "code": mark.code,
                # Frozen as text in the letter's language: a snapshot never changes later.
                "meaning": _meaning_text(definition.meaning, language=language),
            }
        )

    letterhead = sources.school.letterhead
    placement = facts.placement
    parents = [contact.full_name for contact in contacts]
    first_address = next((c.address for c in contacts if c.address.strip()), "")
    addressee = and_list(parents, render_language)
    if to_local_authority:
        addressee = (letterhead.la_team if letterhead else "") or _meaning_text(
            LA_TEAM_FALLBACK, language=language
        )
        first_address = letterhead.la_address if letterhead else ""
    values: dict[str, object] = {
        "pupil.first_name": pupil.preferred_forename or pupil.legal_forename,
        "pupil.last_name": pupil.preferred_surname or pupil.legal_surname,
        "pupil.full_name": pupil.display_name,
        "pupil.form": placement.form.name if placement else "",
        "pupil.year": placement.form.year_group.name if placement else "",
        "parents": parents,
        "addressee.name": addressee,
        "addressee.address": [line.strip() for line in first_address.splitlines() if line.strip()],
        "school.name": school.name,
        "school.address": (letterhead.address.replace("\n", ", ") if letterhead else ""),
        "school.phone": letterhead.phone if letterhead else "",
        "school.email": letterhead.email if letterhead else "",
        "school.headteacher": sources.school.headteacher,
        "signatory.name": letterhead.signatory_name if letterhead else "",
        "signatory.role": letterhead.signatory_role if letterhead else "",
        "period.start": period_start,
        "period.end": period_end,
        "sessions.possible": possible,
        "sessions.missed": missed,
        "sessions.unauthorised": unauthorised,
        "days.possible": days_text(possible, render_language),
        "days.missed": days_text(missed, render_language),
        "days.unauthorised": days_text(unauthorised, render_language),
        "rates.attendance": f"{pct1(rate)}%" if rate is not None else NO_FIGURE,
        "rates.unauthorised": f"{pct1(unauth_rate)}%" if unauth_rate is not None else NO_FIGURE,
        "lates.count": lates,
        "lates.minutes": late_minutes,
        "marks": marks,
        "calendar": letter_calendar(
            marks=all_marks, start=period_start, end=min(period_end, today), language=language
        ),
        "today": today,
    }
    values.update(extra or {})
    return values


def letter_calendar(
    *, marks: Sequence[AttendanceMark], start: dt.date, end: dt.date, language: str
) -> list[dict[str, object]]:
    """Every weekday from the Monday of ``start``'s week to the Friday of ``end``'s, with the
    codes of its sessions (empty outside the period or where no session was held), so a
    template can lay out one row per week (``monday`` opens a row, ``friday`` closes it)."""
    codes = {(mark.date, mark.session): mark.code for mark in marks}
    day = start - dt.timedelta(days=start.weekday())
    last = end + dt.timedelta(days=max(0, 4 - end.weekday()))
    days: list[dict[str, object]] = []
    while day <= last:
        if day.weekday() < 5:
            days.append(
                {
                    "date": day,
                    # "2 September" / "2 Medi": the letter's date without its year.
                    "label": date_text(day, _render_language(language)).rsplit(" ", 1)[0],
                    "am": codes.get((day, "AM"), ""),
                    "pm": codes.get((day, "PM"), ""),
                    "monday": day.weekday() == 0,
                    "friday": day.weekday() == 4,
                }
            )
        day += dt.timedelta(days=1)
    return days


def snapshot_to_json(values: Mapping[str, object]) -> dict[str, Any]:
    """Merge values as JSON: dates (also in the marks) as ISO strings."""

    def encode(value: object) -> object:
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, Mapping):
            return {key: encode(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [encode(item) for item in value]
        return value

    return {name: encode(value) for name, value in values.items()}


def snapshot_from_json(stored: Mapping[str, Any]) -> dict[str, object]:
    """The inverse of ``snapshot_to_json``: a field documented as a date is a date again."""
    values: dict[str, object] = {}
    for name, value in stored.items():
        field = MERGE_FIELDS[name]
        if isinstance(field.example, dt.date) and isinstance(value, str):
            values[name] = dt.date.fromisoformat(value)
        elif field.item_fields and "date" in field.item_fields and isinstance(value, list):
            values[name] = [{**item, "date": dt.date.fromisoformat(item["date"])} for item in value]
        else:
            values[name] = value
    return values


# --- Generating ------------------------------------------------------------------------------


def _file_data_url(field: Any) -> str | None:
    """A letterhead image read from storage as a data: URL (the renderer fetches nothing)."""
    if not field:
        return None
    mime = mimetypes.guess_type(field.name)[0] or "image/png"
    with field.open("rb") as handle:
        data = handle.read()
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def letter_render(*, letter: Letter, school_data: LetterSchoolData | None = None) -> bytes:
    """The PDF of ``letter`` rendered again from its snapshot and template version: the same
    text as when it was generated, whatever changed since. ``school_data`` is the letterhead
    already read (a batch chunk's); without it it is read here."""
    version = letter.template_version
    if school_data is None:
        school_data = LetterSchoolData(
            letterhead=Letterhead.objects.filter(school_id=letter.school_id).first(),
            headteacher="",  # not printed from here: the snapshot holds it
        )
    logo_src, signature_src = school_data.images()
    return letter_pdf(
        body_source=version.body,
        values=snapshot_from_json(letter.snapshot),
        title=version.template.title,
        language=_render_language(letter.language),
        logo_src=logo_src,
        signature_src=signature_src,
    )


@transaction.atomic
def letter_generate(
    *,
    school: School,
    pupil: Pupil,
    template: LetterTemplate,
    period_start: dt.date,
    period_end: dt.date,
    created_by: StaffMembership | None,
    extra: Mapping[str, object] | None = None,
    source: str = "",
    case_id: int | None = None,
    queue_item_id: int | None = None,
    today: dt.date | None = None,
    sources: LetterSources | None = None,
) -> Letter:
    """Generate one letter for ``pupil`` from ``template``'s current version: take the
    snapshot, render the PDF, store it with its SHA-256 and address it to the pupil's parents.
    ``created_by`` None is the system (a batch task checks its starter). Raises
    ``ValidationError`` if the staff member may not send letters or the objects belong to
    another school, ``TemplateProblemError`` if the template cannot render this letter. The
    ``letter_generated`` hooks run after commit (the case timeline records the action). From a
    batch, a case or a queue item (``FAMILY_LANGUAGE_SOURCES``) the letter is the same
    template's version in the family's language (``family_letter_language``). ``sources``
    are the facts a batch chunk read for all its pupils at once (``letter_sources``)."""
    if created_by is not None:
        check_capability(
            created_by,
            Capability.SEND_LETTERS,
            school=school,
            message=_("You cannot send letters at this school."),
        )
    if not (pupil.school_id == template.school_id == school.pk):
        raise ValidationError(_("The pupil and the template must belong to this school."))
    if sources is None:
        sources = _one_pupils_sources(school, pupil, period_start, period_end, today)
    if source in FAMILY_LANGUAGE_SOURCES:
        template = letter_template_for_family(
            school=school, pupil=pupil, template=template, sources=sources
        )
    version = template.current
    if version is None:
        raise ValidationError(_("This template has no text yet."))
    contacts = list(sources.pupils[pupil.pk].contacts)
    to_local_authority = template.key in ADDRESSED_TO_LA
    values = letter_snapshot(
        school=school,
        pupil=pupil,
        contacts=contacts,
        period_start=period_start,
        period_end=period_end,
        language=template.language,
        today=today,
        extra=extra,
        sources=sources,
        to_local_authority=to_local_authority,
    )
    letter = Letter.objects.create(
        school=school,
        pupil=pupil,
        template_version=version,
        language=template.language,
        snapshot=snapshot_to_json(values),
        source=source,
        case_id=case_id,
        queue_item_id=queue_item_id,
        created_by=created_by,
        created_at=timezone.now(),
    )
    # The parents addressed (and emailed). A letter to the local authority addresses none of
    # them: it goes to the print pile, to be sent to the authority with the referral.
    letter.contacts.set([] if to_local_authority else contacts)
    version.template = template  # the template in hand: no query for its title
    pdf = letter_render(letter=letter, school_data=sources.school)
    letter.sha256 = hashlib.sha256(pdf).hexdigest()
    letter.pdf.save(f"{school.pk}/{letter.pk}.pdf", ContentFile(pdf), save=False)
    letter.save(update_fields=["sha256", "pdf"])
    transaction.on_commit(lambda: hooks.letter_generated(letter))
    return letter


# --- Sending ---------------------------------------------------------------------------------


def letter_email_body(*, letter: Letter) -> str:
    """The plain-text email that carries the PDF."""
    values = letter.snapshot
    return _(
        "Dear %(name)s,\n\nPlease find attached a letter from %(school)s about %(pupil)s.\n\n"
        "If you have any questions, please contact the school.\n"
    ) % {
        "name": values.get("addressee.name", ""),
        "school": values.get("school.name", ""),
        "pupil": values.get("pupil.full_name", ""),
    }


def letter_email_send(*, school: School, letter: Letter) -> list[EmailDelivery]:
    """Email ``letter``'s PDF to each addressed parent with an email address, at most once
    each (security.md Q-01): a delivery row is claimed, unique per letter and contact, before
    the email is sent, so a retry skips everyone already claimed. A claimed row whose send
    failed is marked failed and not retried by itself. Parents without an address are the
    print pile (``letter_print_pile``). Returns the deliveries made by this call."""
    if letter.school_id != school.pk:
        raise ValidationError(_("This letter belongs to another school."))
    if not letter.pdf:
        raise ValidationError(_("This letter's PDF was deleted under the retention policy."))
    made = []
    for contact in letter.contacts.filter(school=school).exclude(email=""):
        try:
            with transaction.atomic():
                delivery = EmailDelivery.objects.create(
                    school=school,
                    letter=letter,
                    contact=contact,
                    address=contact.email,
                    status=DeliveryStatus.CLAIMED,
                    claimed_at=timezone.now(),
                )
        except IntegrityError:
            continue  # claimed before: sent, being sent or failed; never twice
        title = letter.template_version.template.title
        message = EmailMessage(
            subject=f"{title}: {letter.snapshot.get('pupil.full_name', '')}",
            body=letter_email_body(letter=letter),
            to=[contact.email],
        )
        with letter.pdf.open("rb") as handle:
            message.attach(f"letter-{letter.pk}.pdf", handle.read(), "application/pdf")
        try:
            message.send(fail_silently=False)
        except Exception as exc:
            delivery.status = DeliveryStatus.FAILED
            delivery.error = str(exc)[:300]
            delivery.save(update_fields=["status", "error"])
        else:
            delivery.status = DeliveryStatus.SENT
            delivery.sent_at = timezone.now()
            delivery.save(update_fields=["status", "sent_at"])
        made.append(delivery)
    if any(d.status == DeliveryStatus.SENT for d in made):
        Letter.objects.filter(pk=letter.pk).update(status=LetterStatus.SENT)
    elif made and all(d.status == DeliveryStatus.FAILED for d in made):
        Letter.objects.filter(pk=letter.pk, status=LetterStatus.GENERATED).update(
            status=LetterStatus.FAILED
        )
    return made


def letter_print_pile(*, school: School, letters: Iterable[Letter]) -> list[Letter]:
    """The letters that must go by post: no addressed parent has an email address."""
    return [
        letter
        for letter in letters
        if letter.school_id == school.pk
        and not letter.contacts.filter(school=school).exclude(email="").exists()
    ]


@transaction.atomic
def letters_mark_printed(
    *, school: School, letter_ids: Iterable[int], marked_by: StaffMembership
) -> int:
    """Mark ``school``'s generated letters among ``letter_ids`` as printed (ids of another
    school's letters, or of letters already sent or printed, change nothing). Returns how many
    were marked."""
    check_capability(
        marked_by,
        Capability.SEND_LETTERS,
        school=school,
        message=_("You cannot send letters at this school."),
    )
    return Letter.objects.filter(
        school=school, pk__in=list(letter_ids), status=LetterStatus.GENERATED
    ).update(status=LetterStatus.PRINTED)


# Batches: letters.batches (one template to many pupils, chunked Celery tasks under leases).
