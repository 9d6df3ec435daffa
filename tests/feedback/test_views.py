"""Staff pages: follow-ups with the reply form, the friction board and form, answers, insights."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from delegation.services import decision_submit, escalation_withdraw
from empower import services as empower_services
from empower.models import OutgoingEmail
from empower.services import case_resolve
from feedback import services
from feedback.models import FollowUp, FrictionReport, Survey


@pytest.fixture
def unhappy(resolve):
    """A customer of alice's who answered 1 with a hostile-looking comment."""
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=1, comment="<b>Still</b> broken & cold")
    return FollowUp.objects.get(survey=survey)


def logged_in(client, employee):
    client.force_login(employee.user)
    return client


def test_staff_pages_need_a_login(client, db):
    for name in ("follow-ups", "reports", "report-new", "answers", "insights"):
        response = client.get(reverse(f"feedback:{name}"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_follow_up_list_shows_mine_and_those_below_me(client, org, unhappy):
    url = reverse("feedback:follow-ups")
    for who, sees in (("alice", True), ("bob", True), ("carol", True), ("erin", False), ("hank", False)):
        html = logged_in(client, getattr(org, who)).get(url).content.decode()
        assert (f"#{unhappy.case_id} Broken kettle" in html) is sees, who


def test_the_follow_up_list_stays_at_a_constant_number_of_queries(client, org, resolve, django_assert_max_num_queries):
    for _ in range(10):
        services.survey_answer(survey_id=resolve().pk, csat=2)
    logged_in(client, org.bob)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("feedback:follow-ups"))
    assert response.content.decode().count("/feedback/follow-ups/") >= 10


def test_the_resolver_replies_from_the_page(client, org, unhappy):
    url = reverse("feedback:follow-up-detail", args=[unhappy.pk])
    page = logged_in(client, org.alice).get(url)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="reply-form"' in html
    assert "&lt;b&gt;Still&lt;/b&gt; broken &amp; cold" in html and "<b>Still</b>" not in html
    assert client.post(url, {"action_taken": "", "reply": "Sorry"}).status_code == 400
    assert FollowUp.objects.get(pk=unhappy.pk).is_open
    response = client.post(url, {"action_taken": "Called her", "reply": "A new kettle is on its way."})
    assert response.status_code == 302
    html = client.get(url).content.decode()
    assert "A new kettle is on its way." in html and 'id="reply-form"' not in html
    assert FollowUp.objects.get(pk=unhappy.pk).status == FollowUp.Status.DONE


def test_a_colleague_cannot_open_someone_elses_follow_up(client, org, unhappy):
    url = reverse("feedback:follow-up-detail", args=[unhappy.pk])
    assert logged_in(client, org.erin).get(url).status_code == 404
    assert client.post(url, {"action_taken": "x", "reply": "y"}).status_code == 404
    assert FollowUp.objects.get(pk=unhappy.pk).is_open


def test_a_manager_sees_the_form_too(client, org, unhappy):
    html = logged_in(client, org.carol).get(reverse("feedback:follow-up-detail", args=[unhappy.pk])).content.decode()
    assert 'id="reply-form"' in html


def test_report_a_rule_from_a_case(client, org, make_case):
    case = make_case(org.alice)
    decision = decision_submit(
        employee=org.alice, case=case, decision_type=org.refund, amount=Decimal("150.00"), rationale="Two kettles"
    )
    url = reverse("feedback:report-new")
    logged_in(client, org.alice)
    page = client.get(url, {"case": case.pk, "decision": decision.pk})
    html = page.content.decode()
    assert page.status_code == 200 and f"Case #{case.pk}: Broken kettle" in html
    assert f'name="case" value="{case.pk}"' in html
    response = client.post(url, {"case": case.pk, "would_have_done": "Refund both"})
    assert response.status_code == 400 and "Name the rule" in response.content.decode()
    response = client.post(
        url,
        {
            "case": case.pk,
            "decision": decision.pk,
            "decision_type": org.refund.pk,
            "limit": "per_decision",
            "would_have_done": "Refund both kettles at once",
        },
    )
    report = FrictionReport.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("feedback:report-detail", args=[report.pk])
    assert report.decision == decision and report.assigned_to == org.bob


def test_reporting_on_a_case_one_may_not_see_is_404(client, org, make_case):
    case = make_case(org.alice)
    logged_in(client, org.gina)
    assert client.get(reverse("feedback:report-new"), {"case": case.pk}).status_code == 404
    assert (
        client.post(
            reverse("feedback:report-new"), {"case": case.pk, "rule_text": "x", "would_have_done": "y"}
        ).status_code
        == 404
    )
    assert not FrictionReport.objects.exists()


def test_the_board_seconding_and_answering(client, org, make_case):
    report = services.friction_report_file(
        reporter=org.alice, case=make_case(org.alice), rule_text="Original box required", would_have_done="Accept it"
    )
    board = reverse("feedback:reports")
    html = logged_in(client, org.alice).get(board).content.decode()
    assert "Original box required" in html and "This stops me too" not in html
    html = logged_in(client, org.erin).get(board).content.decode()
    assert "This stops me too" in html
    assert client.post(reverse("feedback:report-second", args=[report.pk])).status_code == 302
    assert client.post(reverse("feedback:report-second", args=[report.pk])).status_code in (400, 409)
    assert report.seconds.count() == 1

    detail = reverse("feedback:report-detail", args=[report.pk])
    assert 'id="answer-form"' not in logged_in(client, org.erin).get(detail).content.decode()
    assert 'id="answer-form"' in logged_in(client, org.bob).get(detail).content.decode()
    assert "Waiting for your answer" in client.get(board).content.decode()
    response = client.post(
        reverse("feedback:report-answer", args=[report.pk]), {"outcome": "explain", "note": "Fraud <risk>"}
    )
    assert response.status_code == 302
    html = logged_in(client, org.alice).get(board).content.decode()
    assert "Explained" in html and "Fraud &lt;risk&gt;" in html
    assert logged_in(client, org.gina).get(detail).status_code == 404


def test_answers_page_and_flagging_a_comment(client, org, resolve):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=3, comment="The courier <i>shouted</i>")
    logged_in(client, org.bob)
    html = client.get(reverse("feedback:answers")).content.decode()
    assert "The courier &lt;i&gt;shouted&lt;/i&gt;" in html and "Treat as a complaint" in html
    response = client.post(reverse("feedback:answer-flag", args=[survey.pk]))
    follow_up = FollowUp.objects.get(survey=survey)
    assert response["Location"] == reverse("feedback:follow-up-detail", args=[follow_up.pk])
    assert Survey.objects.get(pk=survey.pk).comment_is_complaint
    assert logged_in(client, org.gina).post(reverse("feedback:answer-flag", args=[survey.pk])).status_code == 404


