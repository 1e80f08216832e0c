from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from attendance_app.settings.base import *  # noqa: F403
from attendance_app.settings.base import STORAGES, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: production refuses to start without one
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True  # check --deploy W021
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
# SESS-03: the __Host- prefix makes the browser refuse these cookies unless Secure, Path=/ and
# no Domain, so a sibling subdomain cannot plant or overwrite them.
SESSION_COOKIE_NAME = "__Host-sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken"
# Passkeys: the relying party is the real site. No default, like the secret key: base.py's
# (localhost) would make every passkey fail in a browser on the school's domain, so production
# refuses to start until both are set.
OTP_WEBAUTHN_RP_ID = env("OTP_WEBAUTHN_RP_ID")
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list("OTP_WEBAUTHN_ALLOWED_ORIGINS")
if not OTP_WEBAUTHN_RP_ID.strip() or not any(o.strip() for o in OTP_WEBAUTHN_ALLOWED_ORIGINS):
    raise ImproperlyConfigured(
        "Set OTP_WEBAUTHN_RP_ID (the site's domain) and OTP_WEBAUTHN_ALLOWED_ORIGINS "
        "(its https:// origins) for passkeys"
    )
DEMO_SEED_ALLOWED = env.bool("DJANGO_ALLOW_DEMO_SEED", default=False)
# Never a pretend clock for real registers, whatever the environment says.
DEMO_CLOCK = False
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Letters' PDFs and letterhead images -------------------------------------------------------
# On Django's storage API: local files under MEDIA_ROOT by default, or an S3-compatible bucket
# (AWS S3, MinIO, Backblaze B2, …) with LETTERS_STORAGE=s3. Either way nothing is public: the
# bucket stays private (no ACL, no public URLs handed out), and every file is read by the
# server and served through a view that checks the school (letters.views._file_response).
LETTERS_STORAGE = env("LETTERS_STORAGE", default="local")
if LETTERS_STORAGE == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("LETTERS_S3_BUCKET"),  # no default: refuse to start without one
            "endpoint_url": env("LETTERS_S3_ENDPOINT_URL", default=None),  # None: AWS itself
            "region_name": env("LETTERS_S3_REGION", default=None),
            "access_key": env("LETTERS_S3_ACCESS_KEY_ID", default=None),  # None: the IAM role
            "secret_key": env("LETTERS_S3_SECRET_ACCESS_KEY", default=None),
            "location": env("LETTERS_S3_PREFIX", default=""),
            "default_acl": None,  # the bucket's own policy (private), never public-read
            "querystring_auth": True,  # any URL the library makes is signed and expires
            "file_overwrite": False,  # a letter's PDF is never replaced by another's
            "addressing_style": env("LETTERS_S3_ADDRESSING_STYLE", default=None),  # MinIO: path
        },
    }
elif LETTERS_STORAGE != "local":
    raise ValueError(f"LETTERS_STORAGE must be 'local' or 's3', not {LETTERS_STORAGE!r}")
