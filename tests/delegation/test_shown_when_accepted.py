"""Every delegation button or link that leads to an action is shown exactly when its service accepts it.

Each test renders the page for an actor, then tries the service for the same actor inside a
transaction that is rolled back: the two must agree (issue 9, item 5). The predicates are the
refusals in `delegation.selectors` (`answer_refusal`, `withdraw_refusal`, `delegation_end_refusal`,
`limits_refusal`, `window_end_refusal`, `limit_clear_refusal`, `role_limits_refusal`) and
`Escalation.overdue_q`. The drifts this caught are named on their tests.
"""

from contextlib import suppress
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from delegation import services
from delegation.models import AuthorityLimit, Escalation, EscalationStep
from delegation.services import decision_submit, delegation_create, limit_set
from empower.models import Role
from tests.helpers import Undo, accepted, page

AGENT_REFUND = {"per_decision": "50.00", "per_day": "100.00", "per_month": "1000.00", "per_customer_month": "100.00"}


@pytest.fixture
def escalate(org, make_case, django_capture_on_commit_callbacks):
    """alice (by default) asks for a refund beyond her authority; routing runs on commit."""

    def submit(amount: str = "150.00", by=None) -> Escalation:
        by = by or org.alice
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=by, case=make_case(by), decision_type=org.refund, amount=Decimal(amount), rationale="Kettle"
            )
        return Escalation.objects.select_related("decision").get(decision=decision)

    return submit


def _approve(escalation, employee):
    return lambda: services.escalation_approve(escalation_id=escalation.pk, approver=employee, note="Fine")


def _reject(escalation, employee):
    return lambda: services.escalation_reject(escalation_id=escalation.pk, approver=employee, note="No")


# --- answering an escalation ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bob", "alice", "carol", "hank", "erin"])
def test_the_answer_forms_on_the_inbox_card_and_the_escalation_page(client, org, escalate, who):
    escalation = escalate()
    employee = getattr(org, who)
    approve_url = reverse("escalation-approve", args=[escalation.pk])
    reject_url = reverse("escalation-reject", args=[escalation.pk])
    on_card = page(client, employee, reverse("escalation-inbox"))
    on_page = page(client, employee, reverse("escalation-detail", args=[escalation.pk]))
    ok = accepted(_approve(escalation, employee))
    assert ok == accepted(_reject(escalation, employee)) == (who == "bob")
    assert (approve_url in on_card) == (reject_url in on_card) == ok
    assert (approve_url in on_page) == (reject_url in on_page) == ok
    if who == "carol":
        assert on_page  # she sees it (above alice and bob), without the forms


@pytest.mark.parametrize("who", ["frank", "bob", "erin"])
def test_the_answer_forms_for_a_stand_in(client, org, escalate, who):
    now = timezone.now()
    delegation_create(
        delegator=org.bob,
        delegate=org.frank,
        decision_types=[org.refund],
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(days=2),
        reason="Holiday",
    )
    escalation = escalate()
    assert escalation.assigned_to == org.frank
    employee = getattr(org, who)
    shown = reverse("escalation-approve", args=[escalation.pk]) in page(
        client, employee, reverse("escalation-detail", args=[escalation.pk])
    )
    ok = accepted(_approve(escalation, employee))
    assert shown == ok == (who in ("frank", "bob"))


def test_no_answer_forms_once_answered(client, org, escalate):
    escalation = escalate()
    services.escalation_reject(escalation_id=escalation.pk, approver=org.bob, note="Policy")
    assert reverse("escalation-approve", args=[escalation.pk]) not in page(
        client, org.bob, reverse("escalation-detail", args=[escalation.pk])
    )
    assert reverse("escalation-approve", args=[escalation.pk]) not in page(client, org.bob, reverse("escalation-inbox"))
    assert not accepted(_approve(escalation, org.bob))


def test_the_header_counts_what_the_inbox_offers_to_answer(client, org, escalate):
    escalation = escalate()
    escalate("160.00")
    html = page(client, org.bob, reverse("home"))
    assert '<span class="badge">2<' in html
    services.escalation_approve(escalation_id=escalation.pk, approver=org.bob, note="")
    assert '<span class="badge">1<' in page(client, org.bob, reverse("home"))


# --- withdrawing an escalation ----------------------------------------------------------------


def _withdraw(escalation, employee):
    return lambda: services.escalation_withdraw(escalation_id=escalation.pk, employee=employee)


@pytest.mark.parametrize("who", ["alice", "bob", "erin", "carol"])
def test_withdraw_on_the_case_page(client, org, escalate, who):
    escalation = escalate()
    employee = getattr(org, who)
    shown = reverse("escalation-withdraw", args=[escalation.pk]) in page(
        client, employee, reverse("case-detail", args=[escalation.decision.case_id])
    )
    ok = accepted(_withdraw(escalation, employee))
    assert shown == ok == (who == "alice")


