"""Status pipelines of follow-ups and friction reports: only legal moves, each saved and audited once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from empower.errors import Conflict
from empower.models import AuditRecord
from feedback import selectors, services
from feedback.models import FollowUp, FrictionAnswer, FrictionReport


def test_the_transitions_are_declared():
    assert FollowUp.TRANSITIONS == {"open": ("done",), "done": ()}
    assert FrictionReport.TRANSITIONS == {"open": ("accepted", "explained"), "accepted": (), "explained": ()}
    assert FollowUp(status="open").can_move_to("done") and not FollowUp(status="done").can_move_to("done")
    assert not FrictionReport(status="accepted").can_move_to("explained")


def test_a_replied_follow_up_cannot_move_again_and_nothing_changes(resolve, org):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=1)
    follow_up = FollowUp.objects.get(survey=survey)
    follow_up.move_to(FollowUp.Status.DONE, by=org.alice, action_taken="Refunded", reply="Sorry")
    with pytest.raises(Conflict) as refused:
        follow_up.move_to(FollowUp.Status.DONE, by=org.bob, action_taken="Again", reply="Twice")
    assert refused.value.code == "already_replied"
    stored = FollowUp.objects.get(pk=follow_up.pk)
    assert (stored.reply, stored.replied_by) == ("Sorry", org.alice)
    assert not AuditRecord.objects.filter(target_id=str(follow_up.pk), action="follow_up.replied").exists()


def test_an_open_follow_up_cannot_move_to_an_unknown_status(resolve, org):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=1)
    follow_up = FollowUp.objects.get(survey=survey)
    with pytest.raises(Conflict) as refused:
        follow_up.move_to("archived", by=org.alice, action_taken="x", reply="y")
    assert refused.value.code == "illegal_move"
    assert FollowUp.objects.get(pk=follow_up.pk).status == "open"


def test_an_answered_report_cannot_be_answered_again_and_nothing_changes(report, org):
    filed = report()
    filed.move_to(FrictionReport.Status.ACCEPTED, by=org.bob, note="We raise it")
    assert FrictionAnswer.objects.filter(report=filed, outcome="accept").count() == 1
    with pytest.raises(Conflict) as refused:
        filed.move_to(FrictionReport.Status.EXPLAINED, by=org.carol, note="No")
    assert refused.value.code == "report_closed"
    stored = FrictionReport.objects.get(pk=filed.pk)
    assert (stored.status, stored.answer, stored.answered_by) == ("accepted", "We raise it", org.bob)
    assert FrictionAnswer.objects.filter(report=filed).count() == 1
    assert not AuditRecord.objects.filter(
        target_id=str(filed.pk), action__in=["friction.accepted", "friction.explained"]
    ).exists()


def test_overdue_is_one_rule_for_rows_and_lists(report, org):
    filed = report()
    later = filed.due_at + timedelta(minutes=1)
    assert not filed.is_overdue() and filed.is_overdue(later)
    listed = selectors.reports_visible_to(employee=org.bob).get(pk=filed.pk)
    assert listed.overdue is False
    FrictionReport.objects.filter(pk=filed.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    assert selectors.reports_visible_to(employee=org.bob).get(pk=filed.pk).overdue is True
    FrictionReport.objects.filter(pk=filed.pk).update(status="explained", answered_at=timezone.now())
    assert selectors.reports_visible_to(employee=org.bob).get(pk=filed.pk).overdue is False
