"""One customer, one mailbox: the canonical form of an e-mail address.

Customers are found by e-mail, and a customer's monthly cap counts per customer, so two spellings of
one mailbox must be one customer. `canonical_email` is the one home of "which mailbox is this": the
service that finds or creates customers stores and looks up only this form, the database keeps it
unique (`customer_email_canonical_unique`), and the page's and the API's fields read addresses with it
so they refuse in the same words.

The form: Unicode NFKC (full-width letters are plain ones), invisible characters removed (zero-width
spaces and joiners, soft hyphens, byte-order marks, control characters: every Unicode "format" or
"control" character), the domain in its IDNA ASCII form (the Unicode and the punycode spelling of
one domain are one domain; a trailing dot is dropped), everything in lower case. What is still not a
valid address after that is refused.
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

EMAIL_MAX_LENGTH = 254  # RFC 5321's limit for a forward path, Django's EmailField default
# Django's own words (translated by Django into every language we speak).
EMAIL_INVALID = _("Enter a valid email address.")

_INVISIBLE = {"Cf", "Cc"}  # format (U+200B, U+200D, U+00AD, U+FEFF, …) and control characters


def canonical_email(raw: str) -> str:
    """The canonical form of `raw`; ValidationError (code "invalid") when it names no mailbox."""
    if not isinstance(raw, str):
        raise ValidationError(EMAIL_INVALID, code="invalid")
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in _INVISIBLE).strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise ValidationError(EMAIL_INVALID, code="invalid")
    try:
        # IDNA 2003 (Python's codec, as Django's own e-mail validation uses): each label to ASCII,
        # then back, so a malformed punycode label (xn--…) is refused too.
        domain = domain.lower().rstrip(".").encode("idna").decode("ascii")
        domain.encode("ascii").decode("idna")
    except UnicodeError:
        raise ValidationError(EMAIL_INVALID, code="invalid") from None
    address = f"{local.lower()}@{domain.lower()}"
    if len(address) > EMAIL_MAX_LENGTH:
        raise ValidationError(EMAIL_INVALID, code="invalid")
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError(EMAIL_INVALID, code="invalid") from None
    return address
