from __future__ import annotations

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
DEMO_SEED_ALLOWED = env.bool("DJANGO_ALLOW_DEMO_SEED", default=False)
# Never a pretend clock for real registers, whatever the environment says.
DEMO_CLOCK = False
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
