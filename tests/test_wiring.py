"""Project wiring: the API's root and its one exception handler, API modules that do not
import views, and safe defaults outside development (issue 8, items 5 and 7)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.exceptions import NotFound

from attendance_app.api_errors import api_exception_handler
from registers.services.marks import MarkConflictError
from schools.models import Role

BASE_DIR = Path(settings.BASE_DIR)
APPS = ("schools", "registers", "interventions", "letters")


# --- the API -----------------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _is_views(module: str) -> bool:
    """A project module named ``views`` or ``views_*`` (or in a ``views`` package)."""
    parts = module.split(".")
    project = parts[0] in (*APPS, "attendance_app")
    return project and any(part == "views" or part.startswith("views_") for part in parts)


def test_api_modules_do_not_import_views():
    api_modules = [
        path
        for app in (*APPS, "attendance_app")
        for path in (BASE_DIR / app).glob("api*.py")
        if path.is_file()
    ]
    assert {path.name for path in api_modules} >= {"api.py", "api_urls.py", "api_errors.py"}
    offenders = {
        f"{path.relative_to(BASE_DIR)}: {module}"
        for path in api_modules
        for module in _imports(path)
        if _is_views(module)
    }
    assert offenders == set()


def test_the_api_root_is_in_the_project_wiring():
    assert reverse("api:pupil-list", kwargs={"school_slug": "x"}) == "/api/v1/s/x/pupils/"
    assert reverse(
        "api:register",
        kwargs={"school_slug": "x", "form_id": 1, "date": "2024-09-09", "session": "AM"},
    ).startswith("/api/v1/s/x/")
    assert reverse("api:attendance-events", kwargs={"school_slug": "x"}).startswith("/api/v1/")
    assert "app_name" not in (BASE_DIR / "registers" / "api_urls.py").read_text()


def test_a_django_validation_error_is_a_400_with_its_messages():
    response = api_exception_handler(ValidationError("Give the reason for the amendment."), {})
    assert response is not None
    assert (response.status_code, response.data) == (
        400,
        {"detail": "Give the reason for the amendment."},
    )

    fields = api_exception_handler(
        ValidationError({"first_date": "Too early.", "last_date": "Too late."}), {}
    )
    assert fields is not None
    assert fields.status_code == 400
    assert fields.data["fields"] == {"first_date": ["Too early."], "last_date": ["Too late."]}


def test_a_mark_conflict_is_a_409_naming_each_pupil():
    write = SimpleNamespace(pupil=SimpleNamespace(pk=7))
    request = SimpleNamespace(school=SimpleNamespace(pk=1))
    response = api_exception_handler(
        MarkConflictError([(write, None)]),  # type: ignore[list-item]
        {"request": request},
    )
    assert response is not None
    assert response.status_code == 409
    assert response.data["conflicts"] == {7: None}
    assert response.data["messages"][7].startswith("This pupil's mark changed")


def test_other_errors_go_to_drf():
    response = api_exception_handler(NotFound(), {})
    assert response is not None
    assert response.status_code == 404


@pytest.mark.django_db
def test_an_unknown_or_foreign_school_under_the_api_is_the_same_json_404(world, client_for):
    client = client_for(world.a1.users[Role.HEADTEACHER])
    unknown = client.get("/api/v1/s/no-such-school/pupils/")
    foreign = client.get(f"/api/v1/s/{world.b1.school.slug}/pupils/")

    assert unknown.status_code == foreign.status_code == 404
    assert unknown["Content-Type"] == "application/json"
    assert unknown.json() == foreign.json() == {"detail": "Not found."}


# --- safe defaults outside development ------------------------------------------------------------


def _env_secret_in_dotenv() -> bool:
    dotenv = BASE_DIR / ".env"
    return dotenv.exists() and "DJANGO_SECRET_KEY" in dotenv.read_text()


PASSKEYS = {
    "OTP_WEBAUTHN_RP_ID": "school.example",
    "OTP_WEBAUTHN_ALLOWED_ORIGINS": "https://school.example",
}


def _start(module: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Import ``module`` as a server or worker would, with no DJANGO_* or passkey (OTP_WEBAUTHN_*)
    variables set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "OTP_WEBAUTHN_"))
    }
    env.update(extra_env)
    code = (
        f"import {module}\n"
        "from django.conf import settings\n"
        "print(settings.SETTINGS_MODULE, settings.DEBUG)\n"
    )
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(_env_secret_in_dotenv(), reason="this checkout's .env sets a secret key")
def test_a_server_started_without_settings_or_a_secret_refuses_to_start():
    started = _start("attendance_app.wsgi")
    assert started.returncode != 0
    assert "DJANGO_SECRET_KEY" in started.stderr


@pytest.mark.parametrize("module", ["attendance_app.wsgi", "attendance_app.asgi", "attendance_app"])
def test_a_server_or_worker_started_without_settings_runs_production_without_debug(module):
    started = _start(module, DJANGO_SECRET_KEY="a-real-secret-" + "x" * 40, **PASSKEYS)
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == ["attendance_app.settings.production", "False"]


@pytest.mark.parametrize(
    "passkeys",
    [
        {},
        {"OTP_WEBAUTHN_RP_ID": "school.example"},
        {"OTP_WEBAUTHN_ALLOWED_ORIGINS": "https://school.example"},
        {"OTP_WEBAUTHN_RP_ID": "", "OTP_WEBAUTHN_ALLOWED_ORIGINS": "https://school.example"},
        {"OTP_WEBAUTHN_RP_ID": "school.example", "OTP_WEBAUTHN_ALLOWED_ORIGINS": ""},
    ],
    ids=["neither", "no-origins", "no-rp-id", "empty-rp-id", "empty-origins"],
)
def test_production_refuses_to_start_on_the_local_passkey_defaults(passkeys):
    """base.py's passkey settings name localhost; production wants the real site's."""
    started = _start(
        "attendance_app.wsgi", DJANGO_SECRET_KEY="a-real-secret-" + "x" * 40, **passkeys
    )
    assert started.returncode != 0
    assert "ImproperlyConfigured" in started.stderr
    assert "OTP_WEBAUTHN_" in started.stderr


def test_production_takes_the_passkey_settings_from_the_environment():
    code = (
        "import attendance_app.wsgi\n"
        "from django.conf import settings\n"
        "print(settings.OTP_WEBAUTHN_RP_ID, *settings.OTP_WEBAUTHN_ALLOWED_ORIGINS)\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "OTP_WEBAUTHN_"))},
        "DJANGO_SECRET_KEY": "a-real-secret-" + "x" * 40,
        "OTP_WEBAUTHN_RP_ID": "school.example",
        "OTP_WEBAUTHN_ALLOWED_ORIGINS": "https://school.example,https://www.school.example",
    }
    started = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.split() == [
        "school.example",
        "https://school.example",
        "https://www.school.example",
    ]


def test_compose_names_the_passkey_relying_party():
    compose = (BASE_DIR / "docker-compose.yml").read_text()
    assert "OTP_WEBAUTHN_RP_ID: ${OTP_WEBAUTHN_RP_ID:-localhost}" in compose
    assert "OTP_WEBAUTHN_ALLOWED_ORIGINS: ${OTP_WEBAUTHN_ALLOWED_ORIGINS:-" in compose


def test_compose_refuses_to_start_without_a_secret():
    compose = (BASE_DIR / "docker-compose.yml").read_text()
    assert "DJANGO_SECRET_KEY: ${DJANGO_SECRET_KEY:?" in compose
    assert "${DJANGO_SECRET_KEY:-" not in compose


def test_development_commands_choose_the_local_settings_themselves():
    assert "attendance_app.settings.local" in (BASE_DIR / "manage.py").read_text()
    makefile = (BASE_DIR / "Makefile").read_text()
    assert "DJANGO_SETTINGS_MODULE ?= attendance_app.settings.local" in makefile
    for target in ("worker", "beat"):
        line = next(
            line for line in makefile.splitlines() if f"celery -A attendance_app {target}" in line
        )
        assert line.strip().startswith("DJANGO_SETTINGS_MODULE=$(DJANGO_SETTINGS_MODULE)"), target


def test_compose_runs_the_app_as_a_role_that_does_not_own_the_tables():
    import yaml

    services = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())["services"]
    migrate = services["migrate"]
    owner_url = migrate["environment"]["DATABASE_URL"]
    assert "db_runtime_role --role attendance " in migrate["command"]
    assert owner_url.startswith("postgres://attendance_owner:")
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["environment"]["DATABASE_URL"].startswith("postgres://attendance:"), name
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "migrate" not in service.get("command", ""), name
