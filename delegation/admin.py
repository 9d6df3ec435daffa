"""Operators' back office for authority: types, limits, delegations, decisions and escalations.

Decisions and escalations change only through the services, so their pages are read-only; limit
changes, decision types, response times and ending a delegation go through audited services too.

Over 500 lines on purpose: one ModelAdmin per authority model, each small; Django's admin looks for
them in this module, and splitting by model would only scatter the registrations.
"""

from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.validators import MinValueValidator
from django.db.models import QuerySet
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from delegation import services
from delegation.models import (
    CAPS,
    AuthorityLimit,
    Decision,
    DecisionType,
    Delegation,
    Escalation,
    EscalationStep,
    Heartbeat,
    ResponseTime,
    Timed,
    UsageCounter,
)
from delegation.selectors import escalations_waiting_for_routing
from empower.admin import admin_reason, pretty_json
from empower.errors import Conflict, DomainError
from empower.forms import add_domain_error
from empower.models import Employee
from empower.selectors import employee_for_user


def money(amount, currency: str | None = None) -> str:
    if amount is None:
        return str(_("no limit"))
    return f"{amount:.2f} {currency or settings.EMPOWER_CURRENCY}"


def operator_employee(request) -> Employee | None:
    """The admin user's Employee, if they are one (then the granting rules hold for them); None for an operator."""
    return getattr(request, "employee", None) or employee_for_user(user=request.user)


