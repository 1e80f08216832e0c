"""JSON API for casework (issue 10): the work queues and their items, contact attempts, cases
with their stages and actions, Notices to Improve, penalty-notice requests and the ledger, and
the returns to the LA.

The same capabilities as the pages (``schools.permissions``) and the same services
(``interventions.queues``, ``interventions.casework``): the views parse input, look up the
objects named in the path or body within this school (404 otherwise), call a service and
serialise. Services' ``ValidationError`` becomes a 400 in ``attendance_app.api_errors``.

Objects named in the path are looked up in ``initial()``, after the capability check and
before the method is dispatched, so another school's id is a 404 for every method (a 405 would
tell it exists).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from interventions import casework, penalty_notices, queues
from interventions.models import (
    ActionKind,
    Case,
    CaseAction,
    CaseStage,
    ContactAttempt,
    ContactMethod,
    ContactOutcome,
    LAReturn,
    NoticeToImprove,
    PenaltyNotice,
    PenaltyNoticeRequest,
    PnDecision,
    Queue,
    QueueItem,
    ReferralStatus,
    ReferralTo,
    ReturnKind,
)
from interventions.visibility import visible_cases, visible_pupils
from schools.models import Contact, Pupil, StaffMembership
from schools.permissions import Capability, HasCapability, can
from schools.selectors import pupil_visible_get
from schools.types import SchoolRequest, school_request

NOT_FOUND = "Not found."
MAX_ID = 2**63 - 1


class ErrorOutputSerializer(serializers.Serializer[Any]):
    """The body of a 400 or 404 (``attendance_app.api_errors``). Some field names shadow a
    ``Serializer`` attribute in the stubs only (the metaclass moves declared fields away).
    A request body that fails its input serializer is refused by DRF itself, with the messages
    under each field's name and no ``detail``: so ``detail`` is not required."""

    detail = serializers.CharField(required=False)
    fields = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per input field, when the error names fields",
    )


ERRORS = {400: ErrorOutputSerializer, 404: ErrorOutputSerializer}
NOT_FOUND_ONLY = {404: ErrorOutputSerializer}


def _found(queryset: QuerySet[Any], pk: int) -> Any:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404(NOT_FOUND)
    return found


def _body_object(queryset: QuerySet[Any], pk: int | None, *, field: str) -> Any:
    """An object the request body names in ``field``, within this school and what the view
    allows. Unknown, another school's or another pupil's: a 400 naming the field (security
    TEN-03), the same for each so nothing is revealed. Not a 404: the path's object exists,
    and a client told "not found" would conclude it had gone."""
    if pk is None:
        return None
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: [_("There is no such record here.")]})
    return found


def _id_field(**kwargs: Any) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


def _visible_items(req: SchoolRequest) -> QuerySet[QueueItem]:
    """The queue items this user sees, as on the queues page (a pastoral lead: their year
    groups' only)."""
    return queues.queue_items_visible(school=req.school, access=req.access, user=req.user)


class CaseworkApi(APIView):
    """Base: the capability check, then ``resolve()`` looks up the path's objects (404), then
    the method. ``write_capability`` is needed for POST where the view reads with less."""

    permission_classes = [HasCapability]
    required_capability: Capability
    write_capability: Capability | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        req = school_request(request)
        if (
            request.method not in ("GET", "HEAD", "OPTIONS")
            and self.write_capability is not None
            and not can(req.access, self.write_capability)
        ):
            raise Http404(NOT_FOUND)
        self.resolve(req, **kwargs)

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        """Look up the objects named in the path (override); raise ``Http404`` if missing."""

    @staticmethod
    def membership(req: SchoolRequest) -> StaffMembership:
        # Only school staff write; trust leaders (no membership) have no casework capability.
        if req.access.membership is None:
            raise Http404(NOT_FOUND)
        return req.access.membership


# The action bases below have comments, not docstrings: drf-spectacular describes a view with
# the first docstring in its MRO, and a view without its own keeps the one it had before.


class CaseworkActionApi(CaseworkApi):
    # Base of the POST actions: ``resolve()`` has looked up the path's objects within what this
    # user sees (404), the body is validated with ``input_serializer`` (DRF's 400), ``perform()``
    # calls the service (its ``ValidationError`` is a 400 in ``attendance_app.api_errors``), and
    # ``output()`` of what it returns is answered with ``output_serializer`` and
    # ``success_status``. A subclass that sets ``summary`` gets its POST documented from these
    # attributes (request, the answer under ``success_status``, the 400/404 error bodies).

    input_serializer: type[serializers.Serializer[Any]] | None = None
    output_serializer: type[serializers.BaseSerializer[Any]]
    success_status: int = status.HTTP_200_OK
    summary: str

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "summary" in cls.__dict__:
            extend_schema_view(
                post=extend_schema(
                    request=cls.input_serializer,
                    responses={cls.success_status: cls.output_serializer, **ERRORS},
                    summary=cls.summary,
                )
            )(cls)

    def post(self, request: Request, **kwargs: Any) -> Response:
        req = school_request(request)
        data: dict[str, Any] = {}
        if self.input_serializer is not None:
            payload = self.input_serializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = dict(payload.validated_data)
        result = self.perform(req, data)
        return Response(
            self.output_serializer(self.output(req, result)).data, status=self.success_status
        )

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> Any:
        """Call the service with the validated body; return what is answered."""
        raise NotImplementedError

    def output(self, req: SchoolRequest, result: Any) -> Any:
        """What ``output_serializer`` serialises (default: ``perform()``'s result)."""
        return result


