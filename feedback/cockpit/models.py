"""The cockpit's summaries: what the raw decisions say, per team, decision type and day.

Rows are written only by `feedback.cockpit.summaries` (a full rebuild, or a refresh of the days
whose decisions or escalations changed); `tests/feedback/test_cockpit_summaries.py` checks that
they equal a recount from the raw rows. A decision belongs to the team of the person who made it
and to the day it was made, in the organization's time zone.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from delegation.models import MONEY, DecisionType, Escalation
from empower.models import Role, Team


class DecisionFigures(models.Model):
    """What a summary counts of one team's decisions of one type (over a day, or over a period)."""

    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+")
    decision_type = models.ForeignKey(
        DecisionType, verbose_name=_("decision type"), on_delete=models.CASCADE, related_name="+"
    )
    decisions = models.PositiveIntegerField(_("decisions"), default=0)
    within_authority = models.PositiveIntegerField(_("within authority"), default=0)
    escalated = models.PositiveIntegerField(_("escalated"), default=0)
    # Escalations that broke each limit (one escalation may break several).
    hit_per_decision = models.PositiveIntegerField(_("per-decision limit hit"), default=0)
    hit_per_day = models.PositiveIntegerField(_("per-day limit hit"), default=0)
    hit_per_month = models.PositiveIntegerField(_("per-month limit hit"), default=0)
    hit_per_customer_month = models.PositiveIntegerField(_("per-customer-per-month limit hit"), default=0)
    # What became of the escalated ones.
    approved_as_asked = models.PositiveIntegerField(_("approved as asked"), default=0)
    approved_lower = models.PositiveIntegerField(_("approved for less"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    withdrawn = models.PositiveIntegerField(_("withdrawn"), default=0)
    waiting = models.PositiveIntegerField(_("waiting"), default=0)
    moved_up_overdue = models.PositiveIntegerField(_("moved up for a deadline"), default=0)
    moved_up_capacity = models.PositiveIntegerField(_("moved up for capacity"), default=0)
    amount_within_authority = models.DecimalField(_("amount within authority"), default=0, **MONEY)
    amount_approved_on_escalation = models.DecimalField(_("amount approved on escalation"), default=0, **MONEY)

    FIGURES = (
        "decisions",
        "within_authority",
        "escalated",
        "hit_per_decision",
        "hit_per_day",
        "hit_per_month",
        "hit_per_customer_month",
        "approved_as_asked",
        "approved_lower",
        "rejected",
        "withdrawn",
        "waiting",
        "moved_up_overdue",
        "moved_up_capacity",
        "amount_within_authority",
        "amount_approved_on_escalation",
    )

    class Meta:
        abstract = True


class DecisionDaySummary(DecisionFigures):
    """The decisions one team made of one type on one day, and what became of their escalations."""

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("decisions of a day")
        verbose_name_plural = _("decisions per day")
        constraints = [
            models.UniqueConstraint(fields=["day", "team", "decision_type"], name="cockpit_one_summary_per_day")
        ]
        indexes = [models.Index(fields=["team", "day"], name="cockpit_summary_team_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id} {self.decision_type_id}: {self.decisions}"


class PeriodSummary(DecisionFigures):
    """The day summaries added up over each period the cockpit offers (30, 90, 365 days, all), as of
    the last refresh: a director's year is a few hundred rows, not a hundred thousand."""

    period = models.CharField(_("period"), max_length=3)
    since = models.DateField(_("first day"), null=True, blank=True)

    class Meta:
        verbose_name = _("decisions of a period")
        verbose_name_plural = _("decisions per period")
        indexes = [models.Index(fields=["period", "team"], name="cockpit_period_team")]

    def __str__(self) -> str:
        return f"{self.period} {self.team_id} {self.decision_type_id}: {self.decisions}"


class WeekSummary(models.Model):
    """One team's decisions of one week (starting on Monday): the trend."""

    week = models.DateField(_("week starting"))
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+")
    decisions = models.PositiveIntegerField(_("decisions"), default=0)
    within_authority = models.PositiveIntegerField(_("within authority"), default=0)
    escalated = models.PositiveIntegerField(_("escalated"), default=0)

    class Meta:
        verbose_name = _("decisions of a week")
        verbose_name_plural = _("decisions per week")
        constraints = [models.UniqueConstraint(fields=["week", "team"], name="cockpit_one_week_summary")]
        indexes = [models.Index(fields=["team", "week"], name="cockpit_week_team")]

    def __str__(self) -> str:
        return f"{self.week} {self.team_id}: {self.decisions}"


class PeriodHistogram(models.Model):
    """How many answered escalations of one team took each (log-scale) bucket of time, per period:
    percentiles over many thousands of escalations are read from here (within 2.5 %)."""

    period = models.CharField(_("period"), max_length=3)
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+")
    working = models.BooleanField(_("in working hours"))
    bucket = models.PositiveSmallIntegerField(_("bucket"))
    escalations = models.PositiveIntegerField(_("escalations"))

    class Meta:
        verbose_name = _("time-to-decision histogram")
        verbose_name_plural = _("time-to-decision histograms")
        indexes = [models.Index(fields=["period", "team"], name="cockpit_histogram_period_team")]

    def __str__(self) -> str:
        return f"{self.period} {self.team_id} {self.bucket}: {self.escalations}"


class SettledDaySummary(models.Model):
    """Who settled one team's decisions of a day, by role: the maker within their authority, or the
    approver who answered the escalation (approved or rejected). Withdrawn and waiting ones are
    settled by nobody yet. The inverted pyramid is drawn from these."""

    day = models.DateField(_("day"))
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+")
    role = models.ForeignKey(Role, verbose_name=_("role"), on_delete=models.CASCADE, related_name="+")
    decisions = models.PositiveIntegerField(_("decisions"), default=0)

    class Meta:
        verbose_name = _("decisions settled on a day")
        verbose_name_plural = _("decisions settled per day")
        constraints = [models.UniqueConstraint(fields=["day", "team", "role"], name="cockpit_one_settled_per_day")]
        indexes = [models.Index(fields=["team", "day"], name="cockpit_settled_team_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id} {self.role_id}: {self.decisions}"


class EscalationTiming(models.Model):
    """How long one escalation answered by an approver (approved or rejected) waited, from being
    escalated to the answer: in calendar seconds and in working seconds (the organization's working
    days and hours, as deadlines count them). Percentiles are taken over these rows: exactly up to
    `selectors.EXACT_PERCENTILES_UP_TO` escalations in scope, from the buckets beyond."""

    escalation = models.OneToOneField(
        Escalation, verbose_name=_("escalation"), on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    day = models.DateField(_("day the decision was made"))
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+")
    decision_type = models.ForeignKey(
        DecisionType, verbose_name=_("decision type"), on_delete=models.CASCADE, related_name="+"
    )
    seconds = models.PositiveIntegerField(_("seconds"))
    working_seconds = models.PositiveIntegerField(_("working seconds"))
    # Log-scale buckets of the two durations (`summaries.bucket_of`): percentiles over many
    # thousands of escalations are read from their histogram, within 2.5 %, without sorting them.
    bucket = models.PositiveSmallIntegerField(_("bucket"))
    working_bucket = models.PositiveSmallIntegerField(_("working bucket"))

    class Meta:
        verbose_name = _("time to decision")
        verbose_name_plural = _("times to decision")
        # Covering (on PostgreSQL): the percentiles read the index alone.
        indexes = [
            models.Index(
                fields=["day", "team"],
                include=["bucket", "working_bucket", "seconds", "working_seconds"],
                name="cockpit_timing_day_team",
            )
        ]

    def __str__(self) -> str:
        return f"{self.escalation_id}: {self.seconds} s"


class SummaryState(models.Model):
    """One row: up to when the summaries have been brought up to date (the refresh's watermark)."""

    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    rolled_up_at = models.DateTimeField(_("periods added up at"), null=True, blank=True)

    class Meta:
        verbose_name = _("cockpit summary state")
        verbose_name_plural = _("cockpit summary state")

    def __str__(self) -> str:
        return f"summaries as of {self.refreshed_at}"


class SurveyDaySummary(models.Model):
    """One team's answered surveys of a day (the day answered), split by whether the case was
    escalated (a decision on it went beyond the maker's authority): the satisfaction page reads
    past days from here and today from the surveys themselves."""

    day = models.DateField(_("day"))
    team = models.ForeignKey(Team, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+")
    escalated = models.BooleanField(_("escalated"))
    answered = models.PositiveIntegerField(_("answered"), default=0)
    csat_sum = models.PositiveIntegerField(_("sum of satisfaction scores"), default=0)
    nps_answers = models.PositiveIntegerField(_("answers to the recommendation question"), default=0)
    promoters = models.PositiveIntegerField(_("promoters"), default=0)
    detractors = models.PositiveIntegerField(_("detractors"), default=0)

    class Meta:
        verbose_name = _("surveys of a day")
        verbose_name_plural = _("surveys per day")
        constraints = [
            models.UniqueConstraint(fields=["day", "team", "escalated"], name="cockpit_one_survey_summary_per_day")
        ]
        indexes = [models.Index(fields=["team", "day"], name="cockpit_survey_team_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id} {'escalated' if self.escalated else 'first contact'}: {self.answered}"


class TrackRecordSnapshot(models.Model):
    """One employee's track record over one period (30, 90, 365 days, all), as of the last refresh
    (`feedback.cockpit.track_record_snapshots`): a manager's list of thousands is sorted and paged
    by the database from these rows instead of aggregating every decision of the period."""

    period = models.CharField(_("period"), max_length=3)
    employee = models.ForeignKey(
        "empower.Employee",
        verbose_name=_("employee"),
        on_delete=models.CASCADE,
        related_name="track_record_snapshots",
    )
    decisions = models.PositiveIntegerField(_("decisions"), default=0)
    within_authority = models.PositiveIntegerField(_("within authority"), default=0)
    escalated = models.PositiveIntegerField(_("escalated"), default=0)
    approved_as_asked = models.PositiveIntegerField(_("approved as asked"), default=0)
    approved_lower = models.PositiveIntegerField(_("approved for less"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    withdrawn = models.PositiveIntegerField(_("withdrawn"), default=0)
    waiting = models.PositiveIntegerField(_("waiting"), default=0)
    reversed_later = models.PositiveIntegerField(_("corrected later"), default=0)
    csat_average = models.FloatField(_("average satisfaction"), null=True, blank=True)
    csat_answers = models.PositiveIntegerField(_("satisfaction answers"), default=0)
    follow_ups = models.PositiveIntegerField(_("follow-ups"), default=0)
    # The sort keys, stored as `TrackRecord` computes them (`support` may be negative).
    support = models.IntegerField(_("support for more authority"), default=0)
    as_asked_share = models.FloatField(_("share approved as asked"), null=True, blank=True)

    FIGURES = (
        "decisions",
        "within_authority",
        "escalated",
        "approved_as_asked",
        "approved_lower",
        "rejected",
        "withdrawn",
        "waiting",
        "reversed_later",
        "csat_average",
        "csat_answers",
        "follow_ups",
    )

    class Meta:
        verbose_name = _("track record snapshot")
        verbose_name_plural = _("track record snapshots")
        # The list joins the viewer's people to their row of the period through this index.
        constraints = [
            models.UniqueConstraint(fields=["employee", "period"], name="cockpit_one_track_record_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.employee_id}: {self.support}"


class TrackRecordState(models.Model):
    """One row per period: when its track record snapshots were last computed (None: never)."""

    period = models.CharField(_("period"), max_length=3, primary_key=True)
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("track record snapshot state")
        verbose_name_plural = _("track record snapshot states")

    def __str__(self) -> str:
        return f"track records {self.period} as of {self.refreshed_at}"
