"""Feedback's links in the navigation, shown from the same predicates the pages and the API enforce."""

from django import template
from django.conf import settings

from feedback import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def may_see_insights(context) -> bool:
    """`{% may_see_insights as show_insights %}`: the insights link, exactly for those the insights page
    and API let in (`feedback.selectors.may_see_insights`). Asked once per request.
    """
    employee = context.get("employee")
    if employee is None:
        return False
    request = context.get("request")
    cache = getattr(request, "_feedback_may_see_insights", None) if request is not None else None
    if cache is None:
        cache = selectors.may_see_insights(employee=employee)
        if request is not None:
            request._feedback_may_see_insights = cache
    return cache


@register.simple_tag
def organization() -> dict:
    """`{% organization as org %}`: the name and logo the customer's pages carry (settings)."""
    return {"name": settings.EMPOWER_ORGANIZATION_NAME, "logo": settings.EMPOWER_ORGANIZATION_LOGO}
