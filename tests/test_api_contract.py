"""The API's contract (WEB-08): schemathesis generates requests from ``/api/schema/`` and sends
them to the app in-process (WSGI, the same path production takes, CSRF included), signed in as
one school's attendance officer in a world with data. It runs once per tenant user (school A1's
officer, then school B1's), and each run has two parts:

- every operation, with data that fits the schema and data that does not (``negative``; some
  negative cases leave the session cookie out, which must be refused as well);
- stateful scenarios: schemathesis infers links between operations from the schema (``POST
  cases/`` creates the ``case_id`` that ``GET cases/{case_id}/`` and the case's sub-resources
  take; ``GET pupils/`` lists the ``pupil_id``) and chains calls along them.

Every response must pass these checks:

- ``not_a_server_error``: no 5xx;
- ``status_code_conformance``, ``content_type_conformance``, ``response_schema_conformance``:
  the status, content type and body are ones the schema documents;
- ``negative_data_rejection``: a request that breaks the schema is refused with 4xx;
- ``ignored_auth``: for each operation a 2xx answers, the same request without the session
  cookie, and with a made-up one, is refused (403);
- ``ensure_resource_availability``: what a POST has just created can be read back (stateful);
- ``use_after_free``: a deleted resource is gone (stateful). The API has no DELETE operation
  (records are closed, never deleted), so this check has nothing to see today; it is on so
  that a DELETE added later is covered;
- ``no_other_school_data``: the body names nothing of another school: not its slug, not a
  pupil's UPN, not a pupil or case id under a ``pupil``/``case`` key (TEN-01, TEN-02).

Not feasible in-process: schemathesis's own runner (``st run``) drives its own threads and
connections, which on PostgreSQL cannot see the test's transaction; so this test runs the same
checks through schemathesis's Python API (hypothesis strategies and its state machine) in the
test's thread.

Deterministic and bounded: hypothesis is derandomized with a few examples per operation and no
example database, so SQLite and PostgreSQL runs see the same requests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import schemathesis
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from rest_framework.views import APIView
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from attendance_app.wsgi import application
from interventions import models as im
from schools.models import Pupil, Role, School
from tests.conftest import TODAY

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = {GenerationMode.POSITIVE: 4, GenerationMode.NEGATIVE: 3}
# Generated ids are almost never real ones, so each operation also runs with the tenant's own
# objects in its path: the 200 bodies are then checked too, and so is ignored_auth.
EXAMPLES_WITH_REAL_IDS = 3
STATEFUL_SCENARIOS = 12
STATEFUL_STEPS = 6
CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
    ensure_resource_availability,
    use_after_free,
]
SETTINGS = hypothesis_settings(
    derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck)
)


@contextmanager
def wsgi_keeps_the_test_transaction() -> Iterator[None]:
    """Django's WSGI handler runs ``close_old_connections`` when a request starts and ends.
    Inside the test's transaction the connection is not in autocommit, so PostgreSQL's
    connection is closed and the test's data with it (SQLite's in-memory one survives). Django's
    test Client disconnects the handler the same way, and reconnects it after each of its own
    requests, so this wraps only the schemathesis calls. They stay real WSGI requests."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


class OtherSchoolsData:
    """What other schools' data looks like in a response body."""

    def __init__(self, schools: list[School]) -> None:
        with scopes_disabled():
            pupils = Pupil.objects.filter(school__in=schools)
            self.strings = {school.slug for school in schools} | set(
                pupils.values_list("upn", flat=True)
            )
            self.ids = {
                "pupil": set(pupils.values_list("pk", flat=True)),
                "case": set(
                    im.Case.objects.filter(school__in=schools).values_list("pk", flat=True)
                ),
            }
        assert all(self.strings)
        assert all(self.ids.values())

    def found_in(self, document: Any) -> list[str]:
        text = json.dumps(document)
        found = [value for value in self.strings if re.search(rf"\b{re.escape(value)}\b", text)]
        stack = [document]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                for key, value in node.items():
                    kind = key.removesuffix("_id")
                    if kind in self.ids and isinstance(value, int) and value in self.ids[kind]:
                        found.append(f"{key}={value}")
                    stack.append(value)
            elif isinstance(node, list):
                stack.extend(node)
        return found

    def check(self) -> Callable[..., None]:
        def no_other_school_data(ctx: Any, response: Any, case: Any) -> None:
            if "json" not in response.headers.get("content-type", [""])[0]:
                return
            found = self.found_in(response.json())
            assert not found, f"another school's data in the response: {found}"

        return no_other_school_data


