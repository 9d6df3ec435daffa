"""Customer surveys, the follow-ups that close the loop, and staff's policy-friction reports.

Every row links to its context (the case, its team, the employees involved) so that insights can
compare, e.g., the satisfaction of cases settled at first contact with escalated ones.

Why one module past 500 lines: surveys, follow-ups and friction reports share their pipeline
(`StatusPipeline`, `overdue_q`) and read as one loop. The cockpit's summaries already live in
`feedback/cockpit/models.py`; the recognition models at the end (applause, featured stories,
limit recommendations) are the next to move out, the same way.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import CAPS, Decision, DecisionType
from empower.errors import Conflict
from empower.models import AuditRecord, Case, Employee, OutboxKeyed, Role, Team

COMMENT_MAX = 2000
REPLY_MAX = 4000
MAX_COMPLAINTS = 3  # per survey: enough to say "still not right" twice, not enough to flood a team


class StatusPipeline:
    """A status that moves only along `TRANSITIONS` ({from: (to, …)}), through the model's `move_to`.

    `move_to` refuses an illegal move with `Conflict` (`REFUSAL`: the message and code when the row
    has already left `open`) and saves, in the caller's transaction; the service audits the move. Services call
    `ensure_can_move_to` first when a move must be refused before other input is checked.
    """

    TRANSITIONS: dict[str, tuple[str, ...]] = {}
    REFUSAL: tuple = (_("This can no longer change."), "closed")

    def can_move_to(self, status: str) -> bool:
        return status in self.TRANSITIONS.get(self.status, ())

    def ensure_can_move_to(self, status: str) -> None:
        if self.can_move_to(status):
            return
        if self.status != "open":  # the usual case: someone got there first
            message, code = self.REFUSAL
            raise Conflict(message, code=code)
        raise Conflict(_("This step is not possible now."), code="illegal_move")

    @classmethod
    def overdue_q(cls, now: datetime) -> Q:
        """The SQL twin of `is_overdue`: selectors annotate `overdue` with it, insights count it."""
        return Q(status="open", due_at__lte=now)

    @classmethod
    def overdue_annotation(cls, now: datetime | None = None) -> ExpressionWrapper:
        return ExpressionWrapper(cls.overdue_q(now or timezone.now()), output_field=models.BooleanField())

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.status == "open" and self.due_at <= (now or timezone.now())


class Survey(OutboxKeyed, models.Model):
    """A customer's "how did it go?" for one resolved case; answered once, through a signed link.

    Its e-mail (the link) is the outbox row keyed `email_key`.
    """

    EMAIL_KEY_PREFIX = "survey:"

    case = models.OneToOneField(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="survey")
    # The context when the customer was asked: who resolved it, in which team.
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, null=True, blank=True, related_name="surveys"
    )
    resolved_by = models.ForeignKey(
        Employee,
        verbose_name=_("resolved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="surveys_resolved",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("satisfaction (1-5)"), null=True, blank=True)
    nps = models.PositiveSmallIntegerField(_("likely to recommend (0-10)"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, max_length=COMMENT_MAX)
    comment_is_complaint = models.BooleanField(
        _("comment is a complaint"),
        default=False,
        help_text=_("Flagged by the customer when answering, or later by staff."),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("survey")
        verbose_name_plural = _("surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5), name="survey_csat_1_to_5"
            ),
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10), name="survey_nps_0_to_10"),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(csat__isnull=False), name="survey_answer_has_csat"
            ),
        ]
        indexes = [
            models.Index(fields=["team", "answered_at"], name="survey_team_answered"),
            models.Index(fields=["resolved_by", "answered_at"], name="survey_resolver_answered"),
            # The cockpit's refresh reads the surveys answered on a day.
            models.Index(fields=["answered_at"], name="survey_answered"),
        ]

    def __str__(self) -> str:
        return f"Survey for {self.case}"

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None

    @property
    def is_low_score(self) -> bool:
        """CSAT 1 or 2: someone must follow up with the customer."""
        return self.csat is not None and self.csat <= 2


class FollowUp(StatusPipeline, models.Model):
    """A human answer to an unhappy customer, owed by a deadline; "you said, we did".

    It goes first to the employee who resolved the case (they know the customer); when the
    deadline passes it moves to their manager, and so on up the chain. The reply's e-mail to the
    customer is the outbox row keyed `reply_email_key`.
    """

    REPLY_EMAIL_KEY_PREFIX = "reply:"

    class Reason(models.TextChoices):
        LOW_SCORE = "low_score", _("Low satisfaction score")
        FLAGGED_COMMENT = "flagged_comment", _("Comment flagged as a complaint")
        COMPLAINT = "complaint", _("Complaint raised by the customer")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Replied")

    TRANSITIONS = {Status.OPEN: (Status.DONE,), Status.DONE: ()}
    REFUSAL = (_("This follow-up has already been answered."), "already_replied")

    survey = models.ForeignKey(Survey, verbose_name=_("survey"), on_delete=models.CASCADE, related_name="follow_ups")
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="follow_ups")
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    customer_message = models.TextField(_("the customer's complaint"), blank=True, max_length=COMMENT_MAX)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    resolver = models.ForeignKey(
        Employee,
        verbose_name=_("resolved the case"),
        on_delete=models.PROTECT,
        related_name="follow_ups_as_resolver",
    )
    assigned_to = models.ForeignKey(
        Employee, verbose_name=_("assigned to"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    # Set when the assignee is a stand-in: the person whose turn it is, away and delegating. Moving up
    # starts from them, not from the stand-in.
    on_behalf_of = models.ForeignKey(
        Employee,
        verbose_name=_("standing in for"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    due_at = models.DateTimeField(_("due at"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    action_taken = models.TextField(_("what was done"), blank=True, max_length=REPLY_MAX)
    reply = models.TextField(_("reply to the customer"), blank=True, max_length=REPLY_MAX)
    replied_by = models.ForeignKey(
        Employee, verbose_name=_("replied by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["survey"], condition=Q(status="open"), name="follow_up_one_open_per_survey"
            ),
            models.CheckConstraint(
                condition=Q(status="open") | (Q(replied_at__isnull=False) & ~Q(reply="")),
                name="follow_up_done_has_reply",
            ),
            models.CheckConstraint(condition=Q(level__gte=1), name="follow_up_level_positive"),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="follow_up_due"),
            models.Index(fields=["assigned_to", "status"], name="follow_up_assignee"),
        ]

    def __str__(self) -> str:
        return f"Follow-up #{self.pk} on {self.case}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def reply_email_key(self) -> str:
        return self.reply_email_key_of(self.pk)

    @classmethod
    def reply_email_key_of(cls, pk: int) -> str:
        """The outbox key of the e-mail carrying follow-up `pk`'s reply to the customer."""
        return f"{cls.REPLY_EMAIL_KEY_PREFIX}{pk}"

    def move_to(self, status: str, *, by: Employee, action_taken: str, reply: str) -> None:
        """open → done: what was done and the reply to the customer, by `by`; saved."""
        self.ensure_can_move_to(status)
        self.status = status
        self.action_taken, self.reply = action_taken, reply
        self.replied_by, self.replied_at = by, timezone.now()
        self.save(update_fields=["status", "action_taken", "reply", "replied_by", "replied_at"])


