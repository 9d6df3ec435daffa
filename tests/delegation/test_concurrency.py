"""Caps hold under concurrency, to the cent: real threads, each with its own database connection."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from delegation.models import Decision, DecisionType, UsageCounter
from delegation.services import decision_submit
from empower.models import Employee
from empower.services import case_open
from tests.helpers import at_once

SUBMISSIONS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_submissions_against_a_cap_for_five_approve_exactly_five(tmp_path):
    call_command("seed_demo", password="pw-concurrency", stdout=open(tmp_path / "seed.log", "w"))  # noqa: SIM115
    alice = Employee.objects.get(user__username="alice")
    refund = DecisionType.objects.get(code="refund")
    # alice may refund 300.00 a day: 60.00 at a time fits exactly five times. One customer each,
    # so the per-customer cap (200.00) stays out of the way.
    cases = [
        case_open(employee=alice, customer_name=f"C {i}", customer_email=f"c{i}@example.com", subject="Refund")
        for i in range(SUBMISSIONS)
    ]

    def submit(case):
        return decision_submit(
            employee=alice, case=case, decision_type=refund, amount=Decimal("60.00"), rationale="Late delivery"
        ).status

    outcomes = at_once([lambda case=case: submit(case) for case in cases])

    assert outcomes.count(Decision.Status.APPROVED) == 5
    assert outcomes.count(Decision.Status.ESCALATED) == 15
    approved = Decision.objects.filter(status=Decision.Status.APPROVED)
    assert sum(d.final_amount for d in approved) == Decimal("300.00")
    day_counter = UsageCounter.objects.get(key__startswith=f"emp:{alice.pk}:dt:{refund.pk}:day:")
    assert day_counter.amount == Decimal("300.00")


@pytest.mark.django_db(transaction=True)
def test_simultaneous_retries_with_one_key_decide_once_and_all_answer_the_first(tmp_path):
    # No lock is taken for keyed submissions: the unique key makes the late ones wait for the first
    # to commit, and they answer as the retries they are.
    call_command("seed_demo", password="pw-concurrency", stdout=open(tmp_path / "seed.log", "w"))  # noqa: SIM115
    alice = Employee.objects.get(user__username="alice")
    refund = DecisionType.objects.get(code="refund")
    case = case_open(employee=alice, customer_name="Retry", customer_email="retry@example.com", subject="Refund")

    def submit():
        return decision_submit(
            employee=alice,
            case=case,
            decision_type=refund,
            amount=Decimal("60.00"),
            rationale="Late delivery",
            idempotency_key="retry-at-once",
        ).pk

    answered = at_once([submit] * 8)

    decision = Decision.objects.get(made_by=alice, idempotency_key="retry-at-once")
    assert answered == [decision.pk] * 8
    day_counter = UsageCounter.objects.get(key__startswith=f"emp:{alice.pk}:dt:{refund.pk}:day:")
    assert day_counter.amount == Decimal("60.00")