def test_insights_compare_first_contact_with_escalated(client, org, resolve, make_case):
    for csat in (5, 4):
        services.survey_answer(survey_id=resolve().pk, csat=csat)
    case = make_case(org.alice)
    decision = decision_submit(
        employee=org.alice, case=case, decision_type=org.refund, amount=Decimal("150.00"), rationale="Beyond authority"
    )
    escalation_withdraw(escalation_id=decision.escalation.pk, employee=org.alice)  # no resolving while it waits
    case_resolve(employee=org.alice, case=case, resolution_note="Escalated and refunded")
    services.survey_answer(survey_id=Survey.objects.get(case=case).pk, csat=2, nps=3)
    services.survey_answer(survey_id=resolve(org.gina).pk, csat=1, nps=10)

    assert logged_in(client, org.alice).get(reverse("feedback:insights")).status_code == 403
    html = logged_in(client, org.bob).get(reverse("feedback:insights")).content.decode()
    assert "Customer Care" in html and "Returns" not in html  # bob sees his team only
    assert "4.50" in html and "2.00" in html and "2.50" in html  # first contact, escalated, the difference
    html = logged_in(client, org.carol).get(reverse("feedback:insights")).content.decode()
    assert "Customer Care" in html and "Returns" in html


def test_insights_stay_at_a_constant_number_of_queries(client, org, resolve):
    def count_queries(n):
        for _ in range(n):
            services.survey_answer(survey_id=resolve().pk, csat=3)
        logged_in(client, org.carol)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("feedback:insights")).status_code == 200
        return len(queries)

    assert count_queries(2) == count_queries(10)