def _person(membership: StaffMembership | None) -> str:
    return "" if membership is None else membership.user.get_full_name()


# --- Queues -------------------------------------------------------------------------------


class QueueCountOutputSerializer(serializers.Serializer[Any]):
    queue = serializers.ChoiceField(choices=Queue.choices)
    label = serializers.CharField()  # type: ignore[assignment]
    count = serializers.IntegerField(help_text="Open items")


class QueueCountsApi(CaseworkApi):
    """The queues with their open items' counts (the page's tabs)."""

    required_capability = Capability.WORK_QUEUES

    @extend_schema(
        responses={200: QueueCountOutputSerializer(many=True)}, summary="The work queues"
    )
    def get(self, request: Request) -> Response:
        req = school_request(request)
        counts = queues.queue_counts(school=req.school, items=_visible_items(req))
        rows = [
            {"queue": value, "label": str(label), "count": counts[value]}
            for value, label in Queue.choices
        ]
        return Response(QueueCountOutputSerializer(rows, many=True).data)


class QueueItemOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(source="pk")
    rank = serializers.IntegerField(
        allow_null=True,
        help_text="Position in the queue's on-screen order, from 1; null in the answer to an "
        "action on one item (claim, snooze, close, decide), which is not a queue listing",
    )
    kind = serializers.CharField(help_text="The item word of export_queue")
    why = serializers.CharField(help_text="Why the item is in the queue, in words")
    pupil = serializers.IntegerField(source="pupil_id", allow_null=True)
    pupil_name = serializers.CharField()
    upn = serializers.CharField()
    form = serializers.IntegerField(source="form_id", allow_null=True)
    session_date = serializers.DateField(allow_null=True)
    session = serializers.CharField()
    since = serializers.DateField()
    due = serializers.DateField(allow_null=True)
    tier = serializers.IntegerField(allow_null=True, help_text="First-day calls: 1 first")
    tier_reason = serializers.CharField()
    days_absent = serializers.IntegerField(allow_null=True)
    alert = serializers.CharField(help_text="'home-visit', 'social-worker' or empty")
    provisional = serializers.BooleanField(help_text="The count includes sessions coded N")
    details = serializers.DictField()
    state = serializers.CharField()
    claimed_by = serializers.CharField(help_text="The claimant's name, or empty")
    snoozed_until = serializers.DateField(allow_null=True)
    snooze_reason = serializers.CharField()
    outcome = serializers.CharField()
    decision = serializers.CharField()


def _item_data(item: QueueItem, rank: int | None = None) -> dict[str, Any]:
    details = item.details or {}
    pupil = item.pupil
    return {
        "pk": item.pk,
        "rank": rank,
        "kind": item.kind,
        "why": str(item.get_kind_display()),
        "pupil_id": item.pupil_id,
        "pupil_name": "" if pupil is None else pupil.display_name,
        "upn": "" if pupil is None else pupil.upn,
        "form_id": item.form_id,
        "session_date": item.session_date,
        "session": item.session,
        "since": item.since,
        "due": item.due,
        "tier": details.get("tier"),
        "tier_reason": str(details.get("tier_reason") or ""),
        "days_absent": details.get("days_absent"),
        "alert": str(details.get("alert") or ""),
        "provisional": item.provisional,
        "details": details,
        "state": item.state,
        "claimed_by": _person(item.claimed_by),
        "snoozed_until": item.snoozed_until,
        "snooze_reason": item.snooze_reason,
        "outcome": item.outcome,
        "decision": item.decision,
    }


class QueueItemListApi(CaseworkApi):
    """One queue's open items in the page's (and export_queue's) order."""

    required_capability = Capability.WORK_QUEUES

    class FilterSerializer(serializers.Serializer[Any]):
        queue = serializers.ChoiceField(choices=Queue.choices, default=Queue.FIRST_DAY)
        snoozed = serializers.BooleanField(default=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("queue", str, enum=Queue.values, description="Default: first-day"),
            OpenApiParameter(
                "snoozed",
                bool,
                description="Also list items snoozed past today (default: only those to work now)",
            ),
        ],
        responses={200: QueueItemOutputSerializer(many=True), 400: ErrorOutputSerializer},
        summary="A queue's open items, ranked",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        req = school_request(request)
        items = queues.queue_items(
            school=req.school,
            queue=filters.validated_data["queue"],
            items=_visible_items(req),
            snoozed=None if filters.validated_data["snoozed"] else False,
        )
        data = [_item_data(item, rank) for rank, item in enumerate(items, start=1)]
        return Response(QueueItemOutputSerializer(data, many=True).data)


class QueueItemApi(CaseworkApi):
    required_capability = Capability.WORK_QUEUES
    item: QueueItem

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        self.item = _found(
            _visible_items(req).select_related("pupil", "claimed_by__user", "source_event"),
            kwargs["item_id"],
        )


class QueueItemActionApi(CaseworkActionApi, QueueItemApi):
    # Base of the actions on one queue item: the answer is the item.

    output_serializer = QueueItemOutputSerializer

    def output(self, req: SchoolRequest, result: QueueItem) -> dict[str, Any]:
        return _item_data(result)


class QueueItemClaimApi(QueueItemActionApi):
    class QueueItemClaimInputSerializer(serializers.Serializer[Any]):
        claimant = _id_field(
            required=False, help_text="A staff membership of this school (default: you)"
        )

    input_serializer = QueueItemClaimInputSerializer
    summary = "Claim a queue item (assign it to a person)"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> QueueItem:
        claimant = _body_object(
            StaffMembership.objects.filter(school=req.school, is_active=True).select_related(
                "user"
            ),
            data.get("claimant"),
            field="claimant",
        )
        return queues.queue_item_claim(
            school=req.school, item=self.item, by=self.membership(req), claimant=claimant
        )


