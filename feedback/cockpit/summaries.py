"""Keeping the cockpit's summaries equal to the raw decisions.

`summaries_rebuild(days=…)` recomputes whole days (every team and decision type of those days) from
the raw rows, set-based: four aggregate queries and bulk inserts, whatever the number of days.
`summaries_refresh()` is what the beat task runs every minute: it rebuilds the days that changed
since its last run — today (and yesterday, around midnight) for new decisions, and the day of every
decision whose escalation moved (routed, moved up, answered, withdrawn: each move writes an
`EscalationStep`, read by its `created_at` index), and the day each survey was answered whose case
has since had a decision beyond authority. The first run, with no watermark, rebuilds
everything. Runs are serialized on the one `SummaryState` row, so two workers never interleave.
"""

import math
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncDate, TruncWeek
from django.utils import timezone

from delegation.deadlines import working_seconds_between
from delegation.models import CAPS, Decision, Escalation, EscalationStep
from feedback.cockpit.models import (
    DecisionDaySummary,
    EscalationTiming,
    PeriodHistogram,
    PeriodSummary,
    SettledDaySummary,
    SummaryState,
    SurveyDaySummary,
    WeekSummary,
)
from feedback.models import Survey
from feedback.selectors import INSIGHT_PERIODS

# A transaction may commit a little after the moment it stamped on its rows: look back this far.
SLACK = timedelta(minutes=5)
BATCH = 5000

ANSWERED = (Escalation.Status.APPROVED, Escalation.Status.REJECTED)

# Durations are bucketed on a log scale, each bucket 5 % wider than the one before: a duration is
# known from its bucket within 2.5 % (bucket 0 is zero seconds).
BUCKET_GROWTH = 1.05


def bucket_of(seconds: int) -> int:
    return 0 if seconds <= 0 else 1 + int(math.log(seconds) / math.log(BUCKET_GROWTH))


