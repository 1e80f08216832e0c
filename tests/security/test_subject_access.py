"""The subject-access archive: everything held about one pupil, nothing about another
(security GDPR-02)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_scopes import scopes_disabled

from registers.models import AbsenceReport, LeaveRequest
from schools.models import Role

pytestmark = pytest.mark.django_db


def archive_of(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(response.content))


def test_the_archive_holds_the_pupils_records_and_only_theirs(world, client_for):
    a1 = world.a1
    pupil, other = a1.pupils[0], a1.pupils[1]
    url = reverse(
        "schools:subject-access", kwargs={"school_slug": a1.school.slug, "pupil_id": pupil.pk}
    )

    response = client_for(a1.users[Role.SCHOOL_ADMIN]).get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = archive_of(response)
    names = set(archive.namelist())
    assert {
        "README.txt",
        "pupil.json",
        "attendance_register.json",
        "cases.json",
        "letters.json",
    } <= names
    record = json.loads(archive.read("pupil.json"))[0]
    assert record["upn"] == {"value": pupil.upn, "class": "personal"}
    assert record["child_protection_plan"]["class"] == "special"
    with scopes_disabled():
        assert (
            len(json.loads(archive.read("absence_reports.json")))
            == AbsenceReport.objects.filter(pupil=pupil).count()
            >= 1
        )
        assert (
            len(json.loads(archive.read("leave_requests.json")))
            == LeaveRequest.objects.filter(pupil=pupil).count()
        )
    everything = b"".join(archive.read(name) for name in names)
    assert other.upn.encode() not in everything
    assert pupil.upn.encode() in archive.read("README.txt")


def test_only_the_schools_leadership_may_export_and_another_school_gets_404(world, client_for):
    a1 = world.a1
    url = reverse(
        "schools:subject-access",
        kwargs={"school_slug": a1.school.slug, "pupil_id": a1.pupils[0].pk},
    )
    assert client_for(a1.users[Role.HEADTEACHER]).get(url).status_code == 200
    assert client_for(a1.users[Role.ATTENDANCE_OFFICER]).get(url).status_code == 404
    assert client_for(world.b1.users[Role.SCHOOL_ADMIN]).get(url).status_code == 404
    foreign = reverse(
        "schools:subject-access",
        kwargs={"school_slug": a1.school.slug, "pupil_id": world.b1.pupils[0].pk},
    )
    assert client_for(a1.users[Role.SCHOOL_ADMIN]).get(foreign).status_code == 404


def test_the_command_writes_the_same_archive(world, tmp_path):
    a1 = world.a1
    out = tmp_path / "sar.zip"
    call_command("export_subject_access", school=a1.school.slug, upn=a1.pupils[0].upn, output=out)
    assert "pupil.json" in zipfile.ZipFile(out).namelist()
