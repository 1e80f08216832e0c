"""JSON API for attendance results: a pupil's result, the school's summary by group, and the
event ledger. The same selectors as the HTML pages; rates as 1 dp strings beside the raw
counts they come from, so a client can recompute them exactly."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from interventions import rules, selectors
from interventions.models import AttendanceEvent
from interventions.periods import Period, period_requested
from interventions.rules import EventKind
from schools.permissions import Capability, HasCapability, can
from schools.selectors import pupil_visible_get, pupil_visible_to
from schools.types import school_request

PERIOD_PARAMETERS = [
    OpenApiParameter(
        "from", dt.date, description="First day (default: the academic year's first day)"
    ),
    OpenApiParameter(
        "to",
        dt.date,
        description="Last day, on or after `from` (else 400) (default: the academic year's last)",
    ),
    OpenApiParameter("as_of", dt.date, description="Count marks up to this day (default: today)"),
]
MODES = ["stored", "computed"]
RATE_HELP = "Percentage to 1 dp (half away from zero); null without a possible session"


def _pct(value: Fraction | None) -> str | None:
    return None if value is None else rules.pct1(value)


class PeriodInputSerializer(serializers.Serializer[Any]):
    """``?from=&to=&as_of=``: any of them means "compute now" instead of the stored result."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # "from" is a Python keyword, so the fields are named here rather than declared.
        return {
            "from": serializers.DateField(required=False),
            "to": serializers.DateField(required=False),
            "as_of": serializers.DateField(required=False),
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("from"), attrs.get("to")
        if start is not None and end is not None and end < start:
            raise ValidationError({"to": _("The end of the period is before its start.")})
        return attrs


def _period(request: Request, serializer: serializers.Serializer[Any]) -> Period | None:
    """The period asked for, or ``None`` for the stored results; 400 on bad input (the
    API's exception handler answers a ``ValidationError`` from ``period_requested``)."""
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    if not any(data.get(name) for name in ("from", "to", "as_of", "dfe")):
        return None
    return period_requested(
        school=school_request(request).school, data=data, today=timezone.localdate()
    )


class SessionsOutputSerializer(serializers.Serializer[Any]):
    """The §4.1 session counts and rates, shared by totals and per-enrolment results."""

    possible_sessions = serializers.IntegerField()
    present_sessions = serializers.IntegerField()
    aea_sessions = serializers.IntegerField()
    authorised_sessions = serializers.IntegerField()
    unauthorised_sessions = serializers.IntegerField()
    not_counted_sessions = serializers.IntegerField()
    late_sessions = serializers.IntegerField()

    attendance_rate = serializers.CharField(allow_null=True, help_text=RATE_HELP)
    overall_absence_rate = serializers.CharField(allow_null=True, help_text=RATE_HELP)
    authorised_rate = serializers.CharField(allow_null=True, help_text=RATE_HELP)
    unauthorised_rate = serializers.CharField(allow_null=True, help_text=RATE_HELP)


class TotalsOutputSerializer(SessionsOutputSerializer):
    enrolments = serializers.IntegerField()
    enrolments_with_possible = serializers.IntegerField(
        help_text="Enrolments with at least one possible session: the PA/SA denominator"
    )
    pa_enrolments = serializers.IntegerField()
    sa_enrolments = serializers.IntegerField()
    pa_rate = serializers.CharField(allow_null=True, help_text=RATE_HELP)
    sa_rate = serializers.CharField(allow_null=True, help_text=RATE_HELP)


def totals_data(totals: selectors.AttendanceTotals) -> dict[str, Any]:
    return {
        **{name: getattr(totals, name) for name in selectors.TOTAL_FIELDS},
        "attendance_rate": _pct(totals.attendance_rate),
        "overall_absence_rate": _pct(totals.overall_absence_rate),
        "authorised_rate": _pct(totals.authorised_rate),
        "unauthorised_rate": _pct(totals.unauthorised_rate),
        "pa_rate": _pct(totals.pa_rate),
        "sa_rate": _pct(totals.sa_rate),
    }


class BandOutputSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    colour = serializers.CharField(help_text="#rrggbb")
    meaning = serializers.CharField()


class PupilAttendanceResultOutputSerializer(SessionsOutputSerializer):
    enrolment = serializers.IntegerField()
    enrolment_start = serializers.DateField()
    enrolment_leaving = serializers.DateField(allow_null=True)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    as_of = serializers.DateField()
    computed_at = serializers.DateTimeField(
        allow_null=True, help_text="When the stored result was computed; null if just now"
    )
    marks_counted = serializers.IntegerField()
    late_minutes = serializers.IntegerField()
    rate_change_4_weeks = serializers.CharField(
        allow_null=True, help_text="Percentage points to 1 dp since trend_cut"
    )
    trend_cut = serializers.DateField(allow_null=True)
    persistent_absence = serializers.BooleanField()
    severe_absence = serializers.BooleanField()
    band_name = serializers.CharField()
    band = BandOutputSerializer(allow_null=True)
    code_counts = serializers.DictField(child=serializers.IntegerField())
    pn_evaluated = serializers.BooleanField()
    pn_window_start = serializers.DateField(allow_null=True)
    pn_window_count = serializers.IntegerField(allow_null=True)
    pn_window_provisional = serializers.BooleanField(
        help_text="The window count includes sessions still coded N"
    )
    pn_threshold_met_on = serializers.DateField(allow_null=True)
    pn_threshold_met_session = serializers.CharField()
    pn_threshold_provisional = serializers.BooleanField()
    ten_day_run = serializers.IntegerField()
    ten_day_run_start = serializers.DateField(allow_null=True)
    ground_i_run = serializers.IntegerField()
    ground_i_run_start = serializers.DateField(allow_null=True)
    illness_run = serializers.IntegerField()
    illness_run_start = serializers.DateField(allow_null=True)
    illness_days = serializers.IntegerField()
    illness_sessions = serializers.IntegerField()
    illness_return_due = serializers.BooleanField()
    overdue_n = serializers.IntegerField()


class PupilAttendanceOutputSerializer(serializers.Serializer[Any]):
    pupil = serializers.IntegerField()
    mode = serializers.ChoiceField(
        choices=MODES, help_text="stored: the last recompute's; computed: from the marks now"
    )
    results = PupilAttendanceResultOutputSerializer(many=True)


class PupilAttendanceApi(APIView):
    """A pupil's stored result for this academic year, or one computed now for a period."""

    permission_classes = [HasCapability]
    required_capability = Capability.VIEW_PUPIL_ATTENDANCE

    @staticmethod
    def _result(result: selectors.PupilAttendance) -> dict[str, Any]:
        state = result.state
        copied = [
            "period_start",
            "period_end",
            "as_of",
            "marks_counted",
            "possible_sessions",
            "present_sessions",
            "aea_sessions",
            "authorised_sessions",
            "unauthorised_sessions",
            "not_counted_sessions",
            "late_sessions",
            "late_minutes",
            "trend_cut",
            "persistent_absence",
            "severe_absence",
            "band_name",
            "pn_evaluated",
            "pn_window_start",
            "pn_window_count",
            "pn_threshold_met_on",
            "pn_threshold_met_session",
            "pn_threshold_provisional",
            "ten_day_run",
            "ten_day_run_start",
            "ground_i_run",
            "ground_i_run_start",
            "illness_run",
            "illness_run_start",
            "illness_days",
            "illness_sessions",
            "illness_return_due",
            "overdue_n",
        ]
        band = result.band
        return {
            **{name: getattr(state, name) for name in copied},
            "enrolment": state.enrolment_id,
            "enrolment_start": result.enrolment_start,
            "enrolment_leaving": result.enrolment_leaving,
            "computed_at": result.computed_at,
            "attendance_rate": _pct(state.attendance_rate),
            "overall_absence_rate": _pct(state.overall_absence_rate),
            "authorised_rate": _pct(state.authorised_rate),
            "unauthorised_rate": _pct(state.unauthorised_rate),
            "rate_change_4_weeks": _pct(state.rate_change_4_weeks),
            "band": None
            if band is None
            else {"name": band.name, "colour": band.colour, "meaning": band.meaning},
            "code_counts": dict(sorted(state.code_counts.items())),
            "pn_window_provisional": state.pn_window_n > 0,
        }

    @extend_schema(
        parameters=PERIOD_PARAMETERS,
        responses={200: PupilAttendanceOutputSerializer, 400: None},
        summary="A pupil's attendance result: stored, or computed now for a period",
    )
    def get(self, request: Request, pupil_id: int) -> Response:
        req = school_request(request)
        today = timezone.localdate()
        pupil = pupil_visible_get(
            school=req.school, access=req.access, user=req.user, pupil_id=pupil_id, on=today
        )
        period = _period(request, PeriodInputSerializer(data=request.query_params))
        if period is None:
            results = selectors.pupil_attendance_stored(school=req.school, pupil=pupil, on=today)
        else:
            results = selectors.pupil_attendance_computed(
                school=req.school,
                pupil=pupil,
                period_start=period.start,
                period_end=period.end,
                as_of=period.as_of,
            )
        return Response(
            PupilAttendanceOutputSerializer(
                {
                    "pupil": pupil.pk,
                    "mode": "stored" if period is None else "computed",
                    "results": [self._result(r) for r in results],
                }
            ).data
        )


class AttendanceGroupOutputSerializer(serializers.Serializer[Any]):
    key = serializers.CharField(
        help_text="Form or year group id, the pupil field's value, or '' for none"
    )
    name = serializers.CharField(help_text="The form's or year group's name, or the group in words")
    totals = TotalsOutputSerializer()


class AttendanceSummaryOutputSerializer(serializers.Serializer[Any]):
    mode = serializers.ChoiceField(
        choices=MODES, help_text="stored: the last recompute's; computed: from the marks now"
    )
    dfe_comparable = serializers.BooleanField()
    group_by = serializers.ChoiceField(choices=list(selectors.GROUP_BYS))
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    as_of = serializers.DateField(allow_null=True)
    earliest_as_of = serializers.DateField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    total = TotalsOutputSerializer()
    groups = AttendanceGroupOutputSerializer(many=True)


class AttendanceSummaryApi(APIView):
    """The school's attendance in total and by one grouping (§4.1 aggregation)."""

    permission_classes = [HasCapability]
    required_capability = Capability.VIEW_SUMMARIES

    class AttendanceSummaryInputSerializer(PeriodInputSerializer):
        def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
            return {
                **super().get_fields(),
                "group_by": serializers.ChoiceField(
                    choices=list(selectors.GROUP_BYS), default="school"
                ),
                "dfe": serializers.BooleanField(default=False),
            }

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "group_by", str, enum=list(selectors.GROUP_BYS), description="Default: school"
            ),
            OpenApiParameter(
                "dfe",
                bool,
                description="DfE-comparable (§4.2): pupils aged 5 to 15, computed now",
            ),
            *PERIOD_PARAMETERS,
        ],
        responses={200: AttendanceSummaryOutputSerializer, 400: None},
        summary="The school's attendance in total and by group",
    )
    def get(self, request: Request) -> Response:
        school = school_request(request).school
        payload = self.AttendanceSummaryInputSerializer(data=request.query_params)
        period = _period(request, payload)
        group_by = payload.validated_data["group_by"]
        if period is None:
            aggregate = selectors.school_attendance_stored(
                school=school, on=timezone.localdate(), group_by=[group_by]
            )
        else:
            aggregate = selectors.school_attendance_computed(
                school=school,
                period_start=period.start,
                period_end=period.end,
                as_of=period.as_of,
                group_by=[group_by],
                dfe_comparable=payload.validated_data["dfe"],
            )
        breakdown = aggregate.breakdown(group_by)
        groups = [
            {"key": g.key, "name": g.label, "totals": totals_data(g.totals)}
            for g in breakdown.groups
        ]
        return Response(
            AttendanceSummaryOutputSerializer(
                {
                    "mode": aggregate.source,
                    "dfe_comparable": aggregate.dfe_comparable,
                    "group_by": group_by,
                    "period_start": aggregate.period_start,
                    "period_end": aggregate.period_end,
                    "as_of": aggregate.as_of,
                    "earliest_as_of": aggregate.earliest_as_of,
                    "computed_at": aggregate.computed_at,
                    "total": totals_data(aggregate.total),
                    "groups": groups,
                }
            ).data
        )