class QueueItemSnoozeApi(QueueItemActionApi):
    class QueueItemSnoozeInputSerializer(serializers.Serializer[Any]):
        until = serializers.DateField()
        reason = serializers.CharField(max_length=300)

    input_serializer = QueueItemSnoozeInputSerializer
    summary = "Snooze a queue item to a later date, with a reason"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> QueueItem:
        return queues.queue_item_snooze(
            school=req.school,
            item=self.item,
            until=data["until"],
            reason=data["reason"],
            by=self.membership(req),
        )


class QueueItemCloseApi(QueueItemActionApi):
    class QueueItemCloseInputSerializer(serializers.Serializer[Any]):
        outcome = serializers.CharField(max_length=40)
        note = serializers.CharField(max_length=500, required=False, default="")

    input_serializer = QueueItemCloseInputSerializer
    summary = "Close a queue item with an outcome"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> QueueItem:
        return queues.queue_item_close(
            school=req.school,
            item=self.item,
            outcome=data["outcome"],
            note=data["note"],
            by=self.membership(req),
        )


class QueueItemDecideApi(QueueItemActionApi):
    class QueueItemDecideInputSerializer(serializers.Serializer[Any]):
        decision = serializers.ChoiceField(choices=PnDecision.choices)
        reason = serializers.CharField(max_length=500, required=False, default="")
        reference = serializers.CharField(max_length=100, required=False, default="")

    input_serializer = QueueItemDecideInputSerializer
    summary = "Record the decision on a penalty-notice threshold met (§5.2)"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> QueueItem:
        return queues.queue_item_decide(
            school=req.school, item=self.item, by=self.membership(req), **data
        )


# --- Contact attempts -----------------------------------------------------------------------


class ContactAttemptOutputSerializer(serializers.ModelSerializer[ContactAttempt]):
    made_by = serializers.SerializerMethodField()
    contact_name = serializers.SerializerMethodField()

    class Meta:
        model = ContactAttempt
        fields = [
            "id",
            "pupil",
            "item",
            "case_id",
            "method",
            "contact",
            "contact_name",
            "outcome",
            "reason_given",
            "note",
            "code_written",
            "made_at",
            "made_by",
        ]

    def get_made_by(self, attempt: ContactAttempt) -> str:
        return _person(attempt.made_by)

    def get_contact_name(self, attempt: ContactAttempt) -> str:
        return "" if attempt.contact is None else attempt.contact.full_name


class ContactAttemptInputSerializer(serializers.Serializer[Any]):
    method = serializers.ChoiceField(choices=ContactMethod.choices)
    outcome = serializers.ChoiceField(choices=ContactOutcome.choices)
    contact = _id_field(required=False, help_text="One of the pupil's contacts")
    reason_given = serializers.CharField(max_length=300, required=False, default="")
    note = serializers.CharField(max_length=1000, required=False, default="")
    code = serializers.CharField(
        max_length=3,
        required=False,
        default="",
        help_text="First-day calls: the reason's code, written through the audited amendment",
    )


def _attempts(req: SchoolRequest) -> QuerySet[ContactAttempt]:
    return ContactAttempt.objects.filter(school=req.school).select_related(
        "made_by__user", "contact"
    )


class ContactAttemptActionApi(CaseworkActionApi):
    # Base of the two contact logs (a queue item's, a case's): a new attempt is logged for
    # ``pupil_item_case()``.

    input_serializer = ContactAttemptInputSerializer
    output_serializer = ContactAttemptOutputSerializer
    success_status = status.HTTP_201_CREATED

    def pupil_item_case(self) -> tuple[Pupil, QueueItem | None, Case | None]:
        raise NotImplementedError

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> ContactAttempt:
        pupil, item, case = self.pupil_item_case()
        contact = _body_object(
            Contact.objects.filter(school=req.school, pupil=pupil),
            data.pop("contact", None),
            field="contact",
        )
        return queues.contact_attempt_record(
            school=req.school,
            pupil=pupil,
            by=self.membership(req),
            item=item,
            case=case,
            contact=contact,
            **data,
        )


class QueueItemContactsApi(ContactAttemptActionApi, QueueItemApi):
    """The contact log of one queue item (a first-day call); a new attempt is logged here."""

    summary = "Log a contact attempt on a queue item"

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        super().resolve(req, **kwargs)
        if self.item.pupil is None:  # a form's item (register not taken) has no contacts
            raise Http404(NOT_FOUND)

    @extend_schema(
        responses={200: ContactAttemptOutputSerializer(many=True), **NOT_FOUND_ONLY},
        summary="A queue item's contact attempts, newest first",
    )
    def get(self, request: Request, item_id: int) -> Response:
        attempts = _attempts(school_request(request)).filter(item=self.item)
        return Response(ContactAttemptOutputSerializer(attempts, many=True).data)

    def pupil_item_case(self) -> tuple[Pupil, QueueItem | None, Case | None]:
        assert self.item.pupil is not None  # resolve() refused the others
        return self.item.pupil, self.item, None


# --- Cases -----------------------------------------------------------------------------------


class StageOutputSerializer(serializers.ModelSerializer[CaseStage]):
    class Meta:
        model = CaseStage
        fields = ["id", "position", "name"]


