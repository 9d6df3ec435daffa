"""The case page's "what the customer said" panel: the page lives in delegation, which knows nothing of
surveys, so feedback hands it over through a template tag (as it does its navigation links)."""

from django import template

from feedback import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def case_feedback(context, case) -> dict:
    """`{% case_feedback case as feedback %}`: `feedback.survey` and `feedback.follow_ups`."""
    employee = context.get("employee")
    if employee is None or case is None:
        return {"survey": None, "follow_ups": []}
    return selectors.case_feedback(employee=employee, case_id=case.pk)
