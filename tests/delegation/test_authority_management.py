"""Managers shape authority: the granting rules, stand-ins, temporary limits and history."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from delegation.models import AuthorityLimit, Decision
from delegation.selectors import authority_at, authority_matrix, authority_of, authority_timeline
from delegation.services import (
    authority_changes_announce,
    decision_submit,
    delegation_create,
    delegation_end,
    limit_clear,
    limit_set,
    role_limit_set,
)
from empower.errors import InvalidInput, NotAllowed
from empower.models import AuditRecord, Notification, Role

D = Decimal
REFUND = {"per_decision": "250.00", "per_day": "600.00", "per_month": "3000.00", "per_customer_month": "400.00"}


def refund_line(authority, org):
    return next(x for x in authority.lines if x.decision_type == org.refund)


def decide(org, make_case, employee, amount):
    return decision_submit(
        employee=employee, case=make_case(employee), decision_type=org.refund, amount=amount, rationale="x"
    )


def test_a_manager_raises_a_limit_and_the_next_decision_uses_it(org, make_case):
    assert decide(org, make_case, org.alice, "200.00").status == Decision.Status.ESCALATED
    limit_set(granter=org.carol, employee=org.alice, decision_type=org.refund, values=REFUND, reason="Trusted")
    assert decide(org, make_case, org.alice, "200.00").status == Decision.Status.APPROVED
    line = refund_line(authority_of(employee=org.alice), org)
    assert line.limits.per_decision == D("250.00") and line.limits.source == "personal"
    record = AuditRecord.objects.get(action="limit.created", subject=org.alice)
    assert record.actor == org.carol and record.after["per_decision"] == "250.00" and record.reason == "Trusted"
    assert Notification.objects.filter(recipient=org.alice, url="/authority/me/").exists()


def test_a_lowered_limit_judges_the_very_next_decision(org, make_case):
    limit_set(
        granter=org.bob,
        employee=org.alice,
        decision_type=org.refund,
        values=REFUND | {"per_decision": "40"},
        reason="Coaching",
    )
    assert decide(org, make_case, org.alice, "50.00").exceeded == ["per_decision"]


def test_clearing_returns_the_employee_to_their_roles_limits(org):
    limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=REFUND, reason="Sale")
    limit_clear(granter=org.bob, employee=org.alice, decision_type=org.refund, reason="Sale over")
    line = refund_line(authority_of(employee=org.alice), org)
    assert line.limits.source == "role" and line.limits.per_decision == D("100.00")
    assert AuditRecord.objects.filter(action="limit.deleted", subject=org.alice).exists()


@pytest.mark.parametrize(
    ("granter", "employee", "values", "code"),
    [
        ("alice", "alice", REFUND, "own_limits"),
        ("hank", "alice", REFUND, "not_above"),
        ("erin", "alice", REFUND, "not_above"),
        ("bob", "alice", REFUND | {"per_decision": "500.01"}, "above_own_limit"),
        ("carol", "alice", REFUND | {"per_decision": None}, "above_own_limit"),
    ],
)
def test_granting_rules_refuse_and_change_nothing(org, granter, employee, values, code):
    with pytest.raises(NotAllowed) as refused:
        limit_set(
            granter=getattr(org, granter),
            employee=getattr(org, employee),
            decision_type=org.refund,
            values=values,
            reason="Because",
        )
    assert refused.value.code == code
    assert not AuthorityLimit.objects.filter(employee__isnull=False).exists()
    assert not AuditRecord.objects.filter(action__startswith="limit.").exists()


def test_only_someone_without_a_limit_grants_no_limit(org):
    limit_set(granter=org.dan, employee=org.alice, decision_type=org.refund, values={}, reason="Unlimited trial")
    assert refund_line(authority_of(employee=org.alice), org).limits.per_decision is None


def test_a_refusal_names_the_rule_in_the_users_language(org):
    from django.utils import translation

    with pytest.raises(NotAllowed) as refused:
        limit_set(granter=org.alice, employee=org.alice, decision_type=org.refund, values=REFUND, reason="x")
    assert refused.value.code == "own_limits"
    with translation.override("pl"):
        assert str(refused.value.message) == "Nikt nie zmienia własnych limitów."
    with translation.override("is"):
        assert str(refused.value.message) == "Enginn breytir eigin hámörkum."


@pytest.mark.parametrize("value", ["-1", "abc", "1.001", "NaN"])
def test_bad_limit_values_are_refused(org, value):
    with pytest.raises(InvalidInput) as refused:
        limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values={"per_day": value}, reason="x")
    assert "per_day" in refused.value.field_errors


def test_a_reason_is_required(org):
    with pytest.raises(InvalidInput):
        limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=REFUND, reason=" ")


def test_role_defaults_need_a_higher_role_that_holds_as_much(org):
    agent = Role.objects.get(code="agent")
    with pytest.raises(NotAllowed):
        role_limit_set(granter=org.alice, role=agent, decision_type=org.refund, values=REFUND, reason="x")
    with pytest.raises(NotAllowed):
        role_limit_set(granter=org.bob, role=agent, decision_type=org.refund, values={"per_day": "1500.01"}, reason="x")
    role_limit_set(granter=org.bob, role=agent, decision_type=org.refund, values=REFUND, reason="Policy review")
    assert refund_line(authority_of(employee=org.erin), org).limits.per_decision == D("250.00")


def test_a_temporary_limit_goes_back_by_itself(org, make_case):
    now = timezone.now()
    limit_set(
        granter=org.bob,
        employee=org.alice,
        decision_type=org.refund,
        values=REFUND,
        reason="Holiday sale",
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(hours=2),
    )
    assert decide(org, make_case, org.alice, "200.00").status == Decision.Status.APPROVED
    with time_machine.travel(now + timedelta(hours=3)):
        assert decide(org, make_case, org.alice, "200.00").status == Decision.Status.ESCALATED
        assert authority_changes_announce() >= 1
        assert authority_changes_announce() == 0
        assert AuditRecord.objects.filter(action="limit.expired", subject=org.alice).count() == 1


def _delegate(org, *, starts, ends, delegator=None, delegate=None, created_by=None):
    return delegation_create(
        delegator=delegator or org.bob,
        delegate=delegate or org.erin,
        decision_types=[org.refund],
        starts_at=starts,
        ends_at=ends,
        reason="Holiday",
        created_by=created_by,
    )


def test_a_stand_in_holds_the_delegators_authority_only_during_the_window(org):
    now = timezone.now()
    _delegate(org, starts=now + timedelta(hours=1), ends=now + timedelta(days=1))
    assert authority_of(employee=org.erin).borrowed == []
    with time_machine.travel(now + timedelta(hours=2)):
        borrowed = authority_of(employee=org.erin).borrowed
        assert [(b.acting_for, b.limits.per_decision) for b in borrowed] == [(org.bob, D("500.00"))]
        assert authority_changes_announce() >= 1
        assert Notification.objects.filter(recipient=org.erin, key__endswith=":started").count() == 1
    with time_machine.travel(now + timedelta(days=2)):
        assert authority_of(employee=org.erin).borrowed == []


def test_ended_early_by_the_delegator_or_someone_above_only(org):
    now = timezone.now()
    delegation = _delegate(org, starts=now - timedelta(hours=1), ends=now + timedelta(days=1))
    with pytest.raises(NotAllowed):
        delegation_end(delegation=delegation, actor=org.erin)
    delegation_end(delegation=delegation, actor=org.carol, reason="Back early")
    assert authority_of(employee=org.erin).borrowed == []
    assert AuditRecord.objects.filter(action="delegation.ended", actor=org.carol).exists()


def test_a_stand_in_never_holds_more_than_the_delegator_now(org):
    now = timezone.now()
    _delegate(org, starts=now - timedelta(hours=1), ends=now + timedelta(days=1))
    limit_set(granter=org.carol, employee=org.bob, decision_type=org.refund, values=REFUND, reason="Tighter")
    assert authority_of(employee=org.erin).borrowed[0].limits.per_decision == D("250.00")


def test_delegations_cannot_be_chained(org, make_case):
    now = timezone.now()
    _delegate(org, starts=now - timedelta(hours=1), ends=now + timedelta(days=1), delegate=org.alice)
    # alice, standing in for bob, delegates to frank: frank gets only alice's own authority.
    _delegate(
        org, starts=now - timedelta(hours=1), ends=now + timedelta(days=1), delegator=org.alice, delegate=org.frank
    )
    borrowed = authority_of(employee=org.frank).borrowed
    assert [(b.acting_for, b.limits.per_decision) for b in borrowed] == [(org.alice, D("100.00"))]
    assert decide(org, make_case, org.frank, "150.00").status == Decision.Status.ESCALATED


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("to", {"delegate": "bob"}),
        ("ends_at", {"ends": -2}),
    ],
)
def test_bad_delegations_are_refused(org, field, kwargs):
    now = timezone.now()
    with pytest.raises(InvalidInput) as refused:
        _delegate(
            org,
            starts=now - timedelta(hours=3),
            ends=now + timedelta(hours=kwargs.get("ends", 5)),
            delegate=getattr(org, kwargs.get("delegate", "erin")),
        )
    assert field in refused.value.field_errors


def test_only_the_delegator_or_above_sets_up_a_stand_in(org):
    now = timezone.now()
    with pytest.raises(NotAllowed):
        _delegate(org, starts=now, ends=now + timedelta(days=1), created_by=org.alice)
    assert _delegate(org, starts=now, ends=now + timedelta(days=1), created_by=org.carol).created_by == org.carol


def test_what_could_alice_decide_at_a_moment_in_the_past_and_why(org, make_case):
    start = timezone.now() - timedelta(days=7)
    with time_machine.travel(start, tick=False):
        limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=REFUND, reason="Promotion")
    with time_machine.travel(start + timedelta(days=2), tick=False):
        limit_set(
            granter=org.carol,
            employee=org.alice,
            decision_type=org.refund,
            values=REFUND | {"per_decision": "120.00"},
            reason="Too many reversals",
        )
    with time_machine.travel(start + timedelta(days=4), tick=False):
        limit_clear(granter=org.bob, employee=org.alice, decision_type=org.refund, reason="Back to standard")

    def refund_at(moment):
        return next(x for x in authority_at(employee=org.alice, at=moment) if x.decision_type == org.refund)

    before = refund_at(start - timedelta(hours=1))
    assert before.limits.per_decision == D("100.00") and before.limits.source == "role"
    promoted = refund_at(start + timedelta(days=1))
    assert promoted.limits.per_decision == D("250.00") and promoted.reason == "Promotion" and promoted.set_by == "bob"
    lowered = refund_at(start + timedelta(days=3))
    assert lowered.limits.per_decision == D("120.00") and lowered.set_by == "carol"
    assert refund_at(start + timedelta(days=5)).limits.source == "role"
    actions = list(authority_timeline(employee=org.alice).values_list("action", flat=True))
    assert actions == ["limit.deleted", "limit.changed", "limit.created"]


def test_the_matrix_shows_the_whole_subtree_grouped_by_team(org):
    limit_set(granter=org.carol, employee=org.gina, decision_type=org.refund, values=REFUND, reason="x")
    matrix = authority_matrix(manager=org.carol)
    assert set(matrix) == {"Customer Care", "Returns"}
    gina = next(r for r in matrix["Returns"] if r.employee == org.gina)
    cell = next(c for c in gina.cells if c.decision_type == org.refund)
    assert cell.limits.source == "personal" and cell.limits.per_decision == D("250.00")
    assert {r.employee.username for r in matrix["Customer Care"]} == {"alice", "bob", "erin", "frank"}
