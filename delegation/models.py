"""The authority tables: decision types, limits, delegations, usage counters, decisions, escalations.

Over 500 lines on purpose: one module per app is Django's convention, and the rules about one row
(constraints, the status pipelines, scheduled/running/ended) belong beside the fields they read.
"""

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from empower.errors import Conflict
from empower.models import NOTE_MAX, Case, Customer, Employee, Role
from empower.money import format_money

MONEY = {"max_digits": 14, "decimal_places": 2}
CAPS = ("per_decision", "per_day", "per_month", "per_customer_month")


class Timed(models.TextChoices):
    """Where a stand-in or a temporary limit stands at a moment."""

    SCHEDULED = "scheduled", _("Not started yet")
    RUNNING = "active", _("Active now")  # "active": the word the API and the pages already answer
    ENDED = "ended", _("Ended")


def _refuse_move(row, status) -> Conflict:
    labels = dict(type(row).Status.choices)
    return Conflict(
        _("This %(what)s cannot move from “%(current)s” to “%(new)s”.")
        % {
            "what": row._meta.verbose_name,
            "current": labels.get(row.status, _("new")),
            "new": labels.get(status, status),
        },
        code="illegal_move",
    )


class DecisionType(models.Model):
    # The discretionary budget ("wow"): a gesture beyond what is owed, decided like any type, but it
    # must come with its story (what the customer needed, what was done); staff share these stories.
    WOW = "wow"

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    is_active = models.BooleanField(_("active"), default=True)
    response_hours = models.PositiveSmallIntegerField(
        _("response time (hours)"),
        default=4,
        # Zero would make every escalation due at once: it would climb a level every minute.
        validators=[MinValueValidator(1)],
        help_text=_("Working hours an approver has before it moves up."),
    )
    # Guidance shown beside the decision form (managers and administrators edit it).
    purpose = models.TextField(_("what it is for"), blank=True)
    good_examples = models.TextField(_("good examples"), blank=True)
    rationale_hint = models.TextField(_("what to write in the rationale"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("decision type")
        verbose_name_plural = _("decision types")
        constraints = [
            models.CheckConstraint(condition=Q(response_hours__gt=0), name="decision_type_response_positive")
        ]

    def __str__(self) -> str:
        return str(self.name)

    @property
    def requires_story(self) -> bool:
        return self.code == self.WOW


class ResponseTime(models.Model):
    """How many working hours an approver at one level has before an escalation moves up."""

    decision_type = models.ForeignKey(
        DecisionType, verbose_name=_("decision type"), on_delete=models.CASCADE, related_name="response_times"
    )
    level = models.PositiveSmallIntegerField(_("level"))
    hours = models.PositiveSmallIntegerField(_("working hours"), validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["decision_type", "level"]
        verbose_name = _("response time")
        verbose_name_plural = _("response times")
        constraints = [
            models.UniqueConstraint(fields=["decision_type", "level"], name="one_response_time_per_level"),
            models.CheckConstraint(condition=Q(hours__gt=0), name="response_time_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.decision_type} L{self.level}: {self.hours} h"


class Heartbeat(models.Model):
    """When a periodic task last ran on a worker: /healthz/ reads it."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("heartbeat")
        verbose_name_plural = _("heartbeats")

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class LimitQuerySet(models.QuerySet):
    def active_at(self, at):
        return self.filter(
            Q(starts_at__isnull=True) | Q(starts_at__lte=at), Q(ends_at__isnull=True) | Q(ends_at__gt=at)
        )

    def in_state(self, state: str, at):
        """Temporary limits (those with an end) scheduled, running or ended at `at`; see `AuthorityLimit.state_at`."""
        windows = self.filter(ends_at__isnull=False)
        if state == Timed.SCHEDULED:
            return windows.filter(starts_at__gt=at)
        if state == Timed.RUNNING:
            return windows.active_at(at)
        return windows.filter(ends_at__lte=at)


class AuthorityLimit(models.Model):
    """Limits for a role, or for one employee (which replace the role's for that type).

    An empty value means "no limit". A personal limit may run for a window only.
    """

    CAPS = CAPS

    decision_type = models.ForeignKey(
        DecisionType, verbose_name=_("decision type"), on_delete=models.CASCADE, related_name="limits"
    )
    role = models.ForeignKey(
        Role, verbose_name=_("role"), on_delete=models.CASCADE, null=True, blank=True, related_name="limits"
    )
    employee = models.ForeignKey(
        Employee,
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="personal_limits",
    )
    per_decision = models.DecimalField(_("per decision"), null=True, blank=True, **MONEY)
    per_day = models.DecimalField(_("per day"), null=True, blank=True, **MONEY)
    per_month = models.DecimalField(_("per month"), null=True, blank=True, **MONEY)
    per_customer_month = models.DecimalField(_("per customer per month"), null=True, blank=True, **MONEY)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True, max_length=NOTE_MAX)
    set_by = models.ForeignKey(
        Employee, verbose_name=_("set by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = LimitQuerySet.as_manager()

    class Meta:
        verbose_name = _("authority limit")
        verbose_name_plural = _("authority limits")
        constraints = [
            models.CheckConstraint(
                condition=Q(role__isnull=True, employee__isnull=False) | Q(role__isnull=False, employee__isnull=True),
                name="limit_for_role_xor_employee",
            ),
            models.UniqueConstraint(
                fields=["role", "decision_type"], condition=Q(role__isnull=False), name="one_limit_per_role_and_type"
            ),
            models.UniqueConstraint(
                fields=["employee", "decision_type"],
                condition=Q(employee__isnull=False, starts_at__isnull=True, ends_at__isnull=True),
                name="one_standing_limit_per_employee_and_type",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(starts_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                name="limit_ends_after_start",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{cap}__isnull": True}) | Q(**{f"{cap}__gte": 0}), name=f"limit_{cap}_not_negative"
                )
                for cap in CAPS
            ],
        ]

    def __str__(self) -> str:
        holder = self.employee or self.role
        return f"{holder}: {self.decision_type}"

    def values(self) -> dict[str, str | None]:
        return {cap: None if getattr(self, cap) is None else str(getattr(self, cap)) for cap in self.CAPS}

    @property
    def is_window(self) -> bool:
        return self.ends_at is not None

    def state_at(self, at) -> str | None:
        """A temporary limit's state at `at` (scheduled, running, ended); None for a standing limit."""
        if self.ends_at is None:
            return None
        if self.starts_at is not None and self.starts_at > at:
            return Timed.SCHEDULED
        return Timed.RUNNING if self.ends_at > at else Timed.ENDED

    def is_active_at(self, at) -> bool:
        """`LimitQuerySet.active_at` for one row in memory (cached limits are judged by it)."""
        return (self.starts_at is None or self.starts_at <= at) and (self.ends_at is None or self.ends_at > at)


class DelegationQuerySet(models.QuerySet):
    def active_at(self, at):
        return self.filter(starts_at__lte=at, ends_at__gt=at).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))

    def in_state(self, state: str, at):
        """Delegations scheduled, running or ended at `at`, as `Delegation.state_at` tells one."""
        scheduled = Q(starts_at__gt=at) & (Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        if state == Timed.SCHEDULED:
            return self.filter(scheduled)
        running = self.active_at(at).values("pk")
        if state == Timed.RUNNING:
            return self.filter(pk__in=running)
        return self.exclude(pk__in=running).exclude(scheduled)


class Delegation(models.Model):
    """A stand-in holds the delegator's authority for some decision types, for a while."""

    delegator = models.ForeignKey(
        Employee, verbose_name=_("delegator"), on_delete=models.CASCADE, related_name="delegations_given"
    )
    delegate = models.ForeignKey(
        Employee, verbose_name=_("stand-in"), on_delete=models.CASCADE, related_name="delegations_held"
    )
    decision_types = models.ManyToManyField(DecisionType, verbose_name=_("decision types"), related_name="+")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    ended_at = models.DateTimeField(_("ended early at"), null=True, blank=True)
    ended_by = models.ForeignKey(
        Employee, verbose_name=_("ended by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(_("reason"), max_length=NOTE_MAX)
    created_by = models.ForeignKey(Employee, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = DelegationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("delegation")
        verbose_name_plural = _("delegations")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="delegation_ends_after_start"),
            models.CheckConstraint(condition=~Q(delegator=models.F("delegate")), name="delegation_not_to_self"),
        ]
        indexes = [models.Index(fields=["delegate", "starts_at", "ends_at"], name="delegation_delegate_window")]

    def __str__(self) -> str:
        return f"{self.delegator} → {self.delegate}"

    def is_active_at(self, at) -> bool:
        return self.starts_at <= at < self.ends_at and (self.ended_at is None or self.ended_at > at)

    def state_at(self, at) -> str:
        """Scheduled (not started, not called off), running, or ended (expired or ended early) at `at`."""
        if self.is_active_at(at):
            return Timed.RUNNING
        if self.starts_at > at and (self.ended_at is None or self.ended_at > at):
            return Timed.SCHEDULED
        return Timed.ENDED


class UsageCounter(models.Model):
    """Approved amount in one cap's period, e.g. `emp:7:refund:day:2026-11-23`.

    One row per cap and period, locked (`select_for_update`) while a decision is approved, so
    caps hold under concurrency to the cent.
    """

    key = models.CharField(_("key"), max_length=120, unique=True)
    amount = models.DecimalField(_("approved amount"), default=Decimal("0.00"), **MONEY)

    class Meta:
        verbose_name = _("usage counter")
        verbose_name_plural = _("usage counters")

    def __str__(self) -> str:
        return f"{self.key} = {self.amount}"


class Decision(models.Model):
    class Status(models.TextChoices):
        APPROVED = "approved", _("Approved")
        ESCALATED = "escalated", _("Escalated")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # The legal moves; a decision is created approved or escalated, and only an escalated one moves on.
    TRANSITIONS = {
        Status.ESCALATED: {Status.APPROVED, Status.REJECTED, Status.WITHDRAWN},
        Status.APPROVED: set(),
        Status.REJECTED: set(),
        Status.WITHDRAWN: set(),
    }

    # No single-column index on `case`, `decision_type` or `made_by`: each leads a composite one in
    # `Meta.indexes`, which serves the same lookups; every index is work on every decision written.
    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="decisions", db_index=False
    )
    # The case's customer, kept on the decision: the per-customer cap and the what-if's replay read it
    # beside the decision (from the decisions' index) instead of joining every case.
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,  # read beside the decision (in `decision_type_replay`), never searched by
    )
    decision_type = models.ForeignKey(
        DecisionType,
        verbose_name=_("decision type"),
        on_delete=models.PROTECT,
        related_name="decisions",
        db_index=False,
    )
    made_by = models.ForeignKey(
        Employee, verbose_name=_("made by"), on_delete=models.PROTECT, related_name="decisions", db_index=False
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    final_amount = models.DecimalField(_("final amount"), null=True, blank=True, **MONEY)
    rationale = models.TextField(_("rationale"), max_length=NOTE_MAX)
    story = models.TextField(
        _("story"),
        blank=True,
        max_length=2000,
        help_text=_("What the customer needed and what was done (required for a wow gesture)."),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    within_authority = models.BooleanField(_("within authority"))
    exceeded = models.JSONField(_("limits exceeded"), default=list, blank=True)
    limits_snapshot = models.JSONField(_("limits that judged it"), default=dict, blank=True)
    approval_snapshot = models.JSONField(
        _("limits that approved it"),
        default=dict,
        blank=True,
        help_text=_("The approver's limits and use when an escalated decision was approved (empty otherwise)."),
    )
    approved_by = models.ForeignKey(
        Employee, verbose_name=_("approved by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    authority_of = models.ForeignKey(
        Employee,
        verbose_name=_("on the authority of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Whose caps the approved amount counts on (a delegator, when a stand-in decided)."),
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, null=True, blank=True)
    request_fingerprint = models.CharField(_("request fingerprint"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="decision_amount_positive"),
            models.CheckConstraint(
                condition=Q(final_amount__isnull=True) | Q(final_amount__gt=0), name="decision_final_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["made_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="decision_idempotency_key_unique",
            ),
        ]
        indexes = [
            # A case's decisions newest first; what each case granted is summed from the index alone.
            models.Index(
                fields=["case", "created_at"], include=["status", "final_amount"], name="decision_case_granted"
            ),
            models.Index(fields=["made_by", "created_at"], name="decision_maker_time"),
            # The cockpit's what-if replays one decision type over a window, in time order, from the
            # index alone (PostgreSQL; elsewhere an index on the keys only).
            models.Index(
                fields=["decision_type", "created_at", "id"],
                include=["made_by", "customer", "amount", "final_amount", "status", "within_authority", "decided_at"],
                name="decision_type_replay",
            ),
            models.Index(fields=["case"], condition=Q(within_authority=False), name="decision_beyond_authority_case"),
        ]

    def __str__(self) -> str:
        return f"{self.decision_type} {format_money(self.amount, self.currency)} ({self.get_status_display()})"

    def move_to(self, status: str, *, at, **changes) -> None:
        """Move an escalated decision on (approved, rejected, withdrawn) at `at`, with the fields that
        change with it; an illegal move (e.g. a decided one decided again) is refused and changes nothing."""
        if status not in self.TRANSITIONS.get(self.status, ()):
            raise _refuse_move(self, status)
        for name, value in changes.items():
            setattr(self, name, value)
        self.status = status
        self.decided_at = at
        self.save(update_fields=["status", "decided_at", *changes])


class Escalation(models.Model):
    class Status(models.TextChoices):
        ROUTING = "routing", _("Routing")
        ASSIGNED = "assigned", _("Assigned")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        UNROUTABLE = "unroutable", _("Unroutable")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN_STATUSES = (Status.ROUTING, Status.ASSIGNED, Status.UNROUTABLE)
    # The legal moves. Routing assigns it or finds nobody; an assigned one is answered, withdrawn,
    # moved up (back to routing) or handed to another assignee (assigned again, e.g. a stand-in's
    # delegation ended); an unroutable one is routed again or withdrawn.
    TRANSITIONS = {
        Status.ROUTING: {Status.ASSIGNED, Status.UNROUTABLE, Status.WITHDRAWN},
        Status.ASSIGNED: {Status.ASSIGNED, Status.APPROVED, Status.REJECTED, Status.WITHDRAWN, Status.ROUTING},
        Status.UNROUTABLE: {Status.ROUTING, Status.WITHDRAWN},
        Status.APPROVED: set(),
        Status.REJECTED: set(),
        Status.WITHDRAWN: set(),
    }

    decision = models.OneToOneField(
        Decision, verbose_name=_("decision"), on_delete=models.PROTECT, related_name="escalation"
    )
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.ROUTING)
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    route_above = models.ForeignKey(
        Employee,
        verbose_name=_("route above"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Routing looks for the nearest person above this one."),
    )
    approver = models.ForeignKey(
        Employee,
        verbose_name=_("approver"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The person whose authority covers it."),
    )
    assigned_to = models.ForeignKey(
        Employee,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations_assigned",
        help_text=_("The approver, or their stand-in while one is active."),
    )
    exceeded = models.JSONField(_("limits exceeded"), default=list)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True, db_index=True)
    note = models.TextField(_("note"), blank=True, max_length=NOTE_MAX)
    share_as_guidance = models.BooleanField(
        _("share the note as guidance"),
        default=False,
        db_default=False,  # rows written in bulk (seed_scale) without it are not shared
        help_text=_("The approver's note is shown beside the decision form for this decision type."),
    )
    # Three quarters of the way to `due_at` in working hours: the approver is reminded then, once.
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(
        Employee, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    routing_since = models.DateTimeField(_("waiting for routing since"), default=timezone.now)
    routed_at = models.DateTimeField(_("routed at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        indexes = [
            models.Index(fields=["assigned_to", "status"], name="escalation_inbox"),
            models.Index(fields=["status", "routing_since"], name="escalation_routing_age"),
            models.Index(fields=["approver"], condition=Q(status="assigned"), name="escalation_assigned_approver"),
            # The notes approvers shared as guidance (shown on every case page): a few among many.
            models.Index(
                fields=["-decided_at", "-id"],
                condition=Q(share_as_guidance=True) & ~Q(note=""),
                name="escalation_shared_guidance",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.decision} → {self.assigned_to or '—'}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @classmethod
    def overdue_q(cls, now) -> Q:
        """The SQL twin of `is_overdue`: the review moves these up, the admin filters them, the
        selectors annotate `overdue` with it. Due exactly now counts as overdue."""
        return Q(status=cls.Status.ASSIGNED, due_at__lte=now)

    @classmethod
    def overdue_annotation(cls, now=None) -> models.ExpressionWrapper:
        return models.ExpressionWrapper(cls.overdue_q(now or timezone.now()), output_field=models.BooleanField())

    def is_overdue(self, now=None) -> bool:
        """Waiting for an answer past its deadline (it moves up a level at the next review)."""
        now = now or timezone.now()
        return self.status == self.Status.ASSIGNED and self.due_at is not None and self.due_at <= now

    def move_to(self, status: str, *, reason: str, at=None, step_assigned_to=..., **changes) -> "EscalationStep":
        """Make one legal move and write its step on the path (level, status, assignee, why) at `at`.

        `changes` are the fields that move with it (e.g. `assigned_to`, `due_at`); the step names the
        assignee after the move unless `step_assigned_to` says otherwise (moving up names who had it).
        An illegal move is refused (`Conflict`) and changes nothing.
        """
        if status not in self.TRANSITIONS.get(self.status, ()):
            raise _refuse_move(self, status)
        at = at or timezone.now()
        for name, value in changes.items():
            setattr(self, name, value)
        self.status = status
        self.save(update_fields=["status", *changes])
        return EscalationStep.objects.create(
            escalation=self,
            level=self.level,
            status=status,
            assigned_to=self.assigned_to if step_assigned_to is ... else step_assigned_to,
            reason=reason,
            created_at=at,
        )

    @property
    def standing_in_for(self) -> Employee | None:
        """The approver, while a stand-in holds the escalation for them (select `approver` with it)."""
        if self.assigned_to_id and self.approver_id and self.assigned_to_id != self.approver_id:
            return self.approver
        return None


class EscalationStep(models.Model):
    """One step of an escalation's path: who had it, when, and why it moved."""

    escalation = models.ForeignKey(
        Escalation, verbose_name=_("escalation"), on_delete=models.CASCADE, related_name="steps"
    )
    level = models.PositiveSmallIntegerField(_("level"))
    status = models.CharField(_("status"), max_length=20, choices=Escalation.Status.choices)
    assigned_to = models.ForeignKey(
        Employee, verbose_name=_("assigned to"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Reason(models.TextChoices):
        ROUTED = "routed", _("Nearest person above whose authority covers it")
        STAND_IN = "stand_in", _("Stand-in for the approver, who is away")
        STAND_IN_ENDED = "stand_in_ended", _("The stand-in's delegation ended; back to the approver")
        UNROUTABLE = "unroutable", _("Nobody above covers it; administrators told")
        OVERDUE = "overdue", _("Not decided in time; moved up")
        CAPACITY = "capacity", _("The approver's remaining authority no longer covers it; moved up")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn by the requester")
        REROUTED = "rerouted", _("Routed again by an administrator")

    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        # The cockpit's refresh finds the escalations that moved since its last run.
        indexes = [models.Index(fields=["created_at"], name="escalation_step_time")]

    def __str__(self) -> str:
        return f"{self.escalation_id} L{self.level} {self.status}"


class SplitFlag(models.Model):
    """Decisions that look like one split to stay under a per-decision limit: several of one type for
    one customer by one employee within `EMPOWER_SPLIT_WINDOW_MINUTES`, together above that
    employee's per-decision limit. Flagged to their manager (never blocked), with the decisions."""

    key = models.CharField(_("key"), max_length=120, unique=True, editable=False)
    made_by = models.ForeignKey(Employee, verbose_name=_("made by"), on_delete=models.CASCADE, related_name="+")
    manager = models.ForeignKey(
        Employee, verbose_name=_("manager told"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_type = models.ForeignKey(
        DecisionType, verbose_name=_("decision type"), on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        "empower.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="+"
    )
    decisions = models.ManyToManyField(Decision, verbose_name=_("decisions"), related_name="split_flags")
    total = models.DecimalField(_("total"), **MONEY)
    per_decision = models.DecimalField(_("per-decision limit"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    window_minutes = models.PositiveIntegerField(_("window (minutes)"))
    created_at = models.DateTimeField(_("flagged at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("possible split")
        verbose_name_plural = _("possible splits")

    def __str__(self) -> str:
        return f"{self.made_by} · {self.decision_type} · {self.total} {self.currency}"
