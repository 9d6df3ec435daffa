"""The case page's answer to an escalated decision updates itself: routing runs in a worker after
the answer, so the outcome polls (htmx, no script) until it can name the approver."""

import pytest
from django.urls import reverse

from delegation.models import Escalation
from delegation.services import decision_submit, escalation_route

POLL = 'hx-trigger="every 2s"'


@pytest.fixture
def escalated(org, make_case):
    """Alice's 150.00 refund, escalated and still waiting for routing (no worker ran yet)."""
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount="150.00", rationale="Broken"
    )
    assert decision.escalation.status == Escalation.Status.ROUTING
    return decision


def _outcome_url(decision) -> str:
    return reverse("decision-outcome", args=[decision.case_id, decision.pk])


def test_while_routing_the_outcome_asks_again(client, org, escalated):
    client.force_login(org.alice.user)
    page = client.get(reverse("case-detail", args=[escalated.case_id]), {"decision": escalated.pk})
    assert POLL in page.content.decode() and _outcome_url(escalated) in page.content.decode()

    response = client.get(_outcome_url(escalated), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Escalated — finding the right approver" in html and POLL in html


def test_once_routed_it_names_the_approver_and_stops_asking(client, org, escalated):
    escalation_route(escalation_id=escalated.escalation.pk)
    client.force_login(org.alice.user)

    html = client.get(_outcome_url(escalated), HTTP_HX_REQUEST="true").content.decode()

    assert "Escalated to Bob" in html and POLL not in html
    # The decision list below is brought up to date in the same answer.
    assert 'id="decisions"' in html and 'hx-swap-oob="true"' in html and "waiting for Bob" in html


def test_an_approved_decision_never_polls(client, org, make_case):
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount="50.00", rationale="Small"
    )
    client.force_login(org.alice.user)
    html = client.get(_outcome_url(decision), HTTP_HX_REQUEST="true").content.decode()
    assert "Approved" in html and POLL not in html


def test_only_those_who_see_the_case_see_its_outcome(client, org, escalated, make_case):
    client.force_login(org.gina.user)  # another team
    assert client.get(_outcome_url(escalated)).status_code == 404
    client.force_login(org.alice.user)
    elsewhere = make_case()
    wrong_case = reverse("decision-outcome", args=[elsewhere.pk, escalated.pk])
    assert client.get(wrong_case).status_code == 404
