"""Celery application. Workers find it through ``attendance_app.celery_app``."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "attendance_app.settings.local")

app = Celery("attendance_app")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
