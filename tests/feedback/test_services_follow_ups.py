"""Closing the loop: low scores and complaints get a human follow-up by a deadline; overdue ones move up."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone

from empower import services as empower_services
from empower import tasks as empower_tasks
from empower.errors import Conflict, InvalidInput, NotAllowed
from empower.models import AuditRecord, Notification
from feedback import selectors, services, tasks
from feedback.models import FollowUp

# Past the outbox's grace period, when its periodic re-send takes over from the task's own retries.
RESEND_AFTER = empower_services.EMAIL_SEND_AGAIN_AFTER + timedelta(minutes=1)


def low_score(survey, csat=1, comment="Still broken"):
    services.survey_answer(survey_id=survey.pk, csat=csat, comment=comment)
    return FollowUp.objects.get(survey=survey)


def test_a_low_score_opens_a_follow_up_for_the_resolver_due_in_48_hours(resolve, org):
    survey = resolve(org.alice)
    before = timezone.now()
    follow_up = low_score(survey, csat=2)
    assert follow_up.reason == FollowUp.Reason.LOW_SCORE
    assert follow_up.resolver == org.alice and follow_up.assigned_to == org.alice and follow_up.level == 1
    assert before + timedelta(hours=48) <= follow_up.due_at <= timezone.now() + timedelta(hours=48)
    assert Notification.objects.filter(recipient=org.alice, key=f"follow-up:{follow_up.pk}:assigned:1").exists()
    assert AuditRecord.objects.filter(action="follow_up.opened", target_id=str(follow_up.pk)).exists()


@pytest.mark.parametrize("csat", [3, 4, 5])
def test_a_fair_score_without_a_complaint_opens_nothing(resolve, csat):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=csat, comment="Meh")
    assert not FollowUp.objects.exists()


def test_a_comment_flagged_as_a_complaint_opens_one_even_with_a_good_score(resolve):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=4, comment="The courier was rude", comment_is_complaint=True)
    follow_up = FollowUp.objects.get(survey=survey)
    assert follow_up.reason == FollowUp.Reason.FLAGGED_COMMENT


@pytest.mark.parametrize("who", ["erin", "frank", "gina", "hank"])
def test_only_those_who_may_handle_the_follow_up_flag_a_comment(resolve, org, who):
    survey = resolve(org.alice)
    services.survey_answer(survey_id=survey.pk, csat=3, comment="The courier was rude")
    with pytest.raises(NotAllowed):  # a colleague (or an outsider) could open work they may not see
        services.survey_flag_complaint(survey_id=survey.pk, employee=getattr(org, who))
    assert not FollowUp.objects.exists()
    assert not AuditRecord.objects.filter(action="survey.flagged_complaint").exists()
    survey.refresh_from_db()
    assert survey.comment_is_complaint is False
    follow_up = services.survey_flag_complaint(survey_id=survey.pk, employee=org.alice)  # the resolver may
    assert follow_up.assigned_to == org.alice


def test_staff_can_flag_a_comment_as_a_complaint_once(resolve, org):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=3, comment="The courier was rude")
    follow_up = services.survey_flag_complaint(survey_id=survey.pk, employee=org.bob)
    assert follow_up.reason == FollowUp.Reason.FLAGGED_COMMENT and follow_up.assigned_to == org.alice
    assert AuditRecord.objects.filter(action="survey.flagged_complaint", actor=org.bob).exists()
    with pytest.raises(Conflict):
        services.survey_flag_complaint(survey_id=survey.pk, employee=org.bob)
    with pytest.raises(NotAllowed):  # hank's team cannot act on Customer Care's cases
        services.survey_flag_complaint(survey_id=resolve().pk, employee=org.hank)


def test_a_frontline_resolver_who_left_is_skipped_for_their_manager(resolve, org):
    survey = resolve(org.alice)
    org.alice.user.is_active = False
    org.alice.user.save()
    follow_up = low_score(survey)
    assert follow_up.resolver == org.alice and follow_up.assigned_to == org.bob


def test_an_overdue_follow_up_moves_up_the_chain_with_a_new_deadline(resolve, org):
    survey = resolve(org.alice)
    follow_up = low_score(survey)
    start = timezone.now()
    with time_machine.travel(start + timedelta(hours=47)):
        assert tasks.move_overdue_follow_ups() == 0
    with time_machine.travel(start + timedelta(hours=48, minutes=1)):
        assert tasks.move_overdue_follow_ups() == 1
        assert tasks.move_overdue_follow_ups() == 0  # a second beat (or delivery) moves nothing
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == org.bob and follow_up.level == 2
    assert follow_up.due_at >= start + timedelta(hours=96)
    assert Notification.objects.filter(recipient=org.bob, key=f"follow-up:{follow_up.pk}:assigned:2").exists()
    assert Notification.objects.filter(recipient=org.alice, key=f"follow-up:{follow_up.pk}:moved:2").exists()
    record = AuditRecord.objects.get(action="follow_up.moved_up", target_id=str(follow_up.pk))
    assert record.before["assigned_to"] == "alice" and record.after["assigned_to"] == "bob"

    with time_machine.travel(start + timedelta(hours=97)):
        assert tasks.move_overdue_follow_ups() == 1
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == org.carol and follow_up.level == 3
    with time_machine.travel(start + timedelta(hours=146)):
        tasks.move_overdue_follow_ups()
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == org.dan
    # At the top it stays (and shows as overdue); the periodic task no longer picks it up.
    with time_machine.travel(start + timedelta(days=30)):
        assert selectors.overdue_follow_up_ids() == []
        assert tasks.move_overdue_follow_ups() == 0
        follow_up.refresh_from_db()
        assert follow_up.assigned_to == org.dan and follow_up.is_overdue()


def test_a_replied_follow_up_never_moves(resolve, org):
    follow_up = low_score(resolve(org.alice))
    services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="Called", reply="Sorry!")
    with time_machine.travel(timezone.now() + timedelta(days=5)):
        assert tasks.move_overdue_follow_ups() == 0


def test_the_periodic_tasks_are_in_the_beat_schedule():
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "feedback.tasks.move_overdue_follow_ups" in tasks_scheduled
    assert "feedback.tasks.move_overdue_friction_reports" in tasks_scheduled
    # The customers' e-mails are re-sent by the outbox's sweep; feedback has none of its own.
    assert "empower.tasks.send_unsent_emails_again" in tasks_scheduled
    assert not any(task.startswith("feedback.") and "email" in task for task in tasks_scheduled)


def test_the_resolver_replies_and_the_customer_hears_in_their_language(
    resolve, org, django_capture_on_commit_callbacks, email_of
):
    survey = resolve(org.alice, language="ru", name="Olga Ivanova")
    follow_up = low_score(survey)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.follow_up_reply(
            follow_up_id=follow_up.pk,
            employee=org.alice,
            action_taken="Called Olga, sent a replacement by courier",
            reply="We sent you a new kettle by courier, it arrives tomorrow.",
        )
    follow_up.refresh_from_db()
    assert follow_up.status == FollowUp.Status.DONE and follow_up.replied_by == org.alice
    email = email_of(follow_up)
    assert email.sent_at is not None and email.language == "ru"
    assert email.send_until == services.survey_expires_at(survey=survey)  # while the link in it works
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [survey.case.customer.email]
    assert "We sent you a new kettle by courier" in message.body
    assert "Olga" in message.body and "Ivanova" not in message.body
    assert services.survey_url(survey=survey) in message.body
    assert "Called Olga" not in message.body  # what was done stays internal
    assert empower_tasks.send_email(email.pk) is False  # never twice
    assert services.reply_email_queue(follow_up=follow_up) is None
    record = AuditRecord.objects.get(action="follow_up.replied", target_id=str(follow_up.pk))
    assert record.actor == org.alice and record.after["on_time"] is True


def test_a_reply_needs_both_texts_and_is_given_once(resolve, org):
    follow_up = low_score(resolve(org.alice))
    with pytest.raises(InvalidInput) as error:
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken=" ", reply="Sorry")
    assert "action_taken" in error.value.field_errors
    with pytest.raises(InvalidInput) as error:
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="Called", reply="x" * 4001)
    assert "reply" in error.value.field_errors
    assert FollowUp.objects.get(pk=follow_up.pk).is_open
    services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="Called", reply="Sorry")
    with pytest.raises(Conflict):
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.bob, action_taken="Again", reply="Again")


@pytest.mark.parametrize(
    ("who", "sees", "may_reply"),
    [
        ("alice", True, True),  # the resolver
        ("bob", True, True),  # her team lead
        ("carol", True, True),  # above them
        ("dan", True, True),
        ("erin", False, False),  # a colleague of the same team: not hers
        ("gina", False, False),  # another branch
        ("hank", False, False),
    ],
)
def test_only_the_resolver_and_those_above_see_and_handle_a_follow_up(resolve, org, who, sees, may_reply):
    follow_up = low_score(resolve(org.alice))
    employee = getattr(org, who)
    visible = selectors.follow_ups_visible_to(employee=employee).filter(pk=follow_up.pk).exists()
    assert visible is sees
    if may_reply:
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=employee, action_taken="Called", reply="Sorry")
        assert FollowUp.objects.get(pk=follow_up.pk).replied_by == employee
    else:
        with pytest.raises(NotAllowed):
            services.follow_up_reply(follow_up_id=follow_up.pk, employee=employee, action_taken="x", reply="y")
        assert FollowUp.objects.get(pk=follow_up.pk).is_open


def test_after_moving_up_the_new_assignee_sees_it_and_the_resolver_still_does(resolve, org):
    follow_up = low_score(resolve(org.alice))
    with time_machine.travel(timezone.now() + timedelta(hours=49)):
        tasks.move_overdue_follow_ups()
    for person in (org.alice, org.bob, org.carol):
        assert selectors.follow_ups_visible_to(employee=person).filter(pk=follow_up.pk).exists()
    assert not selectors.follow_ups_visible_to(employee=org.erin).filter(pk=follow_up.pk).exists()


def test_the_customer_sees_the_reply_on_the_same_page(client, resolve, org, token):
    survey = resolve(org.alice)
    follow_up = low_score(survey, comment="Still broken")
    from django.urls import reverse

    url = reverse("feedback:survey", args=[token(survey)])
    before = client.get(url).content.decode()
    assert "A person is looking into it" in before and "We did" not in before
    services.follow_up_reply(
        follow_up_id=follow_up.pk, employee=org.alice, action_taken="Refunded", reply="We refunded <b>you</b> in full."
    )
    after = client.get(url).content.decode()
    assert "You said" in after and "Still broken" in after
    assert "We did" in after and "We refunded &lt;b&gt;you&lt;/b&gt; in full." in after
    assert "Refunded" not in after.replace("We refunded", "")  # internal notes are not shown
    assert "Make a complaint" in after  # and they can say it is still not right


def test_a_customer_may_complain_again_after_a_reply_but_not_endlessly(resolve, org):
    survey = resolve(org.alice)
    services.survey_answer(survey_id=survey.pk, csat=4)
    for n in range(services.MAX_COMPLAINTS):
        follow_up = services.survey_complain(survey_id=survey.pk, message=f"Complaint {n}")
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="x", reply="y")
    with pytest.raises(Conflict):
        services.survey_complain(survey_id=survey.pk, message="One more")
    assert FollowUp.objects.filter(survey=survey).count() == services.MAX_COMPLAINTS


def test_notification_texts_are_rendered_in_the_recipients_language():
    from django.utils import translation
    from django.utils.translation import gettext_lazy

    from empower.services import lazy_message

    # A string Django itself translates shows that the text waits for the recipient's language.
    message = lazy_message(gettext_lazy("This field is required."))
    with translation.override("en"):
        assert str(message) == "This field is required."
    with translation.override("pl"):
        assert str(message) == "To pole jest wymagane."


def test_a_follow_up_deadline_is_read_from_settings_at_each_call(resolve, org, settings):
    settings.FEEDBACK_FOLLOW_UP_HOURS = 4
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        follow_up = low_score(resolve(org.alice))
    assert follow_up.due_at == start + timedelta(hours=4)
    with time_machine.travel(start + timedelta(hours=4, minutes=1), tick=False):
        assert tasks.move_overdue_follow_ups() == 1
    follow_up.refresh_from_db()
    assert follow_up.assigned_to == org.bob and follow_up.due_at == start + timedelta(hours=8, minutes=1)


def test_a_reply_email_that_failed_is_sent_by_the_outbox_sweep_once(
    resolve, org, smtp, email_of, django_capture_on_commit_callbacks
):
    follow_up = low_score(resolve(org.alice, language="pl"))
    mail.outbox.clear()
    smtp.down = True
    with django_capture_on_commit_callbacks(execute=True):
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="x", reply="Refunded")
    email = email_of(follow_up)
    assert email.sent_at is None and email.last_error and mail.outbox == []  # the task's own retries failed

    smtp.down = False
    assert empower_tasks.send_unsent_emails_again() == 0  # within the grace period
    with time_machine.travel(timezone.now() + RESEND_AFTER):
        assert empower_tasks.send_unsent_emails_again() >= 1  # (alice's notification e-mail waits too)
        assert empower_tasks.send_unsent_emails_again() == 0  # a second beat (or delivery) sends nothing twice
    email.refresh_from_db()
    assert email.sent_at is not None
    [reply] = [m for m in mail.outbox if m.to == [follow_up.case.customer.email]]
    assert "Refunded" in reply.body


def test_a_survey_email_that_failed_is_retried_while_its_link_works(resolve, org, smtp, email_of):
    smtp.down = True
    survey = resolve(org.alice)
    smtp.down = False
    start = survey.created_at
    with time_machine.travel(start + timedelta(days=31)):  # the link is dead: no e-mail with it
        assert empower_tasks.send_unsent_emails_again() == 0
    assert email_of(survey).sent_at is None
    with time_machine.travel(timezone.now() + RESEND_AFTER):
        assert empower_tasks.send_unsent_emails_again() == 1
    assert email_of(survey).sent_at is not None
    assert [m.to for m in mail.outbox] == [[survey.case.customer.email]]


def test_an_interrupted_send_releases_its_claim(resolve, org, monkeypatch, email_of):
    follow_up = low_score(resolve(org.alice))
    services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="x", reply="Sorry")
    email = email_of(follow_up)  # queued; its on-commit task never ran here

    def interrupted(**kwargs):
        raise RuntimeError("the task's time limit struck")  # not an SMTP error

    monkeypatch.setattr(empower_services, "send_mail", interrupted)
    with pytest.raises(RuntimeError):
        empower_services.email_send(email_id=email.pk)
    email.refresh_from_db()
    assert email.sent_at is None and email.claimed_at is None and "RuntimeError" in email.last_error
