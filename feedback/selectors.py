"""Reads for surveys, follow-ups, friction reports and the insights built on them.

Each queryset already loads what its page or endpoint shows, so lists stay at a constant number
of queries however many rows there are.

"May X" lives here once: each `*_refusal` returns the domain error a service raises for that actor
and row (None when it accepts), and each `may_*` is that refusal being None. Services raise the
refusal; pages and templates show a button exactly when the `may_*` is true. Lists carry `overdue`
(the models' `overdue_q`), so no template compares a deadline with now.

Why one module past 500 lines: the predicates must sit beside the reads whose visibility rules they
share, and the friction reports' "promised, not yet done" reads share the board's. The satisfaction
insights at the end are the seam: they move to `feedback/cockpit/` beside the other cockpit reads
(stories already live in `selectors_stories.py`).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import Decision
from empower.errors import Conflict, DomainError, NotAllowed
from empower.models import AuditRecord, Employee
from empower.selectors import chain_above, email_of_row, has_reports, subtree_ids, visible_team_ids
from feedback.models import (
    MAX_COMPLAINTS,
    FollowUp,
    FrictionAnswer,
    FrictionReport,
    FrictionSecond,
    Survey,
    SurveyDaySummary,
)

# A case counts as escalated when any decision on it went beyond the maker's authority.
_ESCALATED = Exists(Decision.objects.filter(case_id=OuterRef("case_id"), within_authority=False))


def _case_decisions() -> Prefetch:
    decisions = Decision.objects.select_related(
        "decision_type", "made_by__user", "approved_by__user", "authority_of__user", "escalation__assigned_to__user"
    ).order_by("created_at", "id")
    return Prefetch("case__decisions", queryset=decisions)


def surveys_with_context() -> QuerySet[Survey]:
    """Surveys with their case, team, resolver, decisions and whether the case was escalated."""
    return (
        Survey.objects.select_related("case__customer", "case__team", "team", "resolved_by__user")
        .prefetch_related(_case_decisions())
        .annotate(escalated=_ESCALATED)
    )


def surveys_visible_to(*, employee: Employee) -> QuerySet[Survey]:
    """Staff see the surveys of the cases they may see (their team's; a manager's, every team below)."""
    return surveys_with_context().filter(case__team_id__in=visible_team_ids(employee=employee))


def survey_for_customer(*, survey_id: int) -> Survey | None:
    """The one survey a customer's token opens, with what their page shows (and nothing more)."""
    replies = FollowUp.objects.order_by("created_at", "id")
    return (
        Survey.objects.select_related("case__customer")
        .prefetch_related(Prefetch("follow_ups", queryset=replies))
        .filter(pk=survey_id)
        .first()
    )


def _follow_ups() -> QuerySet[FollowUp]:
    return FollowUp.objects.select_related(
        "survey",
        "case__customer",
        "case__team",
        "resolver__user",
        "assigned_to__user",
        "on_behalf_of__user",
        "replied_by__user",
    ).annotate(overdue=FollowUp.overdue_annotation())


def follow_ups_visible_to(*, employee: Employee) -> QuerySet[FollowUp]:
    """A follow-up is seen by its assignee, the employee who resolved the case, and everyone above them."""
    below = subtree_ids(employee=employee, include_self=True)
    return _follow_ups().filter(Q(assigned_to_id__in=below) | Q(resolver_id__in=below))


def follow_up_list(*, employee: Employee, status: str | None = None) -> QuerySet[FollowUp]:
    """My follow-ups and those below me: open ones first, the nearest deadline first."""
    follow_ups = follow_ups_visible_to(employee=employee)
    if status:
        follow_ups = follow_ups.filter(status=status)
    # Open ones (no reply yet) first, by deadline; then the latest replies.
    return follow_ups.order_by(F("replied_at").desc(nulls_first=True), "due_at", "id")


def follow_up_detail(*, employee: Employee, follow_up_id: int) -> FollowUp | None:
    """One follow-up the employee may see, with its survey's context (decisions, escalated or not)
    and when its reply was e-mailed (`reply_emailed_at`)."""
    follow_ups = follow_ups_with_reply_email(follow_ups_visible_to(employee=employee))
    follow_up = follow_ups.filter(pk=follow_up_id).first()
    if follow_up is not None:
        follow_up.survey = surveys_with_context().get(pk=follow_up.survey_id)
    return follow_up


