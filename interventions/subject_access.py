"""Attendance results and casework in a subject-access archive (``schools.subject_access``)."""

from __future__ import annotations

from interventions.models import (
    AttendanceEvent,
    Case,
    CaseAction,
    CaseStageChange,
    ContactAttempt,
    EnrolmentAttendance,
    LAReturn,
    NoticeToImprove,
    PenaltyNotice,
    PenaltyNoticeRequest,
    QueueItem,
)
from schools.models import Pupil, School
from schools.subject_access import ArchiveFile, records_file, subject_access_section


@subject_access_section
def interventions_section(school: School, pupil: Pupil) -> list[ArchiveFile]:
    cases = Case.objects.filter(school=school, pupil=pupil)
    return [
        records_file(
            "attendance_results.json",
            "attendance figures per academic year, as last computed",
            EnrolmentAttendance.objects.filter(school=school, pupil=pupil).order_by("period_start"),
        ),
        records_file(
            "attendance_events.json",
            "thresholds and bands crossed",
            AttendanceEvent.objects.filter(school=school, pupil=pupil).order_by(
                "occurred_on", "pk"
            ),
        ),
        records_file("cases.json", "attendance cases", cases.order_by("opened_at")),
        records_file(
            "case_stage_changes.json",
            "each change of a case's stage, with who and why",
            CaseStageChange.objects.filter(school=school, case__in=cases).order_by("changed_at"),
        ),
        records_file(
            "case_actions.json",
            "calls, meetings, visits, plans and referrals",
            CaseAction.objects.filter(school=school, case__in=cases).order_by("pk"),
        ),
        records_file(
            "notices_to_improve.json",
            "Notices to Improve",
            NoticeToImprove.objects.filter(school=school, case__in=cases).order_by("pk"),
        ),
        records_file(
            "penalty_notice_requests.json",
            "requests to the local authority for a penalty notice",
            PenaltyNoticeRequest.objects.filter(school=school, pupil=pupil).order_by("pk"),
        ),
        records_file(
            "penalty_notices.json",
            "penalty notices issued",
            PenaltyNotice.objects.filter(school=school, pupil=pupil).order_by("pk"),
        ),
        records_file(
            "work_queue_items.json",
            "items in the attendance office's queues",
            QueueItem.objects.filter(school=school, pupil=pupil).order_by("pk"),
        ),
        records_file(
            "contact_attempts.json",
            "calls, texts, emails and visits to the family",
            ContactAttempt.objects.filter(school=school, pupil=pupil).order_by("made_at"),
        ),
        records_file(
            "local_authority_returns.json",
            "returns to the local authority",
            LAReturn.objects.filter(school=school, pupil=pupil).order_by("pk"),
        ),
    ]
