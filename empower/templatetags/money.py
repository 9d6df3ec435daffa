"""`{{ amount|money:currency }}`: money for the reader's locale (`empower.money.format_money`)."""

from django import template
from django.conf import settings

from empower.money import format_money

register = template.Library()


@register.filter
def money(amount, currency: str = "") -> str:
    """An amount with its currency as the active language writes it; empty for no amount."""
    if amount is None or amount == "":
        return ""
    return format_money(amount, currency or settings.EMPOWER_CURRENCY)
