from datetime import timedelta

from celery import shared_task
from django.conf import settings

from delegation import selectors, services


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=2,
    retry_backoff_max=300,
    max_retries=8,
    soft_time_limit=30,
    time_limit=60,
)
def route_escalation(escalation_id: int) -> str:
    """Route one escalation; safe to run twice (the database claims the work)."""
    escalation = services.escalation_route(escalation_id=escalation_id)
    return "skipped" if escalation is None else escalation.status


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def sweep_unrouted_escalations() -> int:
    """Route again what has waited in "routing" past the grace period."""
    grace = timedelta(seconds=settings.EMPOWER_ROUTING_GRACE_SECONDS)
    waiting = selectors.escalations_waiting_for_routing(longer_than=grace)
    for escalation_id in waiting:
        services.escalation_route(escalation_id=escalation_id)
    return len(waiting)


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def review_assigned_escalations() -> int:
    """Move up what is overdue or no longer covered by its approver; returns how many moved."""
    return sum(1 for pk in selectors.escalations_to_review() if services.escalation_review(escalation_id=pk))


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=30, time_limit=60)
def review_escalation(escalation_id: int) -> str | None:
    """Move one escalation up if it is overdue or its approver no longer covers it."""
    return services.escalation_review(escalation_id=escalation_id)


@shared_task(soft_time_limit=10, time_limit=20)
def heartbeat() -> None:
    services.heartbeat_record()


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60)
def announce_authority_changes() -> int:
    """Audit and announce delegations and temporary limits that started or ended on schedule."""
    return services.authority_changes_announce()
