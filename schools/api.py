"""JSON API for the roll: pupils this user may see (TEN-02: never another school's)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from schools.models import Pupil
from schools.permissions import Capability, HasCapability
from schools.selectors import pupil_visible_to
from schools.types import school_request


class PupilOutputSerializer(serializers.ModelSerializer[Pupil]):
    class Meta:
        model = Pupil
        fields = [
            "id",
            "upn",
            "legal_forename",
            "legal_surname",
            "preferred_forename",
            "preferred_surname",
            "date_of_birth",
            "gender",
        ]


class _VisiblePupilsApi(GenericAPIView[Pupil]):
    permission_classes = [HasCapability]
    required_capability = Capability.VIEW_PUPILS
    serializer_class = PupilOutputSerializer

    def get_queryset(self) -> QuerySet[Pupil]:
        request = school_request(self.request)
        return pupil_visible_to(
            school=request.school, access=request.access, user=request.user, on=timezone.localdate()
        ).order_by("legal_surname", "legal_forename", "pk")


class PupilListApi(mixins.ListModelMixin, _VisiblePupilsApi):
    @extend_schema(summary="Pupils this user may see at the school")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


class PupilDetailApi(_VisiblePupilsApi):
    @extend_schema(summary="One pupil")
    def get(self, request: Request, pupil_id: int) -> Response:
        pupil = self.get_queryset().filter(pk=pupil_id).first()
        if pupil is None:
            raise Http404("Pupil not found")
        return Response(self.get_serializer(pupil).data)
