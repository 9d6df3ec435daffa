"""The everyday pages (issue 12): the queue works like a queue, the case page tells the truth at a
glance (granted amounts, the customer's cap, limits in words) and carries the case's whole life."""

import re
from decimal import Decimal

import pytest
from django.utils import translation

from delegation.limit_words import exceeded_in_words, limit_in_words
from delegation.models import Decision, Escalation
from delegation.services import decision_submit, escalation_approve
from empower.models import AuditRecord, Case
from empower.services import case_resolve
from feedback import services as feedback_services
from feedback.models import FollowUp

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def login(client):
    def as_(employee):
        client.force_login(employee.user)
        return client

    return as_


@pytest.fixture
def escalate(org, django_capture_on_commit_callbacks):
    def ask(case, amount="150.00", by=None):
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=by or org.alice, case=case, decision_type=org.refund, amount=amount, rationale="Sofa torn"
            )
        return Escalation.objects.get(decision=decision)

    return ask


# --- limits in words --------------------------------------------------------------------------------


def test_limits_are_said_in_words_with_their_amounts():
    with translation.override("en"):
        assert limit_in_words("per_decision", "100.00", currency="EUR", yours=True) == (
            "over your per-decision limit of €100.00"
        )
        assert limit_in_words("per_customer_month", Decimal("200"), currency="EUR") == (
            "over the cap per customer per month of €200.00"
        )
        assert limit_in_words("per_day") == "over the daily cap"
        snapshot = {"per_decision": "100.00", "per_month": "2000.00"}
        assert exceeded_in_words(["per_decision", "per_month"], snapshot, currency="EUR") == [
            "over the per-decision limit of €100.00",
            "over the monthly cap of €2,000.00",
        ]


def test_the_decision_outcome_names_the_limit_in_words(org, login, make_case, django_capture_on_commit_callbacks):
    case = make_case(org.alice)
    client = login(org.alice)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/cases/{case.pk}/", {"decision_type": "refund", "amount": "150.00", "rationale": "Torn"}, **HX
        )
    body = response.content.decode()
    assert "Over your per-decision limit of €100.00" in body
    assert "per_decision" not in re.sub(r"<[^>]+>", "", body)  # never the key


# --- the case page ------------------------------------------------------------------------------------


def test_the_authority_panel_counts_what_is_left_for_this_customer(org, login, make_case):
    case = make_case(org.alice)
    for amount, by in (("90.00", org.erin), ("70.00", org.alice)):  # 160.00 of the customer's 200.00, by anyone
        decision_submit(employee=by, case=case, decision_type=org.refund, amount=amount, rationale="Part refund")

    body = login(org.alice).get(f"/cases/{case.pk}/").content.decode()

    row = re.search(r'<tr id="authority-refund">(.*?)</tr>', body, re.S).group(1)
    cells = re.findall(r'<td class="num">(.*?)</td>', row, re.S)
    assert "€40.00" in cells[0]  # the largest decision now, for this customer: not 100.00
    assert "€40.00" in cells[3]  # left for this customer this month
    assert "Up to now" not in body and "Largest decision now, for this customer" in body
    # The same number the authority check applies: 40.00 passes, 40.01 is escalated.
    assert decision_submit(
        employee=org.alice, case=case, decision_type=org.refund, amount="40.01", rationale="More"
    ).exceeded == ["per_customer_month"]


def test_the_queue_panel_is_not_for_one_customer(org, login, make_case):
    body = login(org.alice).get("/").content.decode()
    assert "Largest decision now" in body and "for this customer" not in body


def test_resolving_is_refused_while_an_escalation_waits_and_offers_to_withdraw(org, login, make_case, escalate):
    case = make_case(org.alice)
    escalation = escalate(case)
    client = login(org.alice)

    body = client.get(f"/cases/{case.pk}/").content.decode()
    refused = re.search(r'<div class="alert alert-warning" role="status" id="resolve-refused">(.*?)</div>', body, re.S)
    assert refused and "still waiting for an answer" in refused.group(1) and "waiting for Bob" in refused.group(1)
    assert f'action="/escalations/{escalation.pk}/withdraw/"' in refused.group(1)
    assert 'id="resolve-form"' not in body  # no form the service would refuse

    response = client.post(f"/cases/{case.pk}/resolve/", {"resolution_note": "Done"})  # a stale page
    assert response.status_code == 409
    assert "still waiting for an answer" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN

    client.post(f"/escalations/{escalation.pk}/withdraw/")
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="resolve-refused"' not in body and 'id="resolve-form"' in body


def test_bob_sees_the_refusal_without_a_withdraw_button(org, login, make_case, escalate):
    case = make_case(org.alice)
    escalation = escalate(case)
    body = login(org.bob).get(f"/cases/{case.pk}/").content.decode()
    refused = re.search(r'id="resolve-refused">(.*?)</div>', body, re.S).group(1)
    assert f"/escalations/{escalation.pk}/withdraw/" not in refused  # only the requester withdraws


