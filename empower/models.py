from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from tree_queries.fields import TreeNodeForeignKey
from tree_queries.models import TreeNode

from empower.errors import Conflict


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class Role(models.Model):
    """A job role. A higher rank sits higher in the organization."""

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    rank = models.PositiveSmallIntegerField(_("rank"), default=0)

    class Meta:
        ordering = ["rank", "code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name


class Employee(TreeNode):
    """One per Django user. `parent` is the manager: the chain of command is a tree."""

    # TreeNode names the tree's foreign key `parent`; for us it is the manager.
    parent = TreeNodeForeignKey(
        "self",
        verbose_name=_("manager"),
        related_name="reports",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="employee"
    )
    role = models.ForeignKey(Role, verbose_name=_("role"), on_delete=models.PROTECT, related_name="employees")
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="employees")
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("employee")
        verbose_name_plural = _("employees")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.username

    @property
    def manager(self) -> "Employee | None":
        return self.parent

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def is_active(self) -> bool:
        return self.user.is_active


class Customer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [models.UniqueConstraint(Lower("email"), name="customer_email_unique_ci")]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def first_name(self) -> str:
        return self.name.split()[0] if self.name.strip() else ""


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        RESOLVED = "resolved", _("Resolved")

    # The legal moves: an open case is resolved; nothing moves a resolved one (yet).
    TRANSITIONS = {Status.OPEN: {Status.RESOLVED}}

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="cases")
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="cases")
    assigned_to = models.ForeignKey(
        Employee, verbose_name=_("assigned to"), on_delete=models.PROTECT, related_name="assigned_cases"
    )
    created_by = models.ForeignKey(
        Employee, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="created_cases"
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    resolved_by = models.ForeignKey(
        Employee,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        related_name="resolved_cases",
        null=True,
        blank=True,
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        indexes = [
            models.Index(fields=["team", "status", "-created_at"], name="case_team_status"),
            models.Index(fields=["assigned_to", "status"], name="case_assignee_status"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def move_to(self, status: str, **changes) -> None:
        """Move the case (e.g. resolve it) with the fields that change with it; an illegal move (a
        resolved case resolved again) is refused with `Conflict` and changes nothing."""
        if status not in self.TRANSITIONS.get(self.status, ()):
            raise Conflict(_("This case is already resolved."), code="case_resolved")
        for name, value in changes.items():
            setattr(self, name, value)
        self.status = status
        self.save(update_fields=["status", "updated_at", *changes])

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class AuditRecord(models.Model):
    """An append-only record of a change: who, what, before, after, when and why."""

    actor = models.ForeignKey(
        Employee, verbose_name=_("actor"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    on_behalf_of = models.ForeignKey(
        Employee,
        verbose_name=_("on behalf of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=60, db_index=True)
    target_type = models.CharField(_("target type"), max_length=60)
    target_id = models.CharField(_("target id"), max_length=60)
    subject = models.ForeignKey(
        Employee,
        verbose_name=_("employee concerned"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit_records",
        help_text=_("The employee whose authority or work the change concerns."),
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    # Set only on records of events that happen once (see `services.audit_once`): the unique index
    # lets exactly one of two concurrent writers record the event.
    once_key = models.CharField(_("once-only key"), max_length=255, null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
            models.Index(fields=["subject", "created_at"], name="audit_subject_time"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["once_key"], condition=models.Q(once_key__isnull=False), name="audit_event_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}#{self.target_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit records are append-only.")
        super().save(*args, **kwargs)


class Notification(models.Model):
    """An in-app message; `key` makes one event notify each person once. Its e-mail, if the
    recipient has an address, is the outbox row keyed `email_key`."""

    EMAIL_KEY_PREFIX = "notification:"

    recipient = models.ForeignKey(
        Employee, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    key = models.CharField(_("event key"), max_length=200)
    message = models.TextField(_("message"))
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_event")]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]

    def __str__(self) -> str:
        return self.message[:60]

    @property
    def email_key(self) -> str:
        return self.email_key_of(self.pk)

    @classmethod
    def email_key_of(cls, pk: int) -> str:
        """The outbox key of notification `pk`'s e-mail."""
        return f"{cls.EMAIL_KEY_PREFIX}{pk}"


class OutgoingEmailQuerySet(models.QuerySet):
    """The states operators filter by; the admin of the outbox and of each sender use these."""

    def unsent(self) -> "OutgoingEmailQuerySet":
        return self.filter(sent_at__isnull=True)

    def failed(self) -> "OutgoingEmailQuerySet":
        """Unsent, and the last attempt failed (still being retried, or given up on)."""
        return self.unsent().exclude(last_error="")

    def sent(self) -> "OutgoingEmailQuerySet":
        return self.filter(sent_at__isnull=False)


class OutgoingEmail(models.Model):
    """One e-mail to one address, queued by a service and sent by a worker, exactly once.

    `key` names the event ("notification:12", "survey:7"): the same event never queues two mails.
    Subject and body are rendered by the caller, in the recipient's language. A worker claims the
    row (`claimed_at`) before sending and marks it sent only afterwards; a claim left by a worker
    that died mid-send expires, and the periodic re-send tries again until `send_until`.
    """

    key = models.CharField(_("event key"), max_length=200, unique=True)
    to = models.EmailField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    language = models.CharField(_("language"), max_length=10, choices=settings.LANGUAGES, default="en")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    send_until = models.DateTimeField(_("send until"), help_text=_("The periodic re-send gives up after this."))
    claimed_at = models.DateTimeField(_("being sent since"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    objects = OutgoingEmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        constraints = [models.CheckConstraint(condition=~models.Q(key=""), name="outgoing_email_has_key")]
        indexes = [
            # The periodic re-send looks only at e-mails not sent yet, oldest first.
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="outgoing_email_unsent"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None
