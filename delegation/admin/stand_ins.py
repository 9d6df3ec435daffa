"""Delegations (stand-ins): read-only, ended early through `delegation_end`."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from delegation import services
from delegation.models import (
    Delegation,
    Timed,
)
from empower.admin import ReadOnlyAdmin, admin_reason
from empower.errors import Conflict, DomainError


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
