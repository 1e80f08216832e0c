"""Letters' files on Django's storage API: local files by default, an S3-compatible bucket in
production when LETTERS_STORAGE=s3 (settings/production.py), never a public URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from django.conf import settings

PROBE = """
import json
from attendance_app.settings import production
options = production.STORAGES["default"].get("OPTIONS", {})
print(json.dumps({"backend": production.STORAGES["default"]["BACKEND"], "options": options}))
"""


def probe(**env: str) -> subprocess.CompletedProcess[str]:
    """Load settings/production.py in a fresh interpreter (settings run once per process)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LETTERS_", "DJANGO_", "DATABASE_URL"))
    }
    environment |= {
        "DJANGO_SECRET_KEY": "x" * 50,
        "OTP_WEBAUTHN_RP_ID": "school.example",
        "OTP_WEBAUTHN_ALLOWED_ORIGINS": "https://school.example",
        **env,
    }
    return subprocess.run(  # noqa: S603 (our own interpreter and a fixed script)
        [sys.executable, "-c", PROBE],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def production_storage(**env: str) -> dict[str, Any]:
    result = probe(**env)
    assert result.returncode == 0, result.stderr
    loaded: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_production_keeps_letters_on_local_files_by_default():
    assert production_storage()["backend"] == "django.core.files.storage.FileSystemStorage"


def test_production_puts_letters_in_a_private_s3_compatible_bucket_when_asked():
    storage = production_storage(
        LETTERS_STORAGE="s3",
        LETTERS_S3_BUCKET="school-letters",
        LETTERS_S3_ENDPOINT_URL="http://127.0.0.1:9000",
        LETTERS_S3_ACCESS_KEY_ID="key",
        LETTERS_S3_SECRET_ACCESS_KEY="secret",
    )
    assert storage["backend"] == "storages.backends.s3.S3Storage"
    options = storage["options"]
    assert isinstance(options, dict)
    assert options["bucket_name"] == "school-letters"
    assert options["endpoint_url"] == "http://127.0.0.1:9000"
    assert options["default_acl"] is None
    assert options["querystring_auth"] is True
    assert options["file_overwrite"] is False


def test_the_s3_backend_accepts_those_options_without_touching_the_network():
    from storages.backends.s3 import S3Storage  # type: ignore[import-untyped]

    storage = S3Storage(
        bucket_name="school-letters",
        endpoint_url="http://127.0.0.1:9",
        access_key="key",
        secret_key="secret",
        default_acl=None,
        querystring_auth=True,
        file_overwrite=False,
    )
    # The name a letter is saved under stays the one the service chose.
    assert storage.generate_filename("letters/3/17.pdf") == "letters/3/17.pdf"


def test_an_unknown_storage_name_refuses_to_start():
    result = probe(LETTERS_STORAGE="ftp")
    assert result.returncode != 0
    assert "LETTERS_STORAGE must be" in result.stderr
