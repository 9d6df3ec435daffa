"""Decisions and escalations, read-only; routing, moving up and routing again through the services."""

from datetime import timedelta

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from delegation import services
from delegation.admin.common import admin_link, money
from delegation.models import (
    Decision,
    Escalation,
    EscalationStep,
)
from delegation.selectors import escalations_waiting_for_routing
from empower.admin import ReadOnlyAdmin, ReadOnlyInline, admin_reason, pretty_json
from empower.errors import DomainError


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
    # The customer is the decision's own column (kept from its case).
    list_select_related = ["case", "customer", "decision_type", "made_by__user", "approved_by__user"]
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


class EscalationStepInline(ReadOnlyInline):
    """The path an escalation took: read-only, written by routing and the approvers."""

    model = EscalationStep
    fields = ["created_at", "level", "status", "assigned_to", "reason"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("assigned_to__user")


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
