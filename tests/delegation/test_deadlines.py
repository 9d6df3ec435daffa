"""Escalations are never stuck: deadlines in working hours, approver capacity, withdrawal, the sweep."""

import runpy
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

import config.settings as settings_module
from delegation import services
from delegation.deadlines import add_working_hours
from delegation.models import (
    AuthorityLimit,
    Decision,
    DecisionType,
    Escalation,
    EscalationStep,
    ResponseTime,
    UsageCounter,
)
from delegation.selectors import counter_keys, escalations_to_review
from delegation.services import (
    decision_submit,
    escalation_approve,
    escalation_reroute,
    escalation_unroutable_announce,
    escalation_withdraw,
    limit_set,
)
from delegation.tasks import review_assigned_escalations, sweep_unrouted_escalations
from empower.errors import Conflict, InvalidInput, NotAllowed
from empower.models import AuditRecord, Notification

UTC = ZoneInfo("UTC")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (datetime(2026, 11, 23, 10, 0), 4, datetime(2026, 11, 23, 14, 0)),  # within Monday
        (datetime(2026, 11, 23, 15, 0), 4, datetime(2026, 11, 24, 11, 0)),  # over the night
        (datetime(2026, 11, 27, 16, 0), 2, datetime(2026, 11, 30, 10, 0)),  # Friday → Monday
        (datetime(2026, 11, 28, 12, 0), 1, datetime(2026, 11, 30, 10, 0)),  # asked on Saturday
        (datetime(2026, 11, 23, 7, 30), 1, datetime(2026, 11, 23, 10, 0)),  # before opening
        (datetime(2026, 11, 23, 10, 0), 16, datetime(2026, 11, 25, 10, 0)),  # two whole days
    ],
)
def test_deadlines_count_working_hours(start, hours, expected):
    assert add_working_hours(start.replace(tzinfo=UTC), hours) == expected.replace(tzinfo=UTC)


def test_working_hours_follow_the_organizations_time_zone(settings):
    settings.TIME_ZONE = "Atlantic/Reykjavik"
    start = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    assert add_working_hours(start, 1) == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture
def escalate(org, make_case, django_capture_on_commit_callbacks):
    def submit(amount="150.00", employee=None):
        employee = employee or org.alice
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=employee, case=make_case(employee), decision_type=org.refund, amount=amount, rationale="x"
            )
        return Escalation.objects.get(decision=decision)

    return submit


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    def run(task):
        with django_capture_on_commit_callbacks(execute=True):
            return task()

    return run


def test_an_overdue_escalation_moves_up_by_itself_and_everyone_is_told(org, escalate, run_commits):
    ResponseTime.objects.create(decision_type=org.refund, level=1, hours=2)
    with time_machine.travel(MONDAY_10, tick=False):
        escalation = escalate()
    assert escalation.assigned_to == org.bob and escalation.due_at == MONDAY_10 + timedelta(hours=2)

    with time_machine.travel(MONDAY_10 + timedelta(hours=1, minutes=59), tick=False):
        assert run_commits(review_assigned_escalations) == 0
    with time_machine.travel(MONDAY_10 + timedelta(hours=2, minutes=1), tick=False):
        assert run_commits(review_assigned_escalations) == 1
        escalation.refresh_from_db()
        assert escalation.assigned_to == org.carol and escalation.level == 2
        assert escalation.due_at == MONDAY_10 + timedelta(hours=6, minutes=1)  # refunds: 4 h by default
    reasons = list(escalation.steps.values_list("reason", flat=True))
    assert reasons == [EscalationStep.Reason.ROUTED, EscalationStep.Reason.OVERDUE, EscalationStep.Reason.ROUTED]
    told = set(
        Notification.objects.filter(key=f"escalation:{escalation.pk}:moved:2").values_list("recipient", flat=True)
    )
    assert told == {org.bob.pk, org.alice.pk}
    assert Notification.objects.filter(recipient=org.carol, url=f"/escalations/{escalation.pk}/").exists()
    # Running the review again changes nothing.
    with time_machine.travel(MONDAY_10 + timedelta(hours=2, minutes=2), tick=False):
        assert run_commits(review_assigned_escalations) == 0


