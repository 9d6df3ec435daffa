"""Every feedback button or link is shown exactly when its service accepts the action.

Each test renders the page for an actor, then tries the service for the same actor inside a
transaction that is rolled back: the two must agree (issue 9, item 5). The drifts this caught are
named on their tests.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.models import FollowUp, FrictionReport
from tests.helpers import accepted, page


@pytest.mark.parametrize("who", ["erin", "frank", "bob", "carol", "alice"])
def test_this_stops_me_too_on_the_board(client, org, report, who):
    """Drift: bob, the team lead who must answer, saw "This stops me too" on the board and was refused."""
    filed = report()
    employee = getattr(org, who)
    shown = reverse("feedback:report-second", args=[filed.pk]) in page(client, employee, reverse("feedback:reports"))
    ok = accepted(lambda: services.friction_report_second(report_id=filed.pk, employee=employee))
    assert shown == ok
    assert ok == (who in ("erin", "frank"))


@pytest.mark.parametrize("who", ["erin", "bob", "alice", "gina"])
def test_this_stops_me_too_on_the_report(client, org, report, who):
    filed = report()
    employee = getattr(org, who)
    shown = 'id="second-form"' in page(client, employee, reverse("feedback:report-detail", args=[filed.pk]))
    assert shown == accepted(lambda: services.friction_report_second(report_id=filed.pk, employee=employee))


def test_no_second_button_once_seconded(client, org, report):
    filed = report()
    services.friction_report_second(report_id=filed.pk, employee=org.erin)
    assert reverse("feedback:report-second", args=[filed.pk]) not in page(client, org.erin, reverse("feedback:reports"))
    assert 'id="second-form"' not in page(client, org.erin, reverse("feedback:report-detail", args=[filed.pk]))
    assert not accepted(lambda: services.friction_report_second(report_id=filed.pk, employee=org.erin))


@pytest.mark.parametrize(
    ("who", "answered"), [("bob", False), ("carol", False), ("erin", False), ("alice", False), ("bob", True)]
)
def test_the_answer_form(client, org, report, who, answered):
    filed = report()
    if answered:
        services.friction_report_answer(report_id=filed.pk, employee=org.bob, outcome="explain", note="Policy")
    employee = getattr(org, who)
    shown = 'id="answer-form"' in page(client, employee, reverse("feedback:report-detail", args=[filed.pk]))
    ok = accepted(
        lambda: services.friction_report_answer(
            report_id=filed.pk,
            employee=employee,
            outcome="accept",
            note="Yes",
            change=services.ChangeInput(kind="policy", text="No photo needed"),
        )
    )
    assert shown == ok


@pytest.mark.parametrize(("reporter", "answerer"), [("alice", "bob"), ("carol", "dan")])
def test_pass_it_up_is_offered_exactly_when_someone_stands_above(client, org, report, reporter, answerer):
    """Drift: the director, with nobody above, was offered "Pass it up" and then refused."""
    filed = report(reporter=getattr(org, reporter))
    employee = getattr(org, answerer)
    shown = 'value="pass_up"' in page(client, employee, reverse("feedback:report-detail", args=[filed.pk]))
    ok = accepted(
        lambda: services.friction_report_answer(report_id=filed.pk, employee=employee, outcome="pass_up", note="Up")
    )
    assert shown == ok == (answerer == "bob")


def _complain(survey):
    return services.survey_complain(survey_id=survey.pk, message="Still not right")


@pytest.mark.parametrize("complaints", [1, 3])
def test_complain_again_respects_the_limit(client, org, resolve, token, complaints):
    """Drift: after the last complaint allowed was answered, the page still offered "complain again"."""
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=4)
    for n in range(complaints):
        follow_up = _complain(survey)
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="x", reply=f"Fixed {n}")
    html = client.get(reverse("feedback:survey", args=[token(survey)])).content.decode()
    shown = reverse("feedback:survey-complaint", args=[token(survey)]) in html
    assert shown == accepted(lambda: _complain(survey)) == (complaints < services.MAX_COMPLAINTS)


def test_no_complaint_button_while_one_is_open(client, org, resolve, token):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=1)
    html = client.get(reverse("feedback:survey", args=[token(survey)])).content.decode()
    assert reverse("feedback:survey-complaint", args=[token(survey)]) not in html
    assert not accepted(lambda: _complain(survey))


@pytest.mark.parametrize(("who", "replied"), [("alice", False), ("bob", False), ("erin", False), ("bob", True)])
def test_the_reply_form(client, org, resolve, who, replied):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=1)
    follow_up = FollowUp.objects.get(survey=survey)
    if replied:
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="x", reply="Sorry")
    employee = getattr(org, who)
    shown = 'id="reply-form"' in page(client, employee, reverse("feedback:follow-up-detail", args=[follow_up.pk]))
    ok = accepted(
        lambda: services.follow_up_reply(follow_up_id=follow_up.pk, employee=employee, action_taken="y", reply="Hi")
    )
    assert shown == ok


@pytest.mark.parametrize(
    ("who", "state"),
    [("bob", "comment"), ("erin", "comment"), ("bob", "open_follow_up"), ("bob", "replied_follow_up")],
)
def test_treat_as_a_complaint(client, org, resolve, who, state):
    """Drift: a comment whose earlier follow-up was answered could be flagged, but the page hid the button."""
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=1 if state != "comment" else 4, comment="Meh")
    if state == "replied_follow_up":
        follow_up = FollowUp.objects.get(survey=survey)
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="x", reply="Sorry")
    employee = getattr(org, who)
    shown = reverse("feedback:answer-flag", args=[survey.pk]) in page(client, employee, reverse("feedback:answers"))
    ok = accepted(lambda: services.survey_flag_complaint(survey_id=survey.pk, employee=employee))
    assert shown == ok


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "dan", "gina"])
def test_the_insights_link_in_the_feedback_nav(client, org, api, who):
    employee = getattr(org, who)
    link = f'href="{reverse("feedback:insights")}"'
    nav = page(client, employee, reverse("feedback:reports"))
    allowed = client.get(reverse("feedback:insights")).status_code == 200
    assert api(who).get("/api/v1/insights/feedback/").status_code == (200 if allowed else 403)
    assert (link in nav) == allowed == (who not in ("alice", "gina"))


def test_overdue_shows_on_every_page_from_the_annotation(client, org, report, resolve):
    filed = report()
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=1)
    follow_up = FollowUp.objects.get(survey=survey)
    urls = [
        reverse("feedback:reports"),
        reverse("feedback:report-detail", args=[filed.pk]),
        reverse("feedback:follow-ups"),
        reverse("feedback:follow-up-detail", args=[follow_up.pk]),
    ]
    assert all("status-overdue" not in page(client, org.bob, url) for url in urls)
    past = timezone.now() - timedelta(minutes=1)
    FrictionReport.objects.filter(pk=filed.pk).update(due_at=past)
    FollowUp.objects.filter(pk=follow_up.pk).update(due_at=past)
    assert all("status-overdue" in page(client, org.bob, url) for url in urls)
