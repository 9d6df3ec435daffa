"""The decision path, lean: what one decision through the API costs, and what keeps it that cheap
honest (cached types and limits never stale, the worker's kept connection).

The budget counts every statement the request sends, authentication included; SAVEPOINT and
RELEASE stand where a real request sends BEGIN and COMMIT.
"""

from datetime import timedelta
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.celery import ConnectionKeepingWorkerFixup, app
from delegation.models import Decision, DecisionType, Escalation
from delegation.serializers import DecisionOutputSerializer
from delegation.services import decision_submit, decision_type_save, limit_set, role_limit_set
from delegation.tasks import route_escalation
from empower.models import Case, Customer, Employee, Role, Team
from tests.helpers import stand_in

BUDGET = 10  # statements for a decision within authority, authentication included
AGENT_REFUND = {"per_decision": "100.00", "per_day": "300.00", "per_month": "2000.00", "per_customer_month": "200.00"}


def decide(client, case, amount, *, decision_type="refund", key=None):
    body = {"case": case.pk, "decision_type": decision_type, "amount": amount, "rationale": "Kettle broke"}
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/api/v1/decisions/", body, format="json", **headers)


def grow(org, people: int) -> None:
    """`people` more employees below carol (bulk inserts): teams of 50, a team lead each, agents below."""
    User = get_user_model()
    agent, lead = Role.objects.get(code="agent"), Role.objects.get(code="team_lead")
    teams = Team.objects.bulk_create([Team(name=f"Scale team {n:03d}") for n in range(0, people, 50)])
    users = User.objects.bulk_create([User(username=f"scale{n:05d}") for n in range(people)])
    leads = Employee.objects.bulk_create(
        [Employee(user=users[n], role=lead, team=teams[n // 50], parent=org.carol) for n in range(0, people, 50)]
    )
    Employee.objects.bulk_create(
        [
            Employee(user=users[n], role=agent, team=teams[n // 50], parent=leads[n // 50])
            for n in range(people)
            if n % 50
        ]
    )


@pytest.fixture
def warm(api, make_case):
    """alice's client after one decision: the cache holds the types and her limits, as it does all day."""
    client = api("alice")
    assert decide(client, make_case(), "1.00").status_code == 201
    return client


def test_a_decision_within_authority_costs_at_most_ten_statements(org, warm, make_case, django_assert_max_num_queries):
    case = make_case()
    with django_assert_max_num_queries(BUDGET) as statements:
        response = decide(warm, case, "40.00")
    assert response.status_code == 201 and response.json()["status"] == "approved"
    assert response.json()["made_by"] == "alice" and response.json()["escalation"] is None
    # Today: the caller, the case, then in the transaction the counters (locked and moved at once),
    # the decision and its audit record. A statement more is a step back, not just within budget.
    verbs = [q["sql"].split()[0] for q in statements.captured_queries]
    if connection.vendor == "postgresql":
        assert verbs == ["EXECUTE", "EXECUTE", "SAVEPOINT", "INSERT", "EXECUTE", "EXECUTE", "RELEASE"]
    assert len(verbs) == 7


def test_with_an_idempotency_key_too(org, warm, make_case, django_assert_max_num_queries):
    case = make_case()
    with django_assert_max_num_queries(BUDGET):
        response = decide(warm, case, "40.00", key="first-try")
    assert response.status_code == 201 and response.json()["status"] == "approved"


def test_the_budget_holds_for_a_company_of_five_thousand(org, api, make_case, django_assert_max_num_queries):
    def cost(username: str) -> int:
        client = api(username)
        employee = Employee.objects.get(user__username=username)
        decide(client, make_case(employee), "1.00")  # warm the cache
        case = make_case(employee)
        with CaptureQueriesContext(connection) as statements:
            assert decide(client, case, "20.00").json()["status"] == "approved"
        return len(statements)

    small = {who: cost(who) for who in ("alice", "carol")}
    grow(org, 5000)
    assert Employee.objects.count() > 5000
    large = {who: cost(who) for who in ("alice", "carol")}
    # carol (a manager) now has 5,000 people below her: "which teams may I see" is still one
    # statement (`empower.selectors.visible_team_ids`, a recursive query whose *cost* grows with the
    # organization until it is seeded at the person; its count does not).
    assert large == small
    assert max(large.values()) <= BUDGET


def test_an_escalation_costs_its_own_rows_and_a_routing_task(
    org, api, make_case, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    client = api("alice")
    decide(client, make_case(), "1.00")
    case = make_case()
    with django_capture_on_commit_callbacks() as callbacks, django_assert_max_num_queries(BUDGET + 2):
        # + the escalation row, + reading it again (routing may have run already)
        response = decide(client, case, "150.00")
    assert response.status_code == 201 and response.json()["status"] == "escalated"
    assert len(callbacks) == 1  # routing, enqueued once the request commits
    assert response.json()["escalation"]["status"] == "routing"


def _routing_cost(org, make_case) -> int:
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("150.00"), rationale="Sofa"
    )
    with CaptureQueriesContext(connection) as statements:
        assert route_escalation(decision.escalation.pk) == "assigned"
    return len(statements)


def test_routing_costs_the_same_whatever_the_history(org, make_case):
    _routing_cost(org, make_case)  # the cache holds the chain's limits, as it does all day
    before = _routing_cost(org, make_case)
    # 2,000 more decisions, half of them escalated and waiting for bob.
    customer = Customer.objects.create(name="Many", email="many@example.com")
    case = Case.objects.create(customer=customer, team=org.alice.team, assigned_to=org.alice, created_by=org.alice)
    now = timezone.now()
    decisions = Decision.objects.bulk_create(
        [
            Decision(
                case=case,
                customer_id=case.customer_id,
                decision_type=org.refund,
                made_by=org.alice,
                amount=D("150.00"),
                currency="EUR",
                rationale="History",
                status=Decision.Status.ESCALATED if n % 2 else Decision.Status.APPROVED,
                within_authority=not n % 2,
                created_at=now - timedelta(days=n % 300),
            )
            for n in range(2000)
        ]
    )
    Escalation.objects.bulk_create(
        [
            Escalation(
                decision=d,
                route_above=org.alice,
                approver=org.bob,
                assigned_to=org.bob,
                status=Escalation.Status.ASSIGNED,
                exceeded=["per_decision"],
                created_at=now,
            )
            for d in decisions
            if d.status == Decision.Status.ESCALATED
        ]
    )
    assert _routing_cost(org, make_case) == before


# --- the service's answer is rendered as it is --------------------------------------------------------


def test_the_answer_renders_without_a_query(org, make_case, django_assert_num_queries):
    approved = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("20.00"), rationale="Late"
    )
    escalated = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("150.00"), rationale="Sofa"
    )
    case = make_case()
    first = decision_submit(
        employee=org.alice,
        case=case,
        decision_type=org.refund,
        amount=D("30.00"),
        rationale="Late",
        idempotency_key="k",
    )
    replayed = decision_submit(
        employee=org.alice,
        case=case,
        decision_type=org.refund,
        amount=D("30.00"),
        rationale="Late",
        idempotency_key="k",
    )
    assert replayed.pk == first.pk
    for decision in (approved, escalated, replayed):
        with django_assert_num_queries(0):
            data = DecisionOutputSerializer(decision).data
        assert data["made_by"] == "alice" and data["decision_type"] == "refund"
    assert DecisionOutputSerializer(approved).data["approved_by"] == "alice"
    assert DecisionOutputSerializer(escalated).data["escalation"]["status"] == "routing"


def test_the_written_answer_is_the_one_the_fields_declare(org, make_case):
    """`decision_output` writes the answer the serializer's fields declare (and the schema shows), for a
    decision within authority, one escalated and waiting, one approved lower by the approver, and a
    stand-in's."""
    from rest_framework import serializers

    from delegation.serializers import decision_output
    from delegation.services import escalation_approve, escalation_route

    within = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("30.00"), rationale="Late"
    )
    waiting = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("150.00"), rationale="Sofa"
    )
    escalation_route(escalation_id=waiting.escalation.pk)
    lowered = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("180.00"), rationale="Chair"
    )
    escalation_route(escalation_id=lowered.escalation.pk)
    escalation_approve(escalation_id=lowered.escalation.pk, approver=org.bob, amount="120.50", note="Half is fair")
    stand_in(org, org.carol, org.bob, by=org.carol)
    for_carol = decision_submit(
        employee=org.bob, case=make_case(org.alice), decision_type=org.refund, amount=D("600.00"), rationale="Flood"
    )
    declared = DecisionOutputSerializer()
    answers = []
    for decision in Decision.objects.filter(pk__in=[within.pk, waiting.pk, lowered.pk, for_carol.pk]).order_by("pk"):
        answer = decision_output(decision)
        assert answer == serializers.Serializer.to_representation(declared, decision)
        answers.append(answer)
    assert [a["status"] for a in answers] == ["approved", "escalated", "approved", "approved"]
    assert answers[1]["escalation"]["assigned_to"] == "bob" and answers[1]["escalation"]["due_at"]
    assert answers[2]["final_amount"] == "120.50" and answers[2]["approval_snapshot"]
    assert answers[3]["authority_of"] == "carol"


