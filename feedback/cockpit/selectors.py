"""The cockpit's figures: decisions at the edge per team, per decision type and per week, what became
of the escalations, how long approvers took, and who settled what (the inverted pyramid).

Read from the summaries (`feedback.cockpit.models`), never from the million raw decisions, in a
constant number of queries whatever the period or the number of teams: the visible teams (one
query, remembered for the request), their names, the period's sums per team and type (a few
hundred rows for a whole company), the weeks, the percentiles (exact from the answered
escalations up to `EXACT_PERCENTILES_UP_TO` of them, else from the period's histograms), and the
overdue escalations now (live, from the raw rows, through the `due_at` index).

Who sees what is `may_see_cockpit` and `cockpit_team_ids`: managers the teams below them, team
leads their own team, directors all; agents nothing here (their own record is the track record).
"""

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate

from django.db import connection
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from delegation.models import CAPS, DecisionType, Escalation
from empower.errors import InvalidInput, NotAllowed
from empower.models import Employee, Role, Team
from empower.selectors import teams_named, visible_team_ids
from feedback.cockpit.models import (
    EscalationTiming,
    PeriodHistogram,
    PeriodSummary,
    SettledDaySummary,
    WeekSummary,
)
from feedback.cockpit.summaries import bucket_value, monday, summaries_as_of
from feedback.selectors import DEFAULT_INSIGHT_PERIOD, INSIGHT_PERIODS, may_see_insights

PERIODS = INSIGHT_PERIODS
DEFAULT_PERIOD = DEFAULT_INSIGHT_PERIOD

_COUNTS = (
    "decisions",
    "within_authority",
    "escalated",
    *(f"hit_{cap}" for cap in CAPS),
    "approved_as_asked",
    "approved_lower",
    "rejected",
    "withdrawn",
    "waiting",
    "moved_up_overdue",
    "moved_up_capacity",
)
_AMOUNTS = ("amount_within_authority", "amount_approved_on_escalation")
_SUMS = {name: Sum(name) for name in (*_COUNTS, *_AMOUNTS)}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class DecisionRow:
    """One team's decisions in the period (or every visible team's, for the total: `team` None)."""

    team_id: int | None = None
    team: str | None = None
    decisions: int = 0
    within_authority: int = 0
    escalated: int = 0
    hit_per_decision: int = 0
    hit_per_day: int = 0
    hit_per_month: int = 0
    hit_per_customer_month: int = 0
    approved_as_asked: int = 0
    approved_lower: int = 0
    rejected: int = 0
    withdrawn: int = 0
    waiting: int = 0
    moved_up_overdue: int = 0
    moved_up_capacity: int = 0
    amount_within_authority: Decimal = Decimal("0.00")
    amount_approved_on_escalation: Decimal = Decimal("0.00")
    time_to_decision_p50: float | None = None
    time_to_decision_p90: float | None = None
    working_time_to_decision_p50: float | None = None
    working_time_to_decision_p90: float | None = None
    overdue_now: int = 0

    def add(self, values: dict) -> None:
        for name in (*_COUNTS, *_AMOUNTS):
            setattr(self, name, getattr(self, name) + (values.get(name) or 0))

    @property
    def at_edge_share(self) -> float | None:
        """The headline: the share settled by the person who took the case, without escalation."""
        return _share(self.within_authority, self.decisions)

    @property
    def escalation_rate(self) -> float | None:
        return _share(self.escalated, self.decisions)

    @property
    def limits_hit(self) -> dict[str, int]:
        return {cap: getattr(self, f"hit_{cap}") for cap in CAPS}

    @property
    def outcome_shares(self) -> dict[str, float | None]:
        """Each outcome as a share of the escalations (moved up: of those that moved up for that reason)."""
        names = ("approved_as_asked", "approved_lower", "rejected", "withdrawn", "waiting")
        names += ("moved_up_overdue", "moved_up_capacity")
        return {name: _share(getattr(self, name), self.escalated) for name in names}