class CaseOutputSerializer(serializers.ModelSerializer[Case]):
    pupil_name = serializers.CharField(source="pupil.display_name")
    stage = StageOutputSerializer()
    owner = serializers.SerializerMethodField()
    is_open = serializers.BooleanField()

    class Meta:
        model = Case
        fields = [
            "id",
            "pupil",
            "pupil_name",
            "stage",
            "owner",
            "trigger_kind",
            "trigger_event",
            "trigger_note",
            "opened_at",
            "closed_at",
            "outcome",
            "is_open",
        ]

    def get_owner(self, case: Case) -> str:
        return _person(case.owner)


class StageChangeOutputSerializer(serializers.Serializer[Any]):
    from_stage = serializers.CharField(allow_null=True)
    to_stage = serializers.CharField()
    changed_by = serializers.CharField()
    changed_at = serializers.DateTimeField()
    reason = serializers.CharField()


class CaseActionOutputSerializer(serializers.ModelSerializer[CaseAction]):
    owner = serializers.SerializerMethodField()

    class Meta:
        model = CaseAction
        fields = [
            "id",
            "case",
            "kind",
            "summary",
            "owner",
            "due_on",
            "done_on",
            "outcome",
            "referral_to",
            "referral_status",
            "details",
            "created_at",
        ]

    def get_owner(self, action: CaseAction) -> str:
        return _person(action.owner)


class NtiOutputSerializer(serializers.ModelSerializer[NoticeToImprove]):
    ended = serializers.BooleanField(help_text="The improvement period is over")
    period_rate = serializers.DecimalField(
        max_digits=5,
        decimal_places=1,
        allow_null=True,
        help_text="Attendance over the period so far, computed from the marks",
    )
    meets_criteria = serializers.BooleanField(allow_null=True)

    class Meta:
        model = NoticeToImprove
        fields = [
            "id",
            "case",
            *penalty_notices.NTI_FIELDS,
            "issued_on",
            "period_start",
            "school_days",
            "period_end",
            "criteria_rate",
            "outcome_improved",
            "outcome_note",
            "outcome_rate",
            "outcome_recorded_at",
            "ended",
            "period_rate",
            "meets_criteria",
        ]


class PnRequestOutputSerializer(serializers.ModelSerializer[PenaltyNoticeRequest]):
    parent_name = serializers.CharField(source="parent.full_name")
    signed_off_by = serializers.SerializerMethodField()

    class Meta:
        model = PenaltyNoticeRequest
        fields = [
            "id",
            "case",
            "pupil",
            "parent",
            "parent_name",
            "nti",
            "status",
            "prepared_at",
            "signed_off_by",
            "signed_off_at",
            "evidence",
        ]

    def get_signed_off_by(self, request: PenaltyNoticeRequest) -> str:
        return _person(request.signed_off_by)


class CaseDetailOutputSerializer(serializers.Serializer[Any]):
    case = CaseOutputSerializer()
    stage_changes = StageChangeOutputSerializer(many=True)
    actions = CaseActionOutputSerializer(many=True)
    ntis = NtiOutputSerializer(many=True)
    pn_requests = PnRequestOutputSerializer(many=True)


def _review_fields(nti: NoticeToImprove, on: dt.date, school: Any) -> NoticeToImprove:
    review = casework.nti_review(school=school, nti=nti, on=on)
    nti.ended = review.ended  # type: ignore[attr-defined]
    nti.period_rate = review.rate  # type: ignore[attr-defined]
    nti.meets_criteria = review.meets_criteria  # type: ignore[attr-defined]
    return nti


class CaseListApi(CaseworkActionApi):
    """Open cases (caseworkers: ``?closed=1`` for closed ones); caseworkers open one here."""

    required_capability = Capability.VIEW_CASES
    write_capability = Capability.WORK_CASES

    class CaseListInputSerializer(serializers.Serializer[Any]):
        pupil = _id_field()
        reason = serializers.CharField(max_length=500)
        stage = _id_field(required=False, help_text="Default: the school's first stage")

    @extend_schema(
        parameters=[OpenApiParameter("closed", bool, description="Closed cases instead")],
        responses={200: CaseOutputSerializer(many=True)},
        summary="Cases, by stage",
    )
    def get(self, request: Request) -> Response:
        req = school_request(request)
        closed = request.query_params.get("closed") in ("1", "true") and can(
            req.access, Capability.WORK_CASES
        )
        cases = (
            visible_cases(req)
            .filter(closed_at__isnull=not closed)
            .order_by("stage__position", "pupil__legal_surname", "pk")
        )
        return Response(CaseOutputSerializer(cases, many=True).data)

    input_serializer = CaseListInputSerializer
    output_serializer = CaseOutputSerializer
    success_status = status.HTTP_201_CREATED
    summary = "Open a case for a pupil (or advance their open case)"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> Case:
        pupil = pupil_visible_get(
            school=req.school,
            access=req.access,
            user=req.user,
            pupil_id=data["pupil"],
            on=timezone.localdate(),
        )
        stage = _body_object(
            CaseStage.objects.filter(school=req.school), data.get("stage"), field="stage"
        )
        case = casework.case_open_or_advance(
            school=req.school,
            pupil=pupil,
            by=self.membership(req),
            reason=data["reason"],
            stage=stage,
        )
        return visible_cases(req).get(pk=case.pk)


class CaseApi(CaseworkApi):
    """Base of the views under ``cases/<case_id>/``: the case within what this user sees."""

    required_capability = Capability.WORK_CASES
    case: Case

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        self.case = _found(visible_cases(req), kwargs["case_id"])