class AttendanceEventOutputSerializer(serializers.ModelSerializer[AttendanceEvent]):
    # A plain string: the model's choices plus blank would be one more "session" enum.
    session = serializers.CharField(help_text="AM, PM, or empty for a whole-day event")

    class Meta:
        model = AttendanceEvent
        fields = [
            "id",
            "pupil",
            "enrolment",
            "kind",
            "key",
            "occurred_on",
            "session",
            "provisional",
            "detail",
            "created_at",
        ]


class AttendanceEventListApi(mixins.ListModelMixin, GenericAPIView[AttendanceEvent]):
    """The event ledger, newest first, paginated; tutors see their own forms' pupils' only."""

    permission_classes = [HasCapability]
    required_capability = Capability.VIEW_PUPIL_ATTENDANCE
    serializer_class = AttendanceEventOutputSerializer

    class AttendanceEventFilterSerializer(serializers.Serializer[Any]):
        kind = serializers.ChoiceField(choices=EventKind.choices, required=False)
        since = serializers.DateField(required=False)
        pupil = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)

    def get_queryset(self) -> QuerySet[AttendanceEvent]:
        req = school_request(self.request)
        filters = self.AttendanceEventFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        visible = None
        if not can(req.access, Capability.VIEW_ALL_PUPILS):
            visible = pupil_visible_to(
                school=req.school, access=req.access, user=req.user, on=timezone.localdate()
            )
        events = selectors.attendance_events(
            school=req.school, pupil_ids=visible, kind=data.get("kind"), since=data.get("since")
        )
        if "pupil" in data:
            events = events.filter(pupil_id=data["pupil"])
        return events

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=EventKind.values),
            OpenApiParameter("since", dt.date, description="Events on or after this day"),
            OpenApiParameter("pupil", int, description="One pupil's events"),
        ],
        summary="The attendance event ledger, newest first",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)
