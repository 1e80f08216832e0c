"""Everything held about one pupil, as one archive (security GDPR-02: the right of access).

``schools`` is the base app and imports none above it, so it only defines the slot: each app
has a ``subject_access`` module whose ``sections(school, pupil)`` returns its files, found by
``autodiscover_modules`` (as Django's admin finds ``admin`` modules). The archive holds one JSON
file per kind of record (every stored field, with its data class from
``schools.data_classification``), the files themselves (evidence, letters) and a README that
says what each file is.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from schools.data_classification import data_class
from schools.models import Pupil, School


@dataclass(frozen=True)
class ArchiveFile:
    name: str  # the path inside the archive
    content: bytes
    about: str  # one line for the README


Section = Callable[[School, Pupil], list[ArchiveFile]]


def records_file(name: str, about: str, rows: Iterable[models.Model]) -> ArchiveFile:
    """One JSON file of ``rows``: every concrete field's value and data class."""
    records: list[dict[str, Any]] = []
    for row in rows:
        label = row._meta.label
        records.append(
            {
                field.name: {
                    "value": _plain(field.value_from_object(row)),
                    "class": data_class(label, field.name).value,
                }
                for field in row._meta.concrete_fields
            }
        )
    content = json.dumps(records, indent=2, ensure_ascii=False, default=str).encode()
    return ArchiveFile(name=name, content=content, about=about)


def _plain(value: Any) -> Any:
    if hasattr(value, "name") and hasattr(value, "storage"):  # a FieldFile: its stored name
        return value.name or ""
    return value


def stored_file(name: str, about: str, field_file: Any) -> ArchiveFile | None:
    """A stored file (evidence, a letter's PDF) as it is, or None when there is none."""
    if not field_file:
        return None
    with field_file.open("rb") as stored:
        return ArchiveFile(name=name, content=stored.read(), about=about)


def subject_access_files(*, school: School, pupil: Pupil) -> list[ArchiveFile]:
    autodiscover_modules("subject_access")
    files: list[ArchiveFile] = []
    for section in _SECTIONS:
        files.extend(section(school, pupil))
    return files


_SECTIONS: list[Section] = []


def subject_access_section(section: Section) -> Section:
    """Register an app's section (called at import of its ``subject_access`` module)."""
    if section not in _SECTIONS:
        _SECTIONS.append(section)
    return section


def subject_access_archive(*, school: School, pupil: Pupil) -> bytes:
    """The zip a school administrator gives in answer to a subject access request."""
    files = subject_access_files(school=school, pupil=pupil)
    readme = [
        f"Everything {school.name} holds about {pupil.display_name} (UPN {pupil.upn}),",
        f"exported {timezone.now():%Y-%m-%d %H:%M} UTC.",
        "Each JSON file lists records with every stored field: its value and its data class",
        "(personal, special, register, attendance, free_text, staff, operational).",
        "",
    ] + [f"{file.name}: {file.about}" for file in files]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", "\n".join(readme) + "\n")
        for file in files:
            archive.writestr(file.name, file.content)
    return out.getvalue()


@subject_access_section
def _schools_section(school: School, pupil: Pupil) -> list[ArchiveFile]:
    from schools.audit_models import AuditEvent
    from schools.models import Contact, Enrolment, FormPlacement, ParentLink

    return [
        records_file("pupil.json", "the pupil's record", [pupil]),
        records_file(
            "admission_register.json",
            "enrolments: admission, leaving, deletion",
            Enrolment.objects.filter(school=school, pupil=pupil).order_by("start_date"),
        ),
        records_file(
            "forms.json",
            "form placements",
            FormPlacement.objects.filter(school=school, pupil=pupil).order_by("start_date"),
        ),
        records_file(
            "contacts.json",
            "parents and other contacts",
            Contact.objects.filter(school=school, pupil=pupil).order_by("priority", "pk"),
        ),
        records_file(
            "parent_accounts.json",
            "parents' accounts linked to the pupil",
            ParentLink.objects.filter(school=school, pupil=pupil).order_by("pk"),
        ),
        records_file(
            "access_log.json",
            "who viewed or downloaded the pupil's record (the access and security trail)",
            AuditEvent.objects.filter(school=school, target_type="pupil", target_id=pupil.pk),
        ),
    ]
