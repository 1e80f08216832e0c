"""The interventions app's tables, one module per subsystem: ``attendance`` (bands, rules,
stored results, the event ledger, recompute runs). Casework adds its own modules here; each is
re-exported so ``interventions.models.X`` keeps working."""

from __future__ import annotations

from interventions.models.attendance import (
    AttendanceBand,
    AttendanceEvent,
    AttendanceRules,
    EnrolmentAttendance,
    IllnessMode,
    RecomputeRun,
    RunKind,
)
from interventions.models.cases import (
    ActionKind,
    Case,
    CaseAction,
    CaseStage,
    CaseStageChange,
    ReferralStatus,
    ReferralTo,
    TriggerKind,
)
from interventions.models.notices import (
    NoticeToImprove,
    PenaltyNotice,
    PenaltyNoticeRequest,
    RequestStatus,
)
from interventions.models.queues import (
    ContactAttempt,
    ContactMethod,
    ContactOutcome,
    ItemState,
    PnDecision,
    Queue,
    QueueItem,
    QueueItemChange,
    QueueKind,
    QueueSettings,
)
from interventions.models.returns import LAReturn, ReturnKind
from interventions.models.summaries import SchoolRollup, SchoolYearRollup, WeeklySummary

__all__ = [
    "ActionKind",
    "AttendanceBand",
    "AttendanceEvent",
    "AttendanceRules",
    "Case",
    "CaseAction",
    "CaseStage",
    "CaseStageChange",
    "ContactAttempt",
    "ContactMethod",
    "ContactOutcome",
    "EnrolmentAttendance",
    "IllnessMode",
    "ItemState",
    "LAReturn",
    "NoticeToImprove",
    "PenaltyNotice",
    "PenaltyNoticeRequest",
    "PnDecision",
    "Queue",
    "QueueItem",
    "QueueItemChange",
    "QueueKind",
    "QueueSettings",
    "RecomputeRun",
    "ReferralStatus",
    "ReferralTo",
    "RequestStatus",
    "ReturnKind",
    "RunKind",
    "SchoolRollup",
    "SchoolYearRollup",
    "TriggerKind",
    "WeeklySummary",
]
