"""What-if: the past replayed against proposed limits, caps recomputed from the replayed outcomes.

alice (agent; refund 100.00 per decision, 300.00 a day, 2000.00 a month, 200.00 per customer per
month), `now` 2026-06-20 12:00 UTC, the last 10 days (the replay starts on 1 June):

  #1  5 Jun 10:00  within     10.00 customer A  (before the window: moves the caps only)
  #2 12 Jun 10:00  escalated 150.00 customer B  approved as asked 3 h later
  #3 12 Jun 11:00  escalated 120.00 customer B  rejected 5 h later
  #4 12 Jun 12:00  within     90.00 customer C
  #5 13 Jun 10:00  escalated 250.00 customer A  approved for 125.00, 2 h later
  #6 14 Jun 10:00  within     60.00 customer A
"""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from empower.errors import InvalidInput, NotAllowed
from feedback.cockpit.what_if import what_if, what_if_apply, what_if_scope
from tests.feedback.cockpit_recommend_data import escalated, within

D = Decimal
NOW = datetime(2026, 6, 20, 12, 0, tzinfo=UTC)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 6, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def past(org, make_case):
    a, b, c = (make_case(org.alice, email=f"{n}@example.com") for n in "abc")
    kw = {"maker": org.alice, "decision_type": org.refund}
    rows = {
        1: within(case=a, amount=10, at=at(5, 10), **kw),
        2: escalated(case=b, approver=org.bob, amount=150, at=at(12, 10), hours_to_answer=3, **kw),
        3: escalated(case=b, approver=org.bob, amount=120, outcome="rejected", at=at(12, 11), hours_to_answer=5, **kw),
        4: within(case=c, amount=90, at=at(12, 12), **kw),
        5: escalated(case=a, approver=org.bob, amount=250, outcome="lower", at=at(13, 10), hours_to_answer=2, **kw),
        6: within(case=a, amount=60, at=at(14, 10), **kw),
    }
    return {n: d.pk for n, d in rows.items()} | {"cases": (a, b, c)}


def replay(org, viewer=None, **proposed):
    scope = what_if_scope(
        viewer=viewer or org.bob, decision_type=org.refund, employee=org.alice, proposed=proposed, days=10
    )
    return what_if(scope=scope, now=NOW)


def changes(result) -> dict:
    return {c["decision"]: (c["before"], c["after"]) for c in result.changed}


def test_a_higher_per_decision_limit_meets_the_daily_and_customer_caps(org, past):
    result = replay(org, per_decision=D("200"))
    # #2 fits now (150 ≤ 200) and counts on the day and on customer B; #3 (120) would fit the
    # per-decision limit but not customer B's month any more (150 + 120 > 200): still escalated.
    # #5 (250) is still beyond it.
    assert (result.decisions, result.escalated_before) == (5, 3)
    assert changes(result) == {past[2]: ("escalated", "within_authority")}
    assert (result.escalations_avoided, result.newly_escalated, result.escalated_after) == (1, 0, 2)
    assert result.amount_moved_to_edge == D("150.00")
    assert result.amount_moved_up == D("0.00")
    assert result.approver_hours_saved == 3.0
    assert result.rejected_or_cut_now_at_edge == 0


def test_a_daily_cap_recounted_from_the_replayed_outcomes(org, past):
    # With 150 of #2 now at the edge, a 200 daily cap has 50 left for #4 (90): newly escalated.
    result = replay(org, per_decision=D("200"), per_day=D("200"))
    assert changes(result)[past[4]] == ("within_authority", "escalated")
    assert changes(result)[past[2]] == ("escalated", "within_authority")


def test_no_caps_at_all_moves_every_escalation_to_the_edge_and_shows_the_risk(org, past):
    result = replay(org, per_decision=D("300"), per_day=None, per_customer_month=None)
    assert (result.escalations_avoided, result.newly_escalated, result.escalated_after) == (3, 0, 0)
    assert result.amount_moved_to_edge == D("520.00")
    assert result.approver_hours_saved == 10.0  # 3 + 5 + 2 measured hours
    # #3 was rejected and #5 cut to 125: the proposal would have approved both at the edge.
    assert result.rejected_or_cut_now_at_edge == 2
    assert result.amount_at_risk == D("245.00")  # 120 refused + (250 - 125) cut