def test_a_resolved_case_is_reopened_from_its_page(org, login, make_case):
    case = make_case(org.alice)
    client = login(org.erin)
    assert 'id="reopen-form"' not in client.get(f"/cases/{case.pk}/").content.decode()
    case_resolve(employee=org.alice, case=case, resolution_note="Done")
    body = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="reopen-form"' in body and 'id="decision-form"' not in body

    response = client.post(f"/cases/{case.pk}/reopen/", {"reason": "Called back"}, follow=True)

    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN
    assert "is open again" in response.content.decode() and 'id="decision-form"' in response.content.decode()
    assert AuditRecord.objects.filter(action="case.reopened", target_id=str(case.pk), actor=org.erin).exists()


def test_a_case_is_handed_over_from_its_page(org, login, make_case):
    case = make_case(org.alice)
    client = login(org.alice)
    body = client.get(f"/cases/{case.pk}/").content.decode()
    options = re.search(r'<select id="reassign-to"[^>]*>(.*?)</select>', body, re.S).group(1)
    assert "erin" in options and "gina" not in options  # the case's team only

    client.post(f"/cases/{case.pk}/reassign/", {"assigned_to": "erin"})
    assert Case.objects.get(pk=case.pk).assigned_to == org.erin
    client.post(f"/cases/{case.pk}/reassign/", {"assigned_to": "gina"})
    assert Case.objects.get(pk=case.pk).assigned_to == org.erin  # refused, nothing changed


def test_the_case_page_shows_the_granted_amount_first(org, login, make_case, escalate):
    case = make_case(org.alice)
    escalation = escalate(case)
    escalation_approve(escalation_id=escalation.pk, approver=org.bob, amount="120.00", note="Receipt says 120")
    body = login(org.alice).get(f"/cases/{case.pk}/").content.decode()
    heading = re.search(rf'id="decision-{escalation.decision_id}".*?<h3>(.*?)</h3>', body, re.S).group(1)
    text = " ".join(re.sub(r"<[^>]+>", " ", heading).split())
    assert text == "Refund €120.00 asked €150.00"
    assert "Approved, lower amount" in body


def test_a_waiting_card_asks_again_until_the_approver_answers(org, login, make_case, escalate):
    case = make_case(org.alice)
    escalation = escalate(case)
    client = login(org.alice)
    url = f"/cases/{case.pk}/decisions/{escalation.decision_id}/card/"
    assert f'hx-get="{url}" hx-trigger="every 10s"' in client.get(f"/cases/{case.pk}/").content.decode()

    waiting = client.get(url, **HX).content.decode()
    assert 'hx-trigger="every 10s"' in waiting and "waiting for Bob" in waiting

    escalation_approve(escalation_id=escalation.pk, approver=org.bob, note="")
    answered = client.get(url, **HX).content.decode()
    assert "every 10s" not in answered  # the polling stops
    assert "approved by Bob" in answered and "€150.00" in answered
    # The header's counts come along: alice's unread notification (Bob's answer) shows without a reload.
    assert re.search(
        r'id="nav-notifications"[^>]*hx-swap-oob="true"[^>]*>Notifications <span class="badge">1<', answered
    )


def test_an_outsider_cannot_poll_a_card(org, login, make_case, escalate):
    case = make_case(org.alice)
    escalation = escalate(case)
    assert login(org.gina).get(f"/cases/{case.pk}/decisions/{escalation.decision_id}/card/").status_code == 404


def test_the_case_page_carries_the_survey_answer_and_follow_ups(org, login, make_case):
    case = make_case(org.alice)
    case_resolve(employee=org.alice, case=case, resolution_note="Sent a new kettle")
    survey = case.survey if hasattr(case, "survey") else feedback_services.survey_request(case=case)
    feedback_services.survey_answer(survey_id=survey.pk, csat=1, comment="Still broken")
    follow_up = FollowUp.objects.get(case=case)

    body = login(org.alice).get(f"/cases/{case.pk}/").content.decode()

    panel = re.search(r'<section class="panel" id="customer-said".*?</section>', body, re.S).group(0)
    assert "Satisfaction 1 of 5" in panel and "Still broken" in panel
    assert f'href="/feedback/follow-ups/{follow_up.pk}/"' in panel


