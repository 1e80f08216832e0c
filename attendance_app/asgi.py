from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

# A server or worker started without settings runs production's: no DEBUG, and no start
# without DJANGO_SECRET_KEY. Development sets the local settings itself (manage.py, Makefile).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_app.settings.production")
application = get_asgi_application()
