"""The customers' side of the scale history: surveys of resolved cases, follow-ups of the unhappy
ones, and staff's friction reports (answered, passed up, open; seconded by colleagues)."""

import random
from datetime import datetime, timedelta

from django.conf import settings

from delegation.deadlines import add_working_hours
from feedback.management.scale.bulk import IdPool, Progress, Writer
from feedback.management.scale.history import Simulated
from feedback.management.scale.people import Organization
from feedback.management.scale.texts import (
    COMMENTS,
    FOLLOW_UP_ACTIONS,
    FOLLOW_UP_REPLIES,
    FRICTION_ANSWERS,
    WOULD_HAVE_DONE,
)
from feedback.models import FollowUp, FrictionAnswer, FrictionReport, FrictionSecond, Survey

ANSWERED_SHARE = 0.30
# CSAT 5..1 by the case's mood: settled at the edge, escalated and approved, refused or cut.
CSAT_WEIGHTS = {0: (52, 29, 10, 5, 4), 1: (40, 32, 14, 8, 6), 2: (18, 24, 22, 18, 18)}
NPS_BY_CSAT = {5: (9, 10), 4: (7, 9), 3: (5, 7), 2: (2, 6), 1: (0, 4)}
SURVEY_FIELDS = [
    "id", "case", "team", "resolved_by", "created_at", "answered_at", "csat", "nps", "comment", "comment_is_complaint",
]  # fmt: skip
FOLLOW_UP_FIELDS = [
    "survey", "case", "reason", "customer_message", "status", "resolver", "assigned_to", "level", "due_at",
    "created_at", "action_taken", "reply", "replied_by", "replied_at",
]  # fmt: skip
REPORT_FIELDS = [
    "id", "reporter", "team", "case", "decision", "decision_type", "limit", "rule_text", "would_have_done", "status",
    "assigned_to", "level", "due_at", "created_at", "answered_by", "answered_at", "answer",
    "change_kind", "change_text", "change_decision_type", "change_employee", "change_values", "change_done_at",
    "change_done_by",
]  # fmt: skip


def build_feedback(
    *, sim: Simulated, org: Organization, rng: random.Random, now: datetime, progress: Progress
) -> dict[str, int]:
    counts = {"surveys": 0, "answered": 0, "follow_ups": 0, "follow_ups_open": 0}
    surveys = Writer(Survey, SURVEY_FIELDS)
    follow_ups = Writer(FollowUp, FOLLOW_UP_FIELDS).after(surveys)
    survey_ids = IdPool(Survey)
    hours = timedelta(hours=settings.FEEDBACK_FOLLOW_UP_HOURS)
    for start in range(0, len(sim.resolved), 10_000):
        chunk = sim.resolved[start : start + 10_000]
        for survey_id, (case_id, team_id, resolver_id, resolved_at, _customer, mood) in zip(
            survey_ids.take(len(chunk)), chunk, strict=True
        ):
            answered_at = resolved_at + timedelta(hours=rng.lognormvariate(1.5, 1.2))
            if rng.random() >= ANSWERED_SHARE or answered_at > now:
                surveys.add((survey_id, case_id, team_id, resolver_id, resolved_at, None, None, None, "", False))
                continue
            csat = rng.choices((5, 4, 3, 2, 1), weights=CSAT_WEIGHTS[mood])[0]
            nps = rng.randint(*NPS_BY_CSAT[csat]) if rng.random() < 0.6 else None
            comment = rng.choice(COMMENTS[csat]) if rng.random() < 0.35 else ""
            surveys.add((survey_id, case_id, team_id, resolver_id, resolved_at, answered_at, csat, nps, comment, False))
            counts["answered"] += 1
            if csat <= 2:
                counts["follow_ups_open"] += follow_up(
                    follow_ups, rng, now, hours, survey_id, case_id, resolver_id, answered_at, org
                )
                counts["follow_ups"] += 1
        counts["surveys"] += len(chunk)
        progress.advance(len(chunk))
    follow_ups.flush()
    counts |= friction_reports(sim=sim, org=org, rng=rng, now=now)
    return counts


