"""The header's counts, so every page that extends `base.html` shows them without its view's help."""

from django import template

from delegation.models import Escalation
from delegation.selectors import escalation_inbox
from empower.selectors import unread_notification_count

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_counts(context) -> dict[str, int] | None:
    """Unread notifications and escalations waiting for the employee's answer (two counting queries)."""
    employee = context.get("employee")
    if employee is None:
        return None
    return {
        "unread": unread_notification_count(employee=employee),
        "escalations": escalation_inbox(employee=employee).filter(status=Escalation.Status.ASSIGNED).count(),
    }
