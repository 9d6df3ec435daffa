"""The Celery app: configured from Django's settings (the `CELERY_` names), tasks found in every app.

Workers keep their database connection between tasks. Celery's Django fix-up closes it before and
after every task (celery/celery#9824 went back to that because Django cannot always tell a broken
connection, e.g. one a time limit interrupted mid-query). Here a task gets Django's request cycle
instead: before and after it, `close_old_connections()` closes a connection that is past
`CONN_MAX_AGE`, left in a transaction, or has seen an error, and `CONN_HEALTH_CHECKS` tests the kept
one before its first use; after a task that did not succeed the connection is closed outright, as
Celery does. Forked pool processes still drop the connection they inherited (the fix-up does that).
"""

import os

from celery import Celery, states
from celery.fixups.django import DjangoFixup, DjangoWorkerFixup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class ConnectionKeepingWorkerFixup(DjangoWorkerFixup):
    """Celery's worker fix-up, with Django's connection lifetime instead of a new connection per task."""

    def on_task_prerun(self, sender, **kwargs) -> None:
        if not getattr(sender.request, "is_eager", False):
            self._db.close_old_connections()

    def on_task_postrun(self, sender, **kwargs) -> None:
        if getattr(sender.request, "is_eager", False):
            return
        if kwargs.get("state") == states.SUCCESS:
            self._db.close_old_connections()
        else:  # it may have been interrupted mid-query: never trust that connection again
            self._close_database()
        self.close_cache()


class EmpowerDjangoFixup(DjangoFixup):
    @property
    def worker_fixup(self) -> DjangoWorkerFixup:
        if self._worker_fixup is None:
            self._worker_fixup = ConnectionKeepingWorkerFixup(self.app)
        return self._worker_fixup

    @worker_fixup.setter
    def worker_fixup(self, value: DjangoWorkerFixup) -> None:
        self._worker_fixup = value


def django_fixup(app: Celery) -> DjangoFixup:
    return EmpowerDjangoFixup(app).install()


app = Celery("empower", fixups=["config.celery:django_fixup"])
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
