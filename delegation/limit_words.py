"""Exceeded limits said in words ("over your per-decision limit of €100.00"), never as keys.

One home for the wording: the case page, the inbox, the escalation page and the insights use it
(through the `limit_words` template tags), so a key such as `per_customer_month` never reaches a
reader. Pure functions: the caller hands the limits that judged the decision (its `limits_snapshot`).
"""

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from empower.money import format_money

# The limit's name, for a heading or a table column.
LIMIT_NAMES = {
    "per_decision": gettext_lazy("per-decision limit"),
    "per_day": gettext_lazy("daily cap"),
    "per_month": gettext_lazy("monthly cap"),
    "per_customer_month": gettext_lazy("cap per customer per month"),
}


def _money(amount, currency: str) -> str | None:
    if amount in (None, ""):
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return None
    return format_money(value, currency)


def limit_in_words(key: str, amount=None, *, currency: str = "", yours: bool = False) -> str:
    """One exceeded limit in words: "over your per-decision limit of €100.00" (`yours`), "over the
    daily cap of €300.00" (money as the active language writes it), or without an amount "over the
    monthly cap". An unknown key is named as it is (it never hides a limit)."""
    name = str(LIMIT_NAMES.get(key, key))
    money = _money(amount, currency or settings.EMPOWER_CURRENCY)
    if money is None:
        return _("over your %(limit)s") % {"limit": name} if yours else _("over the %(limit)s") % {"limit": name}
    values = {"limit": name, "amount": money}
    return _("over your %(limit)s of %(amount)s") % values if yours else _("over the %(limit)s of %(amount)s") % values


def exceeded_in_words(exceeded, limits: dict | None = None, *, currency: str = "", yours: bool = False) -> list[str]:
    """Each exceeded limit in words, with its amount where `limits` (a decision's `limits_snapshot`,
    or any mapping of key → amount) has it."""
    limits = limits or {}
    return [limit_in_words(key, limits.get(key), currency=currency, yours=yours) for key in exceeded or []]
