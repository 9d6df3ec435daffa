"""Operators' back office for feedback. Surveys, follow-ups and reports change only through the
services (single use, deadlines, audit), so their pages are read-only; the actions send again a
survey or reply e-mail that could not be sent (the periodic task also retries them).
"""

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from feedback import services
from feedback.models import FollowUp, FrictionAnswer, FrictionReport, FrictionSecond, Survey


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class FollowUpInline(ReadOnlyInline):
    model = FollowUp
    fields = ["reason", "status", "assigned_to", "level", "due_at", "replied_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = ["case", "team", "resolved_by", "created_at", "emailed_at", "answered_at", "csat", "nps"]
    list_filter = ["csat", "comment_is_complaint", "team", ("answered_at", admin.EmptyFieldListFilter)]
    list_select_related = ["case", "team", "resolved_by__user"]
    search_fields = ["case__subject", "case__customer__email", "comment"]
    raw_id_fields = ["case", "resolved_by"]
    date_hierarchy = "created_at"
    inlines = [FollowUpInline]
    actions = ["send_survey_email"]

    @admin.action(description=_("Send the survey e-mail (where it was not sent)"))
    def send_survey_email(self, request, queryset: QuerySet[Survey]) -> None:
        sent = sum(1 for pk in queryset.values_list("pk", flat=True) if services.send_survey_email(survey_id=pk))
        self.message_user(
            request,
            ngettext("%(count)d survey e-mail sent.", "%(count)d survey e-mails sent.", sent) % {"count": sent},
            messages.SUCCESS,
        )


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "case",
        "reason",
        "status",
        "resolver",
        "assigned_to",
        "level",
        "due_at",
        "replied_at",
        "reply_emailed_at",  # empty on a reply: its e-mail has not gone out yet
    ]
    list_filter = ["status", "reason", "level", ("reply_emailed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["case", "resolver__user", "assigned_to__user"]
    search_fields = ["case__subject", "reply", "action_taken", "customer_message"]
    raw_id_fields = ["survey", "case", "resolver", "assigned_to", "on_behalf_of", "replied_by"]
    date_hierarchy = "created_at"
    actions = ["send_reply_email"]

    @admin.action(description=_("Send the reply e-mail (where it was not sent)"))
    def send_reply_email(self, request, queryset: QuerySet[FollowUp]) -> None:
        sent = sum(1 for pk in queryset.values_list("pk", flat=True) if services.send_reply_email(follow_up_id=pk))
        self.message_user(
            request,
            ngettext("%(count)d reply e-mail sent.", "%(count)d reply e-mails sent.", sent) % {"count": sent},
            messages.SUCCESS,
        )


class FrictionAnswerInline(ReadOnlyInline):
    model = FrictionAnswer
    fields = ["by", "outcome", "note", "created_at"]
    readonly_fields = fields


class FrictionSecondInline(ReadOnlyInline):
    model = FrictionSecond
    fields = ["employee", "note", "created_at"]
    readonly_fields = fields


@admin.register(FrictionReport)
class FrictionReportAdmin(ReadOnlyAdmin):
    list_display = ["id", "rule_label", "reporter", "team", "status", "assigned_to", "level", "due_at", "seconds"]
    list_filter = ["status", "team", "decision_type", "limit"]
    list_select_related = ["reporter__user", "team", "assigned_to__user", "decision_type"]
    search_fields = ["rule_text", "would_have_done", "answer"]
    raw_id_fields = ["reporter", "case", "decision", "assigned_to", "on_behalf_of", "answered_by"]
    date_hierarchy = "created_at"
    inlines = [FrictionAnswerInline, FrictionSecondInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(seconds_count=Count("seconds"))

    @admin.display(description=_("seconds"), ordering="seconds_count")
    def seconds(self, report: FrictionReport) -> int:
        return report.seconds_count
