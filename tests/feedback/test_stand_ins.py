"""Follow-ups and friction reports go to the stand-in of whoever would receive them while that person
is away (any active delegation), as escalations do; moving up starts from the person, not the stand-in.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from delegation.services import delegation_create, delegation_end
from empower.errors import NotAllowed
from empower.models import AuditRecord, Notification
from feedback import selectors, services, tasks
from feedback.models import FollowUp


@pytest.fixture
def away(org):
    """`away(org.bob, org.frank)`: bob hands his refund authority to frank for a week, from now."""

    def delegate(delegator, delegate, types=None):
        now = timezone.now()
        return delegation_create(
            delegator=delegator,
            delegate=delegate,
            decision_types=types or [org.refund],
            starts_at=now,
            ends_at=now + timedelta(days=7),
            reason="Holiday",
        )

    return delegate


def unhappy(survey) -> FollowUp:
    services.survey_answer(survey_id=survey.pk, csat=1, comment="Still broken")
    return FollowUp.objects.get(survey=survey)


def test_a_follow_up_for_a_resolver_who_is_away_goes_to_their_stand_in(resolve, org, away):
    survey = resolve(org.alice)
    away(org.alice, org.erin)
    follow_up = unhappy(survey)
    assert follow_up.resolver == org.alice
    assert follow_up.assigned_to == org.erin and follow_up.on_behalf_of == org.alice
    assert Notification.objects.filter(recipient=org.erin, key=f"follow-up:{follow_up.pk}:assigned:1").exists()
    record = AuditRecord.objects.get(action="follow_up.opened", target_id=str(follow_up.pk))
    assert record.after["assigned_to"] == "erin" and record.after["on_behalf_of"] == "alice"
    assert selectors.follow_ups_visible_to(employee=org.erin).filter(pk=follow_up.pk).exists()
    services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.erin, action_taken="Called", reply="Sorry")
    assert FollowUp.objects.get(pk=follow_up.pk).replied_by == org.erin


def test_without_an_active_delegation_it_goes_to_the_person(resolve, org, away):
    survey = resolve(org.alice)
    delegation = away(org.alice, org.erin)
    delegation_end(delegation=delegation, actor=org.alice)
    assert unhappy(survey).assigned_to == org.alice


def test_an_overdue_follow_up_moves_to_the_stand_in_of_the_manager_who_is_away(resolve, org, away):
    follow_up = unhappy(resolve(org.alice))
    away(org.bob, org.frank)
    start = timezone.now()
    with time_machine.travel(start + timedelta(hours=49)):
        assert tasks.move_overdue_follow_ups() == 1
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == org.frank and follow_up.on_behalf_of == org.bob and follow_up.level == 2
    assert Notification.objects.filter(recipient=org.frank, key=f"follow-up:{follow_up.pk}:assigned:2").exists()
    assert selectors.may_handle_follow_up(employee=org.bob, follow_up=follow_up)  # back early: he may
    # Next it moves above bob (whose turn it was), not above frank (whose manager is bob).
    with time_machine.travel(start + timedelta(hours=98)):
        assert tasks.move_overdue_follow_ups() == 1
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == org.carol and follow_up.on_behalf_of is None and follow_up.level == 3


def test_a_follow_up_never_moves_up_to_the_resolver_standing_in(resolve, org, away):
    follow_up = unhappy(resolve(org.alice))
    away(org.bob, org.alice)  # alice stands in for bob, but the follow-up is moving up from her
    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        tasks.move_overdue_follow_ups()
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == org.bob and follow_up.on_behalf_of is None


def test_a_stand_in_for_the_top_of_the_chain_is_not_picked_up_again(resolve, org, away):
    follow_up = unhappy(resolve(org.alice))
    away(org.dan, org.hank)
    start = timezone.now()
    for hours in (49, 98, 147):  # to bob, to carol, to dan's stand-in
        with time_machine.travel(start + timedelta(hours=hours)):
            assert tasks.move_overdue_follow_ups() == 1
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == org.hank and follow_up.on_behalf_of == org.dan and follow_up.level == 4
    # Nobody stands above dan: hank's own manager (carol) does not get it back.
    with time_machine.travel(start + timedelta(days=6)):
        assert selectors.overdue_follow_up_ids() == []
        assert tasks.move_overdue_follow_ups() == 0
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == org.hank


def test_with_several_stand_ins_the_one_holding_most_of_their_authority_takes_it(resolve, org, away):
    survey = resolve(org.alice)
    away(org.alice, org.frank, types=[org.goodwill])
    away(org.alice, org.erin, types=[org.refund, org.types["replacement"]])
    assert unhappy(survey).assigned_to == org.erin


def test_a_friction_report_goes_to_the_stand_in_of_the_manager_who_is_away(org, away, make_case):
    away(org.bob, org.frank)
    report = services.friction_report_file(
        reporter=org.alice, case=make_case(org.alice), decision_type=org.refund, would_have_done="Refund 150"
    )
    assert report.assigned_to == org.frank and report.on_behalf_of == org.bob
    assert Notification.objects.filter(recipient=org.frank, key=f"friction:{report.pk}:assigned:1").exists()
    assert selectors.may_answer_report(employee=org.frank, report=report)
    assert selectors.may_answer_report(employee=org.bob, report=report)  # his, back early
    assert not selectors.may_second_report(employee=org.frank, report=report)  # he answers it instead
    with pytest.raises(NotAllowed):
        services.friction_report_second(report_id=report.pk, employee=org.frank)
    with time_machine.travel(report.due_at + timedelta(minutes=1)):
        assert tasks.move_overdue_friction_reports() == 1
    report.refresh_from_db()
    assert report.assigned_to == org.carol and report.on_behalf_of is None and report.level == 2


def test_a_report_never_goes_to_the_reporter_standing_in(org, away, make_case):
    away(org.bob, org.alice)
    report = services.friction_report_file(
        reporter=org.alice, case=make_case(org.alice), decision_type=org.refund, would_have_done="Refund 150"
    )
    assert report.assigned_to == org.bob and report.on_behalf_of is None


def test_passing_a_report_up_goes_to_the_next_managers_stand_in(org, away, make_case):
    report = services.friction_report_file(
        reporter=org.alice, case=make_case(org.alice), decision_type=org.refund, would_have_done="Refund 150"
    )
    away(org.carol, org.hank)
    services.friction_report_answer(report_id=report.pk, employee=org.bob, outcome="pass_up", note="Not mine")
    report.refresh_from_db()
    assert report.assigned_to == org.hank and report.on_behalf_of == org.carol
    services.friction_report_answer(report_id=report.pk, employee=org.hank, outcome="explain", note="Policy")
    report.refresh_from_db()
    assert report.status == "explained" and report.answered_by == org.hank


def test_the_pages_say_who_stands_in_for_whom(client, resolve, org, away, make_case):
    away(org.alice, org.erin)
    follow_up = unhappy(resolve(org.alice))
    client.force_login(org.erin.user)
    html = client.get(f"/feedback/follow-ups/{follow_up.pk}/").content.decode()
    assert 'id="reply-form"' in html and "(standing in for Alice" in html
    away(org.bob, org.frank)
    report = services.friction_report_file(
        reporter=org.alice, case=make_case(org.alice), decision_type=org.refund, would_have_done="Refund 150"
    )
    client.force_login(org.frank.user)
    html = client.get(f"/feedback/reports/{report.pk}/").content.decode()
    assert 'id="answer-form"' in html and "(standing in for Bob" in html
