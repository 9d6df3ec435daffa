"""Deadlines live in the database; beat runs these every few minutes to find what is overdue.
(Customers' e-mails go through the organization's outbox: `empower.tasks` sends and re-sends them.)

Never long countdown/ETA tasks: a broker may redeliver or lose them. Each service claims its row
under a lock, so two deliveries (or two beats) move a follow-up or report once. Late acks, rejecting
on a lost worker and the time limits come from the global CELERY_TASK_* settings; only what differs
is set here.
"""

from celery import shared_task

from feedback import selectors, services
from feedback.cockpit.recommendations import recommendations_refresh


@shared_task(soft_time_limit=50)  # the sweep gets a little longer than the global 45 s
def move_overdue_follow_ups() -> int:
    """Overdue follow-ups go to the assignee's manager; returns how many moved."""
    return sum(1 for pk in selectors.overdue_follow_up_ids() if services.follow_up_move_up(follow_up_id=pk))


@shared_task(soft_time_limit=50)  # the sweep gets a little longer than the global 45 s
def move_overdue_friction_reports() -> int:
    """Unanswered friction reports past their deadline go to the next manager up; returns how many moved."""
    return sum(1 for pk in selectors.overdue_report_ids() if services.friction_report_move_up(report_id=pk))


@shared_task(soft_time_limit=50)
def send_story_digests() -> int:
    """Each team's weekly digest of stories, once per team and ISO week; returns e-mails queued."""
    return services.stories_digests_send()


# The cockpit's task lives with the cockpit; imported here so the worker finds it.
from feedback.cockpit.tasks import refresh_cockpit_summaries  # noqa: E402, F401


@shared_task(soft_time_limit=300, time_limit=330)  # reads 90 days of escalations: more than a sweep
def refresh_limit_recommendations() -> int:
    """Recompute the cockpit's limit recommendations (`feedback.cockpit.recommendations`); returns how
    many were opened. Running it twice opens nothing twice (one open proposal per subject)."""
    return recommendations_refresh().created
