"""Shared fixtures. Fixtures run with scopes disabled (they build several schools); test bodies
stay scoped, so a test that queries outside ``school_scope()`` fails as production would."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation
from django_scopes import scopes_disabled

from interventions.models import QueueItem
from schools import models
from tests import factories as f

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _sign_ins_complete_mfa(request: pytest.FixtureRequest) -> Generator[None, None, None]:
    """Every sign-in (``client.force_login``/``login``, the login form, the browser tests'
    live server) also completes the second factor (schools/mfa.py), so tests about something
    else sign staff in as production does after MFA. Tests marked ``real_mfa``
    (tests/security/test_mfa.py) face the gate."""
    if request.node.get_closest_marker("real_mfa"):
        yield
        return
    from django.contrib.auth.signals import user_logged_in

    from tests.mfa_harness import mark_session_verified

    user_logged_in.connect(mark_session_verified, dispatch_uid="test-mfa-harness")
    yield
    user_logged_in.disconnect(dispatch_uid="test-mfa-harness")


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise() -> Generator[None, None, None]:
    # A request leaves its language active in the thread (LocaleMiddleware does not reset it),
    # so a Welsh page in one test would turn the next test's service messages Welsh.
    translation.activate("en-gb")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True, scope="session")
def _flush_passes_the_append_only_trigger() -> Generator[None, None, None]:
    """Transactional tests (the browser tests) end with a flush. PostgreSQL flushes with
    TRUNCATE, which row triggers never see; SQLite flushes with DELETE, which the append-only
    triggers on ``registers_markchange`` and ``schools_auditevent`` (and the six-year one on
    marks) refuse. Here, and only
    in tests, SQLite's flush drops those triggers and puts them back, so every test still runs with it in place."""
    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    # Migrations that create the guard triggers, in order. A later one may redefine a trigger
    # under the same name (0004_retention, 0007_audit_retention), so the flush drops each by name and then replays
    # every migration's forward statements in order: the last definition wins, as it does in
    # the migrated database.
    guards = [
        importlib.import_module(name)
        for name in (
            "registers.migrations.0002_markchange_append_only",
            "registers.migrations.0003_register_integrity",
            "registers.migrations.0004_retention",
            "schools.migrations.0004_audit_event",
            "schools.migrations.0007_audit_retention",
        )
    ]
    # These two redefine triggers the ones before them create (their backward steps put the
    # old definitions back rather than dropping them).
    redefiners = ("0004_retention", "0007_audit_retention")
    creators = [guard for guard in guards if not guard.__name__.endswith(redefiners)]
    operations = type(connection.ops)
    original = operations.sql_flush

    def sql_flush(self: Any, style: Any, tables: Any, **options: Any) -> list[str]:
        statements = original(self, style, tables, **options)
        if "registers_markchange" not in tables:
            return statements
        drop = [sql for guard in creators for sql in guard.SQLITE_BACKWARD]
        restore = [sql for guard in guards for sql in guard.SQLITE_FORWARD]
        return [*drop, *statements, *restore]

    operations.sql_flush = sql_flush  # type: ignore[method-assign]
    yield
    operations.sql_flush = original  # type: ignore[method-assign]


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Generator[None, Any, Any]:
    with scopes_disabled():
        return (yield)


STAFF_ROLES_IN_SCHOOL = [
    models.Role.FORM_TUTOR,
    models.Role.ATTENDANCE_OFFICER,
    models.Role.PASTORAL_LEAD,
    models.Role.HEADTEACHER,
    models.Role.SCHOOL_ADMIN,
]


@dataclass
class SchoolWorld:
    """One school with a user for every role, a form with pupils, contacts and a parent."""

    school: models.School
    users: dict[models.Role, Any] = field(default_factory=dict)
    form: models.FormGroup | None = None
    pupils: list[models.Pupil] = field(default_factory=list)
    contacts: list[models.Contact] = field(default_factory=list)


