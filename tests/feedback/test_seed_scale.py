"""`seed_scale` on a small organization: the promised people, history, counters and feedback, once."""

import io
from collections import Counter, defaultdict
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from delegation.models import Decision, Escalation, EscalationStep, UsageCounter
from delegation.selectors.usage import counter_keys
from empower.models import Case, Customer, Employee
from feedback.models import FollowUp, FrictionReport, Survey

EMPLOYEES, DECISIONS, DAYS = 60, 2000, 60


def seed(**options) -> str:
    out = io.StringIO()
    call_command(
        "seed_scale",
        employees=EMPLOYEES,
        decisions=DECISIONS,
        days=DAYS,
        seed=7,
        stdout=out,
        stderr=io.StringIO(),
        **options,
    )
    return out.getvalue()


@pytest.fixture
def seeded(org):
    started = timezone.now()
    seed(password="scale-pass-1")
    return started


def scale_people():
    return Employee.objects.filter(user__username__startswith="scale-").select_related("role", "user")


def test_an_organization_of_the_asked_size_whose_every_chain_reaches_a_director(seeded, org):
    people = {e.pk: e for e in scale_people()}
    assert len(people) == EMPLOYEES
    roles = Counter(e.role.code for e in people.values())
    assert roles["director"] >= 1 and roles["manager"] >= 1
    # Team names are translated data: every bulk-written team reads back its English name.
    assert all(e.team.name for e in people.values())
    assert 8 <= roles["agent"] / roles["team_lead"] <= 13
    everyone = {e.pk: e for e in Employee.objects.select_related("role")}
    for agent in (e for e in people.values() if e.role.code == "agent"):
        chain, current = [], agent
        while current.parent_id is not None:
            current = everyone[current.parent_id]
            chain.append(current)
        assert [boss.role.code for boss in chain[:3]] == ["team_lead", "manager", "director"]
        assert agent.path_ids == [boss.pk for boss in reversed(chain)]  # the chain of command is stored
        assert current.pk == org.dan.pk  # one company: the demo's director at the top
        assert agent.team_id == everyone[agent.parent_id].team_id
    assert Employee.objects.exclude(pk__in=people).count() == 8  # the demo's people, untouched
    someone = next(iter(people.values()))
    assert someone.user.check_password("scale-pass-1")


def test_decisions_within_the_period_mostly_at_the_edge_the_rest_escalated_and_answered(seeded):
    decisions = Decision.objects.filter(made_by__user__username__startswith="scale-")
    assert decisions.count() == DECISIONS
    assert not decisions.filter(created_at__lt=seeded - timedelta(days=DAYS)).exists()
    assert not decisions.filter(created_at__gt=timezone.now()).exists()
    within = decisions.filter(within_authority=True)
    assert 0.75 <= within.count() / DECISIONS <= 0.92
    assert not within.exclude(status="approved").exists()
    assert not within.exclude(exceeded=[]).exists()
    escalated = decisions.filter(within_authority=False)
    assert Escalation.objects.filter(decision__in=escalated).count() == escalated.count()
    for decision in escalated.select_related("escalation"):
        limit = decision.limits_snapshot["per_decision"]
        assert decision.exceeded and decision.escalation.exceeded == decision.exceeded
        assert ("per_decision" in decision.exceeded) == (limit is not None and decision.amount > Decimal(limit))
    outcomes = Counter()
    for decision in escalated.select_related("escalation"):
        if decision.status == "approved":
            outcomes["as asked" if decision.final_amount == decision.amount else "lower"] += 1
            assert decision.approved_by_id == decision.escalation.decided_by_id != decision.made_by_id
        else:
            outcomes[decision.status] += 1
    assert set(outcomes) == {"as asked", "lower", "rejected", "withdrawn", "escalated"}
    assert outcomes["escalated"] < 0.05 * escalated.count()  # a few still waiting
    assert Escalation.objects.filter(level__gt=1, steps__reason=EscalationStep.Reason.OVERDUE).exists()
    for escalation in Escalation.objects.prefetch_related("steps"):
        steps = list(escalation.steps.all())
        assert steps[0].reason == EscalationStep.Reason.ROUTED
        assert steps[-1].level == escalation.level
        assert steps[-1].status == escalation.status
        assert escalation.created_at <= steps[0].created_at
    # A case waiting for an answer is not resolved.
    assert not Case.objects.filter(status="resolved", decisions__status="escalated").exists()


def test_usage_counters_are_the_approved_amounts_per_counter_key(seeded):
    expected: dict[str, Decimal] = defaultdict(Decimal)
    approved = Decision.objects.filter(status="approved").values_list(
        "authority_of_id", "decision_type_id", "case__customer_id", "decided_at", "final_amount"
    )
    for holder, type_id, customer, decided_at, amount in approved:
        for key in counter_keys(holder_id=holder, decision_type_id=type_id, customer_id=customer, at=decided_at).all():
            expected[key] += amount
    assert expected
    assert dict(UsageCounter.objects.values_list("key", "amount")) == expected


def test_surveys_of_resolved_cases_and_follow_ups_of_the_unhappy(seeded):
    resolved = Case.objects.filter(status="resolved", assigned_to__user__username__startswith="scale-")
    surveys = Survey.objects.filter(case__in=resolved)
    assert surveys.count() == resolved.count() > 0
    answered = surveys.filter(answered_at__isnull=False)
    assert 0.2 <= answered.count() / surveys.count() <= 0.4
    scores = Counter(answered.values_list("csat", flat=True))
    assert scores[5] + scores[4] > scores[1] + scores[2]  # skewed positive
    unhappy = answered.filter(csat__lte=2)
    assert FollowUp.objects.filter(survey__in=unhappy).count() == unhappy.count() > 0
    assert FollowUp.objects.filter(status="done").count() > FollowUp.objects.filter(status="open").count()
    assert FrictionReport.objects.exists()


def test_a_second_run_changes_nothing(seeded):
    tables = (Employee, Customer, Case, Decision, Escalation, EscalationStep, UsageCounter, Survey, FollowUp)
    before = [model.objects.count() for model in tables]
    out = seed()
    assert "already there" in out
    assert [model.objects.count() for model in tables] == before