class CaseChangeApi(CaseworkActionApi, CaseApi):
    # Base of the actions on the case itself: the answer is the case, read again.

    output_serializer = CaseOutputSerializer

    def output(self, req: SchoolRequest, result: Any) -> Case:
        return visible_cases(req).get(pk=self.case.pk)


class CaseDetailApi(CaseApi):
    """One case with its stage history, actions, NTIs (with their review) and PN requests."""

    required_capability = Capability.VIEW_CASES

    @extend_schema(
        responses={200: CaseDetailOutputSerializer, **NOT_FOUND_ONLY}, summary="One case"
    )
    def get(self, request: Request, case_id: int) -> Response:
        req = school_request(request)
        case, today = self.case, timezone.localdate()
        changes = case.stage_changes.select_related("from_stage", "to_stage", "changed_by__user")
        body = {
            "case": case,
            "stage_changes": [
                {
                    "from_stage": None if c.from_stage is None else c.from_stage.name,
                    "to_stage": c.to_stage.name,
                    "changed_by": _person(c.changed_by),
                    "changed_at": c.changed_at,
                    "reason": c.reason,
                }
                for c in changes
            ],
            "actions": case.actions.select_related("owner__user").order_by("due_on", "pk"),
            "ntis": [
                _review_fields(nti, today, req.school)
                for nti in case.ntis.select_related("case__pupil").order_by("issued_on", "pk")
            ],
            "pn_requests": case.pn_requests.select_related("parent", "signed_off_by__user"),
        }
        return Response(CaseDetailOutputSerializer(body).data)


class CaseStageApi(CaseChangeApi):
    class CaseStageInputSerializer(serializers.Serializer[Any]):
        stage = _id_field(required=False, help_text="Default: the next stage")
        reason = serializers.CharField(max_length=500)

    input_serializer = CaseStageInputSerializer
    summary = "Move a case to another stage (recorded with who, when and why)"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> None:
        if not self.case.is_open:
            raise Http404(NOT_FOUND)  # a closed case's stage is history
        stage = _body_object(
            CaseStage.objects.filter(school=req.school), data.get("stage"), field="stage"
        )
        casework.case_open_or_advance(
            school=req.school,
            pupil=self.case.pupil,
            by=self.membership(req),
            stage=stage,
            reason=data["reason"],
        )


class CaseCloseApi(CaseChangeApi):
    class CaseCloseInputSerializer(serializers.Serializer[Any]):
        outcome = serializers.CharField(max_length=500)

    input_serializer = CaseCloseInputSerializer
    summary = "Close a case with its outcome"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> None:
        casework.case_close(
            school=req.school, case=self.case, by=self.membership(req), outcome=data["outcome"]
        )


class CaseActionsApi(CaseworkActionApi, CaseApi):
    """A case's actions; caseworkers add one (call, meeting, plan, referral, …)."""

    required_capability = Capability.VIEW_CASES
    write_capability = Capability.WORK_CASES

    class CaseActionsInputSerializer(serializers.Serializer[Any]):
        kind = serializers.ChoiceField(choices=ActionKind.choices)
        summary = serializers.CharField(max_length=300)
        due_on = serializers.DateField()
        owner = _id_field(required=False, help_text="A staff membership (default: you)")
        referral_to = serializers.ChoiceField(
            choices=ReferralTo.choices, required=False, default=""
        )
        details = serializers.DictField(
            required=False,
            default=dict,
            help_text="A meeting's attendees, barriers, agreed; a plan's targets, review_on",
        )

    @extend_schema(
        responses={200: CaseActionOutputSerializer(many=True), **NOT_FOUND_ONLY},
        summary="A case's actions",
    )
    def get(self, request: Request, case_id: int) -> Response:
        actions = self.case.actions.select_related("owner__user").order_by("due_on", "pk")
        return Response(CaseActionOutputSerializer(actions, many=True).data)

    input_serializer = CaseActionsInputSerializer
    output_serializer = CaseActionOutputSerializer
    success_status = status.HTTP_201_CREATED
    summary = "Add an action to a case"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> CaseAction:
        owner = _body_object(
            StaffMembership.objects.filter(school=req.school, is_active=True),
            data.pop("owner", None),
            field="owner",
        )
        return casework.case_action_add(
            school=req.school, case=self.case, by=self.membership(req), owner=owner, **data
        )


class CaseActionApi(CaseApi):
    """One action of a case; caseworkers change its summary, due date, owner or referral
    status (``done/`` records it done)."""

    required_capability = Capability.VIEW_CASES
    write_capability = Capability.WORK_CASES
    action: CaseAction

    class CaseActionInputSerializer(serializers.Serializer[Any]):
        summary = serializers.CharField(max_length=300, required=False)
        due_on = serializers.DateField(required=False)
        owner = _id_field(required=False, help_text="A staff membership of this school")
        referral_status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        super().resolve(req, **kwargs)
        self.action = _found(
            CaseAction.objects.filter(school=req.school, case=self.case).select_related(
                "owner__user", "case"
            ),
            kwargs["action_id"],
        )

    @extend_schema(
        responses={200: CaseActionOutputSerializer, **NOT_FOUND_ONLY}, summary="One action"
    )
    def get(self, request: Request, case_id: int, action_id: int) -> Response:
        return Response(CaseActionOutputSerializer(self.action).data)

    @extend_schema(
        request=CaseActionInputSerializer,
        responses={200: CaseActionOutputSerializer, **ERRORS},
        summary="Change an action (summary, due date, owner, referral status)",
    )
    def patch(self, request: Request, case_id: int, action_id: int) -> Response:
        req = school_request(request)
        payload = self.CaseActionInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        owner = _body_object(
            StaffMembership.objects.filter(school=req.school, is_active=True),
            data.pop("owner", None),
            field="owner",
        )
        action = casework.case_action_update(
            school=req.school, action=self.action, by=self.membership(req), owner=owner, **data
        )
        return Response(CaseActionOutputSerializer(action).data)


