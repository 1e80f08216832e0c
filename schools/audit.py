"""Who saw or exported which pupil's records, and the security events (security GDPR-06,
LOG-01, LOG-03, LOG-04).

``audit_record`` is the one writer. ``AuditMiddleware`` records, for signed-in users, every
pupil record served (a URL with ``pupil_id``), every download (CSV, PDF, zip) and every refusal
(403/404) under a school or the API; Django's and django-axes' sign-in signals record logins,
failures, sign-outs and lockouts. Text that came from a request (a typed username, a path) is
neutralised: control characters, CR and LF among them, are written as escapes, so no value can
forge a second line in an exported trail (LOG-03). Passwords and submitted values are never
recorded.

Each event is also written as one JSON line to the ``attendance.audit`` logger, which ships it
off the host (LOG-02; ``attendance_app/log_shipping.py``, ``AUDIT_SYSLOG_ADDRESS``). The line
carries ids, not names or emails (the account's id, never the email or a typed username), so a
collector holds no personal data beyond them and the address. Shipping never fails the
request: the row in the database is the record, the line its tamper-evident copy."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from attendance_app.log_shipping import AUDIT_LOGGER
from schools.audit_models import AuditAction, AuditEvent
from schools.models import School

shipping_logger = logging.getLogger(AUDIT_LOGGER)
logger = logging.getLogger(__name__)

CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
DOWNLOAD_TYPES = ("text/csv", "application/pdf", "application/zip")
# URL keyword → what the event is about. ``pupil_id`` is the one "who looked at this pupil"
# reads; the others name the record served so the trail still says what it was.
TARGET_KWARGS = (
    ("pupil_id", "pupil"),
    ("letter_id", "letter"),
    ("case_id", "case"),
    ("report_id", "absence_report"),
    ("leave_id", "leave_request"),
    ("batch_id", "letter_batch"),
    ("form_id", "form"),
)
AUDITED_PREFIXES = ("/s/", "/api/", "/t/")


def neutralise(value: object, limit: int) -> str:
    """``value`` as one line of at most ``limit`` characters (LOG-03)."""
    text = CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))
    return text[:limit]


def _client_ip(request: HttpRequest | None) -> str:
    # REMOTE_ADDR, as the rate limits use: a forwarded header is the client's own claim.
    return "" if request is None else str(request.META.get("REMOTE_ADDR", ""))[:45]


def audit_record(
    *,
    action: AuditAction,
    request: HttpRequest | None = None,
    user: Any = None,
    actor_label: str = "",
    school: School | None = None,
    target_type: str = "",
    target_id: int | None = None,
    outcome: str = "",
    path: str = "",
) -> AuditEvent:
    if user is None and request is not None and request.user.is_authenticated:
        user = request.user
    if school is None and request is not None:
        school = getattr(request, "school", None)
    event = AuditEvent.objects.create(
        at=timezone.now(),
        school=school,
        actor=user if user is not None and user.is_authenticated else None,
        actor_label=neutralise(actor_label or getattr(user, "email", "") or "", 254),
        ip=_client_ip(request),
        request_id=getattr(request, "audit_request_id", "") if request is not None else "",
        action=action,
        target_type=target_type,
        target_id=target_id,
        path=neutralise(path or (request.path if request is not None else ""), 300),
        outcome=neutralise(outcome, 16),
    )
    audit_ship(event)
    return event


def audit_line(event: AuditEvent) -> str:
    """The event as the one JSON line shipped off-host (LOG-02): UTC time, actor, tenant, IP,
    request id, action, target and outcome, by id. ``json.dumps`` escapes any control
    character left, so a line can never split (LOG-03)."""
    target = {"type": event.target_type, "id": event.target_id} if event.target_type else None
    return json.dumps(
        {
            "time": event.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "event_id": event.pk,
            "actor": event.actor_id,
            "tenant": event.school_id,
            "ip": event.ip,
            "request_id": event.request_id,
            "action": event.action,
            "target": target,
            "outcome": event.outcome,
            "path": event.path,
        },
        ensure_ascii=True,
        separators=(",", ":"),
    )


def audit_ship(event: AuditEvent) -> None:
    """Log-and-continue: a failure here (a collector down is already absorbed by the
    handler) is reported on the application log and the request goes on."""
    try:
        shipping_logger.info(audit_line(event))
    except Exception:
        logger.exception("Audit event %s was not shipped off-host", event.pk)


def _target(kwargs: dict[str, Any]) -> tuple[str, int | None]:
    for name, kind in TARGET_KWARGS:
        value = kwargs.get(name)
        if isinstance(value, int):
            # An id no row can have (the URL accepts any digits) is recorded without it.
            return kind, value if 0 < value < 2**63 else None
    return "", None


def _url_kwargs(request: HttpRequest) -> dict[str, Any]:
    # A request refused before its view ran (the tenant middleware's 404) has no match yet.
    if request.resolver_match is not None:
        return dict(request.resolver_match.kwargs)
    try:
        return dict(resolve(request.path_info).kwargs)
    except Resolver404:
        return {}


def _action_for(response: HttpResponse, kwargs: dict[str, Any]) -> AuditAction | None:
    if response.status_code in (403, 404):
        return AuditAction.DENIED
    if response.status_code != 200:
        return None
    if response.get("Content-Type", "").split(";")[0] in DOWNLOAD_TYPES:
        return AuditAction.EXPORT
    if "pupil_id" in kwargs:
        return AuditAction.VIEW
    return None


class AuditMiddleware:
    """Records reads of pupil records, downloads and refusals for signed-in users."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.audit_request_id = uuid.uuid4().hex  # type: ignore[attr-defined]
        response = self.get_response(request)
        if not request.user.is_authenticated or not request.path.startswith(AUDITED_PREFIXES):
            return response
        kwargs = _url_kwargs(request)
        action = _action_for(response, kwargs)
        if action is not None:
            target_type, target_id = _target(kwargs)
            audit_record(
                action=action,
                request=request,
                target_type=target_type,
                target_id=target_id,
                outcome=str(response.status_code),
            )
        return response


