"""Every field we store, classified in one place (security GDPR-01): what kind of data it is,
which decides what a subject-access export includes, how long it is kept and how carefully it
is handled. ``tests/security/test_data_classification.py`` fails when a model or field is added
without a class here.

A model's class applies to each of its fields unless ``FIELD_CLASSES`` names the field.
"""

from __future__ import annotations

from enum import StrEnum


class DataClass(StrEnum):
    OPERATIONAL = "operational"  # configuration, ids, timestamps: no person in it
    STAFF = "staff"  # about staff accounts and their work (names, roles, who did what)
    PERSONAL = "personal"  # identifies a pupil or a family member (names, contacts, UPN)
    SPECIAL = "special"  # special category or sensitive (SEN, care, protection, ethnicity, health)
    REGISTER = "register"  # the statutory attendance and admission register (6 years, REG-02)
    ATTENDANCE = "attendance"  # figures, events and casework derived from the register
    FREE_TEXT = "free_text"  # typed by a person; may hold anything, so handled as sensitive


MODEL_CLASSES: dict[str, DataClass] = {
    "schools.AuditEvent": DataClass.STAFF,
    "schools.Trust": DataClass.OPERATIONAL,
    "schools.School": DataClass.OPERATIONAL,
    "schools.StaffMembership": DataClass.STAFF,
    "schools.TrustMembership": DataClass.STAFF,
    "schools.AcademicYear": DataClass.OPERATIONAL,
    "schools.Term": DataClass.OPERATIONAL,
    "schools.Closure": DataClass.OPERATIONAL,
    "schools.YearGroup": DataClass.OPERATIONAL,
    "schools.FormGroup": DataClass.OPERATIONAL,
    "schools.FormTutor": DataClass.STAFF,
    "schools.Pupil": DataClass.PERSONAL,
    "schools.Enrolment": DataClass.REGISTER,  # the admission register
    "schools.FormPlacement": DataClass.PERSONAL,
    "schools.Contact": DataClass.PERSONAL,
    "schools.ParentLink": DataClass.PERSONAL,
    "schools.UserPreference": DataClass.OPERATIONAL,
    "schools.SessionGeneration": DataClass.OPERATIONAL,
    "schools.StaffYearGroup": DataClass.STAFF,
    "registers.Register": DataClass.REGISTER,
    "registers.AttendanceMark": DataClass.REGISTER,
    "registers.MarkChange": DataClass.REGISTER,
    "registers.AbsenceReport": DataClass.PERSONAL,
    "registers.LeaveRequest": DataClass.PERSONAL,
    "registers.PartTimeTimetable": DataClass.ATTENDANCE,
    "registers.RetentionRecord": DataClass.OPERATIONAL,  # counts and dates, no person
    "interventions.AttendanceBand": DataClass.OPERATIONAL,
    "interventions.AttendanceRules": DataClass.OPERATIONAL,
    "interventions.RecomputeRun": DataClass.OPERATIONAL,
    "interventions.EnrolmentAttendance": DataClass.ATTENDANCE,
    "interventions.AttendanceEvent": DataClass.ATTENDANCE,
    "interventions.CaseStage": DataClass.OPERATIONAL,
    "interventions.Case": DataClass.ATTENDANCE,
    "interventions.CaseStageChange": DataClass.ATTENDANCE,
    "interventions.CaseAction": DataClass.ATTENDANCE,
    "interventions.NoticeToImprove": DataClass.ATTENDANCE,
    "interventions.PenaltyNoticeRequest": DataClass.ATTENDANCE,
    "interventions.PenaltyNotice": DataClass.ATTENDANCE,
    "interventions.QueueItem": DataClass.ATTENDANCE,
    "interventions.QueueItemChange": DataClass.ATTENDANCE,
    "interventions.ContactAttempt": DataClass.ATTENDANCE,
    "interventions.QueueSettings": DataClass.OPERATIONAL,
    "interventions.LAReturn": DataClass.ATTENDANCE,
    "interventions.WeeklySummary": DataClass.ATTENDANCE,
    "interventions.SchoolRollup": DataClass.OPERATIONAL,  # a school's totals, no pupil
    "interventions.SchoolYearRollup": DataClass.OPERATIONAL,  # a school's totals, no pupil
    "letters.LetterTemplate": DataClass.OPERATIONAL,
    "letters.LetterTemplateVersion": DataClass.OPERATIONAL,
    "letters.Letterhead": DataClass.STAFF,
    "letters.FamilyLetterLanguage": DataClass.PERSONAL,
    "letters.Letter": DataClass.ATTENDANCE,
    "letters.EmailDelivery": DataClass.PERSONAL,
    "letters.LetterBatch": DataClass.OPERATIONAL,
    "letters.LetterBatchChunk": DataClass.OPERATIONAL,
    "letters.LetterBatchItem": DataClass.OPERATIONAL,
}

