"""The project package: settings, root URLs, the API URL root, the Celery app, WSGI and `/healthz/`.

It is not an app. It is the only code that knows every app, so the apps can depend one way only
(`feedback` → `delegation` → `empower`). The Celery app is imported here so that `@shared_task`
binds to it whenever Django starts (Celery's "First steps with Django").
"""

from .celery import app as celery_app

__all__ = ("celery_app",)
