"""The header's counts, so every page that extends `base.html` shows them without its view's help."""

from django import template

from delegation.selectors import delegations_held, escalations_to_answer, menu_for
from empower.selectors import unread_notification_count

register = template.Library()


@register.simple_tag(takes_context=True)
def header_counts(context) -> dict[str, int] | None:
    """Unread notifications, escalations waiting for the employee's answer, and the stand-in duties
    they hold now (for the banner on every page)."""
    employee = context.get("employee")
    if employee is None:
        return None
    return {
        "unread": unread_notification_count(employee=employee),
        # Those whose answer forms the inbox shows (`can_answer`, the rule the service raises).
        "escalations": escalations_to_answer(employee=employee).count(),
        "stand_in_for": delegations_held(employee=employee),
    }


@register.simple_tag(takes_context=True)
def main_menu(context, counts: dict | None = None):
    """`{% main_menu counts as menu %}`: which menus this person sees (`delegation.selectors.menu_for`),
    reusing the header's counts so the page asks nothing twice. None for someone without an employee."""
    employee = context.get("employee")
    if employee is None:
        return None
    counts = counts or {}
    return menu_for(
        employee=employee,
        stand_in_for=counts.get("stand_in_for"),
        waiting=counts.get("escalations", 0),
        user=employee.user,
    )
