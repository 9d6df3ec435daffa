"""Exceeded limits in words in templates (`delegation.limit_words`): never a key on a page.

{% load limit_words %}
{{ decision|exceeded_words }}                 over the per-decision limit of 100.00 EUR, …
{{ decision|exceeded_words:"yours" }}         over your per-decision limit of 100.00 EUR, …
{{ escalation|exceeded_words }}               the escalation's, with its decision's limits
{% limit_words "per_customer_month" "200.00" %}   one key (and amount), e.g. on the insights page
{{ "per_day"|limit_name }}                    daily cap
"""

from django import template

from delegation.limit_words import LIMIT_NAMES, exceeded_in_words, limit_in_words

register = template.Library()


@register.filter
def exceeded_words(row, whose: str = "") -> str:
    """A decision's (or an escalation's) exceeded limits in words, joined; "—" when none."""
    decision = getattr(row, "decision", None) if hasattr(row, "decision_id") else row
    decision = decision or row
    exceeded = getattr(row, "exceeded", None) or []
    words = exceeded_in_words(
        exceeded,
        getattr(decision, "limits_snapshot", None),
        currency=getattr(decision, "currency", ""),
        yours=whose == "yours",
    )
    return "; ".join(words) or "—"


@register.simple_tag
def limit_words(key: str, amount=None, currency: str = "", whose: str = "") -> str:
    return limit_in_words(key, amount, currency=currency, yours=whose == "yours")


@register.filter
def limit_name(key: str) -> str:
    return str(LIMIT_NAMES.get(key, key))
