"""The registers' part of a subject-access archive (``schools.subject_access``)."""

from __future__ import annotations

from registers.models import (
    AbsenceReport,
    AttendanceMark,
    LeaveRequest,
    MarkChange,
    PartTimeTimetable,
)
from schools.models import Pupil, School
from schools.subject_access import ArchiveFile, records_file, stored_file, subject_access_section


@subject_access_section
def registers_section(school: School, pupil: Pupil) -> list[ArchiveFile]:
    reports = list(AbsenceReport.objects.filter(school=school, pupil=pupil).order_by("pk"))
    files = [
        records_file(
            "attendance_register.json",
            "every attendance mark (the register as it stands)",
            AttendanceMark.objects.filter(school=school, pupil=pupil).order_by("date", "session"),
        ),
        records_file(
            "attendance_register_amendments.json",
            "every amendment: original and new entry, reason, who and when",
            MarkChange.objects.filter(school=school, pupil=pupil).order_by("changed_at", "pk"),
        ),
        records_file("absence_reports.json", "absences reported by parents", reports),
        records_file(
            "leave_requests.json",
            "requests for leave of absence and decisions",
            LeaveRequest.objects.filter(school=school, pupil=pupil).order_by("pk"),
        ),
        records_file(
            "part_time_timetables.json",
            "agreed part-time timetables",
            PartTimeTimetable.objects.filter(school=school, pupil=pupil).order_by("pk"),
        ),
    ]
    for report in reports:
        extension = report.evidence.name.rsplit(".", 1)[-1] if report.evidence else ""
        evidence = stored_file(
            f"evidence/absence-report-{report.pk}.{extension}",
            "evidence a parent sent",
            report.evidence,
        )
        if evidence is not None:
            files.append(evidence)
    return files