@dataclass
class TypeRow:
    decision_type_id: int
    decision_type: str
    code: str
    decisions: int = 0
    within_authority: int = 0
    escalated: int = 0
    limits: dict[str, int] = field(default_factory=dict)

    @property
    def escalation_rate(self) -> float | None:
        return _share(self.escalated, self.decisions)

    @property
    def at_edge_share(self) -> float | None:
        return _share(self.within_authority, self.decisions)


@dataclass
class WeekRow:
    week: date  # the Monday the week starts on
    decisions: int
    within_authority: int
    escalated: int

    @property
    def at_edge_share(self) -> float | None:
        return _share(self.within_authority, self.decisions)


@dataclass
class DecisionsReport:
    period: str
    since: date | None
    teams: list[DecisionRow]
    total: DecisionRow
    types: list[TypeRow]
    weeks: list[WeekRow]
    as_of: datetime | None


@dataclass
class Level:
    """One level of the inverted pyramid: who settled how many decisions."""

    key: str
    label: str
    decisions: int
    share: float | None


@dataclass
class Pyramid:
    period: str
    since: date | None
    total: int
    levels: list[Level]
    unsettled: int
    at_edge_share: float | None
    weeks: list[WeekRow]
    as_of: datetime | None


# --- who sees what ---------------------------------------------------------------------------------


def may_see_cockpit(*, employee: Employee) -> bool:
    """The cockpit is for those with people below them (team leads, managers, directors), as insights."""
    return may_see_insights(employee=employee)


def cockpit_refusal(*, employee: Employee) -> NotAllowed | None:
    if not may_see_cockpit(employee=employee):
        return NotAllowed(
            _("The cockpit is for managers: people with a team below them. Your own record is your track record.")
        )
    return None


def lands_on_pyramid(*, employee: Employee) -> bool:
    """Directors see the inverted pyramid first when they log in."""
    return employee.role.code == "director" and may_see_cockpit(employee=employee)


def cockpit_team_ids(*, employee: Employee, team: str | None = None) -> set[int]:
    """The teams whose decisions the employee sees (their own team and every team below them), or the
    one `team` asked for (an id or a name) when it is among them. Unknown team: 400; one the employee
    may not see: 403."""
    visible = visible_team_ids(employee=employee)
    if team in (None, ""):
        return visible
    match = Team.objects.filter(pk=int(team)) if str(team).isdigit() else teams_named(team)
    found = match.values_list("pk", flat=True).first()
    if found is None:
        raise InvalidInput(_("No such team."), field_errors={"team": [_("No such team.")]})
    if found not in visible:
        raise NotAllowed(_("That team is not below you."), code="team_not_visible")
    return {found}


def period_start(period: str, *, today: date | None = None) -> date | None:
    """The first day counted: a period of N days is today and the N - 1 days before it (None: all)."""
    if period not in PERIODS:
        message = _("Choose a period of 30, 90 or 365 days, or all.")
        raise InvalidInput(message, field_errors={"period": [message]})
    days = PERIODS[period]
    if days is None:
        return None
    today = today or timezone.localdate()
    return today - timedelta(days=days - 1)


def _in_period(queryset, team_ids, since):
    queryset = queryset.filter(team_id__in=sorted(team_ids))
    return queryset.filter(day__gte=since) if since else queryset


# --- percentiles -----------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's `percentile_cont`)."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# Up to this many answered escalations in scope, percentiles are exact; beyond, they are read from
# the log-scale buckets (within 2.5 %), which costs a hash aggregate instead of sorting them all.
EXACT_PERCENTILES_UP_TO = 10_000


def histogram_percentiles(counts: list[tuple[int, int]], fractions: tuple[float, ...]) -> tuple:
    """`percentile` over a histogram of (bucket, count), for each of `fractions`: the same ranks and
    interpolation, each value known from its bucket (so within 2.5 %)."""
    ordered = sorted(counts)
    ends = list(accumulate(n for _, n in ordered))  # the rank just past each bucket
    total = ends[-1] if ends else 0
    if not total:
        return tuple(None for _ in fractions)

    def value_at(index: int) -> float:
        return bucket_value(ordered[bisect_right(ends, index)][0])

    values = []
    for fraction in fractions:
        position = fraction * (total - 1)
        low = int(position)
        low_value, high_value = value_at(low), value_at(min(low + 1, total - 1))
        values.append(low_value + (high_value - low_value) * (position - low))
    return tuple(values)


