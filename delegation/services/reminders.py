"""Approvers hear before the deadline: one reminder when three quarters of their working hours
have passed (`Escalation.remind_at`, set by routing), in the app and by e-mail through the outbox.
"""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import Escalation
from delegation.selectors import escalations_to_remind
from empower.moments import LocalMoment
from empower.money import Money
from empower.services import lazy_message, notify


def escalation_remind(*, escalation_id: int, at: datetime | None = None) -> bool:
    """Remind the assignee that an answer is due soon, exactly once per assignment.

    The database claims the reminder (`remind_at` cleared where it was due and still assigned), so
    a second run, or a worker running the same batch, finds nothing to do; the notification's
    event key (one per escalation, level and routing) keeps even a replay from telling twice.
    True when this call sent it.
    """
    at = at or timezone.now()
    with transaction.atomic():
        claimed = Escalation.objects.filter(
            pk=escalation_id, status=Escalation.Status.ASSIGNED, remind_at__lte=at
        ).update(remind_at=None)
        if not claimed:
            return False
        escalation = Escalation.objects.select_related(
            "assigned_to__user", "decision__decision_type", "decision__made_by__user"
        ).get(pk=escalation_id)
        decision = escalation.decision
        routed = int(escalation.routed_at.timestamp()) if escalation.routed_at else 0
        notify(
            recipient=escalation.assigned_to,
            key=f"escalation:{escalation.pk}:reminder:{escalation.level}:{routed}",
            message=lazy_message(
                _(
                    "Reminder: %(requester)s is waiting for your answer on %(type)s %(amount)s "
                    "(case #%(case)s). It is due by %(due)s; then it moves up a level."
                ),
                requester=decision.made_by,
                type=decision.decision_type,
                amount=Money(decision.amount, decision.currency),  # written for the recipient's language
                case=decision.case_id,
                due=LocalMoment(escalation.due_at),
            ),
            url=f"/escalations/{escalation.pk}/",
        )
    return True


def escalation_reminders_send(*, at: datetime | None = None, limit: int = 500) -> int:
    """Send every reminder that has come due; how many were sent."""
    at = at or timezone.now()
    return sum(escalation_remind(escalation_id=pk, at=at) for pk in escalations_to_remind(at=at, limit=limit))
