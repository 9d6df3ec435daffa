"""Managers shape authority: the granting rules, stand-ins, temporary limits and history."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from delegation.models import CAPS, AuthorityLimit, Decision
from delegation.selectors import authority_at, authority_matrix, authority_of, authority_timeline
from delegation.services import (
    authority_changes_announce,
    decision_submit,
    delegation_create,
    delegation_end,
    escalation_approve,
    limit_clear,
    limit_set,
    limit_window_end,
    role_limit_set,
)
from empower.errors import Conflict, InvalidInput, NotAllowed, NotFound
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
    limit_set(
        granter=org.dan,
        employee=org.alice,
        decision_type=org.refund,
        values=dict.fromkeys(CAPS),
        reason="Unlimited trial",
    )
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


def test_a_delegations_start_and_end_are_recorded_once_even_after_the_beat_was_down_for_days(org):
    now = timezone.now()
    delegation = _delegate(org, starts=now + timedelta(hours=1), ends=now + timedelta(days=1))
    with time_machine.travel(now + timedelta(hours=2)):
        authority_changes_announce()
    with time_machine.travel(now + timedelta(days=6)):  # the end passed five days ago, unseen
        authority_changes_announce()
        authority_changes_announce()

    records = AuditRecord.objects.filter(
        target_id=str(delegation.pk), action__in=["delegation.started", "delegation.expired"]
    )
    held = {"delegate": "erin", "decision_types": ["refund"]}
    assert [(r.action, r.before, r.after) for r in records.order_by("id")] == [
        ("delegation.started", None, held),
        ("delegation.expired", held, None),
    ]
    assert Notification.objects.filter(recipient=org.erin, key__endswith=":ended").count() == 1


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


# Temporary limits: an end is required, windows never overlap, and ending one early ----------------------


def _window(org, *, hours_from=0, hours_to=2, employee=None, values=REFUND, granter=None):
    now = timezone.now()
    return limit_set(
        granter=granter or org.bob,
        employee=employee or org.alice,
        decision_type=org.refund,
        values=values,
        reason="Holiday sale",
        starts_at=now + timedelta(hours=hours_from) if hours_from else None,
        ends_at=now + timedelta(hours=hours_to),
    )


def test_a_temporary_limit_needs_an_end(org):
    with pytest.raises(InvalidInput) as refused:
        limit_set(
            granter=org.bob,
            employee=org.alice,
            decision_type=org.refund,
            values=REFUND,
            reason="Sale",
            starts_at=timezone.now() + timedelta(hours=1),
        )
    assert "ends_at" in refused.value.field_errors
    assert not AuthorityLimit.objects.filter(employee=org.alice).exists()
    assert not AuditRecord.objects.filter(action__startswith="limit.").exists()


def test_windows_of_the_same_type_may_not_overlap(org):
    first = _window(org, hours_from=1, hours_to=5)
    with pytest.raises(Conflict) as refused:
        _window(org, hours_from=4, hours_to=8)
    assert refused.value.code == "limit_window_overlaps"
    with pytest.raises(Conflict):
        _window(org, hours_to=2)  # from now until within the first
    # Back to back is fine, and so is another type or another person.
    after = limit_set(
        granter=org.bob,
        employee=org.alice,
        decision_type=org.refund,
        values=REFUND,
        reason="Next sale",
        starts_at=first.ends_at,
        ends_at=first.ends_at + timedelta(hours=2),
    )
    _window(org, hours_from=4, hours_to=8, employee=org.erin)
    assert AuthorityLimit.objects.filter(employee=org.alice, ends_at__isnull=False).count() == 2
    assert after.starts_at == first.ends_at


def test_the_standing_limit_changed_during_a_window_applies_when_it_ends(org, make_case):
    now = timezone.now()
    _window(org, values=REFUND | {"per_decision": "300.00"}, hours_to=2)
    # The cell edit that used to "save but change nothing": it is saved, and waits for the window's end.
    limit_set(
        granter=org.bob,
        employee=org.alice,
        decision_type=org.refund,
        values=REFUND | {"per_decision": "150.00"},
        reason="Trusted",
    )
    matrix_cell = next(
        c
        for r in authority_matrix(manager=org.bob)["Customer Care"]
        if r.employee == org.alice
        for c in r.cells
        if c.decision_type == org.refund
    )
    assert matrix_cell.limits.per_decision == D("300.00") and matrix_cell.window is not None
    with time_machine.travel(now + timedelta(hours=3)):
        assert refund_line(authority_of(employee=org.alice), org).limits.per_decision == D("150.00")
        assert decide(org, make_case, org.alice, "140.00").status == Decision.Status.APPROVED
        assert decide(org, make_case, org.alice, "160.00").status == Decision.Status.ESCALATED


def test_a_window_started_at_once_is_announced_once(org):
    window = _window(org)
    with time_machine.travel(timezone.now() + timedelta(minutes=5)):
        authority_changes_announce()
    assert AuditRecord.objects.filter(action="limit.started", target_id=str(window.pk)).count() == 1
    assert Notification.objects.filter(recipient=org.alice, url="/authority/me/").count() == 1


def test_ending_a_running_window_early_brings_the_standing_limit_back_at_once(org, make_case):
    window = _window(org, values=REFUND | {"per_decision": "300.00"}, hours_to=5)
    assert decide(org, make_case, org.alice, "250.00").status == Decision.Status.APPROVED

    limit_window_end(
        granter=org.carol, employee=org.alice, decision_type=org.refund, window_id=window.pk, reason="Sale cut short"
    )

    assert decide(org, make_case, org.alice, "250.00").status == Decision.Status.ESCALATED
    window.refresh_from_db()
    assert window.ends_at <= timezone.now()
    record = AuditRecord.objects.get(action="limit.ended", target_id=str(window.pk))
    assert record.actor == org.carol and record.reason == "Sale cut short" and record.subject == org.alice
    assert record.before["ends_at"] != record.after["ends_at"]
    assert Notification.objects.filter(recipient=org.alice, key=f"limit:{window.pk}:ended").exists()
    # The end is on record: the periodic announcement does not add an expiry of its own.
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        authority_changes_announce()
    assert not AuditRecord.objects.filter(action="limit.expired", target_id=str(window.pk)).exists()


def test_a_scheduled_window_ended_early_is_called_off(org):
    window = _window(org, hours_from=24, hours_to=48)

    limit_window_end(granter=org.bob, employee=org.alice, decision_type=org.refund, window_id=window.pk, reason="No")

    assert not AuthorityLimit.objects.filter(pk=window.pk).exists()
    record = AuditRecord.objects.get(action="limit.ended", target_id=str(window.pk))
    assert record.before["employee"] == "alice" and record.after is None


@pytest.mark.parametrize(
    ("granter", "code", "error"),
    [("alice", "own_limits", NotAllowed), ("hank", "not_above", NotAllowed), ("erin", "not_above", NotAllowed)],
)
def test_ending_a_window_follows_the_granting_rules(org, granter, code, error):
    window = _window(org)
    with pytest.raises(error) as refused:
        limit_window_end(
            granter=getattr(org, granter), employee=org.alice, decision_type=org.refund, window_id=window.pk, reason="x"
        )
    assert refused.value.code == code
    window.refresh_from_db()
    assert window.ends_at > timezone.now()
    assert not AuditRecord.objects.filter(action="limit.ended").exists()


def test_ending_a_window_that_is_over_or_not_hers_is_refused(org):
    window = _window(org, hours_to=1)
    with pytest.raises(NotFound):  # not a window of this type
        limit_window_end(
            granter=org.bob, employee=org.alice, decision_type=org.goodwill, window_id=window.pk, reason="x"
        )
    with time_machine.travel(timezone.now() + timedelta(hours=2)), pytest.raises(Conflict) as refused:
        limit_window_end(granter=org.bob, employee=org.alice, decision_type=org.refund, window_id=window.pk, reason="x")
    assert refused.value.code == "window_ended"


def test_clearing_with_only_a_temporary_limit_returns_alice_to_her_roles(org):
    window = _window(org, hours_to=5)
    scheduled = _window(org, hours_from=10, hours_to=20)

    limit_clear(granter=org.bob, employee=org.alice, decision_type=org.refund, reason="Back to standard")

    line = refund_line(authority_of(employee=org.alice), org)
    assert line.limits.source == "role" and line.limits.per_decision == D("100.00")
    assert not AuthorityLimit.objects.filter(pk=scheduled.pk).exists()
    assert (
        AuditRecord.objects.filter(action="limit.ended", target_id__in=[str(window.pk), str(scheduled.pk)]).count() == 2
    )
    with pytest.raises(Conflict) as nothing_left:
        limit_clear(granter=org.bob, employee=org.alice, decision_type=org.refund, reason="Again")
    assert nothing_left.value.code == "no_personal_limit"


# History: every start and expiry, with the effective limits before and after ---------------------------


def test_starts_and_expiries_record_the_effective_limits_before_and_after(org):
    now = timezone.now()
    limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=REFUND, reason="Standing")
    window = _window(org, values=REFUND | {"per_decision": "300.00"}, hours_from=1, hours_to=3)
    with time_machine.travel(now + timedelta(hours=2)):
        authority_changes_announce()
    with time_machine.travel(now + timedelta(hours=4)):
        authority_changes_announce()

    started = AuditRecord.objects.get(action="limit.started", target_id=str(window.pk))
    assert (started.before["per_decision"], started.before["source"]) == ("250.00", "personal")
    assert started.after["per_decision"] == "300.00" and started.subject == org.alice
    expired = AuditRecord.objects.get(action="limit.expired", target_id=str(window.pk))
    assert expired.before["per_decision"] == "300.00" and expired.after["per_decision"] == "250.00"
    # The historic question is not misled by these records (they hold effective limits, not a row).
    at = next(x for x in authority_at(employee=org.alice, at=now + timedelta(hours=2)) if x.decision_type == org.refund)
    assert at.limits.per_decision == D("300.00")


def test_expiries_are_recorded_however_long_the_beat_was_down(org):
    now = timezone.now()
    window = _window(org, hours_from=1, hours_to=3)
    with time_machine.travel(now + timedelta(days=5)):
        assert authority_changes_announce() == 2  # its start and its end, both missed
        assert authority_changes_announce() == 0
    assert AuditRecord.objects.filter(action="limit.started", target_id=str(window.pk)).count() == 1
    expired = AuditRecord.objects.get(action="limit.expired", target_id=str(window.pk))
    assert expired.before["per_decision"] == "250.00" and expired.after["source"] == "role"
    # Told of the end only: the start was over before anyone looked.
    keys = set(Notification.objects.filter(recipient=org.alice).values_list("key", flat=True))
    assert f"limit:{window.pk}:expired" in keys and f"limit:{window.pk}:started" not in keys


# Role defaults: everyone they apply to is told, their waiting escalations reviewed, their timeline shows it


def test_a_role_default_change_tells_everyone_it_applies_to(org):
    agent = Role.objects.get(code="agent")
    limit_set(granter=org.bob, employee=org.frank, decision_type=org.refund, values=REFUND, reason="Own limit")
    Notification.objects.all().delete()

    role_limit_set(granter=org.carol, role=agent, decision_type=org.refund, values=REFUND, reason="Policy review")

    told = set(Notification.objects.filter(url="/authority/me/").values_list("recipient__user__username", flat=True))
    assert told == {"alice", "erin", "gina"}  # frank's own limit still applies to him


def test_lowering_a_role_default_moves_up_what_its_approvers_no_longer_cover(
    org, make_case, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        escalation = decide(org, make_case, org.alice, "450.00").escalation
    escalation.refresh_from_db()
    assert escalation.assigned_to == org.bob
    team_lead = Role.objects.get(code="team_lead")

    with django_capture_on_commit_callbacks(execute=True):
        role_limit_set(
            granter=org.carol,
            role=team_lead,
            decision_type=org.refund,
            values={
                "per_decision": "400.00",
                "per_day": "1500.00",
                "per_month": "10000.00",
                "per_customer_month": "1000.00",
            },
            reason="Tighter",
        )

    escalation.refresh_from_db()
    assert escalation.level == 2 and escalation.assigned_to == org.carol


def test_role_default_changes_show_on_the_timelines_of_that_role(org):
    agent = Role.objects.get(code="agent")
    role_limit_set(granter=org.carol, role=agent, decision_type=org.refund, values=REFUND, reason="Policy review")

    erin = list(authority_timeline(employee=org.erin))
    assert [(r.action, r.after["role"], r.reason) for r in erin] == [("limit.changed", "agent", "Policy review")]
    assert not authority_timeline(employee=org.bob).exists()  # a team lead: not their role


# Snapshots: the maker's limits stay, the approver's are kept beside them --------------------------------


def test_approval_keeps_the_makers_snapshot_and_adds_the_approvers(org, make_case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decision = decide(org, make_case, org.alice, "150.00")
    maker = dict(decision.limits_snapshot)
    assert maker["per_decision"] == "100.00"

    escalation_approve(escalation_id=decision.escalation.pk, approver=org.bob, note="Fine")

    decision.refresh_from_db()
    assert decision.limits_snapshot == maker
    assert decision.approval_snapshot["per_decision"] == "500.00"
    assert decision.approval_snapshot["authority_of"] == "bob" and decision.approval_snapshot["used_today"] == "0.00"