@pytest.mark.parametrize("who", ["alice", "bob", "carol"])
def test_withdraw_on_the_escalation_page(client, org, escalate, who):
    """Drift: the escalation page offered no "Withdraw" although the service accepts it from alice."""
    escalation = escalate()
    employee = getattr(org, who)
    shown = reverse("escalation-withdraw", args=[escalation.pk]) in page(
        client, employee, reverse("escalation-detail", args=[escalation.pk])
    )
    ok = accepted(_withdraw(escalation, employee))
    assert shown == ok == (who == "alice")


def test_no_withdraw_once_answered_and_an_unroutable_one_can_be_withdrawn(client, org, escalate, settings):
    settings.ADMINS = []
    answered = escalate()
    services.escalation_approve(escalation_id=answered.pk, approver=org.bob, note="")
    case_page = page(client, org.alice, reverse("case-detail", args=[answered.decision.case_id]))
    assert reverse("escalation-withdraw", args=[answered.pk]) not in case_page
    assert not accepted(_withdraw(answered, org.alice))

    # Nobody above covers 2500.00: carol's refunds stop at 2000.00, dan's at 500.00 for now.
    AuthorityLimit.objects.create(employee=org.dan, decision_type=org.refund, per_decision=Decimal("500.00"))
    unroutable = escalate("2500.00")
    assert unroutable.status == Escalation.Status.UNROUTABLE
    for url in (
        reverse("case-detail", args=[unroutable.decision.case_id]),
        reverse("escalation-detail", args=[unroutable.pk]),
    ):
        assert reverse("escalation-withdraw", args=[unroutable.pk]) in page(client, org.alice, url)
    assert accepted(_withdraw(unroutable, org.alice))


# --- ending a stand-in ------------------------------------------------------------------------


@pytest.fixture
def stand_in(org):
    now = timezone.now()
    return delegation_create(
        delegator=org.bob,
        delegate=org.erin,
        decision_types=[org.refund],
        starts_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(days=3),
        reason="Holiday",
    )


def _end(delegation, employee):
    return lambda: services.delegation_end(delegation=delegation, actor=employee, reason="Back early")


@pytest.mark.parametrize("who", ["bob", "erin", "carol", "dan", "alice", "hank"])
def test_end_a_stand_in(client, org, stand_in, who):
    employee = getattr(org, who)
    shown = reverse("delegation-end", args=[stand_in.pk]) in page(client, employee, reverse("delegations"))
    ok = accepted(_end(stand_in, employee))
    assert shown == ok == (who in ("bob", "carol", "dan"))


def test_a_scheduled_stand_in_can_be_called_off_and_an_ended_one_not(client, org):
    now = timezone.now()
    scheduled = delegation_create(
        delegator=org.bob,
        delegate=org.erin,
        decision_types=[org.refund],
        starts_at=now + timedelta(days=1),
        ends_at=now + timedelta(days=3),
        reason="Next week",
    )
    html = page(client, org.bob, reverse("delegations"))
    assert reverse("delegation-end", args=[scheduled.pk]) in html
    assert accepted(_end(scheduled, org.bob))
    services.delegation_end(delegation=scheduled, actor=org.bob, reason="Not needed")
    assert reverse("delegation-end", args=[scheduled.pk]) not in page(client, org.bob, reverse("delegations"))
    assert not accepted(_end(scheduled, org.bob))


# --- who may change whose limits (the matrix, a cell's form, role defaults) -------------------


def _set_alices(granter, org):
    return lambda: limit_set(
        granter=granter, employee=org.alice, decision_type=org.refund, values={"per_decision": "50.00"}, reason="x"
    )


@pytest.mark.parametrize("who", ["carol", "bob", "hank", "alice", "erin"])
def test_edit_a_cell_of_the_matrix(client, org, who):
    employee = getattr(org, who)
    shown = reverse("authority-cell-edit", args=["alice", "refund"]) in page(
        client, employee, reverse("authority-matrix")
    )
    ok = accepted(_set_alices(employee, org))
    assert shown == ok == (who in ("carol", "bob"))


@pytest.fixture
def window(org):
    now = timezone.now()
    return limit_set(
        granter=org.carol,
        employee=org.alice,
        decision_type=org.refund,
        values={"per_decision": "20.00"},
        reason="Training week",
        ends_at=now + timedelta(days=2),
    )


def _end_window(window, granter, org):
    return lambda: services.limit_window_end(
        granter=granter, employee=org.alice, decision_type=org.refund, window_id=window.pk, reason="Done"
    )


@pytest.mark.parametrize("who", ["carol", "bob", "hank", "alice"])
def test_end_a_temporary_limit_from_the_matrix_and_from_the_form(client, org, window, who):
    employee = getattr(org, who)
    end_url = reverse("authority-window-end", args=["alice", "refund", window.pk])
    on_matrix = page(client, employee, reverse("authority-matrix"))
    on_form = page(client, employee, reverse("authority-cell-edit", args=["alice", "refund"]))
    ok = accepted(_end_window(window, employee, org))
    assert (end_url in on_matrix) == (end_url in on_form) == ok == (who in ("carol", "bob"))