class CaseActionDoneApi(CaseworkActionApi, CaseApi):
    action: CaseAction

    class CaseActionDoneInputSerializer(serializers.Serializer[Any]):
        done_on = serializers.DateField()
        outcome = serializers.CharField()
        referral_status = serializers.ChoiceField(
            choices=ReferralStatus.choices, required=False, default=""
        )
        details = serializers.DictField(required=False, default=dict)

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        super().resolve(req, **kwargs)
        self.action = _found(
            CaseAction.objects.filter(school=req.school, case=self.case).select_related(
                "owner__user"
            ),
            kwargs["action_id"],
        )

    input_serializer = CaseActionDoneInputSerializer
    output_serializer = CaseActionOutputSerializer
    summary = "Record an action as done, with its outcome (a referral: its status)"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> CaseAction:
        return casework.case_action_complete(
            school=req.school, action=self.action, by=self.membership(req), **data
        )


class CaseContactsApi(ContactAttemptActionApi, CaseApi):
    """The contact log of a case; a new attempt is logged here."""

    required_capability = Capability.VIEW_CASES
    write_capability = Capability.WORK_QUEUES  # contact_attempt_record's own capability
    summary = "Log a contact attempt on a case"

    @extend_schema(
        responses={200: ContactAttemptOutputSerializer(many=True), **NOT_FOUND_ONLY},
        summary="A case's contact attempts, newest first",
    )
    def get(self, request: Request, case_id: int) -> Response:
        attempts = _attempts(school_request(request)).filter(case_id=self.case.pk)
        return Response(ContactAttemptOutputSerializer(attempts, many=True).data)

    def pupil_item_case(self) -> tuple[Pupil, QueueItem | None, Case | None]:
        return self.case.pupil, None, self.case


# --- Notices to Improve ---------------------------------------------------------------------


class CaseNtisApi(CaseworkActionApi, CaseApi):
    """A case's Notices to Improve with the attendance over their period; issue one here."""

    required_capability = Capability.VIEW_CASES
    write_capability = Capability.WORK_CASES

    class CaseNtisInputSerializer(serializers.Serializer[Any]):
        def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
            return {
                **{name: serializers.CharField() for name in penalty_notices.NTI_FIELDS},
                "period_start": serializers.DateField(),
                "school_days": serializers.IntegerField(help_text="15 to 30 school days"),
                "criteria_rate": serializers.DecimalField(
                    max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100)
                ),
                "issued_on": serializers.DateField(required=False),
            }

    @extend_schema(
        responses={200: NtiOutputSerializer(many=True), **NOT_FOUND_ONLY},
        summary="A case's Notices to Improve",
    )
    def get(self, request: Request, case_id: int) -> Response:
        req, today = school_request(request), timezone.localdate()
        ntis = [
            _review_fields(nti, today, req.school)
            for nti in self.case.ntis.select_related("case__pupil").order_by("issued_on", "pk")
        ]
        return Response(NtiOutputSerializer(ntis, many=True).data)

    input_serializer = CaseNtisInputSerializer
    output_serializer = NtiOutputSerializer
    success_status = status.HTTP_201_CREATED
    summary = "Issue a Notice to Improve (§5.3)"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> NoticeToImprove:
        nti = casework.nti_issue(
            school=req.school,
            case=self.case,
            by=self.membership(req),
            contents={name: data[name] for name in penalty_notices.NTI_FIELDS},
            period_start=data["period_start"],
            school_days=data["school_days"],
            criteria_rate=data["criteria_rate"],
            issued_on=data.get("issued_on"),
        )
        return _review_fields(nti, timezone.localdate(), req.school)


class NtiOutcomeApi(CaseworkActionApi):
    required_capability = Capability.WORK_CASES
    nti: NoticeToImprove

    class NtiOutcomeInputSerializer(serializers.Serializer[Any]):
        improved = serializers.BooleanField()
        note = serializers.CharField(required=False, default="")

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        self.nti = _found(
            NoticeToImprove.objects.filter(
                school=req.school, case__in=visible_cases(req).values("pk")
            ).select_related("case__pupil"),
            kwargs["nti_id"],
        )

    input_serializer = NtiOutcomeInputSerializer
    output_serializer = NtiOutputSerializer
    summary = "Record a Notice to Improve's outcome after its period"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> NoticeToImprove:
        today = timezone.localdate()
        nti = casework.nti_outcome_record(
            school=req.school,
            nti=self.nti,
            by=self.membership(req),
            improved=data["improved"],
            note=data["note"],
            on=today,
        )
        return _review_fields(nti, today, req.school)


# --- Penalty notices ------------------------------------------------------------------------


