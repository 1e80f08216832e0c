"""Every setting lives here; behaviour is switched by environment variables.

With no ``DATABASE_URL`` the app runs on an SQLite file in the project and Celery runs tasks
eagerly, so ``make run`` needs no server. With ``DATABASE_URL``/``REDIS_URL`` set it uses
PostgreSQL (psycopg 3) and Redis as the Celery broker.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import django_stubs_ext
import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF

from attendance_app.log_shipping import AUDIT_LOGGER, audit_handler

# Lets annotations like ``ModelForm[School]`` and ``QuerySet[Pupil]`` run at import time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-dev-key-change-me-in-production")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "rest_framework",
    "drf_spectacular",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "schools",
    "registers",
    "interventions",
    "letters",
    "demo",  # the demo trust (manage.py seed_demo): above the domain apps, imported by none
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Errors under /api/ that Django answers itself (no route, CSRF, a crash) in JSON (WEB-08).
    "attendance_app.api_errors.ApiJsonErrorsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Permissions-Policy on every response; Cache-Control: no-store once signed in (WEB, SESS).
    "attendance_app.middleware.BrowserProtectionMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Ends a session whose account has since used "sign out my other sessions" (SESS-04).
    "schools.account_security.SessionGenerationMiddleware",
    # request.user.is_verified(): has this session completed the second factor (AUTH-01)?
    "django_otp.middleware.OTPMiddleware",
    # Django's LocaleMiddleware, choosing from the account, the switcher and the school's
    # default, never from Accept-Language alone (schools/i18n.py).
    "schools.i18n.PreferredLanguageMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # Staff and trust leaders enrol and verify a second factor before anything else
    # (AUTH-01, AUTH-02): schools/mfa.py.
    "schools.mfa.MFAGateMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Who saw or downloaded which pupil's records, and refusals (GDPR-06, LOG-01).
    "schools.audit.AuditMiddleware",
    "schools.middleware.OwnNotFoundPageMiddleware",
    "schools.middleware.SchoolTenantMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page (AUTH-04).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "attendance_app.urls"
WSGI_APPLICATION = "attendance_app.wsgi.application"
ASGI_APPLICATION = "attendance_app.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "schools.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dev server read while a seed or a worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT: our queries are many and short, and compiling them cost more than running them
    # (the engine's per-school count: 450 ms with JIT, 236 ms without; benchmarks/engine).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 60 * 60 * 8  # one school day; staff sign in again tomorrow
# Sessions are read on every request: serve them from the cache (Redis when configured),
# still written through to the database so a cache flush signs nobody out, and with Redis down
# they are read from the database alone (attendance_app/cache.py).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", "English"), ("cy", "Cymraeg")]
LOCALE_PATHS = [BASE_DIR / "locale"]  # .po in git; .mo built by `make` (compilemessages_py)
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = True  # serve static/ directly when collectstatic has not run
MEDIA_ROOT = env.path("DJANGO_MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "media/"
STORAGES: dict[str, dict[str, Any]] = {  # production.py may add OPTIONS (an S3 bucket)
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=1025)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="attendance@example.org")

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without a broker the embedded default runs every task in-process, so `make run` needs no server.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Redis redelivers unacked tasks after this; it must exceed the longest task (security.md J).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60 * 2}
# No task runs unbounded (security Q-03): a task without its own time_limit is stopped here,
# well inside the visibility timeout, so a live task is never redelivered to a second worker.
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "schools-clear-expired-sessions": {
        "task": "schools.clear_expired_sessions",
        "schedule": crontab(hour=3, minute=15),  # https://crontab.guru/#15_3_*_*_*
    },
    # Every 5 minutes: each school whose school day ended (in its own time zone) and has no
    # full recompute for today, finished or still within its time limit, gets one; a run
    # whose worker died is sent again within minutes (interventions.tasks.RUN_PATIENCE).
    "interventions-nightly-fanout": {
        "task": "interventions.nightly_fanout",
        "schedule": crontab(minute="*/5"),  # https://crontab.guru/#*/5_*_*_*_*
    },
    # Every minute: the work queues follow registers closing (interventions.tasks).
    "interventions-queues-refresh": {
        "task": "interventions.queues_refresh_all",
        "schedule": crontab(),  # https://crontab.guru/#*_*_*_*_*
    },
    # Every minute: letter batch chunks whose worker died (lease expired) are sent again.
    "letters-batch-resume-stalled": {
        "task": "letters.batch_resume_stalled",
        "schedule": crontab(),  # https://crontab.guru/#*_*_*_*_*
    },
    # Nightly: register entries past their six years, and old free text (registers.retention).
    "registers-apply-retention": {
        "task": "registers.apply_retention",
        "schedule": crontab(hour=2, minute=40),  # https://crontab.guru/#40_2_*_*_*
    },
}
# Retention (GDPR-04; registers.retention runs them all nightly, README "Retention"). Free text
# goes after the end of the academic year it belongs to plus this many years (Part 7's default
# for parents' free text is 1, to be agreed with the DPO):
RETENTION_REPORTS_EXTRA_YEARS = env.int("RETENTION_REPORTS_EXTRA_YEARS", default=1)
RETENTION_CASEWORK_EXTRA_YEARS = env.int("RETENTION_CASEWORK_EXTRA_YEARS", default=1)
# NTIs, penalty notices and letters: a notice counts for 3 years in the next PN decision.
RETENTION_NOTICES_EXTRA_YEARS = env.int("RETENTION_NOTICES_EXTRA_YEARS", default=3)
# The audit trail, in days (at least 365: the database refuses to delete younger events).
RETENTION_AUDIT_DAYS = env.int("RETENTION_AUDIT_DAYS", default=2 * 365)
# Letter batches (letters.batches): letters per Celery task, and how long a chunk's lease lasts
# without a heartbeat (one letter renders in well under a second; a lease outlives many).
LETTER_BATCH_CHUNK_SIZE = env.int("LETTER_BATCH_CHUNK_SIZE", default=50)
LETTER_BATCH_LEASE_SECONDS = env.int("LETTER_BATCH_LEASE_SECONDS", default=120)
# A chunk leased this many times without finishing has its remaining letters marked failed.
LETTER_BATCH_MAX_ATTEMPTS = env.int("LETTER_BATCH_MAX_ATTEMPTS", default=5)

# --- Caches ---------------------------------------------------------------------------------
# Redis down must not take the site down: the cache answers "empty" while Redis is
# unreachable (attendance_app/cache.py; each use's fail-open or fail-closed choice is in README
# "Recovery"), and gives up on a silent network within a second rather than hanging requests.
REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}
CACHES = {
    "default": (
        {
            "BACKEND": "attendance_app.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- DRF ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "attendance_app.api_schema.ApiAutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    # Services' ValidationError and domain errors become responses here, not in each view.
    "EXCEPTION_HANDLER": "attendance_app.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "School attendance API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema names every endpoint and field: only signed-in users may read it (TEN-11).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Several "kind" fields: name the case actions' own set instead of a hashed name.
    "ENUM_NAME_OVERRIDES": {"ActionKindEnum": "interventions.models.cases.ActionKind"},
}

# --- Security headers (tightened further in production.py) ------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# WEB-02: no inline script anywhere (JS lives in static/js/), a nonce for any that must be
# inline ({{ request.csp_nonce }}), no plugins, no framing, no <base>, forms post only here.
# No inline style="" attributes either: the band colour swatches are SVG fill attributes.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "base-uri": [NONE],
    },
}
# Browser features the service never uses are switched off (attendance_app/middleware.py).
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)

# --- Brute force (AUTH-04): django-axes -------------------------------------------------------
# The lock is keyed on username AND address together, so an attacker elsewhere cannot lock the
# real user out; it lifts by itself after the cool-off, or at once with `manage.py axes_reset`
# (or axes_reset_username) or from the admin's "Access attempts" list.
AUTHENTICATION_BACKENDS = [
    "schools.security.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Staff MFA (schools/mfa.py). The verify step is throttled like the login: 5 wrong codes per
# user lock the step for 15 minutes (AUTH-03).
MFA_REQUIRED_FOR_STAFF = True
MFA_FAILURE_LIMIT = 5
MFA_FAILURE_WINDOW_SECONDS = 15 * 60
OTP_TOTP_ISSUER = "School attendance"
# Account security (SESS-04): a change of password or second factor needs the password (and a
# code) typed again within this many seconds (schools/account_security.py).
ACCOUNT_REAUTH_SECONDS = env.int("ACCOUNT_REAUTH_SECONDS", default=10 * 60)
# Passkeys (django-otp-webauthn, schools/passkeys.py): a second factor only, never a sign-in
# on their own. The relying party is the site's domain; browsers accept a passkey only on the
# origins listed (scheme, host and port, as the address bar shows them).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_ID = env("OTP_WEBAUTHN_RP_ID", default="localhost")
OTP_WEBAUTHN_RP_NAME = "School attendance"
OTP_WEBAUTHN_ALLOWED_ORIGINS = env.list(
    "OTP_WEBAUTHN_ALLOWED_ORIGINS", default=["http://localhost:8000"]
)

AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_IPWARE_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)
# Password reset: at most this many requests per address and per email an hour; beyond it the
# same "check your email" page, and no email (schools/security.py).
PASSWORD_RESET_RATE_LIMIT = 5
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie

# `manage.py seed_demo` creates accounts with a published password; production turns it off.
DEMO_SEED_ALLOWED = True
# The demo clock (registers.selectors.register_clock): off here and in test and production;
# only the local (demo) settings turn it on, so `make run` can take a register at any hour.
DEMO_CLOCK = False

# The audit trail's off-host copy (LOG-02, attendance_app/log_shipping.py): each AuditEvent is
# also one JSON line on the "attendance.audit" logger, sent to AUDIT_SYSLOG_ADDRESS
# (host:port[/udp|/tcp], a syslog collector) or, unset, to stderr.
AUDIT_SYSLOG_ADDRESS = env("AUDIT_SYSLOG_ADDRESS", default="")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "audit": audit_handler(AUDIT_SYSLOG_ADDRESS),
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # WeasyPrint logs every rendering step at INFO ("Step 2 - Fetching and parsing CSS").
        "weasyprint": {"level": "WARNING"},
        AUDIT_LOGGER: {"handlers": ["audit"], "level": "INFO", "propagate": False},
    },
}
