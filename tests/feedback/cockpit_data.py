"""A small data set whose every cockpit figure is computed by hand in the tests.

Rows are written directly (not through the services), at fixed moments, so the calendar and
working hours are known: working days Monday to Friday, 9 to 17 (the defaults), time zone UTC.

Customer Care (alice, erin; bob leads it) and Returns (gina):

| # | who | type | amount | moment (UTC) | outcome |
|---|---|---|---|---|---|
| d1 | alice | refund | 50 | Mon 30 Nov 09:30 | within authority |
| d2 | alice | refund | 80 | Mon 30 Nov 09:40 | within authority |
| d3 | alice | refund | 150 | Mon 30 Nov 10:00 | per_decision; bob approves as asked at 12:00 |
| d4 | alice | refund | 250 | Fri 27 Nov 16:00 | per_decision, per_customer_month; moved up (overdue); |
|    |       |        |     |                  | carol approves 200 on Mon 30 Nov 10:00 |
| d5 | erin | goodwill | 30 | Tue 1 Dec 12:00 | per_decision; bob rejects at 12:30 |
| d6 | erin | refund | 120 | Tue 1 Dec 12:00 | per_day; erin withdraws at 13:00 |
| d7 | erin | refund | 130 | Tue 1 Dec 12:00 | per_month; moved up for capacity; waiting, overdue now |
| d8 | gina | refund | 40 | Tue 1 Dec 09:00 | within authority |
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from delegation.models import Decision, Escalation, EscalationStep

AT = {
    "d1": datetime(2026, 11, 30, 9, 30, tzinfo=UTC),
    "d2": datetime(2026, 11, 30, 9, 40, tzinfo=UTC),
    "d3": datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    "d4": datetime(2026, 11, 27, 16, 0, tzinfo=UTC),
    "d5": datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    "d6": datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    "d7": datetime(2026, 12, 1, 12, 0, tzinfo=UTC),
    "d8": datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
}


def decision(
    org, case, maker, type_, amount, at, *, exceeded=(), status="approved", final=None, by=None, answered=None
):
    """One decision; with `exceeded`, its escalation (status from the decision's)."""
    amount = Decimal(amount)
    within = not exceeded
    made = Decision.objects.create(
        case=case,
        customer_id=case.customer_id,
        decision_type=type_,
        made_by=maker,
        amount=amount,
        currency="EUR",
        rationale="test",
        status=status,
        within_authority=within,
        exceeded=list(exceeded),
        final_amount=amount if within else (Decimal(final) if final is not None else None),
        approved_by=maker if within else (by if status == "approved" else None),
        created_at=at,
        decided_at=at if within else answered,
    )
    if within:
        return made, None
    escalation_status = {"approved": "approved", "rejected": "rejected", "withdrawn": "withdrawn"}.get(
        status, "assigned"
    )
    escalation = Escalation.objects.create(
        decision=made,
        status=escalation_status,
        route_above=maker,
        approver=by,
        assigned_to=by,
        exceeded=list(exceeded),
        created_at=at,
        routing_since=at,
        routed_at=at,
        decided_by=by if escalation_status in ("approved", "rejected") else None,
        decided_at=answered if escalation_status in ("approved", "rejected") else None,
        due_at=at + timedelta(hours=4),
    )
    EscalationStep.objects.create(
        escalation=escalation, level=1, status="assigned", assigned_to=by, reason="routed", created_at=at
    )
    return made, escalation


def build(org, make_case) -> dict:
    refund, goodwill = org.refund, org.goodwill
    cc, returns = make_case(org.alice), make_case(org.gina)
    rows = {}
    rows["d1"] = decision(org, cc, org.alice, refund, "50.00", AT["d1"])
    rows["d2"] = decision(org, cc, org.alice, refund, "80.00", AT["d2"])
    rows["d3"] = decision(
        org, cc, org.alice, refund, "150.00", AT["d3"], exceeded=["per_decision"], by=org.bob,
        final="150.00", answered=AT["d3"] + timedelta(hours=2),
    )  # fmt: skip
    rows["d4"] = decision(
        org, cc, org.alice, refund, "250.00", AT["d4"], exceeded=["per_decision", "per_customer_month"],
        by=org.carol, final="200.00", answered=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )  # fmt: skip
    EscalationStep.objects.create(
        escalation=rows["d4"][1], level=1, status="routing", assigned_to=org.bob, reason="overdue",
        created_at=AT["d4"] + timedelta(hours=5),
    )  # fmt: skip
    rows["d5"] = decision(
        org, cc, org.erin, goodwill, "30.00", AT["d5"], exceeded=["per_decision"], status="rejected", by=org.bob,
        answered=AT["d5"] + timedelta(minutes=30),
    )  # fmt: skip
    rows["d6"] = decision(
        org, cc, org.erin, refund, "120.00", AT["d6"], exceeded=["per_day"], status="withdrawn", by=org.bob,
        answered=AT["d6"] + timedelta(hours=1),
    )  # fmt: skip
    rows["d7"] = decision(
        org, cc, org.erin, refund, "130.00", AT["d7"], exceeded=["per_month"], status="escalated", by=org.carol
    )
    EscalationStep.objects.create(
        escalation=rows["d7"][1], level=1, status="routing", assigned_to=org.bob, reason="capacity", created_at=AT["d7"]
    )
    rows["d8"] = decision(org, returns, org.gina, refund, "40.00", AT["d8"])
    return rows
