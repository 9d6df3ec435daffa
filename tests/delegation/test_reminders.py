"""Approvers hear before the deadline: one reminder, three quarters of the way there in working hours."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from delegation.models import Escalation
from delegation.services import decision_submit, escalation_approve, escalation_remind
from delegation.tasks import review_assigned_escalations
from empower.models import Notification, OutgoingEmail

UTC = ZoneInfo("UTC")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
FRIDAY_16 = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


@pytest.fixture
def escalate(org, make_case, django_capture_on_commit_callbacks):
    def submit(amount="150.00"):
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=org.alice, case=make_case(org.alice), decision_type=org.refund, amount=amount, rationale="x"
            )
        return Escalation.objects.get(decision=decision)

    return submit


@pytest.fixture
def review(django_capture_on_commit_callbacks):
    def run(at):
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True):
            return review_assigned_escalations()

    return run


def reminders(org, escalation):
    return Notification.objects.filter(recipient=org.bob, key__startswith=f"escalation:{escalation.pk}:reminder:")


def test_the_approver_is_reminded_once_three_quarters_of_the_way_to_the_deadline(org, escalate, review):
    with time_machine.travel(MONDAY_10, tick=False):
        escalation = escalate()  # refunds: 4 working hours, so the reminder comes after 3
    assert escalation.assigned_to == org.bob
    assert escalation.remind_at == MONDAY_10 + timedelta(hours=3)

    review(MONDAY_10 + timedelta(hours=2, minutes=59))
    assert not reminders(org, escalation).exists()

    review(MONDAY_10 + timedelta(hours=3, minutes=1))
    told = reminders(org, escalation).get()
    assert told.url == f"/escalations/{escalation.pk}/"
    assert told.message.startswith("Reminder: Alice is waiting for your answer on Refund €150.00 (case #")
    assert "It is due by 23 Nov 2026, 14:00; then it moves up a level." in told.message
    emails = OutgoingEmail.objects.filter(key=told.email_key)
    assert emails.count() == 1 and emails.get().to == org.bob.user.email

    # Later runs, before and after the deadline, never remind again.
    review(MONDAY_10 + timedelta(hours=3, minutes=30))
    assert reminders(org, escalation).count() == 1
    assert OutgoingEmail.objects.filter(key=told.email_key).count() == 1
    escalation.refresh_from_db()
    assert escalation.remind_at is None and escalation.assigned_to == org.bob


def test_the_reminder_counts_working_hours_over_the_weekend(org, escalate, review):
    with time_machine.travel(FRIDAY_16, tick=False):
        escalation = escalate()
    # Friday 16:00 to 17:00 is one hour; Monday 9:00 to 11:00 the other two.
    assert escalation.remind_at == datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    review(datetime(2026, 11, 28, 12, 0, tzinfo=UTC))  # Saturday: nothing yet
    assert not reminders(org, escalation).exists()
    review(datetime(2026, 11, 30, 11, 0, tzinfo=UTC))
    assert reminders(org, escalation).count() == 1


def test_an_answered_escalation_is_never_reminded(org, escalate, review):
    with time_machine.travel(MONDAY_10, tick=False):
        escalation = escalate()
    with time_machine.travel(MONDAY_10 + timedelta(hours=1), tick=False):
        escalation_approve(escalation_id=escalation.pk, approver=org.bob, note="")
    review(MONDAY_10 + timedelta(hours=3, minutes=1))
    assert not reminders(org, escalation).exists()


def test_reminding_twice_tells_once(org, escalate):
    with time_machine.travel(MONDAY_10, tick=False):
        escalation = escalate()
    at = MONDAY_10 + timedelta(hours=3)
    assert escalation_remind(escalation_id=escalation.pk, at=at) is True
    assert escalation_remind(escalation_id=escalation.pk, at=at) is False
    assert reminders(org, escalation).count() == 1


def test_a_new_approver_after_a_move_up_gets_a_reminder_of_their_own(org, escalate, review):
    with time_machine.travel(MONDAY_10, tick=False):
        escalation = escalate()
    review(MONDAY_10 + timedelta(hours=3, minutes=1))
    review(MONDAY_10 + timedelta(hours=4, minutes=1))  # overdue: moves up to carol
    escalation.refresh_from_db()
    assert escalation.assigned_to == org.carol
    # Carol's 4 hours start at 14:01: three of them end at 9:01 the next working morning.
    assert escalation.remind_at == datetime(2026, 11, 24, 9, 1, tzinfo=UTC)
    review(datetime(2026, 11, 24, 9, 2, tzinfo=UTC))
    assert (
        Notification.objects.filter(
            recipient=org.carol, key__startswith=f"escalation:{escalation.pk}:reminder:"
        ).count()
        == 1
    )
    assert reminders(org, escalation).count() == 1  # bob's, from before