def test_the_report_form_is_prefilled_from_an_escalated_decision(client, org, make_case):
    case = make_case(org.alice)
    decision = decision_submit(
        employee=org.alice, case=case, decision_type=org.refund, amount=Decimal("150.00"), rationale="Two kettles"
    )
    html = logged_in(client, org.alice).get(reverse("feedback:report-new"), {"case": case.pk, "decision": decision.pk})
    html = html.content.decode()
    assert f'<option value="{org.refund.pk}" selected>' in html
    assert '<option value="per_decision" selected>' in html
    assert f'<option value="{decision.pk}" selected>' in html


def test_the_admin_pages_load(client, org, resolve, make_case):
    admin_client = client
    admin_client.force_login(get_user_model().objects.get(username="admin"))
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=1)
    report = services.friction_report_file(
        reporter=org.alice, case=make_case(org.alice), rule_text="Original box", would_have_done="Accept it"
    )
    services.friction_report_second(report_id=report.pk, employee=org.erin)
    follow_up = FollowUp.objects.get()
    for url in (
        "/admin/feedback/survey/",
        f"/admin/feedback/survey/{survey.pk}/change/",
        "/admin/feedback/followup/",
        f"/admin/feedback/followup/{follow_up.pk}/change/",
        "/admin/feedback/frictionreport/",
        f"/admin/feedback/frictionreport/{report.pk}/change/",
    ):
        assert admin_client.get(url).status_code == 200, url


def test_operators_find_a_survey_email_that_failed_and_queue_it_again(
    client, org, resolve, smtp, django_capture_on_commit_callbacks
):
    sent = resolve()
    smtp.down = True
    failed = resolve()
    smtp.down = False
    client.force_login(get_user_model().objects.get(username="admin"))
    changelist = "/admin/feedback/survey/"

    html = client.get(changelist).content.decode()
    assert "failed: SMTPServerDisconnected" in html and "sent " in html
    assert list(client.get(changelist, {"email": "failed"}).context["cl"].result_list) == [failed]
    assert list(client.get(changelist, {"email": "sent"}).context["cl"].result_list) == [sent]
    assert client.get(changelist, {"o": "5"}).status_code == 200  # ordered by when the e-mail went
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "send_survey_email", "_selected_action": [failed.pk, sent.pk]}, follow=True
        )

    assert "1 e-mail queued to be sent." in response.content.decode()
    assert [m.to for m in mail.outbox] == [[failed.case.customer.email]]
    assert OutgoingEmail.objects.get(key=failed.email_key).sent_at is not None
    assert list(client.get(changelist, {"email": "unsent"}).context["cl"].result_list) == []


HUGE = "1" + "0" * 30


@pytest.mark.parametrize(
    "query",
    [
        {"team": HUGE},
        {"case": str(2**63)},
        {"case": "abc"},
        {"csat": HUGE},
        {"csat": "abc"},
        {"answered_after": "0001-01-01T00:00:00+01:00"},
        {"answered_before": "not-a-date"},
    ],
)
def test_the_answers_page_leaves_out_a_bad_filter_and_says_so(client, org, resolve, query):
    services.survey_answer(survey_id=resolve().pk, csat=4, comment="Fine, thanks")
    response = logged_in(client, org.bob).get(reverse("feedback:answers"), query)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Some filters were not understood and were left out" in html
    assert "Fine, thanks" in html  # the answers are shown, unfiltered


def test_the_answers_page_still_filters_with_good_values(client, org, resolve):
    services.survey_answer(survey_id=resolve().pk, csat=4, comment="Fine, thanks")
    html = logged_in(client, org.bob).get(reverse("feedback:answers"), {"csat": "2"}).content.decode()
    assert "Fine, thanks" not in html and "left out" not in html