def bucket_value(bucket: int) -> float:
    """The middle (geometric) of a bucket: within 2.5 % of every duration in it."""
    if bucket <= 0:
        return 0.0
    low, high = BUCKET_GROWTH ** (bucket - 1), BUCKET_GROWTH**bucket
    return math.sqrt(low * high) if bucket > 1 else 1.0


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive days merged into (first, last) runs."""
    runs: list[list[date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def _made_in(days: Iterable[date] | None, field: str = "created_at") -> Q:
    """Rows whose `field` falls on one of `days` (all rows for None), as index-friendly ranges."""
    if days is None:
        return Q()
    where = Q(pk__in=[])
    for first, last in _runs(days):
        where |= Q(**{f"{field}__gte": _start_of(first), f"{field}__lt": _start_of(last + timedelta(days=1))})
    return where


def _hit(cap: str) -> Q:
    # `exceeded` is a JSON list of cap names; the quotes keep "per_month" apart from "per_customer_month".
    return Q(within_authority=False, exceeded__icontains=f'"{cap}"')


OVERDUE, CAPACITY = EscalationStep.Reason.OVERDUE, EscalationStep.Reason.CAPACITY


def _moved_up(days) -> dict[tuple, int]:
    """Escalations that moved up for a deadline or for capacity, per day, team, type and reason: read
    from the steps of those days' escalations (through the decisions' time index)."""
    day = TruncDate("escalation__decision__created_at", tzinfo=timezone.get_default_timezone())
    steps = (
        EscalationStep.objects.filter(
            _made_in(days, "escalation__decision__created_at"), reason__in=[OVERDUE, CAPACITY]
        )
        .annotate(day=day)
        .values("day", "escalation__decision__made_by__team_id", "escalation__decision__decision_type_id", "reason")
        .annotate(n=Count("escalation_id", distinct=True))
        .order_by()
    )
    moved: dict[tuple, int] = defaultdict(int)
    for row in steps:
        key = (
            row["day"],
            row["escalation__decision__made_by__team_id"],
            row["escalation__decision__decision_type_id"],
            row["reason"],
        )
        moved[key] = row["n"]
    return moved


def _day_rows(days) -> list[DecisionDaySummary]:
    escalated = Q(within_authority=False)
    approved = escalated & Q(status=Decision.Status.APPROVED)
    rows = (
        Decision.objects.filter(_made_in(days))
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_default_timezone()))
        .values("day", "made_by__team_id", "decision_type_id")
        .annotate(
            n=Count("id"),
            within=Count("id", filter=Q(within_authority=True)),
            up=Count("id", filter=escalated),
            **{f"hit_{cap}": Count("id", filter=_hit(cap)) for cap in CAPS},
            as_asked=Count("id", filter=approved & Q(final_amount=F("amount"))),
            lower=Count("id", filter=approved & Q(final_amount__lt=F("amount"))),
            rejected=Count("id", filter=escalated & Q(status=Decision.Status.REJECTED)),
            withdrawn=Count("id", filter=escalated & Q(status=Decision.Status.WITHDRAWN)),
            waiting=Count("id", filter=escalated & Q(status=Decision.Status.ESCALATED)),
            amount_within=Sum("amount", filter=Q(within_authority=True)),
            amount_up=Sum("final_amount", filter=approved),
        )
        .order_by()
    )
    moved = _moved_up(days)
    return [
        DecisionDaySummary(
            day=row["day"],
            team_id=row["made_by__team_id"],
            decision_type_id=row["decision_type_id"],
            decisions=row["n"],
            within_authority=row["within"],
            escalated=row["up"],
            **{f"hit_{cap}": row[f"hit_{cap}"] for cap in CAPS},
            approved_as_asked=row["as_asked"],
            approved_lower=row["lower"],
            rejected=row["rejected"],
            withdrawn=row["withdrawn"],
            waiting=row["waiting"],
            moved_up_overdue=moved[(row["day"], row["made_by__team_id"], row["decision_type_id"], OVERDUE)],
            moved_up_capacity=moved[(row["day"], row["made_by__team_id"], row["decision_type_id"], CAPACITY)],
            amount_within_authority=row["amount_within"] or 0,
            amount_approved_on_escalation=row["amount_up"] or 0,
        )
        for row in rows
    ]


def _settled_rows(days) -> list[SettledDaySummary]:
    """Who settled each decision: the maker, within authority; the approver who answered, beyond it."""
    day = TruncDate("created_at", tzinfo=timezone.get_default_timezone())
    decisions = Decision.objects.filter(_made_in(days)).annotate(day=day)
    counts: dict[tuple, int] = defaultdict(int)
    at_edge = decisions.filter(within_authority=True).values("day", "made_by__team_id", "made_by__role_id")
    for row in at_edge.annotate(n=Count("id")).order_by():
        counts[(row["day"], row["made_by__team_id"], row["made_by__role_id"])] += row["n"]
    answered = decisions.filter(within_authority=False, escalation__status__in=ANSWERED).values(
        "day", "made_by__team_id", "escalation__decided_by__role_id"
    )
    for row in answered.annotate(n=Count("id")).order_by():
        counts[(row["day"], row["made_by__team_id"], row["escalation__decided_by__role_id"])] += row["n"]
    return [
        SettledDaySummary(day=d, team_id=team, role_id=role, decisions=n)
        for (d, team, role), n in counts.items()
        if role is not None
    ]


def _timing_rows(days) -> list[EscalationTiming]:
    answered = (
        Escalation.objects.filter(_made_in(days, "decision__created_at"), status__in=ANSWERED, decided_at__isnull=False)
        .values_list(
            "pk",
            "decision__created_at",
            "decision__made_by__team_id",
            "decision__decision_type_id",
            "created_at",
            "decided_at",
        )
        .order_by()
    )
    rows = []
    for pk, made_at, team_id, type_id, escalated_at, decided_at in answered.iterator(chunk_size=BATCH):
        seconds = max(0, int((decided_at - escalated_at).total_seconds()))
        working = working_seconds_between(escalated_at, decided_at)
        rows.append(
            EscalationTiming(
                escalation_id=pk,
                day=local_day(made_at),
                team_id=team_id,
                decision_type_id=type_id,
                seconds=seconds,
                working_seconds=working,
                bucket=bucket_of(seconds),
                working_bucket=bucket_of(working),
            )
        )
    return rows


# A case counts as escalated when any decision on it went beyond the maker's authority (as in
# `feedback.selectors.csat_by_handling`, which reads today from the surveys themselves).
CASE_ESCALATED = Exists(Decision.objects.filter(case_id=OuterRef("case_id"), within_authority=False))


def _survey_rows(days) -> list[SurveyDaySummary]:
    rows = (
        Survey.objects.filter(_made_in(days, "answered_at"), answered_at__isnull=False, team_id__isnull=False)
        .annotate(day=TruncDate("answered_at", tzinfo=timezone.get_default_timezone()), up=CASE_ESCALATED)
        .values("day", "team_id", "up")
        .annotate(
            n=Count("id"),
            csat_sum=Sum("csat"),
            nps_answers=Count("id", filter=Q(nps__isnull=False)),
            promoters=Count("id", filter=Q(nps__gte=9)),
            detractors=Count("id", filter=Q(nps__lte=6)),
        )
        .order_by()
    )
    return [
        SurveyDaySummary(
            day=row["day"],
            team_id=row["team_id"],
            escalated=row["up"],
            answered=row["n"],
            csat_sum=row["csat_sum"] or 0,
            nps_answers=row["nps_answers"],
            promoters=row["promoters"],
            detractors=row["detractors"],
        )
        for row in rows
    ]


def period_since(period: str, today: date | None = None) -> date | None:
    """The first day of a period: today and the N - 1 days before it (None: all time)."""
    days = INSIGHT_PERIODS[period]
    return None if days is None else (today or timezone.localdate()) - timedelta(days=days - 1)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks_rebuild(days) -> None:
    """The weeks of `days` (every week for None), from the day summaries."""
    stale = WeekSummary.objects.all()
    sources = DecisionDaySummary.objects.all()
    if days is not None:
        weeks = sorted({monday(day) for day in days})
        stale = stale.filter(week__in=weeks)
        sources = sources.filter(day__in=[week + timedelta(days=n) for week in weeks for n in range(7)])
    stale.delete()
    sums = sources.annotate(week=TruncWeek("day")).values("week", "team_id").order_by()
    sums = sums.annotate(n=Sum("decisions"), within=Sum("within_authority"), up=Sum("escalated"))
    WeekSummary.objects.bulk_create(
        [
            WeekSummary(
                week=row["week"].date() if isinstance(row["week"], datetime) else row["week"],
                team_id=row["team_id"],
                decisions=row["n"],
                within_authority=row["within"],
                escalated=row["up"],
            )
            for row in sums
        ],
        batch_size=BATCH,
    )


def _periods_rebuild() -> None:
    """Every period's sums per team and type, and its time-to-decision histograms per team, as of today.

    The histograms are written by the database itself (INSERT … SELECT): tens of thousands of rows
    never travel to Python."""
    PeriodSummary.objects.all().delete()
    PeriodHistogram.objects.all().delete()
    names = list(DecisionDaySummary.FIGURES)
    table = connection.ops.quote_name(PeriodHistogram._meta.db_table)
    team = connection.ops.quote_name("team_id")
    for period in INSIGHT_PERIODS:
        since = period_since(period)
        days = DecisionDaySummary.objects.all() if since is None else DecisionDaySummary.objects.filter(day__gte=since)
        rows = days.values("team_id", "decision_type_id").annotate(**{f"sum_{n}": Sum(n) for n in names}).order_by()
        PeriodSummary.objects.bulk_create(
            [
                PeriodSummary(
                    period=period,
                    since=since,
                    team_id=row["team_id"],
                    decision_type_id=row["decision_type_id"],
                    **{n: row[f"sum_{n}"] or 0 for n in names},
                )
                for row in rows
            ],
            batch_size=BATCH,
        )
        timings = EscalationTiming.objects.all() if since is None else EscalationTiming.objects.filter(day__gte=since)
        for working, column in ((False, "bucket"), (True, "working_bucket")):
            sql, params = timings.values("team_id", column).order_by().query.sql_with_params()
            bucket = connection.ops.quote_name(column)
            query = (
                f"INSERT INTO {table} (period, team_id, working, bucket, escalations) "  # noqa: S608 - names are ours
                f"SELECT %s, t.{team}, %s, t.{bucket}, COUNT(*) FROM ({sql}) t GROUP BY t.{team}, t.{bucket}"
            )
            with connection.cursor() as cursor:
                cursor.execute(query, [period, working, *params])


def summaries_rebuild(*, days: Iterable[date] | None = None, rollups: bool = True) -> None:
    """Recompute the summaries of `days` (every day for None) from the raw decisions, and with
    `rollups` the periods' totals and histograms."""
    days = None if days is None else sorted(set(days))
    if days == []:
        return
    with transaction.atomic():
        for model in (DecisionDaySummary, SettledDaySummary, EscalationTiming, SurveyDaySummary):
            stale = model.objects.all() if days is None else model.objects.filter(day__in=days)
            stale.delete()
        DecisionDaySummary.objects.bulk_create(_day_rows(days), batch_size=BATCH)
        SettledDaySummary.objects.bulk_create(_settled_rows(days), batch_size=BATCH)
        EscalationTiming.objects.bulk_create(_timing_rows(days), batch_size=BATCH)
        SurveyDaySummary.objects.bulk_create(_survey_rows(days), batch_size=BATCH)
        _weeks_rebuild(days)
        if rollups or days is None:
            _periods_rebuild()


