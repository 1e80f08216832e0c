"""JSON API for registers and marks: the same selectors and services as the HTML views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registers import selectors
from registers.models import AttendanceMark
from registers.services import marks as services
from registers.services.marks import RegisterEntry
from schools.calendar import SchoolCalendar
from schools.models import FormGroup, Pupil, School
from schools.permissions import Capability, HasCapability
from schools.selectors import pupil_visible_get
from schools.types import school_request


def _form_for(request: Request, form_id: int, on: dt.date) -> FormGroup:
    req = school_request(request)
    return selectors.register_form_get(school=req.school, access=req.access, form_id=form_id, on=on)


class MarkOutputSerializer(serializers.ModelSerializer[AttendanceMark]):
    class Meta:
        model = AttendanceMark
        fields = [
            "pupil",
            "date",
            "session",
            "code",
            "minutes_late",
            "source",
            "recorded_at",
            "version",
        ]


def conflicts_data(
    *, school: School, conflicts: Mapping[int, AttendanceMark | None]
) -> dict[str, Any]:
    """The 409 body for marks changed since they were loaded: each pupil's current mark
    (``None``: deleted or never recorded) and, under ``messages``, the words the register page
    shows (who recorded what, and when). ``attendance_app.api_errors`` answers a
    ``MarkConflictError`` with it too."""
    return {
        "conflicts": {
            pupil_id: (MarkOutputSerializer(mark).data if mark else None)
            for pupil_id, mark in conflicts.items()
        },
        "messages": {
            pupil_id: services.mark_conflict_message(school=school, mark=mark)
            for pupil_id, mark in conflicts.items()
        },
    }


class RegisterEntryInputSerializer(serializers.Serializer[Any]):
    pupil = serializers.IntegerField()
    code = serializers.CharField(max_length=3, allow_blank=True)
    minutes_late = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=1440
    )
    version = serializers.IntegerField(
        min_value=0, default=0, help_text="The mark version you loaded (0: none)"
    )


class RegisterSaveInputSerializer(serializers.Serializer[Any]):
    # DRF passes max_length to the ListSerializer that many=True builds; the stubs lack it.
    marks = RegisterEntryInputSerializer(many=True, allow_empty=False, max_length=200)  # type: ignore[call-arg]


class RegisterSavedSerializer(serializers.Serializer[Any]):
    missing = serializers.IntegerField(help_text="Pupils on roll still without a mark")
    marks = MarkOutputSerializer(many=True)


class RegisterDetailApi(APIView):
    """Read a form's register for one session, or save it whole (one transaction)."""

    permission_classes = [HasCapability]
    required_capability = Capability.TAKE_REGISTER

    class RegisterRowOutputSerializer(serializers.Serializer[Any]):
        pupil = serializers.IntegerField(source="pupil.pk")
        name = serializers.CharField(source="pupil.display_name")
        code = serializers.CharField()
        minutes_late = serializers.IntegerField(
            source="mark.minutes_late", allow_null=True, default=None
        )
        version = serializers.IntegerField()
        notes = serializers.ListField(child=serializers.CharField())

    class RegisterOutputSerializer(serializers.Serializer[Any]):
        form = serializers.CharField()
        date = serializers.DateField()
        session = serializers.CharField()
        phase = serializers.CharField()
        rows = serializers.ListField(child=serializers.DictField())

    def _context(
        self,
        request: Request,
        form: FormGroup,
        day: dt.date,
        session: str,
        calendar: SchoolCalendar,
    ) -> dict[str, Any]:
        school = school_request(request).school
        rows = selectors.register_rows(
            school=school, form=form, date=day, session=session, calendar=calendar
        )
        register = selectors.register_find(school=school, form=form, date=day, session=session)
        phase = selectors.register_phase_now(
            school=school,
            date=day,
            session=session,
            taken=register is not None and register.taken_at is not None,
            now=timezone.now(),
        )
        return {
            "form": form.name,
            "date": day,
            "session": session,
            "phase": phase.value,
            "rows": [self.RegisterRowOutputSerializer(row).data for row in rows],
        }

    @extend_schema(responses=RegisterOutputSerializer, summary="A form's register for one session")
    def get(self, request: Request, form_id: int, date: str, session: str) -> Response:
        day = _parse_date(date)
        form = _form_for(request, form_id, day)
        calendar = selectors.session_calendar_get(
            school=school_request(request).school, date=day, session=session
        )
        return Response(
            self.RegisterOutputSerializer(self._context(request, form, day, session, calendar)).data
        )

    @extend_schema(
        request=RegisterSaveInputSerializer,
        responses={200: RegisterSavedSerializer, 400: None, 409: None},
        summary="Save the register: every mark or none; 409 lists marks changed since loaded",
    )
    def post(self, request: Request, form_id: int, date: str, session: str) -> Response:
        day = _parse_date(date)
        form = _form_for(request, form_id, day)
        calendar = selectors.session_calendar_get(
            school=school_request(request).school, date=day, session=session
        )
        payload = RegisterSaveInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        entries = [
            RegisterEntry(item["pupil"], item["code"], item.get("minutes_late"), item["version"])
            for item in payload.validated_data["marks"]
        ]
        req = school_request(request)
        membership = req.access.membership
        assert membership is not None, "register takers are staff with a membership"
        result = services.register_save(
            school=req.school,
            form=form,
            date=day,
            session=session,
            entries=entries,
            membership=membership,
            calendar=calendar,
        )
        if result.errors:
            return Response({"errors": result.errors}, status=status.HTTP_400_BAD_REQUEST)
        if result.conflicts:
            return Response(
                conflicts_data(school=req.school, conflicts=result.conflicts),
                status=status.HTTP_409_CONFLICT,
            )
        # Built by hand rather than through RegisterSavedSerializer (which documents it): the
        # serializer was a tenth of a register save's time, and this is the hottest endpoint.
        return Response(
            {
                "missing": result.missing,
                "marks": [
                    {
                        "pupil": m.pupil_id,
                        "date": m.date.isoformat(),
                        "session": m.session,
                        "code": m.code,
                        "minutes_late": m.minutes_late,
                        "source": m.source,
                        "recorded_at": m.recorded_at.isoformat(),
                        "version": m.version,
                    }
                    for m in result.written.marks
                ],
            }
        )