def surveys_with_email(surveys: QuerySet[Survey]) -> QuerySet[Survey]:
    """Surveys with their e-mail's state from the outbox: `email_id`, `emailed_at` (when it went),
    `email_error`; None where no e-mail is queued (the survey was answered before it went)."""
    email = email_of_row(Survey.EMAIL_KEY_PREFIX)
    return surveys.annotate(
        email_id=Subquery(email.values("pk")[:1]),
        emailed_at=Subquery(email.values("sent_at")[:1]),
        email_error=Subquery(email.values("last_error")[:1]),
    )


def follow_ups_with_reply_email(follow_ups: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    """Follow-ups with their reply e-mail's state from the outbox: `reply_email_id`,
    `reply_emailed_at` (when it went), `reply_email_error`; None before the reply."""
    email = email_of_row(FollowUp.REPLY_EMAIL_KEY_PREFIX)
    return follow_ups.annotate(
        reply_email_id=Subquery(email.values("pk")[:1]),
        reply_emailed_at=Subquery(email.values("sent_at")[:1]),
        reply_email_error=Subquery(email.values("last_error")[:1]),
    )


def may_handle_follow_up(*, employee: Employee, follow_up: FollowUp) -> bool:
    """The assignee, the employee who resolved the case, and anyone above either may record and reply."""
    if employee.pk in (follow_up.assigned_to_id, follow_up.resolver_id):
        return True
    above = {e.pk for e in chain_above(employee=follow_up.resolver)}
    above |= {e.pk for e in chain_above(employee=follow_up.assigned_to)}
    return employee.pk in above


def _move_refusal(row: FollowUp | FrictionReport, status: str) -> Conflict | None:
    try:
        row.ensure_can_move_to(status)
    except Conflict as error:
        return error
    return None


def reply_refusal(*, employee: Employee, follow_up: FollowUp) -> DomainError | None:
    """Why `employee` may not reply to this follow-up now (None: they may)."""
    if not may_handle_follow_up(employee=employee, follow_up=follow_up):
        return NotAllowed(_("Only the person following up, or someone above them, may reply."))
    return _move_refusal(follow_up, FollowUp.Status.DONE)


def may_reply_to_follow_up(*, employee: Employee, follow_up: FollowUp) -> bool:
    return reply_refusal(employee=employee, follow_up=follow_up) is None


def may_flag_complaint(*, employee: Employee, survey: Survey, below: set[int] | None = None) -> bool:
    """Who may read a customer's comment as a complaint: those who may handle the follow-up it opens,
    the employee who resolved the case and anyone above them. `below` is the employee's subtree
    (themselves included), when a page has already loaded it for many rows.
    """
    if below is None:
        below = set(subtree_ids(employee=employee, include_self=True))
    return survey_resolver_id(survey) in below


def flag_complaint_refusal(*, employee: Employee, survey: Survey, below: set[int] | None = None) -> DomainError | None:
    """Why `employee` may not treat this answer as a complaint now (None: they may). Reads
    `survey.follow_ups.all()`, so a list prefetches them.
    """
    if not may_flag_complaint(employee=employee, survey=survey, below=below):
        return NotAllowed(
            _("Only the employee who resolved the case, or someone above them, may treat this as a complaint."),
            code="not_allowed",
        )
    if not survey.is_answered:
        return Conflict(_("The customer has not answered yet."), code="not_answered")
    if survey.comment_is_complaint or any(f.is_open for f in survey.follow_ups.all()):
        return Conflict(_("This answer is already being followed up."), code="already_flagged")
    return None


def may_treat_as_complaint(*, employee: Employee, survey: Survey, below: set[int] | None = None) -> bool:
    return flag_complaint_refusal(employee=employee, survey=survey, below=below) is None


def complaint_refusal(*, survey: Survey) -> Conflict | None:
    """Why the customer may not raise a complaint now (None: they may): only after answering, not
    while one is being looked into, and at most MAX_COMPLAINTS times per survey.
    """
    follow_ups = list(survey.follow_ups.all())
    if not survey.is_answered:
        return Conflict(_("Please answer the survey first."), code="not_answered")
    if any(f.is_open for f in follow_ups):
        return Conflict(_("We are already looking into this and will answer you soon."), code="follow_up_open")
    if sum(f.reason == FollowUp.Reason.COMPLAINT for f in follow_ups) >= MAX_COMPLAINTS:
        return Conflict(
            _("We have received several complaints about this case; please contact us directly."),
            code="too_many_complaints",
        )
    return None


def may_complain(*, survey: Survey) -> bool:
    return complaint_refusal(survey=survey) is None


def survey_resolver_id(survey: Survey) -> int:
    """Who resolved the case: the survey's record of it, else the case's (or its assignee, for old rows)."""
    return survey.resolved_by_id or survey.case.resolved_by_id or survey.case.assigned_to_id


# Who a follow-up or report moves up from: the person whose turn it was, not their stand-in.
_HOLDER_HAS_A_MANAGER = Q(on_behalf_of__isnull=True, assigned_to__parent__isnull=False) | Q(
    on_behalf_of__parent__isnull=False
)


def overdue_follow_up_ids(*, now: datetime | None = None) -> list[int]:
    """Open follow-ups past their deadline whose holder has someone above to pass them to."""
    now = now or timezone.now()
    return list(
        FollowUp.objects.filter(_HOLDER_HAS_A_MANAGER, FollowUp.overdue_q(now))
        .order_by("due_at")
        .values_list("pk", flat=True)
    )


def history_of(*, target) -> QuerySet[AuditRecord]:
    """The audit trail of one follow-up or report, oldest first."""
    return (
        AuditRecord.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk))
        .select_related("actor__user")
        .order_by("created_at", "id")
    )