def signed_in_schemas(user: Any, pupil: Any) -> tuple[Any, Any, dict[str, Any]]:
    """The schema as the app serves it to ``user``, loaded twice: for the pass over every
    operation, and for the stateful scenarios, which chain valid calls only (negative data has
    its own pass) and name one of the user's pupils wherever a body takes a ``pupil``, so that
    ``POST cases/`` creates a case the links can follow. Both send the user's session as the
    schema's cookie auth (so ``ignored_auth`` knows what to take away); the call arguments carry
    the CSRF pair every unsafe request needs."""
    client = Client()
    client.force_login(user)
    raw = client.get("/api/schema/?format=json").json()
    auth = {
        "openapi": {"cookieAuth": {"api_key": client.cookies[settings.SESSION_COOKIE_NAME].value}}
    }
    schemas = [
        schemathesis.openapi.from_dict(raw, config=schemathesis.Config.from_dict(config))
        for config in (
            {"auth": auth},
            {
                "auth": auth,
                "generation": {"mode": "positive"},
                "parameters": {"body.pupil": pupil.pk},
            },
        )
    ]
    for schema in schemas:
        schema.app = application
    csrf = _get_new_csrf_string()
    call_kwargs = {"cookies": {settings.CSRF_COOKIE_NAME: csrf}, "headers": {"X-CSRFToken": csrf}}
    return schemas[0], schemas[1], call_kwargs


def real_path_parameters(school_world: Any) -> dict[str, Any]:
    """The tenant's own objects, by the name the API's paths give their ids."""
    school = school_world.school
    with scopes_disabled():
        case = im.Case.objects.filter(school=school).earliest("pk")
        return {
            "school_slug": school.slug,
            "pupil_id": school_world.pupils[0].pk,
            "form_id": school_world.form.pk,
            "date": TODAY.isoformat(),
            "session": "AM",
            "case_id": case.pk,
            "action_id": im.CaseAction.objects.filter(case=case).earliest("pk").pk,
            "item_id": im.QueueItem.objects.filter(school=school).earliest("pk").pk,
            "nti_id": im.NoticeToImprove.objects.filter(case=case).earliest("pk").pk,
            "request_id": im.PenaltyNoticeRequest.objects.filter(case=case).earliest("pk").pk,
            "notice_id": im.PenaltyNotice.objects.filter(school=school).earliest("pk").pk,
            "return_id": im.LAReturn.objects.filter(school=school).earliest("pk").pk,
        }


def run_every_operation(
    schema: Any, real: dict[str, Any], call_kwargs: dict[str, Any], checks: list[Callable[..., Any]]
) -> tuple[list[str], set[int]]:
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    failures: list[str] = []
    statuses: set[int] = set()
    for operation in operations:
        in_path = set(re.findall(r"{(\w+)}", operation.path))
        assert in_path <= set(real), f"{operation.label}: no real id for {in_path - set(real)}"
        runs = [
            (f"{mode}", mode, {"school_slug": real["school_slug"]}, examples)
            for mode, examples in EXAMPLES_PER_OPERATION.items()
        ]
        runs.append(
            (
                "real ids",
                GenerationMode.POSITIVE,
                {name: real[name] for name in in_path},
                EXAMPLES_WITH_REAL_IDS,
            )
        )
        for label, mode, path_parameters, examples in runs:
            strategy = operation.as_strategy(mode, path_parameters=path_parameters)

            @given(case=strategy)
            @hypothesis_settings(SETTINGS, max_examples=examples)
            def run(case: Any) -> None:
                response = case.call(**call_kwargs)
                statuses.add(response.status_code)
                case.validate_response(response, checks=checks, transport_kwargs=call_kwargs)

            try:
                run()
            # Collected, so one run names every failing operation (schemathesis raises a group).
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{operation.label} ({label}): {str(error)[:800]}")
    return failures, statuses


