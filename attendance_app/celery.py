"""Celery application. Workers find it through ``attendance_app.celery_app``."""

from __future__ import annotations

import os

from celery import Celery

# A server or worker started without settings runs production's: no DEBUG, and no start
# without DJANGO_SECRET_KEY. Development sets the local settings itself (manage.py, Makefile).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_app.settings.production")

app = Celery("attendance_app")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