class CasePnRequestsApi(CaseworkActionApi, CaseApi):
    """A case's penalty-notice requests; prepare one per liable parent here."""

    required_capability = Capability.VIEW_CASES
    write_capability = Capability.WORK_CASES

    class CasePnRequestsInputSerializer(serializers.Serializer[Any]):
        parent = _id_field(help_text="A contact of the pupil with parental responsibility")  # type: ignore[assignment]
        nti = _id_field(required=False, help_text="The case's NTI the request follows")

    @extend_schema(
        responses={200: PnRequestOutputSerializer(many=True), **NOT_FOUND_ONLY},
        summary="A case's penalty-notice requests",
    )
    def get(self, request: Request, case_id: int) -> Response:
        requests = self.case.pn_requests.select_related("parent", "signed_off_by__user")
        return Response(PnRequestOutputSerializer(requests, many=True).data)

    input_serializer = CasePnRequestsInputSerializer
    output_serializer = PnRequestOutputSerializer
    success_status = status.HTTP_201_CREATED
    summary = "Prepare a penalty-notice request to one liable parent"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> PenaltyNoticeRequest:
        parent = _found(
            Contact.objects.filter(school=req.school, pupil=self.case.pupil), data["parent"]
        )
        nti = _body_object(
            NoticeToImprove.objects.filter(school=req.school, case=self.case),
            data.get("nti"),
            field="nti",
        )
        return casework.penalty_notice_request_prepare(
            school=req.school, case=self.case, parent=parent, by=self.membership(req), nti=nti
        )


class PnRequestSignOffApi(CaseworkActionApi):
    """The headteacher's sign-off of a prepared request."""

    required_capability = Capability.SIGN_OFF_PENALTY_NOTICE
    pn_request: PenaltyNoticeRequest

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        self.pn_request = _found(
            PenaltyNoticeRequest.objects.filter(
                school=req.school, case__in=visible_cases(req).values("pk")
            ).select_related("parent"),
            kwargs["request_id"],
        )

    output_serializer = PnRequestOutputSerializer
    summary = "Sign off a penalty-notice request (headteacher)"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> PenaltyNoticeRequest:
        return casework.penalty_notice_request_sign_off(
            school=req.school, request=self.pn_request, by=self.membership(req)
        )


class LedgerRowOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    sequence = serializers.IntegerField()
    status = serializers.CharField()
    issued_on = serializers.DateField(allow_null=True)
    received_on = serializers.DateField(allow_null=True)
    paid_on = serializers.DateField(allow_null=True)
    prosecution_outcome = serializers.CharField()
    counts = serializers.BooleanField(help_text="Counts towards the limit within 3 years")
    reduced_amount = serializers.IntegerField(allow_null=True, help_text="Pence")
    reduced_due_by = serializers.DateField(allow_null=True)
    full_amount = serializers.IntegerField(allow_null=True, help_text="Pence")
    full_due_by = serializers.DateField(allow_null=True)
    amount_paid_due = serializers.IntegerField(
        allow_null=True, help_text="What the recorded payment had to be, pence"
    )


class NextNoticeOutputSerializer(serializers.Serializer[Any]):
    verdict = serializers.CharField()
    sequence = serializers.IntegerField()
    reason = serializers.CharField()
    proposal = serializers.CharField(allow_null=True)
    bar_lifts_on = serializers.DateField(allow_null=True)
    reduced_amount = serializers.IntegerField(allow_null=True)
    full_amount = serializers.IntegerField(allow_null=True)


class ParentLedgerOutputSerializer(serializers.Serializer[Any]):
    parent = serializers.IntegerField()  # type: ignore[assignment]
    parent_name = serializers.CharField()
    notices = LedgerRowOutputSerializer(many=True)
    next_notice = NextNoticeOutputSerializer()


def _ledger_row(row: casework.LedgerRow) -> dict[str, Any]:
    notice, terms = row.notice, row.terms
    return {
        "id": notice.pk,
        "sequence": notice.sequence,
        "status": notice.status,
        "issued_on": notice.issued_on,
        "received_on": notice.received_on,
        "paid_on": notice.paid_on,
        "prosecution_outcome": notice.prosecution_outcome,
        "counts": row.counts,
        "reduced_amount": None if terms is None else terms.reduced_amount,
        "reduced_due_by": None if terms is None else terms.reduced_due_by,
        "full_amount": None if terms is None else terms.full_amount,
        "full_due_by": None if terms is None else terms.full_due_by,
        "amount_paid_due": row.amount_paid_due,
    }


class PupilPenaltyNoticesApi(CaseworkApi):
    """The ledger per liable parent of one pupil (§5.4, TC-15/18), amounts from the rules."""

    required_capability = Capability.WORK_CASES
    pupil: Pupil

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        self.pupil = pupil_visible_get(
            school=req.school,
            access=req.access,
            user=req.user,
            pupil_id=kwargs["pupil_id"],
            on=timezone.localdate(),
        )

    @extend_schema(
        responses={200: ParentLedgerOutputSerializer(many=True), **NOT_FOUND_ONLY},
        summary="A pupil's penalty-notice ledger per liable parent",
    )
    def get(self, request: Request, pupil_id: int) -> Response:
        school, today = school_request(request).school, timezone.localdate()
        body = []
        for parent in casework.liable_parents(school=school, pupil=self.pupil):
            decision = casework.penalty_notice_decision(
                school=school, pupil=self.pupil, parent=parent, on=today
            )
            rows = casework.penalty_notice_ledger(school=school, pupil=self.pupil, parent=parent)
            body.append(
                {
                    "parent": parent.pk,
                    "parent_name": parent.full_name,
                    "notices": [_ledger_row(row) for row in rows],
                    "next_notice": {
                        "verdict": decision.verdict.value,
                        "sequence": decision.sequence,
                        "reason": decision.reason,
                        "proposal": decision.proposal,
                        "bar_lifts_on": decision.bar_lifts_on,
                        "reduced_amount": decision.reduced_amount,
                        "full_amount": decision.full_amount,
                    },
                }
            )
        return Response(ParentLedgerOutputSerializer(body, many=True).data)