def test_a_replay_answers_the_first_result_and_another_body_conflicts(org, api, make_case):
    client, case = api("alice"), make_case()
    first = decide(client, case, "25.00", key="retry-1")
    again = decide(client, case, "25.00", key="retry-1")
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert decide(client, case, "26.00", key="retry-1").status_code == 409
    assert Decision.objects.filter(idempotency_key="retry-1").count() == 1


def test_a_case_of_another_team_is_not_found_and_changes_nothing(org, api, make_case):
    theirs = make_case(org.gina)
    response = decide(api("alice"), theirs, "10.00")
    assert response.status_code == 404 and "case" in response.json()
    assert decide(api("alice"), SimpleNamespace(pk=10**9), "10.00").status_code == 404
    assert not Decision.objects.exists()


# --- cached types and limits are never stale ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_role_limit_change_judges_the_very_next_decision(org, api, make_case):
    """Real commits: the change bumps the version once it commits, as between two requests."""
    client = api("alice")
    assert decide(client, make_case(), "80.00").json()["status"] == "approved"  # the cache holds 100.00
    agent = Role.objects.get(code="agent")
    role_limit_set(
        granter=org.carol,
        role=agent,
        decision_type=org.refund,
        values=AGENT_REFUND | {"per_decision": "50.00"},
        reason="Tighter",
    )
    answer = decide(client, make_case(), "80.00").json()
    assert answer["status"] == "escalated" and answer["exceeded"] == ["per_decision"]
    role_limit_set(granter=org.carol, role=agent, decision_type=org.refund, values=AGENT_REFUND, reason="Back")
    assert decide(client, make_case(), "80.00").json()["status"] == "approved"