# --- policy-friction reports ------------------------------------------------------------------


# What one report's own page and the API show beyond the board (the case, the decision, on whose behalf).
REPORT_DETAIL_RELATED = ("case", "decision__decision_type", "on_behalf_of__user")


def _reports() -> QuerySet[FrictionReport]:
    """Reports with what the board shows of them. Every join here is planned on each of the board's
    queries (planning a join of twenty tables took PostgreSQL longer than running it): the rest is
    in `REPORT_DETAIL_RELATED`, for those who show it."""
    return FrictionReport.objects.select_related(
        "reporter__user",
        "team",
        "decision_type",
        "assigned_to__user",
        "answered_by__user",
        "change_decision_type",
        "change_employee__user",
        "change_role",
        "change_done_by__user",
    ).annotate(seconds_count=_seconds_count(), overdue=FrictionReport.overdue_annotation())


def _seconds_count() -> Coalesce:
    """How many seconded a report, counted beside each row: a join and GROUP BY over the dozen joined
    tables cost PostgreSQL more to plan than the whole board costs to run."""
    seconds = FrictionSecond.objects.filter(report=OuterRef("pk")).order_by().values("report").annotate(n=Count("pk"))
    return Coalesce(Subquery(seconds.values("n"), output_field=IntegerField()), 0)


def reports_visible_to(*, employee: Employee, below: set[int] | None = None) -> QuerySet[FrictionReport]:
    """The reporter, everyone above them, and colleagues of the same team (who may second it).
    `below`: the employee's subtree (themselves included), when the caller has loaded it already.
    """
    return _reports().filter(_visible_to(employee, below))


def _visible_to(employee: Employee, below: set[int] | None = None) -> Q:
    below = subtree_ids(employee=employee, include_self=True) if below is None else below
    return Q(reporter_id__in=below) | Q(team_id=employee.team_id) | Q(assigned_to=employee)


def report_detail(*, employee: Employee, report_id: int) -> FrictionReport | None:
    answers = FrictionAnswer.objects.select_related("by__user")
    seconds = FrictionSecond.objects.select_related("employee__user")
    return (
        reports_visible_to(employee=employee)
        .select_related(*REPORT_DETAIL_RELATED)
        .prefetch_related(Prefetch("answers", queryset=answers), Prefetch("seconds", queryset=seconds))
        .filter(pk=report_id)
        .first()
    )