class PenaltyNoticeStatusApi(CaseworkActionApi):
    """Move a ledger row on (issued, received, paid, unpaid, prosecuted, withdrawn)."""

    required_capability = Capability.WORK_CASES
    notice: PenaltyNotice

    class PenaltyNoticeStatusInputSerializer(serializers.Serializer[Any]):
        status = serializers.ChoiceField(choices=[s.value for s in penalty_notices.NoticeStatus])
        issued_on = serializers.DateField(required=False, allow_null=True, default=None)
        received_on = serializers.DateField(required=False, allow_null=True, default=None)
        paid_on = serializers.DateField(required=False, allow_null=True, default=None)
        prosecution_outcome = serializers.ChoiceField(
            choices=[s.value for s in penalty_notices.ProsecutionOutcome],
            required=False,
            default="",
        )
        note = serializers.CharField(max_length=300, required=False, default="")

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        visible = visible_pupils(req)
        self.notice = _found(
            PenaltyNotice.objects.filter(
                school=req.school, pupil__in=visible.values("pk")
            ).select_related("request"),
            kwargs["notice_id"],
        )

    input_serializer = PenaltyNoticeStatusInputSerializer
    output_serializer = LedgerRowOutputSerializer
    summary = "Record what became of a penalty notice"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> dict[str, Any]:
        notice = casework.penalty_notice_update(
            school=req.school, notice=self.notice, by=self.membership(req), **data
        )
        parent = Contact.objects.get(school=req.school, pk=notice.parent_id)
        rows = casework.penalty_notice_ledger(school=req.school, pupil=parent.pupil, parent=parent)
        (row,) = [r for r in rows if r.notice.pk == notice.pk]
        return _ledger_row(row)


# --- Returns to the LA ----------------------------------------------------------------------


class LAReturnOutputSerializer(serializers.ModelSerializer[LAReturn]):
    pupil_name = serializers.CharField(source="pupil.display_name")
    sent_by = serializers.SerializerMethodField()

    class Meta:
        model = LAReturn
        fields = [
            "id",
            "pupil",
            "pupil_name",
            "kind",
            "episode",
            "triggered_on",
            "due_on",
            "snapshot",
            "raised_at",
            "sent_at",
            "sent_how",
            "sent_by",
            "joint_enquiries",
            "joint_enquiries_recorded_at",
        ]

    def get_sent_by(self, la_return: LAReturn) -> str:
        return _person(la_return.sent_by)


def _returns(req: SchoolRequest) -> QuerySet[LAReturn]:
    """The returns of the pupils this user sees (a pastoral lead: their year groups')."""
    return LAReturn.objects.filter(
        school=req.school, pupil__in=visible_pupils(req).values("pk")
    ).select_related("pupil", "sent_by__user")


class LAReturnListApi(CaseworkApi):
    """The returns to the LA, due first."""

    required_capability = Capability.WORK_CASES

    class FilterSerializer(serializers.Serializer[Any]):
        kind = serializers.ChoiceField(choices=ReturnKind.choices, required=False)
        sent = serializers.BooleanField(required=False, allow_null=True, default=None)

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=ReturnKind.values),
            OpenApiParameter("sent", bool, description="Only sent (true) or unsent (false)"),
        ],
        responses={200: LAReturnOutputSerializer(many=True), 400: ErrorOutputSerializer},
        summary="Returns to the local authority",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        returns = _returns(school_request(request))
        if "kind" in filters.validated_data:
            returns = returns.filter(kind=filters.validated_data["kind"])
        if filters.validated_data["sent"] is not None:
            returns = returns.filter(sent_at__isnull=not filters.validated_data["sent"])
        return Response(LAReturnOutputSerializer(returns, many=True).data)


class LAReturnApi(CaseworkActionApi):
    """Base for one return named in the path."""

    required_capability = Capability.WORK_CASES
    output_serializer = LAReturnOutputSerializer
    la_return: LAReturn

    def resolve(self, req: SchoolRequest, **kwargs: Any) -> None:
        self.la_return = _found(_returns(req), kwargs["return_id"])

    def output(self, req: SchoolRequest, result: Any) -> LAReturn:
        return _returns(req).get(pk=self.la_return.pk)


class LAReturnSentApi(LAReturnApi):
    class LAReturnSentInputSerializer(serializers.Serializer[Any]):
        how = serializers.CharField(max_length=200, help_text="How it was sent (e.g. LA portal)")

    input_serializer = LAReturnSentInputSerializer
    summary = "Record a return as sent to the LA"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> None:
        casework.la_return_mark_sent(
            school=req.school, la_return=self.la_return, by=self.membership(req), how=data["how"]
        )


class LAReturnEnquiriesApi(LAReturnApi):
    class LAReturnEnquiriesInputSerializer(serializers.Serializer[Any]):
        enquiries = serializers.CharField(
            max_length=5000,
            help_text="The joint reasonable enquiries made with the LA (a ground (i) enquiry)",
        )

    input_serializer = LAReturnEnquiriesInputSerializer
    summary = "Record a ground (i) enquiry's joint enquiries with the LA"

    def perform(self, req: SchoolRequest, data: dict[str, Any]) -> None:
        casework.la_return_joint_enquiries_record(
            school=req.school,
            la_return=self.la_return,
            by=self.membership(req),
            enquiries=data["enquiries"],
        )
