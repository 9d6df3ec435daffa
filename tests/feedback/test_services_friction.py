"""Staff voice: "this rule stopped me from helping this customer" gets seconded and answered."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from delegation.services import decision_submit
from empower.errors import Conflict, InvalidInput, NotAllowed
from empower.models import AuditRecord, Notification
from feedback import selectors, services, tasks
from feedback.models import FrictionAnswer, FrictionReport


def test_a_report_goes_to_the_reporters_manager_with_a_deadline(report, org):
    filed = report()
    assert filed.assigned_to == org.bob and filed.level == 1 and filed.team == org.alice.team
    assert filed.status == FrictionReport.Status.OPEN and filed.due_at > timezone.now()
    assert filed.rule_label == "Refund · Per decision"
    assert Notification.objects.filter(recipient=org.bob, key=f"friction:{filed.pk}:assigned:1").exists()
    assert AuditRecord.objects.filter(action="friction.filed", target_id=str(filed.pk), actor=org.alice).exists()


def test_a_report_can_name_a_decision_on_the_case(org, make_case, report):
    case = make_case(org.alice)
    decision = decision_submit(
        employee=org.alice, case=case, decision_type=org.refund, amount=Decimal("150.00"), rationale="Two kettles"
    )
    filed = report(case=case, decision=decision, decision_type=None, limit="per_decision")
    assert filed.decision == decision and filed.decision_type == org.refund
    other = make_case(org.alice)
    with pytest.raises(InvalidInput) as error:
        report(case=other, decision=decision)
    assert "decision" in error.value.field_errors


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"decision_type": None, "limit": "", "rule_text": ""}, "rule_text"),
        ({"decision_type": None, "limit": "per_day", "rule_text": "Something"}, "decision_type"),
        ({"limit": "per_week"}, "limit"),
        ({"would_have_done": "   "}, "would_have_done"),
        ({"would_have_done": "x" * 4001}, "would_have_done"),
        ({"decision_type": None, "limit": "", "rule_text": "y" * 301}, "rule_text"),
    ],
)
def test_a_report_must_name_a_rule_and_what_they_would_have_done(report, kwargs, field):
    with pytest.raises(InvalidInput) as error:
        report(**kwargs)
    assert field in error.value.field_errors
    assert not FrictionReport.objects.exists()


def test_a_free_text_rule_is_fine(report):
    filed = report(decision_type=None, limit="", rule_text="Returns need the original box")
    assert filed.rule_label == "Returns need the original box" and filed.rule_key == "other"


def test_only_on_a_case_the_reporter_may_act_on(report, org, make_case):
    with pytest.raises(NotAllowed):
        report(org.gina, case=make_case(org.alice))
    with pytest.raises(InvalidInput):  # dan has nobody above him to answer
        report(org.dan, case=make_case(org.alice))


def test_colleagues_of_the_same_team_second_a_report_once(report, org):
    filed = report()
    services.friction_report_second(report_id=filed.pk, employee=org.erin, note="Same for me daily")
    services.friction_report_second(report_id=filed.pk, employee=org.frank)
    with pytest.raises(Conflict):
        services.friction_report_second(report_id=filed.pk, employee=org.erin)
    with pytest.raises(NotAllowed):
        services.friction_report_second(report_id=filed.pk, employee=org.alice)  # one's own
    with pytest.raises(NotAllowed):
        services.friction_report_second(report_id=filed.pk, employee=org.gina)  # another team
    assert filed.seconds.count() == 2
    assert Notification.objects.filter(recipient=org.alice, key=f"friction:{filed.pk}:second:{org.erin.pk}").exists()
    assert AuditRecord.objects.filter(action="friction.seconded", target_id=str(filed.pk)).count() == 2


@pytest.mark.parametrize(("outcome", "status"), [("accept", "accepted"), ("explain", "explained")])
def test_the_manager_answers_and_the_reporter_and_seconders_hear(report, org, outcome, status):
    filed = report()
    services.friction_report_second(report_id=filed.pk, employee=org.erin)
    change = services.ChangeInput(kind="policy", text="Agents refund up to 150") if outcome == "accept" else None
    services.friction_report_answer(
        report_id=filed.pk, employee=org.bob, outcome=outcome, note="Raising agents' refund limit to 150", change=change
    )
    filed.refresh_from_db()
    assert filed.status == status and filed.answered_by == org.bob and filed.answer.startswith("Raising")
    for person in (org.alice, org.erin):
        assert Notification.objects.filter(recipient=person, key=f"friction:{filed.pk}:answered").exists()
    assert AuditRecord.objects.filter(action=f"friction.{status}", actor=org.bob).exists()
    with pytest.raises(Conflict):
        services.friction_report_answer(report_id=filed.pk, employee=org.carol, outcome="explain", note="Again")
    with pytest.raises(Conflict):
        services.friction_report_second(report_id=filed.pk, employee=org.frank)


def test_passing_it_up_hands_it_to_the_next_manager(report, org):
    filed = report()
    services.friction_report_answer(
        report_id=filed.pk, employee=org.bob, outcome="pass_up", note="Limits are set at Operations"
    )
    filed.refresh_from_db()
    assert filed.status == FrictionReport.Status.OPEN and filed.assigned_to == org.carol and filed.level == 2
    assert Notification.objects.filter(recipient=org.carol, key=f"friction:{filed.pk}:assigned:2").exists()
    with pytest.raises(NotAllowed):  # bob passed it on; now it is carol's (or dan's)
        services.friction_report_answer(report_id=filed.pk, employee=org.bob, outcome="accept", note="x")
    services.friction_report_answer(
        report_id=filed.pk,
        employee=org.dan,
        outcome="accept",
        note="Done from the top",
        change=services.ChangeInput(kind="policy", text="Operations decides"),
    )
    assert [a.outcome for a in FrictionAnswer.objects.filter(report=filed)] == ["pass_up", "accept"]


def test_the_top_cannot_pass_up(report, org):
    filed = report(org.carol, case=None)
    assert filed.assigned_to == org.dan
    with pytest.raises(InvalidInput):
        services.friction_report_answer(report_id=filed.pk, employee=org.dan, outcome="pass_up", note="Nobody above")
    filed.refresh_from_db()
    assert filed.assigned_to == org.dan and not filed.answers.exists()


@pytest.mark.parametrize("who", ["alice", "erin", "gina", "hank"])
def test_only_the_assignee_or_those_above_answer(report, org, who):
    filed = report()
    with pytest.raises(NotAllowed):
        services.friction_report_answer(report_id=filed.pk, employee=getattr(org, who), outcome="explain", note="No")
    assert FrictionReport.objects.get(pk=filed.pk).is_open


def test_an_answer_needs_a_note_and_a_known_outcome(report, org):
    filed = report()
    with pytest.raises(InvalidInput):
        services.friction_report_answer(report_id=filed.pk, employee=org.bob, outcome="explain", note=" ")
    with pytest.raises(InvalidInput):
        services.friction_report_answer(report_id=filed.pk, employee=org.bob, outcome="ignore", note="x")


def test_an_unanswered_report_moves_up_when_overdue(report, org):
    filed = report()
    with time_machine.travel(filed.due_at - timedelta(minutes=1)):
        assert tasks.move_overdue_friction_reports() == 0
    with time_machine.travel(filed.due_at + timedelta(minutes=1)):
        assert tasks.move_overdue_friction_reports() == 1
        assert tasks.move_overdue_friction_reports() == 0
    filed.refresh_from_db()
    assert filed.assigned_to == org.carol and filed.level == 2
    assert Notification.objects.filter(recipient=org.alice, key=f"friction:{filed.pk}:moved:2").exists()


@pytest.mark.parametrize(
    ("who", "sees"),
    [("alice", True), ("erin", True), ("bob", True), ("carol", True), ("dan", True), ("gina", False), ("hank", False)],
)
def test_a_report_is_seen_by_the_reporter_their_chain_and_their_team(report, org, who, sees):
    filed = report()
    assert selectors.reports_visible_to(employee=getattr(org, who)).filter(pk=filed.pk).exists() is sees


def test_the_board_groups_open_reports_by_rule_most_seconded_first(report, org, make_case):
    per_day = report(limit="per_day", would_have_done="A")
    per_decision = report(would_have_done="B")
    per_decision_too = report(org.erin, would_have_done="C")
    other = report(decision_type=None, limit="", rule_text="Original box required", would_have_done="D")
    answered = report(would_have_done="E")
    for colleague in (org.erin, org.frank):
        services.friction_report_second(report_id=per_decision.pk, employee=colleague)
    services.friction_report_second(report_id=other.pk, employee=org.erin)
    services.friction_report_answer(report_id=answered.pk, employee=org.bob, outcome="explain", note="Because")

    groups = selectors.report_board(employee=org.bob)
    assert [g.label for g in groups] == ["Refund · Per decision", "", "Refund · Per day"]
    assert [r.pk for r in groups[0].reports] == [per_decision.pk, per_decision_too.pk]
    assert groups[0].seconds == 2 and [r.pk for r in groups[1].reports] == [other.pk]
    assert [r.pk for r in groups[2].reports] == [per_day.pk]
    assert selectors.report_board(employee=org.gina) == []


def test_the_board_stays_at_a_constant_number_of_queries(report, org, django_assert_max_num_queries):
    for n in range(12):
        filed = report(would_have_done=f"R{n}", limit=["per_day", "per_decision", "per_month"][n % 3])
        services.friction_report_second(report_id=filed.pk, employee=org.erin)
    with django_assert_max_num_queries(3):
        groups = selectors.report_board(employee=org.bob)
        assert sum(len(g.reports) for g in groups) == 12
        assert all(r.reporter.username and r.team.name and r.assigned_to.username for g in groups for r in g.reports)


@pytest.mark.parametrize(
    ("who", "may"),
    [
        ("erin", True),  # colleagues of the same team
        ("frank", True),
        ("alice", False),  # the reporter
        ("bob", False),  # the manager it is assigned to: he answers it
        ("carol", False),  # above the reporter
        ("dan", False),
        ("gina", False),  # another team
    ],
)
def test_only_colleagues_second_a_report(report, org, who, may):
    filed = report()
    employee = getattr(org, who)
    assert selectors.may_second_report(employee=employee, report=filed) is may
    if may:
        services.friction_report_second(report_id=filed.pk, employee=employee)
        assert filed.seconds.filter(employee=employee).exists()
    else:
        with pytest.raises(NotAllowed):
            services.friction_report_second(report_id=filed.pk, employee=employee)
        assert not filed.seconds.exists()


def test_a_team_lead_in_the_same_team_cannot_second_a_report_passed_above_him(report, org):
    filed = report()
    services.friction_report_answer(report_id=filed.pk, employee=org.bob, outcome="pass_up", note="Carol decides")
    filed.refresh_from_db()
    assert filed.assigned_to == org.carol
    with pytest.raises(NotAllowed):  # no longer the assignee, but still above the reporter
        services.friction_report_second(report_id=filed.pk, employee=org.bob)


def test_the_board_puts_the_rule_with_the_most_seconds_in_all_first(report, org, make_case):
    # One per-decision report seconded twice; two per-day reports seconded twice and once: 3 in all.
    per_decision = report(would_have_done="A")
    per_day_first = report(limit="per_day", would_have_done="B")
    per_day_second = report(org.erin, limit="per_day", would_have_done="C")
    for colleague in (org.erin, org.frank):
        services.friction_report_second(report_id=per_decision.pk, employee=colleague)
    services.friction_report_second(report_id=per_day_first.pk, employee=org.frank)
    for colleague in (org.alice, org.frank):
        services.friction_report_second(report_id=per_day_second.pk, employee=colleague)

    groups = selectors.report_board(employee=org.bob)
    assert [(g.label, g.seconds) for g in groups] == [("Refund · Per day", 3), ("Refund · Per decision", 2)]
    assert [r.pk for r in groups[0].reports] == [per_day_second.pk, per_day_first.pk]  # most seconded first


def test_on_equal_seconds_the_rule_reported_most_comes_first(report, org):
    once = report(would_have_done="A")
    services.friction_report_second(report_id=once.pk, employee=org.erin)
    twice = report(limit="per_day", would_have_done="B")
    report(org.erin, limit="per_day", would_have_done="C")
    services.friction_report_second(report_id=twice.pk, employee=org.frank)

    groups = selectors.report_board(employee=org.bob)
    assert [(g.label, g.seconds, len(g.reports)) for g in groups] == [
        ("Refund · Per day", 1, 2),
        ("Refund · Per decision", 1, 1),
    ]


def test_a_decision_of_another_type_than_the_one_named_is_refused(org, make_case, report):
    case = make_case(org.alice)
    decision = decision_submit(
        employee=org.alice, case=case, decision_type=org.refund, amount=Decimal("150.00"), rationale="Two kettles"
    )
    with pytest.raises(InvalidInput) as error:
        report(case=case, decision=decision, decision_type=org.goodwill, limit="")
    assert "decision_type" in error.value.field_errors
    assert not FrictionReport.objects.exists()
    filed = report(case=case, decision=decision, decision_type=org.refund)  # the same type is fine
    assert filed.decision == decision and filed.decision_type == org.refund


def test_a_report_deadline_is_read_from_settings_at_each_call(report, settings):
    from delegation.deadlines import add_working_hours

    settings.FEEDBACK_REPORT_WORKING_HOURS = 3
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        filed = report()
    assert filed.due_at == add_working_hours(now, 3)
