"""The guidance panel beside the decision form, loaded by the template so every page with the form
shows it without its view's help (two queries)."""

from django import template

from delegation.selectors import guidance_for

register = template.Library()


@register.simple_tag
def decision_guidance() -> list:
    """`{% decision_guidance as guidance %}`: each active type's guidance and shared notes."""
    return guidance_for()