def answer_refusal(*, employee: Employee, report: FrictionReport) -> DomainError | None:
    """Why `employee` may not answer (accept, explain, pass up) this report now (None: they may)."""
    if not may_answer_report(employee=employee, report=report):
        return NotAllowed(_("Only the manager it is assigned to, or someone above them, may answer."))
    return _move_refusal(report, FrictionReport.Status.ACCEPTED)  # open, i.e. still to be answered


def may_answer_now(*, employee: Employee, report: FrictionReport) -> bool:
    return answer_refusal(employee=employee, report=report) is None


def may_pass_up(*, employee: Employee, report: FrictionReport) -> bool:
    """Passing up is answering, when someone active stands above the manager whose turn it is (the
    assignee, or whom they stand in for): the same person `friction_report_answer` passes it to.
    """
    if not may_answer_now(employee=employee, report=report):
        return False
    return any(p.is_active for p in chain_above(employee=report.on_behalf_of or report.assigned_to))


def may_answer_report(*, employee: Employee, report: FrictionReport) -> bool:
    """The manager it is assigned to (or the one their stand-in holds it for), or anyone above them;
    never the reporter.
    """
    if employee.pk == report.reporter_id:
        return False
    if employee.pk in (report.assigned_to_id, report.on_behalf_of_id):
        return True
    holder = report.on_behalf_of or report.assigned_to
    above = {e.pk for e in chain_above(employee=report.assigned_to)}
    if holder.pk != report.assigned_to_id:
        above |= {e.pk for e in chain_above(employee=holder)}
    return employee.pk in above


def is_reporters_colleague(*, employee: Employee, report: FrictionReport, below: set[int] | None = None) -> bool:
    """A colleague of the same team, on the reporter's side: not the reporter, not the one who must
    answer (the assignee, whom they stand in for) and nobody above the reporter. `below` is the
    employee's subtree (themselves included), when a page has already loaded it for many rows.
    """
    if employee.team_id != report.team_id:
        return False
    if employee.pk in (report.reporter_id, report.assigned_to_id, report.on_behalf_of_id):
        return False
    if below is not None:  # above the reporter = the reporter is somewhere below
        return report.reporter_id not in below
    return employee.pk not in {e.pk for e in chain_above(employee=report.reporter)}


def second_refusal(
    *, employee: Employee, report: FrictionReport, below: set[int] | None = None, seconded: set[int] | None = None
) -> DomainError | None:
    """Why `employee` may not second this report now (None: they may): a colleague of the same team,
    once each, never one's own report, never the manager who must answer it or anyone above the
    reporter (they answer, not second), and only while it is open. `seconded` is the ids of the
    reports the employee has seconded, when a page has already loaded them.
    """
    if employee.pk == report.reporter_id:
        return NotAllowed(_("You cannot second your own report."), code="own_report")
    if employee.team_id != report.team_id:
        return NotAllowed(_("Only colleagues of the same team may second a report."))
    if not is_reporters_colleague(employee=employee, report=report, below=below):
        return NotAllowed(_("Managers answer a report; only colleagues second it."), code="answers_it")
    if not report.is_open:
        return _move_refusal(report, FrictionReport.Status.ACCEPTED)
    if seconded is None:
        seconded = mine_seconded(employee=employee, report_ids=[report.pk])
    if report.pk in seconded:
        return Conflict(_("You have already seconded this report."), code="already_seconded")
    return None


def may_second_report(
    *, employee: Employee, report: FrictionReport, below: set[int] | None = None, seconded: set[int] | None = None
) -> bool:
    """Only colleagues second an open report ("this stops me too"), once; managers answer it instead."""
    return second_refusal(employee=employee, report=report, below=below, seconded=seconded) is None


@dataclass
class RuleGroup:
    """Open reports about one rule, the most seconded report first."""

    key: str
    label: str
    reports: list[FrictionReport] = field(default_factory=list)

    @property
    def seconds(self) -> int:
        return sum(r.seconds_count for r in self.reports)