def test_no_end_button_for_a_temporary_limit_that_is_over(client, org, window):
    services.limit_window_end(
        granter=org.carol, employee=org.alice, decision_type=org.refund, window_id=window.pk, reason="Done"
    )
    end_url = reverse("authority-window-end", args=["alice", "refund", window.pk])
    assert end_url not in page(client, org.carol, reverse("authority-cell-edit", args=["alice", "refund"]))
    assert not accepted(_end_window(window, org.carol, org))


def _clear(granter, employee, org):
    return lambda: services.limit_clear(granter=granter, employee=employee, decision_type=org.refund, reason="x")


@pytest.mark.parametrize(
    ("who", "whose", "personal"),
    [
        ("carol", "alice", "standing"),
        ("carol", "alice", "window"),
        ("carol", "alice", None),
        ("bob", "alice", "standing"),
        ("hank", "alice", "standing"),
    ],
)
def test_back_to_the_role_limits(client, org, who, whose, personal):
    person = getattr(org, whose)
    if personal == "standing":
        limit_set(granter=org.carol, employee=person, decision_type=org.refund, values={"per_day": "90"}, reason="x")
    elif personal == "window":
        limit_set(
            granter=org.carol,
            employee=person,
            decision_type=org.refund,
            values={"per_day": "90"},
            reason="x",
            starts_at=timezone.now() + timedelta(days=1),
            ends_at=timezone.now() + timedelta(days=2),
        )
    employee = getattr(org, who)
    shown = 'value="clear"' in page(client, employee, reverse("authority-cell-edit", args=[whose, "refund"]))
    ok = accepted(_clear(employee, person, org))
    assert shown == ok == (who in ("carol", "bob") and personal is not None)


@pytest.mark.parametrize(
    ("who", "role"),
    [("bob", "agent"), ("bob", "team_lead"), ("carol", "team_lead"), ("carol", "manager"), ("alice", "agent")],
)
def test_edit_a_role_default(client, org, who, role):
    employee = getattr(org, who)
    shown = reverse("authority-role-edit", args=[role, "refund"]) in page(client, employee, reverse("authority-roles"))
    ok = accepted(
        lambda: services.role_limit_set(
            granter=employee,
            role=Role.objects.get(code=role),
            decision_type=org.refund,
            values=AGENT_REFUND,
            reason="Review",
        )
    )
    assert shown == ok == ((who, role) in (("bob", "agent"), ("carol", "team_lead")))


# --- overdue ----------------------------------------------------------------------------------


def _overdue_in_admin(client, escalation) -> bool:
    client.force_login(get_user_model().objects.get(username="admin"))
    html = client.get("/admin/delegation/escalation/?stuck=overdue").content.decode()
    return f"/admin/delegation/escalation/{escalation.pk}/change/" in html


def test_overdue_is_shown_exactly_when_the_review_moves_it_up(client, org, escalate):
    """Drift: the admin's "Overdue" filter said `due_at < now`, the review `due_at <= now`: at its
    deadline an escalation was moved up while the admin did not list it as overdue."""
    escalation = escalate()
    urls = [
        (org.bob, reverse("escalation-inbox")),
        (org.bob, reverse("escalation-detail", args=[escalation.pk])),
        (org.alice, reverse("case-detail", args=[escalation.decision.case_id])),
    ]

    def review() -> bool:
        """Whether the review would move it up as overdue now (nothing it wrote survives)."""
        moved = []
        with suppress(Undo), transaction.atomic():
            moved.append(services.escalation_review(escalation_id=escalation.pk))
            raise Undo
        return moved == [EscalationStep.Reason.OVERDUE]

    with time_machine.travel(escalation.due_at - timedelta(seconds=1), tick=False):
        assert not any("status-overdue" in page(client, who, url) for who, url in urls)
        assert not review() and not _overdue_in_admin(client, escalation)
    with time_machine.travel(escalation.due_at, tick=False):
        assert all("status-overdue" in page(client, who, url) for who, url in urls)
        assert _overdue_in_admin(client, escalation)
        assert review()


def test_an_answered_escalation_is_never_overdue(client, org, escalate):
    escalation = escalate()
    services.escalation_approve(escalation_id=escalation.pk, approver=org.bob, note="")
    with time_machine.travel(escalation.due_at + timedelta(days=1), tick=False):
        assert "status-overdue" not in page(client, org.bob, reverse("escalation-inbox"))
        assert "status-overdue" not in page(
            client, org.alice, reverse("case-detail", args=[escalation.decision.case_id])
        )
        assert not _overdue_in_admin(client, escalation)


# --- the header -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "dan", "gina"])
def test_the_insights_entry_in_the_header(client, org, who):
    employee = getattr(org, who)
    link = f'href="{reverse("cockpit")}"'  # the evidence cockpit, which opens on decisions at the edge
    header = page(client, employee, reverse("home"))
    allowed = client.get(reverse("cockpit")).status_code == 200
    assert (link in header) == allowed == (who not in ("alice", "gina"))
