"""The Celery app: configured from Django's settings (the `CELERY_` names), tasks found in every app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("empower")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