def run_stateful(
    schema: Any, slug: str, call_kwargs: dict[str, Any], checks: list[Callable[..., Any]]
) -> list[str]:
    base = schema.as_state_machine()

    class Scenarios(base):  # type: ignore[misc,valid-type]
        def before_call(self, case: Any) -> None:
            case.path_parameters["school_slug"] = slug

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return call_kwargs

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response, checks=checks, transport_kwargs=kwargs, recorder=self.recorder
            )

    try:
        Scenarios.run(
            settings=hypothesis_settings(
                SETTINGS, max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS
            )
        )
    except (Exception, BaseExceptionGroup) as error:
        return [f"stateful: {str(error)[:2000]}"]
    return []


@pytest.mark.parametrize("tenant", ["a1", "b1"])
def test_every_operation_keeps_its_contract_for_each_tenant(world: Any, tenant: str) -> None:
    school_world = getattr(world, tenant)
    others = [w.school for w in (world.a1, world.a2, world.b1) if w is not school_world]
    schema, stateful_schema, call_kwargs = signed_in_schemas(
        school_world.users[Role.ATTENDANCE_OFFICER], school_world.pupils[1]
    )
    checks = [*CHECKS, OtherSchoolsData(others).check()]

    with wsgi_keeps_the_test_transaction():
        failures, statuses = run_every_operation(
            schema, real_path_parameters(school_world), call_kwargs, checks
        )
        failures += run_stateful(stateful_schema, school_world.school.slug, call_kwargs, checks)

    assert not failures, "\n\n".join(failures)
    # Signed in and reaching the views: some requests succeed, some are refused.
    assert {200, 400, 403, 404} <= statuses


def test_the_other_school_data_check_sees_a_slug_a_upn_and_a_pupil_id(world: Any) -> None:
    others = OtherSchoolsData([world.b1.school])
    pupil = world.b1.pupils[0]

    assert others.found_in({"results": [{"pupil": world.a1.pupils[0].pk}]}) == []
    assert others.found_in({"school": world.b1.school.slug}) == [world.b1.school.slug]
    assert others.found_in([{"upn": pupil.upn}]) == [pupil.upn]
    assert others.found_in({"results": [{"pupil_id": pupil.pk}]}) == [f"pupil_id={pupil.pk}"]


def drf_routes() -> set[tuple[str, str]]:
    """Every (method, path) a DRF view answers, found by walking Django's URL patterns rather
    than drf-spectacular's enumerator, so a view the schema generator skips is still seen."""
    routes: set[tuple[str, str]] = set()

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "cls", None)
                if view is None or not issubclass(view, APIView):
                    continue
                path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
                for method in view.http_method_names:
                    if method not in {"head", "options"} and hasattr(view, method):
                        routes.add((method, path))

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_drf_route_is_in_the_schema(world: Any, client_for: Any) -> None:
    schema = client_for(world.a1.users[Role.ATTENDANCE_OFFICER]).get("/api/schema/?format=json")
    documented = {
        (method, path)
        for path, operations in schema.json()["paths"].items()
        for method in operations
    }
    routes = drf_routes()

    assert len(routes) > 20
    # The schema does not describe itself (SPECTACULAR_SETTINGS["SERVE_INCLUDE_SCHEMA"]).
    assert routes - documented == {("get", "/api/schema/")}
    assert documented - routes == set()