def test_the_handler_puts_it_right_from_the_follow_up_page(org, login, make_case):
    case = make_case(org.alice)
    case_resolve(employee=org.alice, case=case, resolution_note="Sent a new kettle")
    survey = feedback_services.survey_request(case=case)
    feedback_services.survey_answer(survey_id=survey.pk, csat=1, comment="Still broken")
    follow_up = FollowUp.objects.get(case=case)
    client = login(org.alice)
    assert 'id="remedy-form"' in client.get(f"/feedback/follow-ups/{follow_up.pk}/").content.decode()

    refused = client.post(f"/feedback/follow-ups/{follow_up.pk}/remedy/", {"decision_type": "refund", "amount": "-5"})
    assert refused.status_code == 400 and 'id="remedy-form"' in refused.content.decode()
    response = client.post(
        f"/feedback/follow-ups/{follow_up.pk}/remedy/",
        {"decision_type": "refund", "amount": "30.00", "rationale": "Delivery fee back"},
        follow=True,
    )
    assert "Approved: Refund of €30.00." in response.content.decode()
    decision = Decision.objects.get(case=case)
    assert decision.status == Decision.Status.APPROVED and decision.final_amount == Decimal("30.00")
    assert Case.objects.get(pk=case.pk).status == Case.Status.RESOLVED


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_shows_each_cases_state(org, login, make_case, escalate):
    waiting = make_case(org.alice, subject="Sofa torn")
    escalate(waiting)
    approved = make_case(org.alice, subject="Kettle broke")
    decision_submit(employee=org.alice, case=approved, decision_type=org.refund, amount="20.00", rationale="Kettle")
    plain = make_case(org.erin, subject="Lamp flickers")

    body = login(org.alice).get("/").content.decode()

    def state(case) -> str:
        row = re.search(rf'<tr id="queue-case-{case.pk}".*?</tr>', body, re.S).group(0)
        cell = re.search(r'<span class="queue-state">(.*?)</span></td>', row, re.S).group(1)
        return " ".join(re.sub(r"<[^>]+>", " ", cell).split())

    assert state(waiting) == "Waiting for Bob"
    assert state(approved) == "Approved"
    assert state(plain) == "Open"


def test_the_queue_filters_searches_and_keeps_the_filters_across_pages(org, login, make_case, escalate):
    for n in range(3):
        escalate(make_case(org.alice, subject=f"Sofa {n}"))
    make_case(org.erin, subject="Lamp flickers", email="lamp.owner@example.com")
    resolved = make_case(org.alice, subject="Old kettle")
    case_resolve(employee=org.alice, case=resolved, resolution_note="Done")
    client = login(org.alice)

    def subjects(**params) -> list[str]:
        body = client.get("/", params).content.decode()
        return re.findall(r'<a href="/cases/\d+/">#\d+ ([^<]+)</a>', body)

    assert sorted(subjects(state="waiting")) == ["Sofa 0", "Sofa 1", "Sofa 2"]
    assert subjects(q="LAMP.OWNER") == ["Lamp flickers"]
    assert subjects(assigned_to="erin") == ["Lamp flickers"]
    assert subjects() and "Old kettle" not in subjects()  # open ones by default
    assert subjects(state="resolved") == ["Old kettle"]
    assert subjects(state="waiting", sort="oldest") == ["Sofa 0", "Sofa 1", "Sofa 2"]
    assert "No case matches" in client.get("/", {"q": "nothing like it"}).content.decode()

    import delegation.views.cases as cases_views

    cases_views.QUEUE_PAGE_SIZE, size = 2, cases_views.QUEUE_PAGE_SIZE
    try:
        body = client.get("/", {"state": "waiting"}).content.decode()
        assert 'href="?state=waiting&amp;page=2"' in body
        partial = client.get("/", {"state": "waiting", "partial": "results"}, **HX).content.decode()
        assert partial.lstrip().startswith('<div id="queue-results">') and "<html" not in partial
    finally:
        cases_views.QUEUE_PAGE_SIZE = size


def test_the_queue_costs_the_same_for_3_and_30_cases(org, login, make_case, escalate, django_assert_max_num_queries):
    client = login(org.alice)
    for _n in range(3):
        escalate(make_case(org.alice))
    client.get("/")
    with django_assert_max_num_queries(30) as few:
        client.get("/", {"state": "all"})
    for _n in range(27):
        escalate(make_case(org.alice))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/", {"state": "all"})


def test_answering_in_the_inbox_updates_the_header_count_in_place(org, login, make_case, escalate):
    escalation = escalate(make_case(org.alice))
    client = login(org.bob)
    assert re.search(r'id="nav-escalations"[^>]*>Escalations <span class="badge">1<', client.get("/").content.decode())

    response = client.post(f"/escalations/{escalation.pk}/approve/", {"note": ""}, **HX)

    body = response.content.decode()
    assert response.status_code == 200 and f'id="escalation-{escalation.pk}"' in body
    header = r'id="nav-escalations" [^>]*hx-swap-oob="true">Escalations <span class="badge badge-zero">0<'
    assert re.search(header, body)
