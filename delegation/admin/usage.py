"""Usage counters, worker heartbeats and possible splits, read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from delegation.admin.common import money
from delegation.models import (
    Heartbeat,
    SplitFlag,
    UsageCounter,
)
from empower.admin import ReadOnlyAdmin


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


@admin.register(SplitFlag)
class SplitFlagAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "made_by", "decision_type", "customer", "total", "per_decision", "manager"]
    list_filter = ["decision_type", "created_at"]
    list_select_related = ["made_by__user", "manager__user", "decision_type", "customer"]
    search_fields = ["made_by__user__username", "customer__email"]
    fields = [
        "made_by",
        "manager",
        "decision_type",
        "customer",
        "decisions",
        "total",
        "per_decision",
        "currency",
        "window_minutes",
        "created_at",
    ]
    readonly_fields = fields