def report_board(*, employee: Employee) -> list[RuleGroup]:
    """Open reports the employee may see, grouped by rule: the rule with the most seconds in all first,
    then the one reported most; within a rule, the most seconded report first (then the oldest).
    Each report carries `may_second` for this employee.
    """
    below = set(subtree_ids(employee=employee, include_self=True))
    reports = list(
        reports_visible_to(employee=employee, below=below)
        .filter(status=FrictionReport.Status.OPEN)
        .order_by("-seconds_count", "created_at", "id")
    )
    seconded = mine_seconded(employee=employee, report_ids=[r.pk for r in reports])
    groups: dict[str, RuleGroup] = {}
    for report in reports:
        report.may_second = may_second_report(employee=employee, report=report, below=below, seconded=seconded)
        group = groups.setdefault(report.rule_key, RuleGroup(key=report.rule_key, label=_rule_group_label(report)))
        group.reports.append(report)
    # A stable sort: equal rules keep the order of their most seconded (then oldest) report.
    return sorted(groups.values(), key=lambda g: (-g.seconds, -len(g.reports)))


def _rule_group_label(report: FrictionReport) -> str:
    if report.decision_type_id:
        return report.rule_label
    return ""  # "other rules": the template names it in the viewer's language


def mine_seconded(*, employee: Employee, report_ids: list[int]) -> set[int]:
    return set(
        FrictionSecond.objects.filter(employee=employee, report_id__in=report_ids).values_list("report_id", flat=True)
    )


def change_refusal(*, employee: Employee, report: FrictionReport) -> DomainError | None:
    """Who may record the change an accepted report promised: whoever accepted it, or anyone above them."""
    if report.status != FrictionReport.Status.ACCEPTED or report.change_done_at is not None:
        return Conflict(_("This report has no change left to record."), code="change_recorded")
    accepter = report.answered_by
    if accepter is None or (employee.pk != accepter.pk and employee.pk not in accepter.path_ids):
        return NotAllowed(_("Only whoever accepted this report, or someone above them, records its change."))
    return None


def may_record_change(*, employee: Employee, report: FrictionReport) -> bool:
    return change_refusal(employee=employee, report=report) is None


def promises_overdue(team_ids, *, now: datetime | None = None) -> QuerySet[FrictionReport]:
    """Accepted reports of these teams with no change done after EMPOWER_PROMISE_DAYS: "promised, not yet
    done". The cockpit counts them (`.count()`, or `.values("team").annotate(...)` per team), against
    the manager who accepted them (`answered_by`)."""
    now = now or timezone.now()
    return FrictionReport.objects.filter(FrictionReport.promise_overdue_q(now), team_id__in=list(team_ids))


def promises_overdue_for(*, employee: Employee, now: datetime | None = None) -> QuerySet[FrictionReport]:
    """The overdue promises a manager sees: those they accepted and those accepted by anyone below them."""
    now = now or timezone.now()
    accepters = [employee.pk, *subtree_ids(employee=employee)]
    return (
        FrictionReport.objects.filter(FrictionReport.promise_overdue_q(now), answered_by_id__in=accepters)
        .select_related("reporter__user", "answered_by__user", "decision_type", "change_decision_type")
        .order_by("answered_at", "id")
    )


def changed_because_you_told_us(*, employee: Employee, limit: int = 20) -> QuerySet[FrictionReport]:
    """The board's history: accepted reports whose change is done, newest change first (the reports the
    caller may see)."""
    return (
        FrictionReport.objects.filter(
            _visible_to(employee), status=FrictionReport.Status.ACCEPTED, change_done_at__isnull=False
        )
        .select_related("decision_type", "change_decision_type")  # what the history shows
        .order_by("-change_done_at", "-id")[:limit]
    )


def overdue_report_ids(*, now: datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        FrictionReport.objects.filter(_HOLDER_HAS_A_MANAGER, FrictionReport.overdue_q(now))
        .order_by("due_at")
        .values_list("pk", flat=True)
    )