def _bucketed_percentiles(period: str, team_ids) -> dict[int | None, tuple]:
    """From the period's histograms (kept by the refresh): a few thousand rows at most."""
    calendar: dict[int | None, list] = defaultdict(list)
    working: dict[int | None, list] = defaultdict(list)
    together: dict[bool, dict[int, int]] = {False: defaultdict(int), True: defaultdict(int)}
    rows = PeriodHistogram.objects.filter(period=period, team_id__in=sorted(team_ids)).order_by()
    for team_id, is_working, bucket, n in rows.values_list("team_id", "working", "bucket", "escalations"):
        (working if is_working else calendar)[team_id].append((bucket, n))
        together[is_working][bucket] += n
    calendar[None] = list(together[False].items())
    working[None] = list(together[True].items())
    return {
        key: (*histogram_percentiles(calendar[key], (0.5, 0.9)), *histogram_percentiles(working[key], (0.5, 0.9)))
        for key in calendar
    }


def _percentiles(period: str, team_ids, since, answered: int) -> dict[int | None, tuple]:
    """Per team and for all of them (key None): p50 and p90 of the calendar and the working seconds.
    `answered`: how many escalations are in scope (from the summaries), which picks the method."""
    if answered > EXACT_PERCENTILES_UP_TO:
        return _bucketed_percentiles(period, team_ids)
    timings = _in_period(EscalationTiming.objects.all(), team_ids, since)
    if connection.vendor == "postgresql":
        sql, params = timings.values("team_id", "seconds", "working_seconds").order_by().query.sql_with_params()
        # The inner query is Django's own, compiled with its parameters: nothing from the request.
        query = f"""
            SELECT t.team_id, GROUPING(t.team_id),
                   percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY t.seconds),
                   percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY t.working_seconds)
            FROM ({sql}) t GROUP BY GROUPING SETS ((t.team_id), ())
        """  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(query, params)
            return {
                # The grand total of no rows is one row of nulls.
                (None if grouped else team_id): (*(calendar or (None, None)), *(working or (None, None)))
                for team_id, grouped, calendar, working in cursor.fetchall()
            }
    per_team: dict[int | None, list[tuple[int, int]]] = defaultdict(list)
    for team_id, seconds, working in timings.values_list("team_id", "seconds", "working_seconds").order_by():
        per_team[team_id].append((seconds, working))
        per_team[None].append((seconds, working))
    return {
        team_id: (
            percentile([s for s, _ in pairs], 0.5),
            percentile([s for s, _ in pairs], 0.9),
            percentile([w for _, w in pairs], 0.5),
            percentile([w for _, w in pairs], 0.9),
        )
        for team_id, pairs in per_team.items()
    }


# --- the report ------------------------------------------------------------------------------------


def _week_row(week, values: dict) -> WeekRow:
    return WeekRow(
        week=week.date() if isinstance(week, datetime) else week,
        decisions=values["decisions"] or 0,
        within_authority=values["within_authority"] or 0,
        escalated=values["escalated"] or 0,
    )


def _weeks(team_ids, since) -> list[WeekRow]:
    """Week by week (the weeks the period touches, from Monday), oldest first."""
    weeks = WeekSummary.objects.filter(team_id__in=sorted(team_ids))
    if since:
        weeks = weeks.filter(week__gte=monday(since))
    sums = {n: Sum(n) for n in ("decisions", "within_authority", "escalated")}
    return [_week_row(v["week"], v) for v in weeks.values("week").annotate(**sums).order_by("week")]