def admin_link(obj, label=None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services: operators may look, never touch."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Decision types ----------------------------------------------------------------------------


class ResponseTimeInline(admin.TabularInline):
    model = ResponseTime
    extra = 0


class DecisionTypeForm(forms.ModelForm):
    change_reason = forms.CharField(
        label=_("Reason for this change"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Recorded in the audit trail with the values before and after."),
    )

    class Meta:
        model = DecisionType
        fields = ["code", "name", "description", "response_hours", "is_active"]


def _catalogue_reason(request, form) -> str:
    typed = form.cleaned_data.get("change_reason", "") if form is not None else ""
    return admin_reason(request, typed or "changed in the admin")


@admin.register(DecisionType)
class DecisionTypeAdmin(admin.ModelAdmin):
    """Changes (here or in the list) go through `decision_type_save`, which audits them with the response times."""

    form = DecisionTypeForm
    list_display = ["code", "name", "response_hours", "is_active"]
    list_editable = ["response_hours", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    fields = ["code", "name", "description", "response_hours", "is_active", "change_reason"]
    inlines = [ResponseTimeInline]

    def has_delete_permission(self, request, obj=None):
        # Deleting a type would take its limits with it, unaudited: deactivate it instead.
        return False

    def save_model(self, request, obj, form, change) -> None:
        pass  # saved in `save_related`, with its response times, by the service: one audit record

    def save_related(self, request, form, formsets, change) -> None:
        changed, removed = [], []
        for formset in formsets:
            changed += formset.save(commit=False)
            removed += formset.deleted_objects
        services.decision_type_save(
            decision_type=form.instance,
            response_times=changed,
            removed=removed,
            actor=operator_employee(request),
            reason=_catalogue_reason(request, form),
        )


@admin.register(ResponseTime)
class ResponseTimeAdmin(admin.ModelAdmin):
    list_display = ["decision_type", "level", "hours"]
    list_filter = ["decision_type"]
    list_select_related = ["decision_type"]
    search_fields = ["decision_type__code", "decision_type__name"]

    def save_model(self, request, obj, form, change) -> None:
        services.decision_type_save(
            decision_type=obj.decision_type,
            response_times=[obj],
            actor=operator_employee(request),
            reason=admin_reason(request, "response time changed in the admin"),
        )

    def delete_model(self, request, obj) -> None:
        services.decision_type_save(
            decision_type=obj.decision_type,
            removed=[obj],
            actor=operator_employee(request),
            reason=admin_reason(request, "response time removed in the admin"),
        )

    def delete_queryset(self, request, queryset) -> None:
        for response_time in queryset.select_related("decision_type"):
            self.delete_model(request, response_time)


# --- Authority limits --------------------------------------------------------------------------


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


# --- Delegations -------------------------------------------------------------------------------


class DelegationStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return Timed.choices

    def queryset(self, request, queryset):
        if self.value() in Timed.values:
            return queryset.in_state(self.value(), timezone.now())
        return queryset


@admin.register(Delegation)
class DelegationAdmin(ReadOnlyAdmin):
    """Employees hand over authority in the app (with its checks); operators may end one early."""

    list_display = ["delegator", "delegate", "types", "starts_at", "ends_at", "ended_at", "ended_by", "state"]
    list_filter = [DelegationStateFilter, "decision_types"]
    search_fields = ["delegator__user__username", "delegate__user__username", "reason"]
    list_select_related = ["delegator__user", "delegate__user", "ended_by__user"]
    date_hierarchy = "starts_at"
    fields = [
        "delegator",
        "delegate",
        "decision_types",
        "starts_at",
        "ends_at",
        "ended_at",
        "ended_by",
        "reason",
        "created_by",
        "created_at",
    ]
    readonly_fields = fields
    actions = ["end_now"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("decision_types")

    def has_end_permission(self, request) -> bool:
        return request.user.has_perm("delegation.change_delegation")

    @admin.display(description=_("decision types"))
    def types(self, delegation: Delegation) -> str:
        return ", ".join(t.code for t in delegation.decision_types.all())

    @admin.display(description=_("state"))
    def state(self, delegation: Delegation) -> str:
        return str(Timed(delegation.state_at(timezone.now())).label)

    @admin.action(description=_("End now"), permissions=["end"])
    def end_now(self, request, queryset: QuerySet[Delegation]) -> None:
        ended = skipped = 0
        for delegation in queryset:
            try:
                services.delegation_end(
                    delegation=delegation,
                    actor=getattr(request, "employee", None),
                    reason=admin_reason(request, "ended in the admin"),
                )
                ended += 1
            except Conflict:
                skipped += 1
            except DomainError as error:  # e.g. an employee-operator not above the delegator
                self.message_user(request, f"{delegation}: {error.message}", messages.ERROR)
        if ended:
            self.message_user(
                request,
                ngettext("%(count)d delegation ended.", "%(count)d delegations ended.", ended) % {"count": ended},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext("%(count)d delegation had already ended.", "%(count)d delegations had already ended.", skipped)
                % {"count": skipped},
                messages.WARNING,
            )


# --- Usage, heartbeats -------------------------------------------------------------------------


@admin.register(UsageCounter)
class UsageCounterAdmin(ReadOnlyAdmin):
    list_display = ["key", "amount_money"]
    search_fields = ["key"]
    fields = ["key", "amount"]
    readonly_fields = fields

    @admin.display(description=_("approved amount"), ordering="amount")
    def amount_money(self, counter: UsageCounter) -> str:
        return money(counter.amount)


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "seen_at"]
    fields = ["name", "seen_at"]
    readonly_fields = fields


# --- Decisions and escalations ----------------------------------------------------------------


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    """Decisions change only through the services (submit, approve, reject, withdraw)."""

    list_display = [
        "id",
        "case",
        "customer",
        "decision_type",
        "made_by",
        "amount_money",
        "final_amount_money",
        "status",
        "within_authority",
        "approved_by",
        "created_at",
    ]
    list_filter = ["status", "within_authority", "decision_type"]
    search_fields = [
        "=id",
        "=case__id",
        "case__customer__name",
        "case__customer__email",
        "made_by__user__username",
        "rationale",
    ]
    list_select_related = ["case__customer", "decision_type", "made_by__user", "approved_by__user"]
    date_hierarchy = "created_at"
    fields = [
        "case_link",
        "decision_type",
        "made_by",
        "amount_money",
        "final_amount_money",
        "status",
        "within_authority",
        "exceeded",
        "rationale",
        "approved_by",
        "authority_of",
        "escalation_link",
        "limits_pretty",
        "approval_pretty",
        "idempotency_key",
        "created_at",
        "decided_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("customer"), ordering="case__customer__name")
    def customer(self, decision: Decision) -> str:
        return str(decision.case.customer)

    @admin.display(description=_("case"))
    def case_link(self, decision: Decision) -> str:
        return admin_link(decision.case)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_money(self, decision: Decision) -> str:
        return money(decision.amount, decision.currency)

    @admin.display(description=_("final amount"), ordering="final_amount")
    def final_amount_money(self, decision: Decision) -> str:
        return "—" if decision.final_amount is None else money(decision.final_amount, decision.currency)

    @admin.display(description=_("escalation"))
    def escalation_link(self, decision: Decision) -> str:
        escalation = Escalation.objects.filter(decision=decision).first()
        return admin_link(escalation, f"#{escalation.pk} ({escalation.get_status_display()})") if escalation else "—"

    @admin.display(description=_("limits that judged it"))
    def limits_pretty(self, decision: Decision) -> str:
        return pretty_json(decision.limits_snapshot)

    @admin.display(description=_("limits that approved it"))
    def approval_pretty(self, decision: Decision) -> str:
        # The approver's limits and use at approval; the maker's stay in "limits that judged it".
        return pretty_json(decision.approval_snapshot) if decision.approval_snapshot else "—"


class EscalationStepInline(admin.TabularInline):
    """The path an escalation took: read-only, written by routing and the approvers."""

    model = EscalationStep
    fields = ["created_at", "level", "status", "assigned_to", "reason"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("assigned_to__user")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class StuckWorkFilter(admin.SimpleListFilter):
    """What needs an operator: routing that never happened, deadlines missed, nobody to approve."""

    title = _("stuck work")
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        seconds = settings.EMPOWER_ROUTING_GRACE_SECONDS
        if seconds % 60:
            waiting = _("Waiting for routing > %(seconds)d seconds") % {"seconds": seconds}
        else:
            waiting = _("Waiting for routing > %(minutes)d minutes") % {"minutes": seconds // 60}
        return [
            ("any", _("All stuck work")),
            ("routing", waiting),
            ("overdue", _("Overdue")),
            ("unroutable", _("Unroutable")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        routing = []
        if value in ("any", "routing"):
            # The same grace the sweep uses before it routes again.
            grace = timedelta(seconds=settings.EMPOWER_ROUTING_GRACE_SECONDS)
            routing = escalations_waiting_for_routing(longer_than=grace)
        overdue = Escalation.overdue_q(timezone.now())  # what the review moves up
        if value == "routing":
            return queryset.filter(pk__in=routing)
        if value == "overdue":
            return queryset.filter(overdue)
        if value == "unroutable":
            return queryset.filter(status=Escalation.Status.UNROUTABLE)
        if value == "any":
            return (
                queryset.filter(pk__in=routing)
                | queryset.filter(overdue)
                | queryset.filter(status=Escalation.Status.UNROUTABLE)
            )
        return queryset


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    """Escalations move only through routing and the approvers; operators watch for stuck work."""

    list_display = [
        "id",
        "decision_type",
        "amount",
        "requested_by",
        "customer",
        "status",
        "level",
        "assigned_to",
        "due_at",
        "routing_since",
    ]
    list_filter = [StuckWorkFilter, "status", "level", "decision__decision_type"]
    search_fields = [
        "=id",
        "=decision__case__id",
        "decision__case__customer__name",
        "decision__case__customer__email",
        "decision__made_by__user__username",
        "assigned_to__user__username",
    ]
    list_select_related = [
        "decision__decision_type",
        "decision__made_by__user",
        "decision__case__customer",
        "assigned_to__user",
    ]
    date_hierarchy = "created_at"
    fields = [
        "decision_link",
        "requested_by",
        "status",
        "level",
        "exceeded",
        "route_above",
        "approver",
        "assigned_to",
        "due_at",
        "note",
        "decided_by",
        "decided_at",
        "created_at",
        "routing_since",
        "routed_at",
    ]
    readonly_fields = fields
    inlines = [EscalationStepInline]
    actions = ["route_now", "review_now", "route_again"]

    def has_route_permission(self, request) -> bool:
        return request.user.has_perm("delegation.change_escalation")

    @admin.display(description=_("decision type"), ordering="decision__decision_type__code")
    def decision_type(self, escalation: Escalation) -> str:
        return str(escalation.decision.decision_type)

    @admin.display(description=_("amount"), ordering="decision__amount")
    def amount(self, escalation: Escalation) -> str:
        return money(escalation.decision.amount, escalation.decision.currency)

    @admin.display(description=_("requested by"), ordering="decision__made_by__user__username")
    def requested_by(self, escalation: Escalation) -> str:
        return escalation.decision.made_by.username

    @admin.display(description=_("customer"), ordering="decision__case__customer__name")
    def customer(self, escalation: Escalation) -> str:
        return str(escalation.decision.case.customer)

    @admin.display(description=_("decision"))
    def decision_link(self, escalation: Escalation) -> str:
        return admin_link(escalation.decision)

    @admin.action(description=_("Route now (those waiting for routing)"), permissions=["route"])
    def route_now(self, request, queryset: QuerySet[Escalation]) -> None:
        # The same service the routing task and the sweep call; it acts only on those still in "routing".
        routed = sum(
            1
            for pk in queryset.filter(status=Escalation.Status.ROUTING).values_list("pk", flat=True)
            if services.escalation_route(escalation_id=pk) is not None
        )
        self.message_user(
            request,
            ngettext("%(count)d escalation routed.", "%(count)d escalations routed.", routed) % {"count": routed},
        )

    @admin.action(description=_("Move up if overdue or no longer covered"), permissions=["route"])
    def review_now(self, request, queryset: QuerySet[Escalation]) -> None:
        moved = sum(
            1
            for pk in queryset.filter(status=Escalation.Status.ASSIGNED).values_list("pk", flat=True)
            if services.escalation_review(escalation_id=pk)
        )
        self.message_user(
            request,
            ngettext("%(count)d escalation moved up.", "%(count)d escalations moved up.", moved) % {"count": moved},
        )

    @admin.action(
        description=_("Route again (unroutable ones, once someone's authority covers them)"), permissions=["route"]
    )
    def route_again(self, request, queryset: QuerySet[Escalation]) -> None:
        # Audited with a step on the path; the routing task then runs after commit (the sweep if the broker is down).
        rerouted = 0
        for pk in queryset.filter(status=Escalation.Status.UNROUTABLE).values_list("pk", flat=True):
            try:
                services.escalation_reroute(
                    escalation_id=pk,
                    actor=getattr(request, "employee", None),
                    reason=admin_reason(request, str(_("routed again in the admin"))),
                )
                rerouted += 1
            except DomainError as error:  # e.g. routed again by someone else meanwhile
                self.message_user(request, f"#{pk}: {error.message}", messages.WARNING)
        self.message_user(
            request,
            ngettext(
                "%(count)d escalation sent back to routing.", "%(count)d escalations sent back to routing.", rerouted
            )
            % {"count": rerouted},
        )


@admin.register(EscalationStep)
class EscalationStepAdmin(ReadOnlyAdmin):
    list_display = ["escalation", "level", "status", "assigned_to", "reason", "created_at"]
    list_filter = ["status", "reason"]
    search_fields = ["=escalation__id", "assigned_to__user__username"]
    list_select_related = ["escalation__decision__decision_type", "escalation__assigned_to__user", "assigned_to__user"]
    date_hierarchy = "created_at"
    fields = ["escalation", "level", "status", "assigned_to", "reason", "created_at"]
    readonly_fields = fields
