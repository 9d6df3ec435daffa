from celery import shared_task

from empower import services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=60,
    retry_backoff_max=600,
    max_retries=3,
    soft_time_limit=45,
    time_limit=60,
)
def send_notification_email(notification_id: int) -> bool:
    """Send one notification's e-mail; a second delivery sends nothing (the database claims it)."""
    return services.notification_email_send(notification_id=notification_id)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def send_unsent_emails_again() -> int:
    """Periodic: queue again the e-mails still unsent past a grace period (lost, or failed)."""
    return services.notification_emails_send_again()
