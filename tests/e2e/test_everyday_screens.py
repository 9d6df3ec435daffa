"""The everyday screens (issue 12), in the development (DEBUG=1) and production configuration, on a
desktop and on a 390-pixel-wide phone: form errors in place, the granted amount first, the queue,
and a case's whole life."""

import os
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from delegation.models import DecisionType, Escalation
from delegation.services import decision_submit, escalation_approve
from empower.models import Employee
from empower.services import case_open
from tests.conftest import PASSWORD
from tests.e2e.test_decide_and_approve import decide, log_in

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(params=[DESKTOP, PHONE], ids=["desktop", "phone"])
def screen(request, page: Page):
    page.set_viewport_size(request.param)
    return request.param


@pytest.fixture
def demo(live_server, transactional_db):
    call_command("seed_demo", password=PASSWORD, stdout=open(os.devnull, "w"))  # noqa: SIM115
    people = {e.user.username: e for e in Employee.objects.select_related("user", "role", "team")}
    return people


def _case(alice: Employee, subject: str = "Kettle arrived broken"):
    return case_open(employee=alice, customer_name="Jo Kettle", customer_email="jo.kettle@example.com", subject=subject)


@pytest.mark.e2e
def test_a_refused_decision_shows_its_errors_in_place(demo, live_server, page: Page, debug, screen, problems):
    case = _case(demo["alice"])
    log_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.evaluate("window.stillTheSamePage = true")
    form = page.locator("#decision-form")
    for amount, message in [
        ("-20", "greater than zero"),
        ("10.555", "two decimal places"),
        ("abc", "such as 80.00"),
        ("0", "greater than zero"),
    ]:
        decide(page, amount, "Kettle arrived broken")
        expect(form.locator(".errorlist")).to_contain_text(re.compile(message, re.IGNORECASE))
        # In place and styled: the page (header, case, authority panel) is still there.
        expect(page.get_by_role("heading", level=1)).to_contain_text("Kettle arrived broken")
        expect(page.locator("#authority-panel")).to_be_visible()
        assert page.evaluate("window.stillTheSamePage") is True
    decide(page, "20.00", "   ")  # blank: the browser lets it through, the server refuses it
    expect(form.locator(".errorlist")).to_contain_text("rationale is required")
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "", "the page keeps its stylesheet"
    assert problems == []


@pytest.mark.e2e
def test_a_refused_limit_change_shows_its_error_in_place(demo, live_server, page: Page, debug, problems):
    alice = demo["alice"]
    log_in(page, live_server.url, "bob")
    page.goto(f"{live_server.url}/authority/")
    page.evaluate("window.stillTheSamePage = true")
    cell = page.locator(f"#cell-{alice.pk}-refund")
    cell.get_by_role("link", name="Edit Alice: Refund").click()
    form = cell.get_by_role("form", name="Limits of Alice for Refund")
    form.get_by_label("Per decision", exact=True).fill("900.00")  # above Bob's own 500.00
    form.get_by_label("Reason").fill("Sale week")
    form.get_by_role("button", name="Save").click()
    expect(cell).to_contain_text(re.compile("more than you (hold|have)|above", re.IGNORECASE))
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate("window.stillTheSamePage") is True
    assert problems == []


@pytest.mark.e2e
def test_a_case_from_escalation_to_resolution(demo, live_server, page: Page, debug, screen, problems):
    """Alice escalates; resolving is refused while it waits (with the way out); Bob cuts the amount and
    Alice's card and header update without a reload, the granted amount first; then she resolves it
    and finds it in her queue by the customer's e-mail."""
    alice, bob = demo["alice"], demo["bob"]
    case = _case(alice, subject="Sofa arrived torn")
    base = live_server.url
    log_in(page, base, "alice")
    page.goto(f"{base}/cases/{case.pk}/")
    decide(page, "150.00", "Sofa arrived torn; photos attached")
    outcome = page.locator("#decision-outcome")
    expect(outcome).to_contain_text("Escalated to Bob")
    expect(outcome).to_contain_text("Over your per-decision limit of €100.00")

    page.reload()
    refused = page.locator("#resolve-refused")
    expect(refused).to_contain_text("still waiting for an answer")
    expect(refused.get_by_role("button", name="Withdraw it")).to_be_visible()
    expect(page.locator("#resolve-form")).to_have_count(0)

    # Bob answers (approving less than asked, with the note the rule requires) while Alice's page is open.
    page.evaluate("window.stillTheSamePage = true")
    escalation = Escalation.objects.get(decision__case=case)
    escalation_approve(escalation_id=escalation.pk, approver=bob, amount="120.00", note="The receipt shows 120.00")
    card = page.locator(f"#decision-{escalation.decision_id}")
    expect(card.locator("h3")).to_have_text(re.compile(r"Refund\s+€120\.00\s+asked €150\.00"), timeout=15_000)
    expect(card).to_contain_text("approved by Bob")
    expect(page.locator("#nav-notifications .badge")).to_have_text(re.compile(r"^1"))
    assert page.evaluate("window.stillTheSamePage") is True

    page.reload()
    page.get_by_label("How was it resolved?").fill("Refunded 120.00 for the torn cover")
    page.get_by_role("button", name="Resolve case").click()
    expect(page.locator(".messages")).to_contain_text(f"Case #{case.pk} is resolved.")
    expect(page.locator("#reopen-form")).to_be_visible()

    page.goto(f"{base}/")
    page.get_by_label("State").select_option("resolved")
    page.get_by_label("Search").fill("jo.kettle@example")
    row = page.locator(f"#queue-case-{case.pk}")
    expect(row).to_contain_text("Resolved")
    expect(page.locator("#queue-results .queue-count")).to_have_text(re.compile(r"^\s*1 case\s*$"))
    overflow = page.evaluate("document.scrollingElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    assert problems == []


@pytest.mark.e2e
def test_bob_answers_in_his_inbox(
    demo, live_server, page: Page, debug, screen, problems, django_capture_on_commit_callbacks
):
    """Less than asked needs a note (said in place); then the card shows the granted amount first and
    the header's count drops, without a reload."""
    case = _case(demo["alice"], subject="Sofa arrived torn")
    with django_capture_on_commit_callbacks(execute=True):
        decision_submit(
            employee=demo["alice"],
            case=case,
            decision_type=DecisionType.objects.get(code="refund"),
            amount="150.00",
            rationale="Sofa arrived torn",
        )
    escalation = Escalation.objects.get(decision__case=case)
    log_in(page, live_server.url, "bob")
    page.goto(f"{live_server.url}/escalations/")
    expect(page.locator("#nav-escalations .badge")).to_have_text(re.compile(r"^1"))
    page.evaluate("window.stillTheSamePage = true")
    card = page.locator(f"#escalation-{escalation.pk}")
    expect(card).to_contain_text("Over the per-decision limit of €100.00")
    form = card.locator("form.approve-form")
    form.get_by_label("Approve a lower amount (optional)").fill("120.00")
    form.get_by_role("button", name="Approve").click()
    expect(card.locator(".errorlist")).to_contain_text("a note is required")
    card.locator("form.approve-form").get_by_label("Approve a lower amount (optional)").fill("120.00")
    card.locator("form.approve-form").get_by_label("Note to the employee").fill("The receipt shows 120.00")
    card.locator("form.approve-form").get_by_role("button", name="Approve").click()
    expect(card.locator("h2")).to_have_text(re.compile(r"Refund\s+€120\.00\s+asked €150\.00"))
    expect(page.locator("#nav-escalations .badge")).to_have_text(re.compile(r"^0"))
    assert page.evaluate("window.stillTheSamePage") is True
    assert problems == []
