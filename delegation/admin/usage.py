"""Usage counters and worker heartbeats, read-only."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from delegation.admin.common import money
from delegation.models import (
    Heartbeat,
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
