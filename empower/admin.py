"""Operators' back office for the organization: teams, roles, people, customers, cases, audit,
notifications and the outbox of e-mails."""

import contextlib
import json

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db.models import Count, Exists
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationAdmin
from rest_framework.authtoken.models import TokenProxy

from empower.forms import CanonicalEmailField
from empower.models import (
    ApiToken,
    AuditRecord,
    Case,
    Customer,
    Employee,
    Notification,
    OutgoingEmail,
    Role,
    Team,
)
from empower.selectors import email_key_of_row, notifications_with_email
from empower.services import audit, emails_retry


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services: operators may look, never touch (every app's admin uses it)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """A read-only list of a row's steps (an escalation's path, a report's answers)."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def admin_reason(request, reason: str = "") -> str:
    """An operator may have no Employee: the audit reason names the admin login instead (written in
    the operator's language, like every reason they type)."""
    prefix = gettext("by admin %(username)s") % {"username": request.user.get_username()}
    return f"{prefix}: {reason}" if reason else prefix


def pretty_json(value) -> str:
    if value is None:
        return "—"
    return format_html(
        '<pre class="empower-json">{}</pre>', json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    )


@admin.register(Team)
class TeamAdmin(TranslationAdmin):  # the name in every language
    list_display = ["name", "employee_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(employee_count=Count("employees"))

    @admin.display(description=_("employees"), ordering="employee_count")
    def employee_count(self, team: Team) -> int:
        return team.employee_count


@admin.register(Role)
class RoleAdmin(TranslationAdmin):  # the name in every language
    list_display = ["code", "name", "rank"]
    search_fields = ["code", "name"]
    ordering = ["rank", "code"]

    def has_delete_permission(self, request, obj=None):
        # Deleting a role would silently take its authority limits with it (unaudited).
        return False


class EmployeeCreationForm(forms.ModelForm):
    """Create the login and the employee in one go."""

    username = forms.CharField(
        label=_("username"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("Letters, digits and @/./+/-/_ only."),
    )
    first_name = forms.CharField(label=_("first name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("e-mail"), required=False)
    password1 = forms.CharField(label=_("password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("password (again)"), strip=False, widget=forms.PasswordInput)

    class Meta:
        model = Employee
        fields = ["role", "team", "parent", "language"]

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("A user with that username already exists."))
        return username

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
        elif password1:
            user = get_user_model()(
                username=cleaned.get("username", ""),
                first_name=cleaned.get("first_name", ""),
                last_name=cleaned.get("last_name", ""),
                email=cleaned.get("email", ""),
            )
            try:
                password_validation.validate_password(password1, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def save(self, commit: bool = True) -> Employee:
        data = self.cleaned_data
        self.instance.user = get_user_model().objects.create_user(
            username=data["username"],
            password=data["password1"],
            email=data.get("email", ""),
            first_name=data.get("first_name", ""),
            last_name=data.get("last_name", ""),
        )
        return super().save(commit=commit)


ORG_FIELDS = ("role", "team", "parent", "language")


def _employee_state(employee: Employee) -> dict:
    return {
        "role": employee.role.code,
        "team": employee.team.name,
        "manager": employee.parent.username if employee.parent_id else None,
        "language": employee.language,
    }


@admin.register(Employee)
class EmployeeAdmin(admin.ModelAdmin):
    list_display = ["username", "full_name", "role", "team", "manager_name", "language", "is_active"]
    list_filter = ["role", "team", "language", "user__is_active"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    list_select_related = ["user", "role", "team", "parent__user"]
    autocomplete_fields = ["parent"]
    ordering = ["user__username"]
    add_fieldsets = [
        (_("Login"), {"fields": ["username", "first_name", "last_name", "email", "password1", "password2"]}),
        (_("Place in the organization"), {"fields": list(ORG_FIELDS)}),
    ]
    fieldsets = [
        (_("Login"), {"fields": ["user_link"]}),
        (_("Place in the organization"), {"fields": list(ORG_FIELDS)}),
    ]
    readonly_fields = ["user_link"]

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = EmployeeCreationForm
            kwargs["fields"] = list(ORG_FIELDS)
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # People leave by deactivating their login: their decisions and audit trail keep pointing at them.
        return False

    @admin.display(description=_("username"), ordering="user__username")
    def username(self, employee: Employee) -> str:
        return employee.user.username

    @admin.display(description=_("name"), ordering="user__last_name")
    def full_name(self, employee: Employee) -> str:
        return employee.user.get_full_name()

    @admin.display(description=_("manager"), ordering="parent__user__username")
    def manager_name(self, employee: Employee) -> str:
        return employee.parent.username if employee.parent_id else "—"

    @admin.display(description=_("active"), boolean=True, ordering="user__is_active")
    def is_active(self, employee: Employee) -> bool:
        return employee.user.is_active

    @admin.display(description=_("user"))
    def user_link(self, employee: Employee) -> str:
        url = reverse("admin:auth_user_change", args=[employee.user_id])
        return format_html('<a href="{}">{}</a>', url, employee.user.username)

    def save_model(self, request, obj: Employee, form, change: bool) -> None:
        # Role and manager decide a person's authority and escalation chain: record every change.
        before = None
        if change:
            before = _employee_state(Employee.objects.select_related("role", "team", "parent__user").get(pk=obj.pk))
        super().save_model(request, obj, form, change)
        after = _employee_state(obj)
        if before != after:
            audit(
                actor=getattr(request, "employee", None),
                action="employee.changed" if change else "employee.created",
                target=obj,
                before=before,
                after=after,
                reason=admin_reason(request),
                subject=obj,
            )


class CustomerAdminForm(forms.ModelForm):
    """Customers are one per mailbox: the address is stored in its canonical form, as the pages and the API
    store it, and the database refuses a second customer for the same mailbox."""

    class Meta:
        model = Customer
        fields = ["name", "email", "language"]
        field_classes = {"email": CanonicalEmailField}


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    form = CustomerAdminForm
    list_display = ["name", "email", "language", "created_at"]
    list_filter = ["language"]
    search_fields = ["name", "email"]
    date_hierarchy = "created_at"


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "customer", "team", "assigned_to", "status", "created_at"]
    list_display_links = ["id", "subject"]
    list_filter = ["status", "team"]
    search_fields = ["=id", "subject", "customer__name", "customer__email"]
    list_select_related = ["customer", "team", "assigned_to__user"]
    autocomplete_fields = ["customer", "assigned_to"]
    date_hierarchy = "created_at"
    # Opening and resolving go through the services (audited, customer surveyed); the rest may be fixed here.
    readonly_fields = ["created_by", "status", "resolution_note", "resolved_by", "resolved_at", "created_at"]
    fields = ["customer", "team", "assigned_to", "subject", "description", *readonly_fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """Append-only: everyone, superusers included, may only read."""

    list_display = ["created_at", "action", "target", "actor", "on_behalf_of", "subject", "short_reason"]
    list_filter = [
        "action",
        "target_type",
        ("actor", admin.RelatedOnlyFieldListFilter),
        ("subject", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = [
        "action",
        "target_type",
        "=target_id",
        "reason",
        "actor__user__username",
        "subject__user__username",
    ]
    list_select_related = ["actor__user", "on_behalf_of__user", "subject__user"]
    date_hierarchy = "created_at"
    fields = [
        "created_at",
        "action",
        "target",
        "actor",
        "on_behalf_of",
        "subject",
        "reason",
        "before_pretty",
        "after_pretty",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("target"), ordering="target_type")
    def target(self, record: AuditRecord) -> str:
        label = f"{record.target_type} #{record.target_id}"
        app_label, _dot, model = record.target_type.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model}_change", args=[record.target_id])
        except NoReverseMatch:
            return label
        return format_html('<a href="{}">{}</a>', url, label)

    @admin.display(description=_("reason"))
    def short_reason(self, record: AuditRecord) -> str:
        return record.reason if len(record.reason) <= 80 else f"{record.reason[:79]}…"

    @admin.display(description=_("before"))
    def before_pretty(self, record: AuditRecord) -> str:
        return pretty_json(record.before)

    @admin.display(description=_("after"))
    def after_pretty(self, record: AuditRecord) -> str:
        return pretty_json(record.after)


class ReadFilter(admin.SimpleListFilter):
    title = _("read")
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("no", _("Unread")), ("yes", _("Read"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(read_at__isnull=self.value() == "no")
        return queryset


class EmailStateFilter(admin.SimpleListFilter):
    """Failed work for operators: e-mails not sent (still being tried, or given up on)."""

    title = _("e-mail state")
    parameter_name = "email"

    def lookups(self, request, model_admin):
        return [("unsent", _("E-mail not sent")), ("failed", _("E-mail failed")), ("sent", _("E-mail sent"))]

    def state(self) -> str | None:
        """ "unsent", "failed" or "sent": the names of the outbox queryset methods that say what each
        state means (one home for the rule, used by every list that filters by it)."""
        return self.value() if self.value() in ("unsent", "failed", "sent") else None

    def queryset(self, request, queryset):
        state = self.state()
        return getattr(queryset, state)() if state else queryset


class RowEmailFilter(EmailStateFilter):
    """The same filter on a model whose rows each queue one outbox e-mail keyed
    `email_key_prefix` + pk (subclass and set the prefix, e.g. "survey:")."""

    email_key_prefix = ""

    def queryset(self, request, queryset):
        state = self.state()
        if state is None:
            return queryset
        emails = getattr(OutgoingEmail.objects, state)()
        return queryset.filter(Exists(emails.filter(key=email_key_of_row(self.email_key_prefix))))


class NotificationEmailFilter(RowEmailFilter):
    email_key_prefix = Notification.EMAIL_KEY_PREFIX


def _emails_queued_message(count: int) -> str:
    return ngettext("%(count)d e-mail queued to be sent.", "%(count)d e-mails queued to be sent.", count) % {
        "count": count
    }


def email_state_label(email_id: int | None, sent_at, error: str | None) -> str:
    """An outbox e-mail's state for an admin list, linked to its outbox row; "—" where none was queued
    (e.g. the recipient had no address). Every admin that shows a row's e-mail uses it."""
    if email_id is None:
        return "—"
    if sent_at is not None:
        label = gettext("sent %(when)s") % {"when": date_format(localtime(sent_at), "SHORT_DATETIME_FORMAT")}
    elif error:
        label = gettext("failed: %(error)s") % {"error": error}
    else:
        label = gettext("not sent yet")
    return format_html('<a href="{}">{}</a>', reverse("admin:empower_outgoingemail_change", args=[email_id]), label)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Notifications are written by the services; operators read them (and may tidy them away),
    see whether each one's e-mail went (its outbox row), and send again those that could not be sent."""

    list_display = ["created_at", "recipient", "short_message", "read_at", "email_state", "email_attempts"]
    list_filter = [NotificationEmailFilter, ReadFilter, ("recipient", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["message", "key", "recipient__user__username"]
    list_select_related = ["recipient__user"]
    date_hierarchy = "created_at"
    readonly_fields = ["recipient", "key", "message", "url", "created_at", "read_at", "email_state", "email_attempts"]
    fields = readonly_fields
    actions = ["send_email_again"]

    def get_queryset(self, request):
        return notifications_with_email(super().get_queryset(request))

    def has_send_permission(self, request) -> bool:
        return request.user.has_perm("empower.change_outgoingemail")

    @admin.action(description=_("Send the e-mail again (those not sent)"), permissions=["send"])
    def send_email_again(self, request, queryset) -> None:
        # Queued for a worker after commit: the request never waits on SMTP, and nothing goes twice.
        count = emails_retry(keys=map(Notification.email_key_of, queryset.values_list("pk", flat=True)))
        self.message_user(request, _emails_queued_message(count), messages.SUCCESS)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=_("message"))
    def short_message(self, notification: Notification) -> str:
        return notification.message if len(notification.message) <= 80 else f"{notification.message[:79]}…"

    @admin.display(description=_("e-mail state"), ordering="email_sent_at")
    def email_state(self, notification: Notification) -> str:
        return email_state_label(notification.email_id, notification.email_sent_at, notification.email_error)

    @admin.display(description=_("e-mail attempts"))
    def email_attempts(self, notification: Notification) -> int | str:
        return "—" if notification.email_attempts is None else notification.email_attempts


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    """The outbox: every e-mail to a person, written by the services and sent by workers. Read-only;
    operators find what failed (with the last error and attempts) and send it again."""

    list_display = ["created_at", "to", "subject", "language", "state", "attempts", "sent_at", "short_error"]
    list_filter = [EmailStateFilter, "language"]
    search_fields = ["=key", "key", "to", "subject"]
    date_hierarchy = "created_at"
    fields = [
        "key",
        "to",
        "subject",
        "language",
        "body",
        "created_at",
        "send_until",
        "claimed_at",
        "sent_at",
        "attempts",
        "last_error",
    ]
    readonly_fields = fields
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        # The row is the once-only key of its event: deleting it would let the event e-mail again.
        return False

    def has_send_permission(self, request) -> bool:
        return request.user.has_perm("empower.change_outgoingemail")

    @admin.action(description=_("Send again (those not sent)"), permissions=["send"])
    def send_again(self, request, queryset) -> None:
        # Queued for a worker after commit: the request never waits on SMTP, and nothing goes twice.
        count = emails_retry(keys=queryset.values_list("key", flat=True))
        self.message_user(request, _emails_queued_message(count), messages.SUCCESS)

    @admin.display(description=_("state"))
    def state(self, email: OutgoingEmail) -> str:
        if email.sent_at is not None:
            return gettext("sent")
        return gettext("failed") if email.last_error else gettext("not sent yet")

    @admin.display(description=_("last error"))
    def short_error(self, email: OutgoingEmail) -> str:
        return email.last_error if len(email.last_error) <= 80 else f"{email.last_error[:79]}…"


# API tokens: administrators see and revoke everyone's (never the keys); DRF's own token table is no
# longer read (its tokens were carried over by a migration), so it is not offered.
with contextlib.suppress(NotRegistered):
    admin.site.unregister(TokenProxy)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "expires_at", "ends_with_login")
    list_filter = ("created_at", "expires_at")
    search_fields = ("user__username", "name", "prefix")
    list_select_related = ("user",)
    readonly_fields = ("user", "prefix", "name", "created_at", "expires_at")
    fields = readonly_fields
    actions = ["revoke"]

    @admin.display(boolean=True, description=_("ends with the login"))
    def ends_with_login(self, token: ApiToken) -> bool:
        return bool(token.session_key)

    def has_add_permission(self, request) -> bool:
        return False  # a key is shown once, to its owner: they issue their own

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"), permissions=["delete"])
    def revoke(self, request, queryset) -> None:
        count = queryset.delete()[0]
        self.message_user(request, ngettext("%d token revoked.", "%d tokens revoked.", count) % count)