@pytest.mark.django_db(transaction=True)
def test_a_personal_limit_judges_the_very_next_decision(org, api, make_case):
    client = api("alice")
    assert decide(client, make_case(), "120.00").json()["status"] == "escalated"
    limit_set(
        granter=org.bob,
        employee=org.alice,
        decision_type=org.refund,
        values=AGENT_REFUND | {"per_decision": "150.00"},
        reason="Trust",
    )
    assert decide(client, make_case(), "120.00").json()["status"] == "approved"


@pytest.mark.django_db(transaction=True)
def test_a_retired_decision_type_is_refused_at_the_next_submission(org, api, make_case):
    client = api("alice")
    assert decide(client, make_case(), "10.00", decision_type="goodwill_credit").status_code == 201
    goodwill = DecisionType.objects.get(code="goodwill_credit")
    goodwill.is_active = False
    decision_type_save(decision_type=goodwill, actor=None, reason="Retired by admin")
    response = decide(client, make_case(), "10.00", decision_type="goodwill_credit")
    assert response.status_code == 400 and "decision_type" in response.json()


def test_a_change_in_the_same_transaction_is_seen_at_once(org, make_case):
    """Before it commits, the changing transaction reads the database (and keeps nothing in the cache)."""
    decision_submit(employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("1.00"), rationale="Warm")
    role_limit_set(
        granter=org.carol,
        role=org.alice.role,
        decision_type=org.refund,
        values=AGENT_REFUND | {"per_decision": "50.00"},
        reason="Tighter",
    )
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("80.00"), rationale="Late"
    )
    assert decision.status == Decision.Status.ESCALATED


# --- the worker keeps its connection --------------------------------------------------------------------


def _backend() -> object:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]
    return id(connection.connection)


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_its_tasks_on_one_connection(org):
    """Two tasks in one worker process use the same connection; one that failed leaves it closed."""
    fixup = ConnectionKeepingWorkerFixup(app)
    task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    seen = []
    for _ in range(2):
        fixup.on_task_prerun(sender=task)
        seen.append(_backend())
        fixup.on_task_postrun(sender=task, state="SUCCESS")
    assert seen[0] == seen[1]
    assert connection.connection is not None
    fixup.on_task_prerun(sender=task)
    _backend()
    fixup.on_task_postrun(sender=task, state="FAILURE")
    assert connection.connection is None  # interrupted work is never trusted: the next task reconnects


def test_the_app_uses_the_connection_keeping_fixup():
    [fixup] = app._fixups
    assert isinstance(fixup.worker_fixup, ConnectionKeepingWorkerFixup)


@pytest.mark.django_db(transaction=True)
def test_a_stand_in_duty_judges_the_very_next_decision_from_its_start_to_its_end(org, api, make_case):
    """Who stands in for whom is cached too: starting a delegation, and ending it, are seen at once."""
    from delegation.services import delegation_end

    client = api("bob")
    customer_case = make_case(org.alice)
    assert decide(client, customer_case, "600.00").json()["status"] == "escalated"  # beyond bob's own 500
    delegation = stand_in(org, org.carol, org.bob, by=org.carol)
    answer = decide(client, make_case(org.alice), "600.00").json()
    assert answer["status"] == "approved"
    assert Decision.objects.get(pk=answer["id"]).authority_of == org.carol
    delegation_end(delegation=delegation, actor=org.carol, reason="Back early")
    assert decide(client, make_case(org.alice), "600.00").json()["status"] == "escalated"