def follow_up(writer, rng, now, hours, survey_id, case_id, resolver_id, opened, org) -> int:
    """Frontline first: the resolver owes the customer an answer within the deadline; most reply (a few
    late); the rest still open, the overdue ones moved up to the resolver's manager. 1 when left open."""
    due = opened + hours
    replied_at = opened + timedelta(hours=rng.uniform(1, hours.total_seconds() / 3600 * 1.3))
    if replied_at <= now and rng.random() < 0.97:
        writer.add(
            (survey_id, case_id, "low_score", "", "done", resolver_id, resolver_id, 1, due, opened,
             rng.choice(FOLLOW_UP_ACTIONS), rng.choice(FOLLOW_UP_REPLIES), resolver_id, replied_at)
        )  # fmt: skip
        return 0
    level, assignee = 1, resolver_id
    if due <= now:  # overdue: the periodic task handed it to the manager with a new deadline
        level, assignee, due = 2, org.by_id[resolver_id].parent_id, due + hours
    writer.add(
        (survey_id, case_id, "low_score", "", "open", resolver_id, assignee, level, due, opened, "", "", None, None)
    )
    return 1


def friction_reports(*, sim: Simulated, org: Organization, rng: random.Random, now: datetime) -> dict[str, int]:
    """About one report per thousand decisions, on escalations that hurt: the team lead answers most
    (accepting some), passes a few up to the manager; the recent ones wait. Colleagues second them."""
    candidates = sim.frictions
    wanted = min(len(candidates), max(5, sim.counts["decisions"] // 1000))
    chosen = sorted(rng.sample(candidates, wanted), key=lambda c: c[6])
    reports = Writer(FrictionReport, REPORT_FIELDS)
    answers = Writer(FrictionAnswer, ["report", "by", "outcome", "note", "created_at"]).after(reports)
    seconds = Writer(FrictionSecond, ["report", "employee", "note", "created_at"]).after(reports)
    team_mates: dict[int, list[int]] = {}
    for person in org.of_role("agent"):
        team_mates.setdefault(person.parent_id, []).append(person.id)
    working = settings.FEEDBACK_REPORT_WORKING_HOURS
    counts = {"friction_reports": 0, "friction_open": 0, "friction_seconds": 0}
    for report_id, (decision_id, case_id, reporter_id, team_id, type_id, cap, at) in zip(
        IdPool(FrictionReport).take(len(chosen)), chosen, strict=True
    ):
        created = at + timedelta(minutes=rng.uniform(5, 120))
        lead = org.by_id[reporter_id].parent_id
        level, assignee, due = 1, lead, add_working_hours(created, working)
        status, answered_by, answered_at, answer = "open", None, None, ""
        answered = created + (due - created) * rng.uniform(0.2, 1.4)
        if answered <= now and rng.random() < 0.85:
            if rng.random() < 0.15:  # the team lead cannot change it: up to their manager
                note = rng.choice(FRICTION_ANSWERS["pass_up"])
                answers.add((report_id, lead, "pass_up", note, answered))
                level, assignee = 2, org.by_id[lead].parent_id
                due = add_working_hours(answered, working)
                answered = answered + (due - answered) * rng.uniform(0.2, 1.2)
            if answered <= now:
                outcome = "accept" if rng.random() < 0.3 else "explain"
                answer = rng.choice(FRICTION_ANSWERS[outcome])
                status = "accepted" if outcome == "accept" else "explained"
                answered_by, answered_at = assignee, answered
                answers.add((report_id, assignee, outcome, answer, answered))
        # "You said, we did": most acceptances are a written policy, done when answered; some promise a
        # limit change still to come (the cockpit's "promised, not yet done" once 14 days old).
        change = ("", "", None, None, {}, None, None)
        if status == "accepted":
            if rng.random() < 0.7:
                change = ("policy", answer, None, None, {}, answered_at, answered_by)
            else:
                change = ("limit", answer, type_id, reporter_id, {}, None, None)
        reports.add(
            (report_id, reporter_id, team_id, case_id, decision_id, type_id, cap, "", rng.choice(WOULD_HAVE_DONE),
             status, assignee, level, due, created, answered_by, answered_at, answer, *change)
        )  # fmt: skip
        mates = [m for m in team_mates.get(lead, []) if m != reporter_id]
        for mate in rng.sample(mates, min(len(mates), rng.choice((0, 0, 1, 1, 2, 3, 5)))):
            seconded = created + timedelta(hours=rng.uniform(0.5, 72))
            if seconded <= now:
                seconds.add((report_id, mate, "", seconded))
                counts["friction_seconds"] += 1
        counts["friction_reports"] += 1
        counts["friction_open"] += status == "open"
    seconds.flush()
    answers.flush()
    return counts