class FrictionReport(StatusPipeline, models.Model):
    """ "This rule or limit stopped me from helping this customer": a manager must answer."""

    class Limit(models.TextChoices):
        PER_DECISION = "per_decision", _("Per decision")
        PER_DAY = "per_day", _("Per day")
        PER_MONTH = "per_month", _("Per month")
        PER_CUSTOMER_MONTH = "per_customer_month", _("Per customer per month")

    class Change(models.TextChoices):
        LIMIT = "limit", _("A person's limit")
        ROLE_DEFAULT = "role_default", _("A role's default limits")
        GUIDANCE = "guidance", _("Guidance for a decision type")
        POLICY = "policy", _("A written policy")

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted: something changes")
        EXPLAINED = "explained", _("Explained")

    TRANSITIONS = {Status.OPEN: (Status.ACCEPTED, Status.EXPLAINED), Status.ACCEPTED: (), Status.EXPLAINED: ()}
    REFUSAL = (_("This report has already been answered."), "report_closed")

    reporter = models.ForeignKey(
        Employee, verbose_name=_("reported by"), on_delete=models.PROTECT, related_name="friction_reports"
    )
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="friction_reports")
    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="friction_reports")
    decision = models.ForeignKey(
        Decision,
        verbose_name=_("decision"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="friction_reports",
    )
    decision_type = models.ForeignKey(
        DecisionType,
        verbose_name=_("decision type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="friction_reports",
    )
    limit = models.CharField(_("limit"), max_length=20, choices=Limit.choices, blank=True)
    rule_text = models.CharField(_("the rule, in your words"), max_length=300, blank=True)
    would_have_done = models.TextField(_("what you would have done"), max_length=REPLY_MAX)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    assigned_to = models.ForeignKey(
        Employee, verbose_name=_("to be answered by"), on_delete=models.PROTECT, related_name="friction_to_answer"
    )
    # As on a follow-up: the manager whose turn it is when the assignee stands in for them.
    on_behalf_of = models.ForeignKey(
        Employee,
        verbose_name=_("standing in for"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    due_at = models.DateTimeField(_("answer due at"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    answered_by = models.ForeignKey(
        Employee, verbose_name=_("answered by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answer = models.TextField(_("answer"), blank=True, max_length=REPLY_MAX)
    # "You said, we did": accepting names what changes. A limit or a role default is applied from the
    # report or linked to the audited change that did it (`change_record`); until then (`change_done_at`
    # empty) the acceptance is a promise, "not yet done" after EMPOWER_PROMISE_DAYS.
    change_kind = models.CharField(_("what changes"), max_length=20, choices=Change.choices, blank=True)
    change_text = models.TextField(_("the change, in words"), blank=True, max_length=REPLY_MAX)
    change_decision_type = models.ForeignKey(
        DecisionType,
        verbose_name=_("changed decision type"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    change_employee = models.ForeignKey(
        Employee,
        verbose_name=_("whose limit changes"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    change_role = models.ForeignKey(
        Role,
        verbose_name=_("whose role default changes"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    change_values = models.JSONField(_("new values"), default=dict, blank=True)
    change_record = models.ForeignKey(
        AuditRecord,
        verbose_name=_("the change that did it"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    change_done_at = models.DateTimeField(_("changed at"), null=True, blank=True)
    change_done_by = models.ForeignKey(
        Employee, verbose_name=_("changed by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("policy-friction report")
        verbose_name_plural = _("policy-friction reports")
        constraints = [
            models.CheckConstraint(
                condition=Q(decision_type__isnull=False) | ~Q(rule_text=""), name="friction_names_a_rule"
            ),
            models.CheckConstraint(
                condition=Q(limit="") | Q(decision_type__isnull=False), name="friction_limit_needs_type"
            ),
            models.CheckConstraint(condition=Q(limit="") | Q(limit__in=CAPS), name="friction_limit_known"),
            models.CheckConstraint(
                condition=Q(status="open") | Q(answered_at__isnull=False), name="friction_closed_has_answer"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="friction_due"),
            models.Index(fields=["team", "status"], name="friction_team_status"),
            models.Index(fields=["assigned_to", "status"], name="friction_assignee"),
            models.Index(fields=["status", "change_done_at", "answered_at"], name="friction_promises"),
        ]

    def __str__(self) -> str:
        return f"Report #{self.pk}: {self.rule_label}"

    @classmethod
    def promise_overdue_q(cls, now: datetime) -> Q:
        """Accepted, no change done, answered more than EMPOWER_PROMISE_DAYS ago: "promised, not yet done"."""
        return Q(
            status=cls.Status.ACCEPTED,
            change_done_at__isnull=True,
            answered_at__lte=now - timedelta(days=settings.EMPOWER_PROMISE_DAYS),
        )

    def is_promise_overdue(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.ACCEPTED
            and self.change_done_at is None
            and self.answered_at is not None
            and self.answered_at <= now - timedelta(days=settings.EMPOWER_PROMISE_DAYS)
        )

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def move_to(self, status: str, *, by: Employee, note: str, now: datetime | None = None) -> "FrictionAnswer":
        """open → accepted or explained, answered by `by` with `note`: saved, the answer recorded as a
        step of the report. (Passing a report up is an answer too, but not a move: it stays open.)
        """
        self.ensure_can_move_to(status)
        now = now or timezone.now()
        self.status = status
        self.answer, self.answered_by, self.answered_at = note, by, now
        self.save(update_fields=["status", "answer", "answered_by", "answered_at"])
        outcome = FrictionAnswer.Outcome.ACCEPT if status == self.Status.ACCEPTED else FrictionAnswer.Outcome.EXPLAIN
        return FrictionAnswer.objects.create(report=self, by=by, outcome=outcome, note=note, created_at=now)

    @property
    def rule_key(self) -> str:
        """Reports about the same rule share a key: the board groups them by it."""
        if self.decision_type_id:
            return f"{self.decision_type_id}:{self.limit}"
        return "other"

    @property
    def rule_label(self) -> str:
        if self.decision_type_id:
            name = str(self.decision_type.name)
            return f"{name} · {self.get_limit_display()}" if self.limit else name
        return self.rule_text


class FrictionAnswer(models.Model):
    """One answer on a report: accepted, explained, or passed up to the next manager."""

    class Outcome(models.TextChoices):
        ACCEPT = "accept", _("Accept and change something")
        EXPLAIN = "explain", _("Explain why the rule stays")
        PASS_UP = "pass_up", _("Pass it up to my manager")

    report = models.ForeignKey(
        FrictionReport, verbose_name=_("report"), on_delete=models.CASCADE, related_name="answers"
    )
    by = models.ForeignKey(Employee, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    note = models.TextField(_("note"), max_length=REPLY_MAX)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("answer to a report")
        verbose_name_plural = _("answers to reports")

    def __str__(self) -> str:
        return f"{self.report_id}: {self.outcome}"


class FrictionSecond(models.Model):
    """A colleague's "this stops me too"."""

    report = models.ForeignKey(
        FrictionReport, verbose_name=_("report"), on_delete=models.CASCADE, related_name="seconds"
    )
    employee = models.ForeignKey(
        Employee, verbose_name=_("seconded by"), on_delete=models.CASCADE, related_name="friction_seconds"
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("second")
        verbose_name_plural = _("seconds")
        constraints = [models.UniqueConstraint(fields=["report", "employee"], name="friction_second_once")]

    def __str__(self) -> str:
        return f"{self.employee} seconds #{self.report_id}"


# --- recognition: stories, applause, featured stories ----------------------------------------------


class StoryKind(models.TextChoices):
    """Where a story comes from; with `ref_id` (that row's id) it names one story."""

    WOW = "wow", _("A wow gesture")  # ref: the approved decision of type `wow`, with its story
    KIND_WORDS = "kind_words", _("A customer's kind words")  # ref: the survey answered 5 with a comment
    GUIDANCE = "guidance", _("An approver's guidance")  # ref: the escalation whose note was shared


class Applause(models.Model):
    """A colleague's or a manager's applause for a story: once each, never for one's own."""

    kind = models.CharField(_("kind"), max_length=12, choices=StoryKind.choices)
    ref_id = models.PositiveBigIntegerField(_("story reference"))
    by = models.ForeignKey(Employee, verbose_name=_("applauded by"), on_delete=models.CASCADE, related_name="+")
    # Whose story it is (denormalized: their page reads "applause received" without rebuilding stories).
    recipient = models.ForeignKey(
        Employee, verbose_name=_("for"), on_delete=models.CASCADE, related_name="applause_received"
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("applause")
        verbose_name_plural = _("applause")
        constraints = [models.UniqueConstraint(fields=["kind", "ref_id", "by"], name="applause_once")]
        indexes = [models.Index(fields=["kind", "ref_id"], name="applause_story")]

    def __str__(self) -> str:
        return f"{self.by} applauds {self.kind}:{self.ref_id}"


class FeaturedStory(models.Model):
    """A story a manager above its employee chose to feature: shown first, on the person's page too."""

    kind = models.CharField(_("kind"), max_length=12, choices=StoryKind.choices)
    ref_id = models.PositiveBigIntegerField(_("story reference"))
    employee = models.ForeignKey(
        Employee, verbose_name=_("whose story"), on_delete=models.CASCADE, related_name="featured_stories"
    )
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+")
    featured_by = models.ForeignKey(Employee, verbose_name=_("featured by"), on_delete=models.PROTECT, related_name="+")
    featured_at = models.DateTimeField(_("featured at"), default=timezone.now)

    class Meta:
        ordering = ["-featured_at", "-id"]
        verbose_name = _("featured story")
        verbose_name_plural = _("featured stories")
        constraints = [models.UniqueConstraint(fields=["kind", "ref_id"], name="story_featured_once")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.ref_id} featured by {self.featured_by}"


# The cockpit's summaries live in their own module; imported here so Django registers them.
from feedback.cockpit.models import (  # noqa: E402, F401
    DecisionDaySummary,
    EscalationTiming,
    PeriodHistogram,
    PeriodSummary,
    SettledDaySummary,
    SummaryState,
    SurveyDaySummary,
    TrackRecordSnapshot,
    TrackRecordState,
    WeekSummary,
)


class LimitRecommendation(StatusPipeline, models.Model):
    """A proposal to raise a per-decision limit, made from the evidence of escalations (the cockpit).

    For one employee, or one role in one team, and one decision type: enough escalations in the
    last days broke only the per-decision limit and nearly all the answered ones were approved
    exactly as asked (`feedback.cockpit.recommendations` holds the rule). A person decides:
    accepted through the granting rules, or dismissed with a reason. `subject_key` names the
    subject, so a recomputation finds the open proposal to refresh and the last dismissed one (a
    dismissed proposal comes back only when the evidence has grown by half).
    """

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACCEPTED = "accepted", _("Accepted")
        DISMISSED = "dismissed", _("Dismissed")
        LAPSED = "lapsed", _("No longer supported by the evidence")

    TRANSITIONS = {
        Status.OPEN: (Status.ACCEPTED, Status.DISMISSED, Status.LAPSED),
        Status.ACCEPTED: (),
        Status.DISMISSED: (),
        Status.LAPSED: (),
    }
    REFUSAL = (_("This recommendation has already been decided."), "already_decided")

    subject_key = models.CharField(_("subject"), max_length=100)
    decision_type = models.ForeignKey(
        DecisionType, verbose_name=_("decision type"), on_delete=models.CASCADE, related_name="+"
    )
    employee = models.ForeignKey(
        Employee,
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="limit_recommendations",
    )
    role = models.ForeignKey(
        "empower.Role", verbose_name=_("role"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    manager = models.ForeignKey(
        Employee,
        verbose_name=_("proposed to"),
        on_delete=models.CASCADE,
        related_name="limit_recommendations_received",
        help_text=_("The manager who receives it; the proposal never exceeds what they may grant."),
    )
    limit = models.CharField(_("limit"), max_length=20, default="per_decision")
    current = models.DecimalField(_("current limit"), max_digits=14, decimal_places=2)
    proposed = models.DecimalField(_("proposed limit"), max_digits=14, decimal_places=2)
    escalations = models.PositiveIntegerField(_("escalations"))
    answered = models.PositiveIntegerField(_("answered"))
    approved_as_asked = models.PositiveIntegerField(_("approved as asked"))
    days = models.PositiveSmallIntegerField(_("days"))
    evidence = models.JSONField(_("escalated decisions"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        Employee, verbose_name=_("decided by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    computed_at = models.DateTimeField(_("evidence computed at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("limit recommendation")
        verbose_name_plural = _("limit recommendations")
        constraints = [
            models.UniqueConstraint(
                fields=["subject_key"], condition=Q(status="open"), name="recommendation_one_open_per_subject"
            ),
            models.CheckConstraint(
                condition=Q(employee__isnull=False, role__isnull=True, team__isnull=True)
                | Q(employee__isnull=True, role__isnull=False, team__isnull=False),
                name="recommendation_employee_xor_role_in_team",
            ),
            models.CheckConstraint(condition=Q(proposed__gt=models.F("current")), name="recommendation_raises"),
        ]
        indexes = [
            models.Index(fields=["subject_key", "status"], name="recommendation_subject"),
            models.Index(fields=["manager", "status"], name="recommendation_manager"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_key}: {self.current} → {self.proposed}"

    @property
    def share(self) -> float:
        return self.approved_as_asked / self.answered if self.answered else 0.0

    def move_to(self, status: str, *, by: Employee | None, reason: str, at: datetime | None = None) -> None:
        """open → accepted, dismissed (by a manager, with a reason) or lapsed (the evidence no longer holds)."""
        self.ensure_can_move_to(status)
        self.status, self.reason, self.decided_by, self.decided_at = status, reason, by, at or timezone.now()
        self.save(update_fields=["status", "reason", "decided_by", "decided_at"])
