"""The access and security trail (security GDPR-06, LOG-01 to LOG-04)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse
from django_scopes import scopes_disabled

from schools.audit import audit_events
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
        import datetime as dt

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