def test_a_colleague_sees_no_flag_button_and_cannot_flag_from_the_page(client, org, resolve):
    survey = resolve(org.alice)
    services.survey_answer(survey_id=survey.pk, csat=3, comment="The courier was rude")
    html = logged_in(client, org.erin).get(reverse("feedback:answers")).content.decode()
    assert "The courier was rude" in html and "Treat as a complaint" not in html
    response = client.post(reverse("feedback:answer-flag", args=[survey.pk]), follow=True)
    assert response.redirect_chain == [(reverse("feedback:answers"), 302)]
    assert "may treat this as a complaint" in response.content.decode()
    assert not FollowUp.objects.exists() and not Survey.objects.get(pk=survey.pk).comment_is_complaint
    assert "Treat as a complaint" in logged_in(client, org.alice).get(reverse("feedback:answers")).content.decode()


@pytest.mark.parametrize("decision", ["abc", HUGE, "-1", "0", "999999"])
def test_a_bad_decision_in_the_report_link_is_ignored(client, org, make_case, decision):
    case = make_case(org.alice)
    response = logged_in(client, org.alice).get(reverse("feedback:report-new"), {"case": case.pk, "decision": decision})
    assert response.status_code == 200
    assert f"Case #{case.pk}: Broken kettle" in response.content.decode()


@pytest.mark.parametrize("case", ["abc", HUGE, str(2**63), "-5"])
def test_a_bad_case_in_the_report_link_is_404(client, org, case):
    logged_in(client, org.alice)
    assert client.get(reverse("feedback:report-new"), {"case": case, "decision": "abc"}).status_code == 404
    response = client.post(reverse("feedback:report-new"), {"case": case, "rule_text": "x", "would_have_done": "y"})
    assert response.status_code == 404
    assert not FrictionReport.objects.exists()


def test_a_bad_decision_posted_with_the_report_is_a_form_error(client, org, make_case):
    case = make_case(org.alice)
    logged_in(client, org.alice)
    for decision in ("abc", HUGE):
        response = client.post(
            reverse("feedback:report-new"),
            {"case": case.pk, "decision": decision, "rule_text": "Box rule", "would_have_done": "Accept it"},
        )
        assert response.status_code == 400
    assert not FrictionReport.objects.exists()


def test_the_admin_queues_a_reply_email_again(client, org, resolve, django_capture_on_commit_callbacks):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=1)
    follow_up = FollowUp.objects.get()
    services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="x", reply="We refunded")
    client.force_login(get_user_model().objects.get(username="admin"))
    changelist = "/admin/feedback/followup/"
    # Its on-commit send never ran here: the reply's e-mail waits in the outbox.
    assert list(client.get(changelist, {"email": "unsent"}).context["cl"].result_list) == [follow_up]
    assert "not sent yet" in client.get(changelist).content.decode()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "send_reply_email", "_selected_action": [follow_up.pk]}, follow=True
        )
    assert "1 e-mail queued to be sent." in response.content.decode()
    assert OutgoingEmail.objects.get(key=follow_up.reply_email_key).sent_at is not None
    assert len(mail.outbox) == 1 and "We refunded" in mail.outbox[0].body
    assert list(client.get(changelist, {"email": "sent"}).context["cl"].result_list) == [follow_up]


def test_the_follow_up_page_says_when_the_reply_was_emailed(client, org, resolve, django_capture_on_commit_callbacks):
    follow_up = FollowUp.objects.get(pk=_replied(resolve, org, django_capture_on_commit_callbacks, send=False).pk)
    page = reverse("feedback:follow-up-detail", args=[follow_up.pk])
    logged_in(client, org.alice)
    assert "e-mailed to the customer" not in client.get(page).content.decode()
    empower_services.email_send(email_id=OutgoingEmail.objects.get(key=follow_up.reply_email_key).pk)
    assert "e-mailed to the customer" in client.get(page).content.decode()


def _replied(resolve, org, django_capture_on_commit_callbacks, *, send: bool) -> FollowUp:
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=1)
    follow_up = FollowUp.objects.get(survey=survey)
    with django_capture_on_commit_callbacks(execute=send):
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="x", reply="Sorry")
    return follow_up