class MarkListApi(APIView):
    """A pupil's marks between two dates."""

    permission_classes = [HasCapability]
    required_capability = Capability.VIEW_MARKS

    @extend_schema(
        parameters=[
            OpenApiParameter("from", dt.date, required=True, description="First day, ISO date"),
            OpenApiParameter(
                "to", dt.date, required=True, description="Last day, on or after `from`"
            ),
        ],
        responses=MarkOutputSerializer(many=True),
        summary="A pupil's marks between two dates",
    )
    def get(self, request: Request, pupil_id: int) -> Response:
        pupil = _visible_pupil(request, pupil_id)
        start, end = (
            _parse_date(request.query_params.get("from", "")),
            _parse_date(request.query_params.get("to", "")),
        )
        if end < start:
            raise ValidationError(_("The last day comes before the first."))
        marks = AttendanceMark.objects.filter(
            school=school_request(request).school,
            pupil=pupil,
            date__gte=start,
            date__lte=end,
        ).order_by("date", "session")
        return Response(MarkOutputSerializer(marks, many=True).data)


class MarkAmendApi(APIView):
    """Amend one mark after its register closed: a reason is required (REG-01)."""

    permission_classes = [HasCapability]
    required_capability = Capability.AMEND_MARK

    class MarkAmendInputSerializer(serializers.Serializer[Any]):
        pupil = serializers.IntegerField()
        date = serializers.DateField()
        session = serializers.ChoiceField(choices=["AM", "PM"])
        code = serializers.CharField(max_length=3)
        minutes_late = serializers.IntegerField(
            required=False, allow_null=True, min_value=0, max_value=1440
        )
        # The service's rule, stated in the schema (WEB-08); it is checked there too.
        reason = serializers.CharField(
            min_length=services.REASON_MIN_LENGTH,
            max_length=services.REASON_MAX_LENGTH,
            help_text="Why the mark changes, trimmed: at least 3 characters.",
        )

    @extend_schema(
        request=MarkAmendInputSerializer,
        responses={200: MarkOutputSerializer, 400: None, 409: None},
    )
    def post(self, request: Request) -> Response:
        payload = self.MarkAmendInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        pupil = _visible_pupil(request, data["pupil"])
        req = school_request(request)
        assert req.access.membership is not None, "amending roles are staff with a membership"
        mark = services.mark_amend(
            school=req.school,
            pupil=pupil,
            date=data["date"],
            session=data["session"],
            code=data["code"],
            minutes_late=data.get("minutes_late"),
            reason=data["reason"],
            membership=req.access.membership,
        )
        return Response(MarkOutputSerializer(mark).data)


def _visible_pupil(request: Request, pupil_id: int) -> Pupil:
    req = school_request(request)
    return pupil_visible_get(
        school=req.school,
        access=req.access,
        user=req.user,
        pupil_id=pupil_id,
        on=timezone.localdate(),
    )


def _parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Http404("Not a date") from exc
