"""Operators' back office for feedback. Surveys, follow-ups and reports change only through the
services (single use, deadlines, audit), so their pages are read-only. The customers' e-mails live in
the organization's outbox: each survey and follow-up shows its e-mail's state (linked to the outbox
row), operators filter by it and queue again those not sent (the outbox's sweep also retries them).
"""

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from empower.admin import ReadOnlyAdmin, ReadOnlyInline, RowEmailFilter, email_state_label
from empower.services import emails_retry
from feedback import selectors
from feedback.models import Applause, FeaturedStory, FollowUp, FrictionAnswer, FrictionReport, FrictionSecond, Survey


class SurveyEmailFilter(RowEmailFilter):
    email_key_prefix = Survey.EMAIL_KEY_PREFIX


class ReplyEmailFilter(RowEmailFilter):
    email_key_prefix = FollowUp.REPLY_EMAIL_KEY_PREFIX


def _queued_message(count: int) -> str:
    return ngettext("%(count)d e-mail queued to be sent.", "%(count)d e-mails queued to be sent.", count) % {
        "count": count
    }


class EmailRetryAdmin(ReadOnlyAdmin):
    """Queueing an e-mail again is a change to the outbox: only for those who may change it."""

    def has_send_permission(self, request) -> bool:
        return request.user.has_perm("empower.change_outgoingemail")


class FollowUpInline(ReadOnlyInline):
    model = FollowUp
    fields = ["reason", "status", "assigned_to", "level", "due_at", "replied_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Survey)
class SurveyAdmin(EmailRetryAdmin):
    list_display = ["case", "team", "resolved_by", "created_at", "email_state", "answered_at", "csat", "nps"]
    list_filter = [
        "csat",
        "comment_is_complaint",
        "team",
        ("answered_at", admin.EmptyFieldListFilter),
        SurveyEmailFilter,
    ]
    list_select_related = ["case", "team", "resolved_by__user"]
    search_fields = ["case__subject", "case__customer__email", "comment"]
    raw_id_fields = ["case", "resolved_by"]
    readonly_fields = ["email_state"]
    date_hierarchy = "created_at"
    inlines = [FollowUpInline]
    actions = ["send_survey_email"]

    def get_queryset(self, request):
        return selectors.surveys_with_email(super().get_queryset(request))

    @admin.display(description=_("e-mail state"), ordering="emailed_at")
    def email_state(self, survey: Survey) -> str:
        return email_state_label(survey.email_id, survey.emailed_at, survey.email_error)

    @admin.action(description=_("Send the e-mail again (those not sent)"), permissions=["send"])
    def send_survey_email(self, request, queryset: QuerySet[Survey]) -> None:
        # Queued for a worker after commit: the request never waits on SMTP, and nothing goes twice.
        count = emails_retry(keys=map(Survey.email_key_of, queryset.values_list("pk", flat=True)))
        self.message_user(request, _queued_message(count), messages.SUCCESS)


@admin.register(FollowUp)
class FollowUpAdmin(EmailRetryAdmin):
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
        "reply_email_state",
    ]
    list_filter = ["status", "reason", "level", ReplyEmailFilter]
    list_select_related = ["case", "resolver__user", "assigned_to__user"]
    search_fields = ["case__subject", "reply", "action_taken", "customer_message"]
    raw_id_fields = ["survey", "case", "resolver", "assigned_to", "on_behalf_of", "replied_by"]
    readonly_fields = ["reply_email_state"]
    date_hierarchy = "created_at"
    actions = ["send_reply_email"]

    def get_queryset(self, request):
        return selectors.follow_ups_with_reply_email(super().get_queryset(request))

    @admin.display(description=_("e-mail state"), ordering="reply_emailed_at")
    def reply_email_state(self, follow_up: FollowUp) -> str:
        return email_state_label(follow_up.reply_email_id, follow_up.reply_emailed_at, follow_up.reply_email_error)

    @admin.action(description=_("Send the e-mail again (those not sent)"), permissions=["send"])
    def send_reply_email(self, request, queryset: QuerySet[FollowUp]) -> None:
        # Queued for a worker after commit: the request never waits on SMTP, and nothing goes twice.
        count = emails_retry(keys=map(FollowUp.reply_email_key_of, queryset.values_list("pk", flat=True)))
        self.message_user(request, _queued_message(count), messages.SUCCESS)


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
    raw_id_fields = [
        "reporter", "case", "decision", "assigned_to", "on_behalf_of", "answered_by", "change_employee",
        "change_done_by", "change_record",
    ]  # fmt: skip
    date_hierarchy = "created_at"
    inlines = [FrictionAnswerInline, FrictionSecondInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(seconds_count=Count("seconds"))

    @admin.display(description=_("seconds"), ordering="seconds_count")
    def seconds(self, report: FrictionReport) -> int:
        return report.seconds_count


@admin.register(Applause)
class ApplauseAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "ref_id", "by", "recipient", "created_at"]
    list_filter = ["kind"]
    list_select_related = ["by__user", "recipient__user"]
    raw_id_fields = ["by", "recipient"]


@admin.register(FeaturedStory)
class FeaturedStoryAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "ref_id", "employee", "team", "featured_by", "featured_at"]
    list_filter = ["kind", "team"]
    list_select_related = ["employee__user", "team", "featured_by__user"]
    raw_id_fields = ["employee", "featured_by"]
