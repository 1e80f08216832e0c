from __future__ import annotations

from attendance_app.settings.base import *  # noqa: F403
from attendance_app.settings.base import STORAGES, env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")  # no default: production refuses to start without one
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
DEMO_SEED_ALLOWED = env.bool("DJANGO_ALLOW_DEMO_SEED", default=False)
# Never a pretend clock for real registers, whatever the environment says.
DEMO_CLOCK = False
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
