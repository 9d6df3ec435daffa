"""Decision types and their response times: every change goes through `decision_type_save`, audited."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin

from delegation import services
from delegation.admin.common import operator_employee
from delegation.models import (
    DecisionType,
    ResponseTime,
)
from delegation.services.catalogue import GUIDANCE_FIELDS
from empower.admin import admin_reason


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
        fields = ["code", "name", "description", "response_hours", "is_active", *GUIDANCE_FIELDS]


def _catalogue_reason(request, form) -> str:
    typed = form.cleaned_data.get("change_reason", "") if form is not None else ""
    return admin_reason(request, typed or "changed in the admin")


@admin.register(DecisionType)
class DecisionTypeAdmin(TranslationAdmin):  # name and description in every language
    """Changes (here or in the list) go through `decision_type_save`, which audits them with the response times."""

    form = DecisionTypeForm
    list_display = ["code", "name", "response_hours", "is_active"]
    list_editable = ["response_hours", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    fieldsets = [
        (None, {"fields": ["code", "name", "description", "response_hours", "is_active"]}),
        (_("Guidance beside the decision form"), {"fields": list(GUIDANCE_FIELDS)}),
        (None, {"fields": ["change_reason"]}),
    ]
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
