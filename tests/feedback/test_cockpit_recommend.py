"""Limit recommendations: the rule at and around its thresholds, the rounding, the grant ceiling,
dismissal and the "grows by half" return, acceptance through the granting rules with audit."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from delegation.models import AuthorityLimit
from empower.errors import InvalidInput, NotAllowed, NotFound
from empower.models import AuditRecord, Notification
from feedback.cockpit.recommendations import (
    covering_amount,
    meets_rule,
    outcome_of,
    proposed_limit,
    recommendation_accept,
    recommendation_dismiss,
    recommendations_for,
    recommendations_refresh,
)
from feedback.models import LimitRecommendation
from feedback.tasks import refresh_limit_recommendations
from tests.feedback.cockpit_recommend_data import escalated

D = Decimal


@pytest.fixture
def history(org, make_case):
    """`history(maker, amounts, outcomes=…)`: escalations of refunds by `maker`, answered by their manager."""
    case = make_case(org.alice)

    def add(maker, amounts, *, outcome="as_asked", exceeded=("per_decision",), days_ago=1, decision_type=None):
        return [
            escalated(
                case=case,
                maker=maker,
                approver=maker.parent,
                decision_type=decision_type or org.refund,
                amount=amount,
                outcome=outcome,
                exceeded=exceeded,
                at=timezone.now() - timedelta(days=days_ago, minutes=i),
            )
            for i, amount in enumerate(amounts)
        ]

    return add


# --- the rule, pure --------------------------------------------------------------------------------


def test_the_rule_needs_enough_escalations_and_the_share_of_answered_ones():
    assert meets_rule(escalations=20, answered=20, approved_as_asked=19, minimum=20, share=0.95)
    assert not meets_rule(escalations=19, answered=19, approved_as_asked=19, minimum=20, share=0.95)
    assert not meets_rule(escalations=20, answered=20, approved_as_asked=18, minimum=20, share=0.95)
    # Withdrawn and waiting ones are not answers: 19 of 19 answered.
    assert meets_rule(escalations=20, answered=19, approved_as_asked=19, minimum=20, share=0.95)
    assert not meets_rule(escalations=20, answered=0, approved_as_asked=0, minimum=20, share=0.95)


def test_covering_amount_is_the_95th_nearest_rank_rounded_up_to_a_whole_ten():
    amounts = [D(110 + i) for i in range(20)]  # 110 … 129; rank ceil(19) → the 19th: 128
    assert covering_amount(amounts) == D("130")
    assert covering_amount([D("120.00")] * 20) == D("120")  # a whole ten stays
    assert covering_amount([D("120.01")] * 20) == D("130")
    # 40 amounts: rank 38; the two largest are left out.
    assert covering_amount([D(101 + i) for i in range(38)] + [D(900), D(950)]) == D("140")


def test_the_proposal_never_exceeds_the_ceiling_and_must_raise():
    amounts = [D(700)] * 20
    assert proposed_limit(amounts=amounts, current=D(100), ceiling=D(500)) == D("500.00")
    assert proposed_limit(amounts=amounts, current=D(100), ceiling=None) == D("700.00")
    assert proposed_limit(amounts=amounts, current=D(500), ceiling=D(500)) is None
    assert proposed_limit(amounts=[D(90)] * 20, current=D(100), ceiling=None) is None


def test_outcomes():
    assert outcome_of("approved", D(150), D(150)) == "approved_as_asked"
    assert outcome_of("approved", D(150), D(120)) == "approved_lower"
    assert outcome_of("rejected", D(150), None) == "rejected"
    assert outcome_of("escalated", D(150), None) == "waiting"


# --- computed from the record ----------------------------------------------------------------------


def test_twenty_escalations_approved_as_asked_propose_a_raise_to_bob(org, history):
    history(org.alice, [D(110 + i) for i in range(20)])
    assert recommendations_refresh().created == 1
    row = LimitRecommendation.objects.get()
    assert (row.employee, row.manager, row.decision_type) == (org.alice, org.bob, org.refund)
    assert (row.current, row.proposed, row.escalations, row.approved_as_asked, row.answered) == (
        D("100.00"),
        D("130.00"),
        20,
        20,
        20,
    )
    assert len(row.evidence) == 20
    assert Notification.objects.filter(recipient=org.bob, key=f"recommendation:{row.pk}").exists()
    assert list(recommendations_for(employee=org.bob)) == [row]
    assert list(recommendations_for(employee=org.carol)) == [row]  # above bob
    assert list(recommendations_for(employee=org.hank)) == []
    assert list(recommendations_for(employee=org.alice)) == []


def test_nineteen_are_not_enough(org, history):
    history(org.alice, [D(150)] * 19)
    assert recommendations_refresh().created == 0


def test_nineteen_of_twenty_answered_as_asked_is_enough_eighteen_is_not(org, history):
    history(org.alice, [D(150)] * 19)
    history(org.alice, [D(150)], outcome="rejected")
    assert recommendations_refresh().created == 1
    LimitRecommendation.objects.all().delete()
    history(org.erin, [D(150)] * 18)
    history(org.erin, [D(150)], outcome="lower")
    history(org.erin, [D(150)], outcome="rejected")
    recommendations_refresh()
    assert not LimitRecommendation.objects.filter(employee=org.erin).exists()


def test_withdrawn_and_waiting_count_as_escalations_but_not_as_answers(org, history):
    history(org.alice, [D(150)] * 18)
    history(org.alice, [D(150)], outcome="withdrawn")
    history(org.alice, [D(150)], outcome="waiting")
    recommendations_refresh()
    row = LimitRecommendation.objects.get()
    assert (row.escalations, row.answered, row.approved_as_asked) == (20, 18, 18)


def test_escalations_that_broke_another_cap_or_are_older_than_ninety_days_do_not_count(org, history):
    history(org.alice, [D(150)] * 19)
    history(org.alice, [D(150)] * 5, exceeded=("per_decision", "per_day"))
    history(org.alice, [D(150)] * 5, exceeded=("per_customer_month",))
    history(org.alice, [D(150)] * 5, days_ago=91)
    assert recommendations_refresh().created == 0


def test_the_proposal_stops_at_what_the_receiving_manager_may_grant(org, history):
    history(org.alice, [D(800)] * 20)
    recommendations_refresh()
    assert LimitRecommendation.objects.get().proposed == D("500.00")  # bob's own refund limit


def test_a_role_in_one_team_when_several_members_contributed(org, history):
    history(org.alice, [D(140)] * 10)
    history(org.erin, [D(150)] * 10)
    recommendations_refresh()
    row = LimitRecommendation.objects.get()
    assert (row.employee, row.role, row.team, row.manager) == (None, org.alice.role, org.alice.team, org.bob)
    assert (row.current, row.proposed, row.escalations) == (D("100.00"), D("150.00"), 20)

    row, limits = recommendation_accept(recommendation_id=row.pk, employee=org.bob)
    assert sorted(limit.employee.username for limit in limits) == ["alice", "erin", "frank"]
    assert all(limit.per_decision == D("150.00") and limit.per_day == D("300.00") for limit in limits)


def test_accepting_goes_through_the_granting_rules_with_audit_and_notification(org, history):
    history(org.alice, [D(150)] * 20)
    recommendations_refresh()
    row = LimitRecommendation.objects.get()
    row, _limits = recommendation_accept(recommendation_id=row.pk, employee=org.bob, note="Well earned.")
    limit = AuthorityLimit.objects.get(employee=org.alice, decision_type=org.refund)
    assert (limit.per_decision, limit.per_day, limit.set_by) == (D("150.00"), D("300.00"), org.bob)
    assert f"#{row.pk}" in limit.reason and "20 escalations" in limit.reason and "Well earned." in limit.reason
    assert AuditRecord.objects.filter(action="limit.created", subject=org.alice, actor=org.bob).exists()
    assert AuditRecord.objects.filter(action="recommendation.accepted", target_id=str(row.pk)).exists()
    assert Notification.objects.filter(recipient=org.alice).exists()
    assert row.status == "accepted"
    # Accepted: recomputing proposes nothing new (the limit now covers the evidence).
    assert recommendations_refresh().created == 0


def test_accepting_is_refused_by_the_granting_rules_and_changes_nothing(org, history):
    history(org.alice, [D(400)] * 20)
    recommendations_refresh()
    row = LimitRecommendation.objects.get()
    # bob's own refund limit is lowered below the proposal after it was made: he may not grant it.
    AuthorityLimit.objects.create(employee=org.bob, decision_type=org.refund, per_decision=D(300), per_day=D(1500))
    with pytest.raises(NotAllowed) as refused:
        recommendation_accept(recommendation_id=row.pk, employee=org.bob)
    assert refused.value.code == "above_own_limit"
    row.refresh_from_db()
    assert row.status == "open"
    assert not AuthorityLimit.objects.filter(employee=org.alice).exists()
    with pytest.raises(NotFound):
        recommendation_accept(recommendation_id=row.pk, employee=org.hank)
    with pytest.raises(NotFound):
        recommendation_accept(recommendation_id=row.pk, employee=org.alice)


def test_a_dismissed_proposal_returns_only_when_the_evidence_grows_by_half(org, history):
    history(org.alice, [D(150)] * 20)
    recommendations_refresh()
    row = LimitRecommendation.objects.get()
    with pytest.raises(InvalidInput):
        recommendation_dismiss(recommendation_id=row.pk, employee=org.bob, reason="  ")
    recommendation_dismiss(recommendation_id=row.pk, employee=org.bob, reason="Peak season, not a pattern")
    assert AuditRecord.objects.filter(action="recommendation.dismissed", reason="Peak season, not a pattern").exists()
    assert recommendations_refresh().created == 0
    history(org.alice, [D(150)] * 9, days_ago=2)  # 29: not yet half as much again
    assert recommendations_refresh().created == 0
    history(org.alice, [D(150)], days_ago=3)  # 30 = 20 x 1.5
    assert recommendations_refresh().created == 1
    assert LimitRecommendation.objects.get(status="open").escalations == 30


def test_an_open_proposal_is_refreshed_and_lapses_when_the_evidence_goes(org, history):
    decisions = history(org.alice, [D(150)] * 20)
    recommendations_refresh()
    history(org.alice, [D(160)] * 2)
    assert recommendations_refresh().updated == 1
    assert LimitRecommendation.objects.get().escalations == 22
    for decision in decisions:
        decision.created_at = timezone.now() - timedelta(days=100)
        decision.save(update_fields=["created_at"])
    assert recommendations_refresh().lapsed == 1
    assert LimitRecommendation.objects.get().status == "lapsed"


def test_the_thresholds_come_from_the_settings(org, history, settings):
    settings.EMPOWER_RECOMMEND_MIN_ESCALATIONS = 5
    settings.EMPOWER_RECOMMEND_SHARE = 0.8
    history(org.alice, [D(150)] * 4)
    history(org.alice, [D(150)], outcome="rejected")
    assert recommendations_refresh().created == 1


def test_the_periodic_task_is_scheduled_and_opens_nothing_twice(org, history, settings):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "feedback.tasks.refresh_limit_recommendations" in scheduled
    history(org.alice, [D(150)] * 20)
    assert refresh_limit_recommendations() == 1
    assert refresh_limit_recommendations() == 0
    assert LimitRecommendation.objects.count() == 1
