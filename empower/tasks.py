"""The outbox's tasks: every e-mail to a person is sent by `send_email`; beat runs
`send_unsent_emails_again` every two minutes for what is still unsent (a lost task, a dead
worker, SMTP down)."""

from celery import shared_task

from empower import services


# Time limits, acks_late and reject_on_worker_lost come from the Celery settings. A failed send
# raises: the task retries with backoff; after that the periodic re-send takes over.
@shared_task(autoretry_for=(Exception,), retry_backoff=60, retry_backoff_max=600, max_retries=3)
def send_email(email_id: int) -> bool:
    """Send one outbox e-mail; a second delivery sends nothing (the database claims it)."""
    return services.email_send(email_id=email_id)


@shared_task
def send_unsent_emails_again() -> int:
    """Periodic: queue again the e-mails still unsent past a grace period (lost, or failed)."""
    return services.emails_send_again()
