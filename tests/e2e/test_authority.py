"""Carol raises Alice's refund limit in the matrix and Alice's next refund is approved at once;
Carol hands her authority to Bob, and Alice's 800.00 goes to Bob."""

import os
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from delegation.models import DecisionType
from empower.models import Employee
from empower.services import case_open
from tests.conftest import PASSWORD
from tests.delegation.test_authority_pages import _people_below_carol
from tests.e2e.test_decide_and_approve import decide, log_in, log_out


@pytest.mark.e2e
def test_carol_raises_alices_limit_then_hands_her_authority_to_bob(live_server, page: Page, transactional_db):
    call_command("seed_demo", password=PASSWORD, stdout=open(os.devnull, "w"))  # noqa: SIM115
    alice = Employee.objects.select_related("user").get(user__username="alice")
    case = case_open(
        employee=alice, customer_name="Jo Sofa", customer_email="jo.sofa@example.com", subject="Sofa arrived torn"
    )
    base = live_server.url
    problems: list[str] = []  # a CSP violation or a script error shows up as a console error
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    # Carol edits Alice's refund cell in place, within her own limits, with a reason.
    log_in(page, base, "carol")
    page.goto(f"{base}/authority/")
    cell = page.locator(f"#cell-{alice.pk}-refund")
    expect(cell).to_contain_text("100.00")
    expect(cell).to_contain_text("Role")
    page.evaluate("window.stillTheSamePage = true")
    cell.get_by_role("link", name="Edit Alice: Refund").click()
    form = cell.get_by_role("form", name="Limits of Alice for Refund")
    form.get_by_label("Per decision", exact=True).fill("300.00")
    form.get_by_label("Per day", exact=True).fill("900.00")
    form.get_by_label("Per month", exact=True).fill("5000.00")
    form.get_by_label("Per customer per month").fill("600.00")
    form.get_by_label("Reason").fill("Trusted with bigger refunds")
    form.get_by_role("button", name="Save").click()
    expect(cell).to_contain_text("Saved: Alice's limits for Refund.")
    expect(cell).to_contain_text("300.00")
    expect(cell).to_contain_text("Personal")
    assert page.evaluate("window.stillTheSamePage") is True
    log_out(page)

    # Alice's next refund that fits is approved at once.
    log_in(page, base, "alice")
    page.goto(f"{base}/cases/{case.pk}/")
    decide(page, "250.00", "Sofa arrived torn; photos attached")
    expect(page.locator("#decision-outcome")).to_contain_text("Approved")
    log_out(page)

    # Carol hands her refunds (and goodwill credits) to Bob for two days.
    log_in(page, base, "carol")
    page.goto(f"{base}/delegations/")
    form = page.locator("#delegation-form")
    form.get_by_label("Stand-in").select_option("bob")  # picked from the list of colleagues
    form.get_by_label("Refund").check()
    form.get_by_label("Goodwill credit").check()
    until = timezone.localtime() + timedelta(days=2)
    form.get_by_label("Until").fill(until.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Reason").fill("Away at the planning offsite")
    form.get_by_role("button", name="Hand over").click()
    expect(page.locator(".messages")).to_contain_text("Bob stands in for Carol until")
    expect(page.locator("#delegations-given")).to_contain_text("Carol → Bob")
    log_out(page)

    # Beyond Alice (300.00) and Bob's own (500.00): Carol covers it, and Carol is away, so Bob.
    log_in(page, base, "alice")
    page.goto(f"{base}/cases/{case.pk}/")
    decide(page, "800.00", "Whole sofa must be replaced")
    expect(page.locator("#decision-outcome")).to_contain_text("Escalated to Bob")
    log_out(page)

    # Bob sees it in his inbox, and knows he stands in for Carol.
    log_in(page, base, "bob")
    page.goto(f"{base}/escalations/")
    expect(page.locator("article.escalation").filter(has_text="Refund €800.00")).to_contain_text("Jo Sofa")
    page.goto(f"{base}/authority/me/")
    expect(page.locator(".banner")).to_contain_text("You are standing in for Carol")

    assert problems == []


@pytest.mark.e2e
def test_a_large_matrix_opens_one_team_at_a_time(live_server, page: Page, transactional_db):
    call_command("seed_demo", password=PASSWORD, stdout=open(os.devnull, "w"))  # noqa: SIM115
    carol = Employee.objects.get(user__username="carol")
    _people_below_carol(SimpleNamespace(carol=carol, refund=DecisionType.objects.get(code="refund")), 200)
    alice = Employee.objects.get(user__username="alice")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    log_in(page, live_server.url, "carol")
    page.goto(f"{live_server.url}/authority/")
    expect(page.locator(".matrix-cell")).to_have_count(0)
    page.locator("details.matrix-team summary", has_text="Customer Care").click()

    cell = page.locator(f"#cell-{alice.pk}-refund")
    expect(cell).to_contain_text("100.00")
    cell.get_by_role("link", name="Edit Alice: Refund").click()  # editing works in an opened team too
    expect(cell.get_by_role("form", name="Limits of Alice for Refund")).to_be_visible()
    assert problems == []