def test_an_approver_who_no_longer_covers_it_passes_it_up_before_the_deadline(org, escalate, run_commits):
    escalation = escalate()
    AuthorityLimit.objects.create(employee=org.bob, decision_type=org.refund, per_decision=Decimal("100.00"))
    assert run_commits(review_assigned_escalations) == 1
    escalation.refresh_from_db()
    assert escalation.assigned_to == org.carol
    assert escalation.steps.filter(reason=EscalationStep.Reason.CAPACITY).exists()


def test_the_requester_withdraws_a_pending_escalation(org, escalate):
    escalation = escalate()
    with pytest.raises(NotAllowed):
        escalation_withdraw(escalation_id=escalation.pk, employee=org.bob)
    decision = escalation_withdraw(escalation_id=escalation.pk, employee=org.alice, reason="Customer changed mind")
    assert decision.status == Decision.Status.WITHDRAWN
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.WITHDRAWN
    assert Notification.objects.filter(recipient=org.bob, key=f"escalation:{escalation.pk}:withdrawn").exists()
    with pytest.raises(Conflict):
        escalation_approve(escalation_id=escalation.pk, approver=org.bob)
    with pytest.raises(Conflict):
        escalation_withdraw(escalation_id=escalation.pk, employee=org.alice)


def test_the_sweep_routes_what_waited_too_long_in_routing(org, make_case):
    # No on-commit execution: as if the broker had been down when the decision was made.
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount="150.00", rationale="x"
    )
    escalation = decision.escalation
    assert escalation.status == Escalation.Status.ROUTING
    assert sweep_unrouted_escalations() == 0  # still within the grace period
    Escalation.objects.filter(pk=escalation.pk).update(routing_since=timezone.now() - timedelta(minutes=5))
    assert sweep_unrouted_escalations() == 1
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ASSIGNED and escalation.assigned_to == org.bob
    assert sweep_unrouted_escalations() == 0


def test_lowering_an_approvers_limit_moves_their_waiting_escalations_up_at_once(org, escalate, run_commits):
    escalation = escalate()
    run_commits(
        lambda: limit_set(
            granter=org.carol,
            employee=org.bob,
            decision_type=org.refund,
            values={
                "per_decision": "100.00",
                "per_day": "1500.00",
                "per_month": "10000.00",
                "per_customer_month": "1000.00",
            },
            reason="Coaching",
        )
    )
    escalation.refresh_from_db()
    assert escalation.assigned_to == org.carol
    assert escalation.steps.filter(reason=EscalationStep.Reason.CAPACITY).exists()


# --- Working time: the whole day, and settings that would break deadlines ---------------------


@pytest.mark.parametrize(
    ("work_hours", "start", "hours", "expected"),
    [
        ((0, 24), datetime(2026, 11, 23, 10, 0), 20, datetime(2026, 11, 24, 6, 0)),  # round the clock
        ((0, 24), datetime(2026, 11, 27, 22, 0), 4, datetime(2026, 11, 30, 2, 0)),  # Friday night → Monday
        ((9, 24), datetime(2026, 11, 23, 23, 0), 2, datetime(2026, 11, 24, 10, 0)),  # the day ends at midnight
    ],
)
def test_a_working_day_may_end_at_midnight(settings, work_hours, start, hours, expected):
    settings.EMPOWER_WORK_HOURS = work_hours
    assert add_working_hours(start.replace(tzinfo=UTC), hours) == expected.replace(tzinfo=UTC)