# --- Sign-in events (LOG-01) ----------------------------------------------------------------


def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    audit_record(action=AuditAction.LOGIN, request=request, user=user, outcome="ok")


def _on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, request=request, user=user, outcome="ok")


def _on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    # Django passes the credentials with the password already masked; only the username is
    # kept, neutralised. The same record whether or not the account exists.
    typed = credentials.get("username", "")
    audit_record(
        action=AuditAction.LOGIN_FAILED,
        request=request,
        user=None,
        actor_label=str(typed),
        school=None,
        outcome="failed",
    )


def _on_lockout(sender: Any, request: HttpRequest, username: str, **kwargs: Any) -> None:
    audit_record(
        action=AuditAction.LOCKOUT,
        request=request,
        user=None,
        actor_label=username or "",
        school=None,
        outcome="locked",
    )


def audit_signals_connect() -> None:
    from axes.signals import user_locked_out

    user_logged_in.connect(_on_login, dispatch_uid="audit_login")
    user_logged_out.connect(_on_logout, dispatch_uid="audit_logout")
    user_login_failed.connect(_on_login_failed, dispatch_uid="audit_login_failed")
    user_locked_out.connect(_on_lockout, dispatch_uid="audit_lockout")


# --- Reading the trail (GDPR-06, LOG-04) ----------------------------------------------------


def audit_events(
    *, school: School, since: dt.datetime, pupil_id: int | None = None
) -> QuerySet[AuditEvent]:
    """The school's trail since ``since``, newest first; with ``pupil_id``, only the events
    about that pupil's record (who looked at this pupil)."""
    events = AuditEvent.objects.filter(school=school, at__gte=since)
    if pupil_id is not None:
        events = events.filter(target_type="pupil", target_id=pupil_id)
    return events.select_related("actor").order_by("-at", "-pk")