# Fields whose class differs from their model's.
FIELD_CLASSES: dict[str, DataClass] = {
    "schools.Pupil.gender": DataClass.SPECIAL,
    "schools.Pupil.ethnicity": DataClass.SPECIAL,
    "schools.Pupil.fsm": DataClass.SPECIAL,
    "schools.Pupil.sen_status": DataClass.SPECIAL,
    "schools.Pupil.ehcp": DataClass.SPECIAL,
    "schools.Pupil.eal": DataClass.SPECIAL,
    "schools.Pupil.looked_after": DataClass.SPECIAL,
    "schools.Pupil.child_in_need": DataClass.SPECIAL,
    "schools.Pupil.child_protection_plan": DataClass.SPECIAL,
    "schools.Pupil.young_carer": DataClass.SPECIAL,
    "schools.Pupil.pupil_premium": DataClass.SPECIAL,
    "schools.Enrolment.deletion_note": DataClass.FREE_TEXT,
    "schools.Closure.description": DataClass.FREE_TEXT,
    "registers.MarkChange.reason": DataClass.FREE_TEXT,
    "registers.AbsenceReport.details": DataClass.FREE_TEXT,
    "registers.AbsenceReport.decision_note": DataClass.FREE_TEXT,
    "registers.AbsenceReport.evidence": DataClass.SPECIAL,  # often a medical appointment
    "registers.LeaveRequest.reason": DataClass.FREE_TEXT,
    "registers.LeaveRequest.decision_note": DataClass.FREE_TEXT,
    "registers.LeaveRequest.exceptional_circumstances": DataClass.FREE_TEXT,
    "interventions.Case.trigger_note": DataClass.FREE_TEXT,
    "interventions.Case.outcome": DataClass.FREE_TEXT,
    "interventions.CaseStageChange.reason": DataClass.FREE_TEXT,
    "interventions.CaseAction.summary": DataClass.FREE_TEXT,
    "interventions.CaseAction.outcome": DataClass.FREE_TEXT,
    "interventions.CaseAction.details": DataClass.FREE_TEXT,
    "interventions.NoticeToImprove.outcome_note": DataClass.FREE_TEXT,
    "interventions.PenaltyNotice.note": DataClass.FREE_TEXT,
    "interventions.QueueItem.snooze_reason": DataClass.FREE_TEXT,
    "interventions.QueueItem.outcome_note": DataClass.FREE_TEXT,
    "interventions.QueueItem.decision_reason": DataClass.FREE_TEXT,
    "interventions.ContactAttempt.reason_given": DataClass.FREE_TEXT,
    "interventions.ContactAttempt.note": DataClass.FREE_TEXT,
    "interventions.LAReturn.snapshot": DataClass.PERSONAL,
    "letters.Letter.snapshot": DataClass.PERSONAL,
    "letters.Letter.pdf": DataClass.PERSONAL,
    # Many letters in one file: names, addresses and figures of every pupil in the batch.
    "letters.LetterBatch.merged_pdf": DataClass.PERSONAL,
    "letters.LetterBatch.letters_zip": DataClass.PERSONAL,
    "letters.LetterBatchChunk.print_part": DataClass.PERSONAL,
}


def data_class(model_label: str, field_name: str) -> DataClass:
    """The class of one stored field (``KeyError`` for a model nobody classified)."""
    return FIELD_CLASSES.get(f"{model_label}.{field_name}", MODEL_CLASSES[model_label])