# --- insights ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandlingRow:
    """CSAT of one team's answered surveys: settled at first contact against escalated."""

    team_id: int | None
    team: str
    first_contact_count: int
    first_contact_csat: float | None
    escalated_count: int
    escalated_csat: float | None
    nps: int | None
    answered: int

    @property
    def difference(self) -> float | None:
        if self.first_contact_csat is None or self.escalated_csat is None:
            return None
        return self.first_contact_csat - self.escalated_csat


def _nps(promoters: int, detractors: int, answered: int) -> int | None:
    if not answered:
        return None
    return round(100 * (promoters - detractors) / answered)


def _mean(total, count: int) -> float | None:
    return float(total) / count if count else None


_SURVEY_SUMS = ("answered", "csat_sum", "nps_answers", "promoters", "detractors")


def csat_by_handling(*, team_ids, since: datetime | None = None) -> tuple[list[HandlingRow], HandlingRow]:
    """Per team and overall: average CSAT of cases settled at first contact (no decision went beyond the
    maker's authority) against escalated ones, and the net promoter score. Three queries in all.

    Past days come from the cockpit's per-day survey summaries (`SurveyDaySummary`, kept current by
    the beat task), today from the surveys themselves: one aggregate over the teams' surveys answered
    today and one over those whose case was escalated (a semi-join on the partial index
    `decision_beyond_authority_case`). `since` is counted from the start of its day.
    """
    team_ids = sorted(team_ids)
    today = _start_of_today()
    everyone: dict[int, dict] = {}
    escalated: dict[int, dict] = {}
    names: dict[int, str] = {}

    def add(into: dict, team_id: int, values: dict) -> None:
        row = into.setdefault(team_id, dict.fromkeys(_SURVEY_SUMS, 0))
        for key in _SURVEY_SUMS:
            row[key] += values.get(key) or 0

    past = SurveyDaySummary.objects.filter(team_id__in=team_ids, day__lt=timezone.localdate())
    if since:
        past = past.filter(day__gte=timezone.localtime(since).date())
    sums = {key: Sum(key) for key in _SURVEY_SUMS}
    for values in past.values("team_id", "team__name", "escalated").annotate(**sums).order_by():
        names[values["team_id"]] = values["team__name"]
        add(everyone, values["team_id"], values)
        if values["escalated"]:
            add(escalated, values["team_id"], values)

    surveys = Survey.objects.filter(answered_at__gte=today, team_id__in=team_ids)
    # Answered surveys always carry a CSAT (`survey_answer_has_csat`), so counts and sums make the means.
    for values in surveys.values("team_id", "team__name").annotate(
        answered=Count("id"),
        csat_sum=Sum("csat"),
        nps_answers=Count("id", filter=Q(nps__isnull=False)),
        promoters=Count("id", filter=Q(nps__gte=9)),
        detractors=Count("id", filter=Q(nps__lte=6)),
    ):
        names[values["team_id"]] = values["team__name"]
        add(everyone, values["team_id"], values)
    for values in surveys.filter(_ESCALATED).values("team_id").annotate(answered=Count("id"), csat_sum=Sum("csat")):
        add(escalated, values["team_id"], values)
    nothing = dict.fromkeys(_SURVEY_SUMS, 0)

    def row(values: dict, up: dict, team_id, team: str) -> HandlingRow:
        first_count = values["answered"] - up["answered"]
        return HandlingRow(
            team_id=team_id,
            team=team,
            first_contact_count=first_count,
            first_contact_csat=_mean((values["csat_sum"] or 0) - (up["csat_sum"] or 0), first_count),
            escalated_count=up["answered"],
            escalated_csat=_mean(up["csat_sum"] or 0, up["answered"]),
            nps=_nps(values["promoters"], values["detractors"], values["nps_answers"]),
            answered=values["answered"],
        )

    order = sorted(everyone, key=lambda pk: (names[pk], pk))
    total = {key: sum(everyone[pk][key] for pk in order) for key in _SURVEY_SUMS}
    total_up = {key: sum(r[key] for r in escalated.values()) for key in _SURVEY_SUMS}
    rows = [row(everyone[pk], escalated.get(pk, nothing), pk, names[pk]) for pk in order]
    return rows, row(total, total_up, None, "")