def build_school_world(school: models.School) -> SchoolWorld:
    world = SchoolWorld(school=school)
    year = f.AcademicYearFactory(school=school, start_date=dt.date(TODAY.year - 1, 8, 1))
    f.AcademicYearFactory(school=school, start_date=dt.date(TODAY.year, 8, 1))
    today = TODAY
    current_year = models.AcademicYear.objects.get(
        school=school, start_date__lte=today, end_date__gte=today
    )
    f.TermFactory(
        academic_year=year,
        start_date=year.start_date.replace(month=9, day=1),
        end_date=year.end_date,
    )
    if current_year != year:
        f.TermFactory(
            academic_year=current_year,
            start_date=current_year.start_date.replace(month=9, day=1),
            end_date=current_year.end_date,
        )
    for role in STAFF_ROLES_IN_SCHOOL:
        membership = f.StaffMembershipFactory(school=school, role=role)
        world.users[role] = membership.user
    form = f.FormGroupFactory(school=school, academic_year=current_year)
    f.FormTutorFactory(
        form=form,
        membership=models.StaffMembership.objects.get(
            school=school, user=world.users[models.Role.FORM_TUTOR]
        ),
    )
    world.form = form
    # The pastoral lead looks after the form's year group (their pupils are in scope).
    models.StaffYearGroup.objects.create(
        school=school,
        membership=models.StaffMembership.objects.get(
            school=school, user=world.users[models.Role.PASTORAL_LEAD]
        ),
        year_group=form.year_group,
    )
    for _ in range(3):
        pupil = f.PupilFactory(school=school, child_protection_plan=True, sen_status="E")
        f.EnrolmentFactory(pupil=pupil)
        f.FormPlacementFactory(pupil=pupil, form=form)
        world.contacts.append(f.ContactFactory(pupil=pupil))
        world.pupils.append(pupil)
    parent = f.ParentLinkFactory(pupil=world.pupils[0])
    world.users[models.Role.PARENT] = parent.user
    # A report and a leave request from that parent, so the isolation matrix attacks real ids.
    f.AbsenceReportFactory(pupil=world.pupils[0], submitted_by=parent.user)
    f.LeaveRequestFactory(pupil=world.pupils[0], requested_by=parent.user)
    case = f.CaseFactory(pupil=world.pupils[0])  # casework pages get real ids to attack
    _casework_rows(world, case)
    QueueItem.objects.create(  # so do queue-item pages (making a letter from one)
        school=school,
        kind="unresolved-n",
        pupil=world.pupils[1],
        key="world-sample",
        since=today,
        opened_at=timezone.now(),
    )
    letter = f.LetterFactory(pupil=world.pupils[0])
    f.LetterBatchFactory(
        template=letter.template_version.template,
        created_by=models.StaffMembership.objects.filter(school=school).earliest("pk"),
    )
    return world


def _casework_rows(world: SchoolWorld, case: Any) -> None:
    """One of each casework object the casework API names by id, so the isolation matrix
    attacks real ids: a queue item, an action, an NTI, a penalty-notice request with its
    ledger row, and an LA return."""
    from interventions import models as im
    from interventions.penalty_notices import NTI_FIELDS

    school, pupil, now = world.school, world.pupils[0], timezone.now()
    im.QueueItem.objects.create(
        school=school,
        kind=im.QueueKind.PN_THRESHOLD_MET,
        pupil=pupil,
        key="world",
        since=TODAY,
        opened_at=now,
    )
    im.CaseAction.objects.create(
        school=school,
        case=case,
        kind=im.ActionKind.CALL,
        summary="Call home",
        owner=case.owner,
        due_on=TODAY,
        created_at=now,
    )
    nti = im.NoticeToImprove.objects.create(
        school=school,
        case=case,
        **dict.fromkeys(NTI_FIELDS, "x"),
        issued_on=TODAY - dt.timedelta(days=60),
        period_start=TODAY - dt.timedelta(days=58),
        school_days=15,
        period_end=TODAY - dt.timedelta(days=30),
        criteria_rate=90,
        issued_by=case.owner,
    )
    request = im.PenaltyNoticeRequest.objects.create(
        school=school,
        case=case,
        pupil=pupil,
        parent=world.contacts[0],
        nti=nti,
        prepared_by=case.owner,
        prepared_at=now,
    )
    im.PenaltyNotice.objects.create(
        school=school, pupil=pupil, parent=world.contacts[0], request=request, updated_at=now
    )
    enrolment = models.Enrolment.objects.filter(school=school, pupil=pupil).earliest("pk")
    im.LAReturn.objects.create(
        school=school,
        pupil=pupil,
        enrolment=enrolment,
        kind=im.ReturnKind.TEN_DAY,
        episode="world",
        triggered_on=TODAY,
        due_on=TODAY,
        raised_at=now,
    )


@dataclass
class World:
    """The world A/B of spec/security.md Part 3: Trust A (A1, A2) and Trust B (B1)."""

    a1: SchoolWorld
    a2: SchoolWorld
    b1: SchoolWorld
    trust_a_leader: Any
    trust_b_leader: Any


@pytest.fixture
def world(db: None) -> World:
    trust_a, trust_b = f.TrustFactory(), f.TrustFactory()
    a1 = build_school_world(f.SchoolFactory(trust=trust_a))
    a2 = build_school_world(f.SchoolFactory(trust=trust_a))
    b1 = build_school_world(f.SchoolFactory(trust=trust_b))
    leader_a = f.TrustMembershipFactory(trust=trust_a).user
    leader_b = f.TrustMembershipFactory(trust=trust_b).user
    return World(a1=a1, a2=a2, b1=b1, trust_a_leader=leader_a, trust_b_leader=leader_b)


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
