"""`celery -A empower worker|beat`, as the contract names them: the app lives in `config.celery`."""

from config.celery import app

__all__ = ("app",)
