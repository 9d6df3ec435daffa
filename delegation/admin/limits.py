"""Authority limits (role defaults, personal, temporary windows), under the granting and window rules
of the services, whatever the path."""

from django import forms
from django.contrib import admin, messages
from django.core.validators import MinValueValidator
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from delegation import services
from delegation.admin.common import money, operator_employee
from delegation.models import (
    CAPS,
    AuthorityLimit,
    Timed,
)
from empower.admin import admin_reason
from empower.errors import DomainError
from empower.forms import add_domain_error


class LimitHolderFilter(admin.SimpleListFilter):
    title = _("holder")
    parameter_name = "holder"

    def lookups(self, request, model_admin):
        return [("role", _("Role defaults")), ("personal", _("Personal limits"))]

    def queryset(self, request, queryset):
        if self.value() == "role":
            return queryset.filter(role__isnull=False)
        if self.value() == "personal":
            return queryset.filter(employee__isnull=False)
        return queryset


class LimitWindowFilter(admin.SimpleListFilter):
    """Temporary limits by where they stand now (standing limits have no window)."""

    title = _("window")
    parameter_name = "window"

    def lookups(self, request, model_admin):
        return Timed.choices

    def queryset(self, request, queryset):
        if self.value() in Timed.values:
            return queryset.in_state(self.value(), timezone.now())
        return queryset


class AuthorityLimitForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for this change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the audit trail with the values before and after."),
    )

    # The admin sets the operator's Employee (or None) here; the service's own rules judge it.
    actor = None

    class Meta:
        model = AuthorityLimit
        fields = ["decision_type", "role", "employee", *CAPS, "starts_at", "ends_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for cap in CAPS:
            self.fields[cap].validators.append(MinValueValidator(0))
            self.fields[cap].help_text = _("Empty means no limit.")
        if self.instance.pk:
            # Whose limit it is and for which type is its identity: change the values, or add another.
            for name in ("decision_type", "role", "employee"):
                field = self.fields[name]
                field.disabled = True
                # No "add/change another" links beside a field that cannot change.
                field.widget.can_add_related = field.widget.can_change_related = False

    def clean(self):
        cleaned = super().clean()
        role, employee = cleaned.get("role"), cleaned.get("employee")
        # Errors go on a field so the model's (untranslated) constraint messages are not repeated.
        if "role" not in self.errors and "employee" not in self.errors and (role is None) == (employee is None):
            self.add_error("role", _("Set the limit either for a role or for one employee, not both."))
            return cleaned
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        decision_type = cleaned.get("decision_type")
        if decision_type is not None and not self.errors:
            # The granting and window rules, judged by the service that saves it (`authority_limit_save`).
            candidate = AuthorityLimit(
                pk=self.instance.pk,
                decision_type=decision_type,
                role=role,
                employee=employee,
                starts_at=starts_at,
                ends_at=ends_at,
                **{cap: cleaned.get(cap) for cap in CAPS},
            )
            try:
                services.authority_limit_check(limit=candidate, actor=self.actor)
            except DomainError as error:
                add_domain_error(self, error)
        if not self.instance.pk and decision_type is not None:
            existing = AuthorityLimit.objects.filter(decision_type=decision_type)
            if role is not None and existing.filter(role=role).exists():
                self.add_error("role", _("This role already has limits for this type: change those."))
            elif (
                employee is not None
                and not (starts_at or ends_at)
                and existing.filter(employee=employee, starts_at__isnull=True, ends_at__isnull=True).exists()
            ):
                self.add_error("employee", _("This employee already has a standing limit for this type."))
        return cleaned


@admin.register(AuthorityLimit)
class AuthorityLimitAdmin(admin.ModelAdmin):
    form = AuthorityLimitForm
    list_display = [
        "holder",
        "decision_type",
        "per_decision_money",
        "per_day_money",
        "per_month_money",
        "per_customer_month_money",
        "starts_at",
        "ends_at",
        "window",
        "set_by",
        "updated_at",
    ]
    list_filter = [LimitHolderFilter, LimitWindowFilter, "decision_type", "role"]
    search_fields = ["employee__user__username", "role__code", "role__name", "decision_type__code"]
    list_select_related = ["decision_type", "role", "employee__user", "set_by__user"]
    autocomplete_fields = ["employee"]
    readonly_fields = ["reason", "set_by", "updated_at"]
    ordering = ["decision_type__code", "role__rank", "employee__user__username"]

    def get_fieldsets(self, request, obj=None):
        who = ["decision_type", "role", "employee"]
        rules = _(
            "An administrator who is also an employee is held to the granting rules: a personal limit only "
            "for someone below them, a role's default only for a role ranked below theirs, never their own, "
            "never above what they hold. Whoever the change concerns is told."
        )
        return [
            (None, {"fields": who, "description": rules}),
            (_("Limits"), {"fields": [*CAPS, "starts_at", "ends_at"]}),
            (_("Why"), {"fields": ["change_reason", *([] if obj is None else self.readonly_fields)]}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = operator_employee(request)
        return form

    def has_delete_permission(self, request, obj=None):
        if obj is not None:
            try:
                services.ensure_not_own_limit(limit=obj, actor=operator_employee(request))
            except DomainError:
                return False
        return super().has_delete_permission(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # The form asked the service first; should the rules refuse at saving after all (a race), the
        # whole change is rolled back and the refusal shown, never a server error.
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            self.message_user(request, str(error.message), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as error:
            self.message_user(request, str(error.message), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:delegation_authoritylimit_change", args=[object_id]))

    def save_model(self, request, obj: AuthorityLimit, form, change: bool) -> None:
        before = None
        if change:
            before = services.authority_limit_state(
                AuthorityLimit.objects.select_related("decision_type", "role", "employee__user").get(pk=obj.pk)
            )
        services.authority_limit_save(
            limit=obj,
            before=before,
            actor=operator_employee(request),
            reason=admin_reason(request, form.cleaned_data["change_reason"]),
        )

    def delete_model(self, request, obj: AuthorityLimit) -> None:
        services.authority_limit_delete(
            limit=obj, actor=operator_employee(request), reason=admin_reason(request, "deleted in the admin")
        )

    def delete_queryset(self, request, queryset: QuerySet[AuthorityLimit]) -> None:
        for limit in queryset.select_related("decision_type", "role", "employee__user"):
            try:
                self.delete_model(request, limit)
            except DomainError as error:  # e.g. an employee-operator's own limit: the rest still go
                self.message_user(request, f"{limit}: {error.message}", messages.ERROR)

    @admin.display(description=_("role or employee"))
    def holder(self, limit: AuthorityLimit) -> str:
        if limit.employee_id:
            return format_html("{} <small>({})</small>", limit.employee.username, _("personal"))
        return str(limit.role)

    @admin.display(description=_("window"))
    def window(self, limit: AuthorityLimit) -> str:
        state = limit.state_at(timezone.now())
        return "—" if state is None else str(Timed(state).label)

    @admin.display(description=_("per decision"), ordering="per_decision")
    def per_decision_money(self, limit: AuthorityLimit) -> str:
        return money(limit.per_decision)

    @admin.display(description=_("per day"), ordering="per_day")
    def per_day_money(self, limit: AuthorityLimit) -> str:
        return money(limit.per_day)

    @admin.display(description=_("per month"), ordering="per_month")
    def per_month_money(self, limit: AuthorityLimit) -> str:
        return money(limit.per_month)

    @admin.display(description=_("per customer per month"), ordering="per_customer_month")
    def per_customer_month_money(self, limit: AuthorityLimit) -> str:
        return money(limit.per_customer_month)
