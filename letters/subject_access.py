"""Letters in a subject-access archive (``schools.subject_access``)."""

from __future__ import annotations

from letters.models import EmailDelivery, Letter
from schools.models import Pupil, School
from schools.subject_access import ArchiveFile, records_file, stored_file, subject_access_section


@subject_access_section
def letters_section(school: School, pupil: Pupil) -> list[ArchiveFile]:
    letters = list(Letter.objects.filter(school=school, pupil=pupil).order_by("created_at"))
    files = [
        records_file("letters.json", "letters: the facts each stated (snapshot)", letters),
        records_file(
            "letter_emails.json",
            "to whom each letter was emailed, and when",
            EmailDelivery.objects.filter(school=school, letter__in=letters).order_by("pk"),
        ),
    ]
    for letter in letters:
        pdf = stored_file(f"letters/letter-{letter.pk}.pdf", "a letter as sent", letter.pdf)
        if pdf is not None:
            files.append(pdf)
    return files
