from __future__ import annotations

from attendance_app.settings.base import *  # noqa: F403
from attendance_app.settings.base import env

DEBUG = True
# Demo at any hour: outside the school day registers behave as at the morning register on the
# most recent school day, with a banner saying so (README "Demo at any hour"). DEMO_CLOCK=0
# turns it off.
DEMO_CLOCK = env.bool("DEMO_CLOCK", default=True)
