from __future__ import annotations

from attendance_app.settings.base import *  # noqa: F403

DEBUG = True
