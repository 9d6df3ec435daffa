import logging
import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings

from delegation import selectors, services

logger = logging.getLogger(__name__)

# Every task acks late, is redelivered when its worker is lost, and has 45 s soft / 60 s hard time limits:
# the global Celery settings (config/settings.py). Only what differs is set on a task below.

# The periodic tasks work in bounded batches and stop before their time limit; what is left waits
# for the next run (every minute), the oldest first.
BATCH = 500
TIME_BUDGET_SECONDS = 40


# Retried (the database claims the work, so a retry never routes twice); routing is short, so a
# stuck one is stopped sooner than the default.
@shared_task(autoretry_for=(Exception,), retry_backoff=2, retry_backoff_max=300, max_retries=8, soft_time_limit=30)
def route_escalation(escalation_id: int) -> str:
    """Route one escalation; safe to run twice (the database claims the work)."""
    escalation = services.escalation_route(escalation_id=escalation_id)
    return "skipped" if escalation is None else escalation.status


# Batches stop at TIME_BUDGET_SECONDS; the soft limit leaves the last item room to finish.
@shared_task(soft_time_limit=50)
def sweep_unrouted_escalations() -> int:
    """Route again what has waited in "routing" past the grace period, longest waiting first.

    Each escalation is routed on its own: one that fails is logged and left for the next sweep,
    and never holds up the others. Returns how many were routed.
    """
    grace = timedelta(seconds=settings.EMPOWER_ROUTING_GRACE_SECONDS)
    return _each(
        selectors.escalations_waiting_for_routing(longer_than=grace, limit=BATCH),
        lambda pk: services.escalation_route(escalation_id=pk) is not None,
        "route",
    )


@shared_task(soft_time_limit=50)  # as the sweep
def review_assigned_escalations() -> int:
    """Move up what is overdue or no longer covered by its approver, and remind approvers whose
    deadline is near; returns how many moved.

    Candidates are found without locks; only those that move are locked (and checked again).
    """
    moved = _each(
        selectors.escalations_to_review(limit=BATCH),
        lambda pk: bool(services.escalation_review(escalation_id=pk)),
        "review",
    )
    # The same run reminds approvers whose deadline is three quarters gone (once each).
    _each(
        selectors.escalations_to_remind(limit=BATCH),
        lambda pk: services.escalation_remind(escalation_id=pk),
        "remind",
    )
    return moved


def _each(escalation_ids: list[int], act, what: str) -> int:
    """Run `act` on each id in its own transaction, isolating failures; count the ones it did."""
    done = 0
    started = time.monotonic()
    for escalation_id in escalation_ids:
        if time.monotonic() - started > TIME_BUDGET_SECONDS:
            logger.warning("Stopped the %s batch before its time limit; the next run continues", what)
            break
        try:
            done += bool(act(escalation_id))
        except Exception:
            logger.exception("Could not %s escalation %s; the next run tries again", what, escalation_id)
    return done


@shared_task(soft_time_limit=30)  # one escalation: short, as routing
def review_escalation(escalation_id: int) -> str | None:
    """Move one escalation up if it is overdue or its approver no longer covers it."""
    return services.escalation_review(escalation_id=escalation_id)


# Routing now tells the administrators in its own transaction; this task stays for the deliveries
# queued before that change. Retried (the audit record keeps a second delivery from telling them twice).
@shared_task(autoretry_for=(Exception,), retry_backoff=60, retry_backoff_max=600, max_retries=5)
def announce_unroutable(escalation_id: int) -> bool:
    """Queue the administrators' e-mail that nobody above covers an escalation (once; the outbox sends it)."""
    return services.escalation_unroutable_announce(escalation_id=escalation_id)


@shared_task(soft_time_limit=10, time_limit=20)  # one row: a heartbeat that takes longer is no sign of health
def heartbeat() -> None:
    services.heartbeat_record()


@shared_task(soft_time_limit=50)  # a batch, as the sweep
def announce_authority_changes() -> int:
    """Audit and announce delegations and temporary limits that started or ended on schedule."""
    return services.authority_changes_announce()


@shared_task(soft_time_limit=50)  # a batch over the last window, as the sweeps
def detect_splitting() -> int:
    """Flag decisions that look split to stay under a per-decision limit (off the request path)."""
    return services.splitting_detect()
