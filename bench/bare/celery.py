"""The bare endpoint's Celery client: publishes to the app's broker and default queue, nothing else."""

import environ
from celery import Celery

app = Celery("bare", broker=environ.Env().str("CELERY_BROKER_URL"))
app.conf.update(task_serializer="json", accept_content=["json"], task_ignore_result=True)