def _start_of_today() -> datetime:
    tz = timezone.get_default_timezone()
    return timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()), tz)


@dataclass(frozen=True)
class FollowUpStats:
    open: int
    overdue: int
    replied: int
    replied_on_time: int

    @property
    def on_time_share(self) -> int | None:
        return round(100 * self.replied_on_time / self.replied) if self.replied else None


def follow_up_stats(*, team_ids, since: datetime | None = None) -> FollowUpStats:
    """How well the loop is closed: open and overdue follow-ups, and replies made by the first deadline."""
    now = timezone.now()
    # By the team of the employee who resolved the case (a small join on people), not the case's team:
    # joining the cases would read every case of those teams.
    follow_ups = FollowUp.objects.filter(resolver__team_id__in=list(team_ids))
    if since:
        follow_ups = follow_ups.filter(created_at__gte=since)
    values = follow_ups.aggregate(
        open=Count("id", filter=Q(status=FollowUp.Status.OPEN)),
        overdue=Count("id", filter=FollowUp.overdue_q(now)),
        replied=Count("id", filter=Q(status=FollowUp.Status.DONE)),
        replied_on_time=Count("id", filter=Q(status=FollowUp.Status.DONE, level=1, replied_at__lte=F("due_at"))),
    )
    return FollowUpStats(**values)


def open_reports_by_rule(*, team_ids) -> list[dict]:
    """Open friction reports per rule in these teams, the most reported first."""
    return list(
        FrictionReport.objects.filter(team_id__in=list(team_ids), status=FrictionReport.Status.OPEN)
        .values("decision_type__name", "limit")
        .annotate(reports=Count("id", distinct=True), seconds=Count("seconds", distinct=True))
        .order_by("-reports", "-seconds", "decision_type__name")
    )


# The periods insights offer, in days ("all": all time); the page and the API take the same ones.
INSIGHT_PERIODS: dict[str, int | None] = {"30": 30, "90": 90, "365": 365, "all": None}
DEFAULT_INSIGHT_PERIOD = "90"


def may_see_insights(*, employee: Employee) -> bool:
    """Insights are for managers: anyone with people reporting to them."""
    return has_reports(employee=employee)


@dataclass(frozen=True)
class FeedbackInsights:
    period: str
    since: datetime | None
    teams: list[HandlingRow]
    total: HandlingRow
    follow_ups: FollowUpStats
    rules: list[dict]


def feedback_insights(*, employee: Employee, period: str = DEFAULT_INSIGHT_PERIOD) -> FeedbackInsights:
    """A manager's insights over the teams below them and the last `period` days: CSAT by handling,
    how well follow-ups are closed, and the rules reported most (those open now, whatever the period).
    """
    days = INSIGHT_PERIODS[period]
    # Today and the days before it, whole days, as the cockpit counts them.
    since = _start_of_today() - timedelta(days=days - 1) if days else None
    team_ids = visible_team_ids(employee=employee)
    teams, total = csat_by_handling(team_ids=team_ids, since=since)
    return FeedbackInsights(
        period=period,
        since=since,
        teams=teams,
        total=total,
        follow_ups=follow_up_stats(team_ids=team_ids, since=since),
        rules=open_reports_by_rule(team_ids=team_ids),
    )


def register_case_flags() -> None:
    """What feedback tells the queue of a case (`empower.selectors.CaseFlag`): a follow-up is open."""
    from empower.selectors import CaseFlag, register_case_flag

    register_case_flag(
        "follow_up",
        CaseFlag(exists=lambda: Exists(FollowUp.objects.filter(case_id=OuterRef("pk"), status=FollowUp.Status.OPEN))),
    )


def case_feedback(*, employee: Employee, case_id: int) -> dict:
    """What the customer said of a case and what was done about it, for the case page: its survey
    (None before it is resolved, or where the employee may not see it) and the follow-ups the employee
    may see (the latest first), in two queries."""
    survey = surveys_visible_to(employee=employee).filter(case_id=case_id).first()
    follow_ups = list(follow_ups_visible_to(employee=employee).filter(case_id=case_id).order_by("-created_at", "-id"))
    return {"survey": survey, "follow_ups": follow_ups}
