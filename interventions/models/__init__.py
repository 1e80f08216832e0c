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

__all__ = [
    "AttendanceBand",
    "AttendanceEvent",
    "AttendanceRules",
    "ContactAttempt",
    "ContactMethod",
    "ContactOutcome",
    "EnrolmentAttendance",
    "IllnessMode",
    "ItemState",
    "PnDecision",
    "Queue",
    "QueueItem",
    "QueueItemChange",
    "QueueKind",
    "QueueSettings",
    "RecomputeRun",
    "RunKind",
]
