"""The access and security trail (security GDPR-06, LOG-01 to LOG-04)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import threading
from logging.handlers import SysLogHandler
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from attendance_app.log_shipping import (
    AUDIT_LOGGER,
    SYSLOG_IDENT,
    AuditSyslogHandler,
    audit_handler,
    parse_syslog_address,
)
from schools.audit import audit_events, audit_record
from schools.audit_models import AuditAction, AuditEvent
from schools.models import Role

pytestmark = pytest.mark.django_db


def pupil_url(ws, pupil) -> str:
    return reverse(
        "schools:pupil-detail", kwargs={"school_slug": ws.school.slug, "pupil_id": pupil.pk}
    )


def test_who_looked_at_a_pupil_returns_exactly_those_reads(world, client_for):
    a1 = world.a1
    pupil, other = a1.pupils[0], a1.pupils[1]
    readers = [
        a1.users[Role.ATTENDANCE_OFFICER],
        a1.users[Role.HEADTEACHER],
        a1.users[Role.PASTORAL_LEAD],
    ]
    for user in readers:
        assert client_for(user).get(pupil_url(a1, pupil)).status_code == 200
    client_for(a1.users[Role.HEADTEACHER]).get(pupil_url(a1, other))
    client_for(world.b1.users[Role.HEADTEACHER]).get(pupil_url(a1, pupil))  # 404: another school

    with scopes_disabled():
        from django.utils import timezone

        events = list(
            audit_events(
                school=a1.school, since=timezone.now() - dt.timedelta(days=30), pupil_id=pupil.pk
            )
        )
    assert sorted(e.actor_id or 0 for e in events) == sorted(u.pk for u in readers)
    assert {e.action for e in events} == {AuditAction.VIEW}
    assert all(e.ip == "127.0.0.1" and len(e.request_id) == 32 for e in events)


def test_refusals_and_downloads_are_recorded(world, client_for):
    a1 = world.a1
    outsider = world.b1.users[Role.HEADTEACHER]
    client_for(outsider).get(pupil_url(a1, a1.pupils[0]))
    with scopes_disabled():
        denied = AuditEvent.objects.get(actor=outsider, action=AuditAction.DENIED)
    assert denied.action == AuditAction.DENIED
    assert denied.outcome == "404"
    assert denied.target_type == "pupil"
    assert denied.target_id == a1.pupils[0].pk


def test_sign_in_success_and_failure_are_recorded_without_secrets(world):
    user = world.a1.users[Role.HEADTEACHER]
    user.set_password("correct horse battery")
    user.save()
    client = Client()
    client.post(reverse("login"), {"username": user.email, "password": "wrong password 1"})
    client.post(reverse("login"), {"username": user.email, "password": "correct horse battery"})

    with scopes_disabled():
        failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
        ok = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert failed.actor_label == user.email
    assert failed.actor_id is None
    assert ok.actor_id == user.pk
    for event in (failed, ok):
        row = " ".join(
            str(v) for v in AuditEvent.objects.filter(pk=event.pk).values().get().values()
        )
        assert "wrong password" not in row
        assert "correct horse" not in row


def test_a_forged_line_in_a_username_is_written_as_one_escaped_value(db):
    Client().post(reverse("login"), {"username": 'x\r\n{"forged":true}', "password": "p"})

    with scopes_disabled():
        event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert "\n" not in event.actor_label
    assert "\r" not in event.actor_label
    assert event.actor_label == 'x\\r\\n{"forged":true}'


def test_the_trail_cannot_be_changed_or_deleted(world, client_for):
    client_for(world.a1.users[Role.HEADTEACHER]).get(pupil_url(world.a1, world.a1.pupils[0]))
    with scopes_disabled():
        event = AuditEvent.objects.get(action=AuditAction.VIEW)
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).update(actor_label="someone else")
        with pytest.raises(DatabaseError), transaction.atomic():
            AuditEvent.objects.filter(pk=event.pk).delete()
        assert (
            AuditEvent.objects.get(pk=event.pk).actor_label
            == world.a1.users[Role.HEADTEACHER].email
        )


def test_the_school_admin_reads_their_own_schools_trail_only(world, client_for):
    a1, a2 = world.a1, world.a2
    pupil = a1.pupils[0]
    client_for(a1.users[Role.ATTENDANCE_OFFICER]).get(pupil_url(a1, pupil))
    client_for(a2.users[Role.ATTENDANCE_OFFICER]).get(pupil_url(a2, a2.pupils[0]))
    audit = reverse("schools:audit", kwargs={"school_slug": a1.school.slug})

    page = client_for(a1.users[Role.SCHOOL_ADMIN]).get(audit, {"upn": pupil.upn})
    body = page.content.decode()

    assert page.status_code == 200
    assert a1.users[Role.ATTENDANCE_OFFICER].email in body
    assert a2.users[Role.ATTENDANCE_OFFICER].email not in body
    assert client_for(a1.users[Role.FORM_TUTOR]).get(audit).status_code == 404
    assert client_for(a2.users[Role.SCHOOL_ADMIN]).get(audit).status_code == 404
    assert a1.users[Role.ATTENDANCE_OFFICER].email not in (
        client_for(a2.users[Role.SCHOOL_ADMIN])
        .get(reverse("schools:audit", kwargs={"school_slug": a2.school.slug}))
        .content.decode()
    )
    assert client_for(world.b1.users[Role.SCHOOL_ADMIN]).get(audit).status_code == 404


# --- Off-host shipping (LOG-02) ---------------------------------------------------------------


@pytest.fixture
def ship_to(monkeypatch):
    """Point the audit logger at a collector address, through the handler the settings use."""

    def point(address: str) -> AuditSyslogHandler:
        handler = AuditSyslogHandler(address)
        monkeypatch.setattr(logging.getLogger(AUDIT_LOGGER), "handlers", [handler])
        return handler

    yield point
    for handler in logging.getLogger(AUDIT_LOGGER).handlers:
        handler.close()


def sign_in_and_view_a_pupil(world) -> tuple[Any, Any]:
    user = world.a1.users[Role.HEADTEACHER]
    user.set_password("correct horse battery")
    user.save()
    client = Client()
    assert (
        client.post(
            reverse("login"), {"username": user.email, "password": "correct horse battery"}
        ).status_code
        == 302
    )
    pupil = world.a1.pupils[0]
    assert client.get(pupil_url(world.a1, pupil)).status_code == 200
    return user, pupil


def shipped(messages: list[bytes]) -> list[dict[str, Any]]:
    prefix = b"<%d>" % ((SysLogHandler.LOG_AUTHPRIV << 3) | SysLogHandler.LOG_INFO)
    lines = []
    for message in messages:
        assert message.startswith(prefix + SYSLOG_IDENT.encode())
        assert b"\n" not in message.rstrip(b"\n")
        assert b"\r" not in message
        lines.append(json.loads(message[len(prefix) + len(SYSLOG_IDENT) :]))
    return lines


def assert_exactly_the_trail(lines: list[dict[str, Any]], user, pupil) -> None:
    with scopes_disabled():
        events = list(AuditEvent.objects.order_by("pk"))
    assert [line["event_id"] for line in lines] == [e.pk for e in events]
    login, view = lines
    required = {"time", "actor", "tenant", "ip", "request_id", "action", "target", "outcome"}
    assert required <= login.keys()
    assert (login["action"], login["actor"], login["outcome"]) == ("login", user.pk, "ok")
    assert login["ip"] == "127.0.0.1"
    assert view["action"] == "view"
    assert view["actor"] == user.pk
    assert view["tenant"] == pupil.school_id
    assert view["target"] == {"type": "pupil", "id": pupil.pk}
    assert view["outcome"] == "200"
    assert len(view["request_id"]) == 32
    assert view["request_id"] == events[1].request_id
    assert view["time"].endswith("Z")
    assert dt.datetime.fromisoformat(view["time"]) == events[1].at
    # Ids only: no email, no name.
    text = json.dumps(lines)
    assert user.email not in text
    assert pupil.legal_surname not in text


def test_every_event_reaches_a_udp_syslog_collector(world, ship_to):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as collector:
        collector.bind(("127.0.0.1", 0))
        collector.settimeout(0.5)
        ship_to(f"127.0.0.1:{collector.getsockname()[1]}/udp")
        user, pupil = sign_in_and_view_a_pupil(world)
        messages = []
        while True:
            try:
                messages.append(collector.recv(65536))
            except TimeoutError:
                break
    assert_exactly_the_trail(shipped(messages), user, pupil)


def test_every_event_reaches_a_tcp_syslog_collector_one_per_line(world, ship_to):
    received = bytearray()
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(5)

        def collect() -> None:
            connection, _ = server.accept()
            with connection:
                connection.settimeout(5)
                while chunk := connection.recv(65536):
                    received.extend(chunk)

        thread = threading.Thread(target=collect)
        thread.start()
        handler = ship_to(f"127.0.0.1:{server.getsockname()[1]}/tcp")
        user, pupil = sign_in_and_view_a_pupil(world)
        handler.close()  # the collector sees the end of the stream
        thread.join(5)
    messages = bytes(received).splitlines(keepends=True)
    assert all(m.endswith(b"\n") for m in messages)
    assert_exactly_the_trail(shipped(messages), user, pupil)


def test_a_collector_that_is_down_never_breaks_the_request(world, ship_to, capsys):
    with socket.create_server(("127.0.0.1", 0)) as nothing:
        port = nothing.getsockname()[1]  # closed at the end of the block: nobody listens
    ship_to(f"127.0.0.1:{port}/tcp")  # the app starts without its collector
    sign_in_and_view_a_pupil(world)  # both requests succeed (asserted inside)
    with scopes_disabled():
        assert list(AuditEvent.objects.values_list("action", flat=True).order_by("pk")) == [
            AuditAction.LOGIN,
            AuditAction.VIEW,
        ]
    assert "audit collector" in capsys.readouterr().err  # each lost line is reported


@pytest.mark.parametrize(
    "address",
    ["collector", "collector:514/sctp", ":514", "collector:syslog"],
)
def test_a_mistyped_collector_address_stops_the_app_at_start(address):
    with pytest.raises(ValueError, match="AUDIT_SYSLOG_ADDRESS"):
        audit_handler(address)


def test_the_settings_ship_to_the_address_given_or_to_stderr():
    assert audit_handler("") == {"class": "logging.StreamHandler"}
    assert audit_handler("logs.example.org:6514/tcp")["address"] == "logs.example.org:6514/tcp"
    assert parse_syslog_address("[::1]:514") == (("::1", 514), socket.SOCK_DGRAM)
    loggers: Any = settings.LOGGING["loggers"]
    assert loggers[AUDIT_LOGGER]["propagate"] is False


@pytest.mark.skipif(connection.vendor != "postgresql", reason="roles are PostgreSQL's")
def test_the_runtime_role_may_add_to_the_trail_but_not_change_or_delete_it(world, client_for):
    client_for(world.a1.users[Role.HEADTEACHER]).get(pupil_url(world.a1, world.a1.pupils[0]))
    role = "attendance_runtime_audit_test"
    call_command("db_runtime_role", role=role)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {role}")  # the test's rollback ends it
        for statement in (
            "UPDATE schools_auditevent SET actor_label = 'someone else'",
            "DELETE FROM schools_auditevent",
            "TRUNCATE schools_auditevent",
        ):
            with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
                cursor.execute(statement)
    audit_record(action=AuditAction.LOGIN_FAILED, actor_label="x", outcome="failed")
    with scopes_disabled():
        assert AuditEvent.objects.count() == 3  # the sign-in, the view, and the new row