def _rollups_due(state: SummaryState, now: datetime) -> bool:
    """The periods are added up again when the day changed (periods moved on) or after
    `COCKPIT_ROLLUP_MINUTES`: four periods over a year of a large company take a few seconds."""
    last = state.rolled_up_at
    if last is None or local_day(last) != local_day(now):
        return True
    return now - last >= timedelta(minutes=settings.COCKPIT_ROLLUP_MINUTES)


def summaries_refresh(*, now: datetime | None = None) -> list[date] | None:
    """Bring the summaries up to date: the days that changed since the last run (None: all of them,
    on the first run), and the periods when due. Idempotent; concurrent runs wait for each other
    on the state row."""
    now = now or timezone.now()
    with transaction.atomic():
        SummaryState.objects.get_or_create(pk=1)
        state = SummaryState.objects.select_for_update().get(pk=1)
        rollups = _rollups_due(state, now)
        if state.refreshed_at is None:
            summaries_rebuild()
            days, rollups = None, True
        else:
            since = min(state.refreshed_at, now) - SLACK
            first = local_day(since)
            days = {first + timedelta(days=n) for n in range((local_day(now) - first).days + 1)}
            moved = (
                EscalationStep.objects.filter(created_at__gte=since)
                .values_list("escalation__decision__created_at", flat=True)
                .distinct()
            )
            days |= {local_day(made_at) for made_at in moved}
            # Surveys answered earlier whose case has since been escalated change their day's split.
            answered = Survey.objects.filter(
                answered_at__isnull=False,
                case__decisions__created_at__gte=since,
                case__decisions__within_authority=False,
            ).values_list("answered_at", flat=True)
            days |= {local_day(at) for at in answered}
            days = sorted(days)
            summaries_rebuild(days=days, rollups=rollups)
        state.refreshed_at = now
        if rollups:
            state.rolled_up_at = now
        state.save(update_fields=["refreshed_at", "rolled_up_at"])
    return days


def summaries_as_of() -> datetime | None:
    """When the figures were last brought up to date: the older of the days and the periods."""
    state = SummaryState.objects.filter(pk=1).first()
    if state is None or state.refreshed_at is None:
        return None
    return min(state.refreshed_at, state.rolled_up_at or state.refreshed_at)
