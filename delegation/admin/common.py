"""What the authority admins share: money with its currency, the operator behind a request, links,
read-only pages."""

from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from empower.models import Employee
from empower.money import format_money
from empower.selectors import employee_for_user


def money(amount, currency: str | None = None) -> str:
    if amount is None:
        return str(_("no limit"))
    return format_money(amount, currency or settings.EMPOWER_CURRENCY)


def operator_employee(request) -> Employee | None:
    """The admin user's Employee, if they are one (then the granting rules hold for them); None for an operator."""
    return getattr(request, "employee", None) or employee_for_user(user=request.user)


def admin_link(obj, label=None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)