def _period_sums(period: str, team_ids, by: str) -> list[dict]:
    """The period's sums per team or per decision type (from a few hundred rows for a whole company)."""
    rows = PeriodSummary.objects.filter(period=period, team_id__in=sorted(team_ids)).order_by()
    return list(rows.values(by).annotate(**_SUMS))


def decisions_report(*, employee: Employee, period: str = DEFAULT_PERIOD, team: str | None = None) -> DecisionsReport:
    """Decisions at the edge for the teams the employee sees (or one of them) over `period`."""
    refusal = cockpit_refusal(employee=employee)
    if refusal:
        raise refusal
    since = period_start(period)
    team_ids = cockpit_team_ids(employee=employee, team=team)
    rows = {
        pk: DecisionRow(team_id=pk, team=name)
        for pk, name in Team.objects.filter(pk__in=sorted(team_ids)).order_by("name", "pk").values_list("pk", "name")
    }
    total = DecisionRow()
    for values in _period_sums(period, team_ids, "team_id"):
        rows[values["team_id"]].add(values)
        total.add(values)

    answered = total.approved_as_asked + total.approved_lower + total.rejected
    timings = _percentiles(period, team_ids, since, answered)
    for key, row in [*rows.items(), (None, total)]:
        if key in timings:
            (row.time_to_decision_p50, row.time_to_decision_p90, row.working_time_to_decision_p50,
             row.working_time_to_decision_p90) = timings[key]  # fmt: skip

    overdue = (
        Escalation.objects.filter(Escalation.overdue_q(timezone.now()), decision__made_by__team_id__in=sorted(team_ids))
        .values("decision__made_by__team_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for values in overdue:
        rows[values["decision__made_by__team_id"]].overdue_now = values["n"]
        total.overdue_now += values["n"]

    types = {pk: TypeRow(pk, name, code) for pk, name, code in DecisionType.objects.values_list("pk", "name", "code")}
    for values in _period_sums(period, team_ids, "decision_type_id"):
        row = types[values["decision_type_id"]]
        row.decisions, row.within_authority = values["decisions"], values["within_authority"]
        row.escalated = values["escalated"]
        row.limits = {cap: values[f"hit_{cap}"] for cap in CAPS}
    type_rows = sorted((t for t in types.values() if t.decisions), key=lambda t: (-t.decisions, t.decision_type))

    return DecisionsReport(
        period=period,
        since=since,
        teams=list(rows.values()),
        total=total,
        types=type_rows,
        weeks=_weeks(team_ids, since),
        as_of=summaries_as_of(),
    )


def pyramid(*, employee: Employee, period: str = DEFAULT_PERIOD, team: str | None = None) -> Pyramid:
    """The organization upside down: customers on top, then each role from the front line down, each
    sized by the decisions it settled in the period (the maker within authority, or the approver
    who answered an escalation)."""
    refusal = cockpit_refusal(employee=employee)
    if refusal:
        raise refusal
    since = period_start(period)
    team_ids = cockpit_team_ids(employee=employee, team=team)
    totals = PeriodSummary.objects.filter(period=period, team_id__in=sorted(team_ids)).aggregate(
        n=Sum("decisions"), within=Sum("within_authority")
    )
    total, within = totals["n"] or 0, totals["within"] or 0
    settled = dict(
        _in_period(SettledDaySummary.objects.all(), team_ids, since)
        .values("role_id")
        .annotate(n=Sum("decisions"))
        .order_by()
        .values_list("role_id", "n")
    )
    levels = [
        Level(key=role.code, label=role.name, decisions=n, share=_share(n, total))
        for role in Role.objects.order_by("rank", "pk")
        for n in [settled.get(role.pk, 0)]
    ]
    return Pyramid(
        period=period,
        since=since,
        total=total,
        levels=levels,
        unsettled=total - sum(level.decisions for level in levels),
        at_edge_share=_share(within, total),
        weeks=_weeks(team_ids, since),
        as_of=summaries_as_of(),
    )


def row_fields() -> list[str]:
    return [f.name for f in fields(DecisionRow)]