@pytest.mark.parametrize("days", [[], [0, 8]])
def test_working_days_that_name_no_weekday_are_refused_instead_of_searched_forever(settings, days):
    settings.EMPOWER_WORK_DAYS = days
    with pytest.raises(ImproperlyConfigured, match="EMPOWER_WORK_DAYS"):
        add_working_hours(MONDAY_10, 4)


def test_a_deadline_needs_a_positive_response_time():
    with pytest.raises(ValueError, match="more than zero"):
        add_working_hours(MONDAY_10, 0)


def _settings_with(monkeypatch, **env) -> dict:
    """Load config/settings.py afresh with these environment variables."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(settings_module.__file__)))


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMPOWER_WORK_HOURS": "0,25"}, "EMPOWER_WORK_HOURS"),
        ({"EMPOWER_WORK_HOURS": "17,9"}, "EMPOWER_WORK_HOURS"),
        ({"EMPOWER_WORK_HOURS": "9"}, "EMPOWER_WORK_HOURS"),
        ({"EMPOWER_WORK_DAYS": "0,8"}, "EMPOWER_WORK_DAYS"),
        ({"EMPOWER_WORK_DAYS": "mon,tue"}, "whole numbers"),
        ({"EMPOWER_WORK_DAYS": ""}, "EMPOWER_WORK_DAYS"),
    ],
)
def test_bad_working_time_stops_start_up_with_a_clear_message(monkeypatch, env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        _settings_with(monkeypatch, **env)


def test_working_time_settings_accept_a_day_ending_at_24(monkeypatch):
    loaded = _settings_with(monkeypatch, EMPOWER_WORK_HOURS="0,24", EMPOWER_WORK_DAYS="7,1,1")
    assert loaded["EMPOWER_WORK_HOURS"] == (0, 24)
    assert loaded["EMPOWER_WORK_DAYS"] == [1, 7]


def test_the_database_refuses_a_response_time_of_zero(org):
    with pytest.raises(IntegrityError), transaction.atomic():
        DecisionType.objects.filter(pk=org.refund.pk).update(response_hours=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        ResponseTime.objects.create(decision_type=org.refund, level=1, hours=0)


def test_admin_refuses_a_response_time_of_zero_with_a_clear_message(org, client):
    client.force_login(get_user_model().objects.get(username="admin"))
    form = {
        "code": "refund",
        "name": "Refund",
        "description": "",
        "response_hours": "0",
        "is_active": "on",
        "response_times-TOTAL_FORMS": "1",
        "response_times-INITIAL_FORMS": "0",
        "response_times-0-level": "2",
        "response_times-0-hours": "0",
    }
    response = client.post(reverse("admin:delegation_decisiontype_change", args=[org.refund.pk]), form)
    assert response.status_code == 200  # the form again, with its errors
    assert response.context["adminform"].form.errors["response_hours"] == [
        "Ensure this value is greater than or equal to 1."
    ]
    assert response.context["inline_admin_formsets"][0].formset.errors[0]["hours"] == [
        "Ensure this value is greater than or equal to 1."
    ]
    org.refund.refresh_from_db()
    assert org.refund.response_hours == 4 and not ResponseTime.objects.exists()


# --- The periodic sweep and review: oldest first, one failure never blocks the rest ------------


def _waiting(org, make_case, amount="150.00", *, waited_minutes: int) -> Escalation:
    """An escalation left in "routing" (as if the broker had been down) for a while."""
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=amount, rationale="x"
    )
    since = timezone.now() - timedelta(minutes=waited_minutes)
    Escalation.objects.filter(decision=decision).update(routing_since=since)
    return decision.escalation


def test_the_sweep_routes_the_longest_waiting_first(org, make_case, monkeypatch):
    newer = _waiting(org, make_case, waited_minutes=5)
    oldest = _waiting(org, make_case, waited_minutes=50)
    older = _waiting(org, make_case, waited_minutes=20)
    routed = []
    route = services.escalation_route

    def route_and_remember(*, escalation_id):
        routed.append(escalation_id)
        return route(escalation_id=escalation_id)

    monkeypatch.setattr(services, "escalation_route", route_and_remember)
    assert sweep_unrouted_escalations() == 3
    assert routed == [oldest.pk, older.pk, newer.pk]


def test_one_escalation_that_cannot_be_routed_does_not_stop_the_sweep(org, make_case, monkeypatch, caplog):
    first = _waiting(org, make_case, waited_minutes=30)
    broken = _waiting(org, make_case, waited_minutes=20)
    last = _waiting(org, make_case, waited_minutes=10)
    route = services.escalation_route

    def route_or_fail(*, escalation_id):
        if escalation_id == broken.pk:
            raise RuntimeError("a bad row")
        return route(escalation_id=escalation_id)

    monkeypatch.setattr(services, "escalation_route", route_or_fail)
    assert sweep_unrouted_escalations() == 2
    statuses = {e.pk: Escalation.objects.get(pk=e.pk).status for e in (first, broken, last)}
    assert statuses == {
        first.pk: Escalation.Status.ASSIGNED,
        broken.pk: Escalation.Status.ROUTING,  # left for the next sweep
        last.pk: Escalation.Status.ASSIGNED,
    }
    assert f"Could not route escalation {broken.pk}" in caplog.text

    monkeypatch.setattr(services, "escalation_route", route)
    assert sweep_unrouted_escalations() == 1
    assert Escalation.objects.get(pk=broken.pk).status == Escalation.Status.ASSIGNED


def test_one_escalation_that_cannot_be_reviewed_does_not_stop_the_review(org, escalate, run_commits, monkeypatch):
    first, broken, last = escalate("150.00"), escalate("151.00"), escalate("152.00")
    Escalation.objects.update(due_at=timezone.now() - timedelta(minutes=1))
    review = services.escalation_review

    def review_or_fail(*, escalation_id):
        if escalation_id == broken.pk:
            raise RuntimeError("a bad row")
        return review(escalation_id=escalation_id)

    monkeypatch.setattr(services, "escalation_review", review_or_fail)
    assert run_commits(review_assigned_escalations) == 2
    assert [Escalation.objects.get(pk=e.pk).assigned_to for e in (first, broken, last)] == [
        org.carol,
        org.bob,
        org.carol,
    ]


def test_the_review_picks_only_what_should_move_and_checks_capacity_in_bulk(
    org, escalate, django_assert_max_num_queries
):
    on_time, overdue, beyond = escalate("150.00"), escalate("151.00"), escalate("450.00")
    others = [escalate("152.00") for _ in range(5)]
    Escalation.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    # Bob spends most of today's cap: 450.00 no longer fits what is left of his 1500.00.
    UsageCounter.objects.create(
        key=counter_keys(holder_id=org.bob.pk, decision_type_id=org.refund.pk, customer_id=None, at=timezone.now()).day,
        amount=Decimal("1200.00"),
    )
    with django_assert_max_num_queries(6):
        picked = escalations_to_review()
    assert picked == [overdue.pk, beyond.pk]
    assert on_time.pk not in picked and not {e.pk for e in others} & set(picked)


# --- A move up that finds nobody, and routing again ------------------------------------------


@pytest.fixture
def unroutable(org, escalate, run_commits, settings, mailoutbox):
    """Carol has it (800.00); dan's refunds are capped at 500.00 for now, so when it is overdue
    and moves up, nobody above covers it."""
    settings.ADMINS = []
    escalation = escalate("800.00")
    assert escalation.assigned_to == org.carol
    AuthorityLimit.objects.create(employee=org.dan, decision_type=org.refund, per_decision=Decimal("500.00"))
    Escalation.objects.filter(pk=escalation.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    mailoutbox.clear()
    assert run_commits(review_assigned_escalations) == 1
    escalation.refresh_from_db()
    return escalation


def test_a_move_up_that_finds_nobody_clears_the_old_deadline_and_tells_the_superusers(unroutable, mailoutbox):
    assert unroutable.status == Escalation.Status.UNROUTABLE
    assert unroutable.due_at is None and unroutable.assigned_to is None
    told = [m for m in mailoutbox if m.to == ["admin@example.com"]]
    assert len(told) == 1  # no ADMIN_EMAILS: the active superusers
    assert told[0].subject == f"[Empower] Escalation #{unroutable.pk} is unroutable"
    assert "alice" in told[0].body.lower() and "€800.00" in told[0].body
    assert f"/admin/delegation/escalation/{unroutable.pk}/change/" in told[0].body
    # A second delivery of the task tells nobody again.
    assert escalation_unroutable_announce(escalation_id=unroutable.pk) is False
    assert len([m for m in mailoutbox if m.to == ["admin@example.com"]]) == 1


def test_administrators_named_in_settings_are_told_instead_of_the_superusers(org, escalate, settings, mailoutbox):
    settings.ADMINS = [("Ops", "ops@example.com")]
    AuthorityLimit.objects.create(employee=org.dan, decision_type=org.refund, per_decision=Decimal("500.00"))
    escalation = escalate("2500.00")
    assert escalation.status == Escalation.Status.UNROUTABLE
    assert [m.to for m in mailoutbox] == [["ops@example.com"]]
    assert mailoutbox[0].subject.endswith(f"Escalation #{escalation.pk} is unroutable")


def test_an_unroutable_escalation_is_routed_again_once_someone_covers_it(org, unroutable, run_commits, mailoutbox):
    with pytest.raises(InvalidInput):
        escalation_reroute(escalation_id=unroutable.pk, actor=None, reason=" ")
    AuthorityLimit.objects.filter(employee=org.dan).delete()  # dan's authority is back
    run_commits(lambda: escalation_reroute(escalation_id=unroutable.pk, actor=None, reason="Dan is back"))
    unroutable.refresh_from_db()
    assert unroutable.status == Escalation.Status.ASSIGNED and unroutable.assigned_to == org.dan
    reasons = list(unroutable.steps.values_list("reason", flat=True))
    assert reasons[-3:] == [
        EscalationStep.Reason.UNROUTABLE,
        EscalationStep.Reason.REROUTED,
        EscalationStep.Reason.ROUTED,
    ]
    record = AuditRecord.objects.get(action="escalation.rerouted", target_id=str(unroutable.pk))
    assert record.reason == "Dan is back" and record.after["status"] == Escalation.Status.ROUTING
    assert Notification.objects.filter(recipient=org.dan, url=f"/escalations/{unroutable.pk}/").count() == 1
    with pytest.raises(Conflict):
        escalation_reroute(escalation_id=unroutable.pk, actor=None, reason="again")


def test_routing_again_while_still_nobody_covers_it_tells_the_administrators_again(unroutable, run_commits, mailoutbox):
    run_commits(lambda: escalation_reroute(escalation_id=unroutable.pk, actor=None, reason="Try once more"))
    unroutable.refresh_from_db()
    assert unroutable.status == Escalation.Status.UNROUTABLE
    assert len([m for m in mailoutbox if m.to == ["admin@example.com"]]) == 2


def test_the_admin_routes_an_unroutable_escalation_again(org, unroutable, client, django_capture_on_commit_callbacks):
    client.force_login(get_user_model().objects.get(username="admin"))
    AuthorityLimit.objects.filter(employee=org.dan).delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:delegation_escalation_changelist"),
            {"action": "route_again", "_selected_action": [unroutable.pk]},
            follow=True,
        )
    assert "1 escalation sent back to routing." in response.content.decode()
    unroutable.refresh_from_db()
    assert unroutable.assigned_to == org.dan
    record = AuditRecord.objects.get(action="escalation.rerouted", target_id=str(unroutable.pk))
    assert record.actor is None and record.reason == "by admin admin: routed again in the admin"
