"""Money as the reader expects it: `1 234,50 €`, `€1,234.50`, `1.234,50 EUR`… (Babel, CLDR data).

The one home of money formatting: the `money` template filter, the money partial, notifications
and e-mails all come here, in the language active when they are rendered.
"""

from decimal import Decimal, InvalidOperation

from babel.numbers import format_currency
from django.utils import translation


def babel_locale(language: str | None = None) -> str:
    """Django's language code as a Babel locale ("zh-hans" → "zh_Hans"); English when none is active."""
    return translation.to_locale(language or translation.get_language() or "en")


def format_money(amount, currency: str, language: str | None = None) -> str:
    """`amount` (Decimal, number or string) in `currency`, two decimals, for `language` (the active
    one by default). Something that is not an amount comes back as it was."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError, TypeError):
        return str(amount)
    return format_currency(value, currency, locale=babel_locale(language), currency_digits=False, format=None)


class Money:
    """An amount that formats itself when rendered: pass it to `lazy_message` so a notification
    shows money in the recipient's language, not the sender's."""

    def __init__(self, amount, currency: str) -> None:
        self.amount = amount
        self.currency = currency

    def __str__(self) -> str:
        return format_money(self.amount, self.currency)
