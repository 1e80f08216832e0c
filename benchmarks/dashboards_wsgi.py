"""gunicorn's entry point for ``benchmarks/dashboards.py``: the project's WSGI application with
"today" pinned to ``BENCH_TODAY``, because the generated school year (2025/26) is fixed while
the machine's date moves on, and the dashboards show the academic year containing today; and
the staff second factor off. Benchmark only; nothing else imports it."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.utils import timezone

_TODAY = dt.date.fromisoformat(os.environ["BENCH_TODAY"])


def _localdate(*args: Any, **kwargs: Any) -> dt.date:
    return _TODAY


timezone.localdate = _localdate

from django.conf import settings  # noqa: E402

from attendance_app.wsgi import application  # noqa: E402

# The benchmark times the pages, not the sign-in: its users sign in with a password alone
# (the second factor, schools/mfa.py, would need a TOTP device per user).
settings.MFA_REQUIRED_FOR_STAFF = False

__all__ = ["application"]