def test_a_monthly_cap_counts_the_month_before_the_window(org, past):
    # #1 (10, 5 June, before the window) uses the month: 10 + 150 + 120 + 90 = 370; #5 (250) is
    # beyond 425 (escalated, as it was) and #6 (60) too: 430 — without #1 it would have fitted.
    result = replay(org, per_decision=D("300"), per_month=D("425"), per_day=None, per_customer_month=None)
    assert changes(result) == {
        past[2]: ("escalated", "within_authority"),
        past[3]: ("escalated", "within_authority"),
        past[6]: ("within_authority", "escalated"),
    }
    assert result.rejected_or_cut_now_at_edge == 1


@pytest.mark.parametrize("many_people", [200, 0])  # others' approvals found by customer, or read whole
def test_other_peoples_approvals_count_on_the_customers_month(org, past, monkeypatch, many_people):
    monkeypatch.setattr("feedback.cockpit.what_if.MANY_PEOPLE", many_people)
    _a, _b, c = past["cases"]
    within(case=c, maker=org.bob, decision_type=org.refund, amount=150, at=at(11, 9))
    result = replay(org, per_decision=D("200"), per_day=None)
    assert changes(result)[past[4]] == ("within_authority", "escalated")  # 150 + 90 > 200 for customer C


def test_limits_not_given_stay_as_they_are(org, past):
    result = replay(org)
    assert result.changed == [] and result.escalated_after == result.escalated_before == 3


def test_who_may_ask(org, past):
    with pytest.raises(NotAllowed):
        replay(org, viewer=org.hank, per_decision=D("200"))
    with pytest.raises(InvalidInput):
        what_if_scope(viewer=org.bob, decision_type=org.refund, proposed={}, days=10)
    with pytest.raises(InvalidInput):
        what_if_scope(viewer=org.bob, decision_type=org.refund, employee=org.alice, role=org.alice.role, proposed={})


def test_a_role_in_one_team_replays_each_member_on_their_own_caps(org, past, make_case):
    case = make_case(org.erin, email="e@example.com")
    escalated(case=case, maker=org.erin, approver=org.bob, decision_type=org.refund, amount=150, at=at(15, 10))
    scope = what_if_scope(
        viewer=org.bob,
        decision_type=org.refund,
        role=org.alice.role,
        team=org.alice.team,
        proposed={"per_decision": D("200")},
        days=10,
    )
    assert sorted(p.username for p in scope.people) == ["alice", "erin", "frank"]
    result = what_if(scope=scope, now=NOW)
    assert (result.decisions, result.escalations_avoided) == (6, 2)


def test_apply_this_goes_through_the_granting_rules(org, past):
    scope = what_if_scope(
        viewer=org.bob, decision_type=org.refund, employee=org.alice, proposed={"per_decision": D("200")}, days=10
    )
    [limit] = what_if_apply(viewer=org.bob, scope=scope, reason="What-if: 1 avoided")
    assert (limit.employee, limit.per_decision, limit.per_day, limit.set_by) == (org.alice, D("200"), D("300"), org.bob)
    too_much = what_if_scope(
        viewer=org.bob, decision_type=org.refund, employee=org.alice, proposed={"per_decision": D("900")}, days=10
    )
    with pytest.raises(NotAllowed) as refused:
        what_if_apply(viewer=org.bob, scope=too_much, reason="x")
    assert refused.value.code == "above_own_limit"
    role_wide = what_if_scope(
        viewer=org.carol, decision_type=org.refund, role=org.alice.role, proposed={"per_decision": D("150")}, days=10
    )
    [role_limit] = what_if_apply(viewer=org.carol, scope=role_wide, reason="x")
    assert (role_limit.role, role_limit.per_decision, role_limit.per_day) == (org.alice.role, D("150"), D("300"))
    # bob's what-if covers the agents of his team only: the role's defaults (everyone's) are not his to set.
    only_bobs = what_if_scope(
        viewer=org.bob, decision_type=org.refund, role=org.alice.role, proposed={"per_decision": D("150")}, days=10
    )
    with pytest.raises(NotAllowed):
        what_if_apply(viewer=org.bob, scope=only_bobs, reason="x")


def test_the_replay_costs_the_same_queries_for_more_decisions(org, past, make_case, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        replay(org, per_decision=D("200"))
    case = make_case(org.alice, email="z@example.com")
    for day in range(15, 19):
        escalated(case=case, maker=org.alice, approver=org.bob, decision_type=org.refund, amount=130, at=at(day, 9))
    with django_assert_max_num_queries(4):
        assert replay(org, per_decision=D("200")).decisions == 9
