"""Bob finds a recommendation to raise Alice's refund limit, reads its evidence and accepts it with
one click; Alice's next refund of that size is approved at once."""

import os
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from delegation.models import AuthorityLimit, DecisionType
from empower.models import Employee
from empower.services import case_open
from feedback.cockpit.recommendations import recommendations_refresh
from tests.conftest import PASSWORD
from tests.e2e.test_decide_and_approve import decide, log_in, log_out
from tests.feedback.cockpit_recommend_data import escalated


@pytest.mark.e2e
def test_bob_accepts_a_recommendation_with_one_click(live_server, page: Page, transactional_db):
    call_command("seed_demo", password=PASSWORD, stdout=open(os.devnull, "w"))  # noqa: SIM115
    alice, bob = (Employee.objects.select_related("user").get(user__username=name) for name in ("alice", "bob"))
    refund = DecisionType.objects.get(code="refund")
    case = case_open(
        employee=alice, customer_name="Jo Kettle", customer_email="jo.kettle@example.com", subject="Kettle leaks"
    )
    for i in range(20):
        escalated(
            case=case,
            maker=alice,
            approver=bob,
            decision_type=refund,
            amount=140,
            at=timezone.now() - timedelta(days=2, hours=i),
            note="Right call, go ahead",
        )
    recommendations_refresh()
    base = live_server.url
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))

    log_in(page, base, "bob")
    page.goto(f"{base}/insights/recommendations/")
    row = page.locator("#recommendations tbody tr").first
    expect(row).to_contain_text("alice (refund)")
    expect(row).to_contain_text("140.00")
    row.get_by_role("link", name="Evidence, or dismiss").click()
    expect(page.locator("#evidence tbody tr")).to_have_count(20)
    expect(page.locator("#evidence")).to_contain_text("Right call, go ahead")
    page.get_by_role("button", name="Accept: raise to €140.00").click()
    expect(page.locator(".messages")).to_contain_text("may now decide up to €140.00 per decision")
    expect(page.locator("#recommendations")).to_have_count(0)
    log_out(page)

    limit = AuthorityLimit.objects.get(employee=alice, decision_type=refund)
    assert limit.per_decision == 140 and limit.set_by == bob and "20 escalations" in limit.reason

    other = case_open(
        employee=alice, customer_name="Jo Toaster", customer_email="jo.toaster@example.com", subject="Toaster"
    )
    log_in(page, base, "alice")
    page.goto(f"{base}/cases/{other.pk}/")
    decide(page, "135.00", "Toaster burnt out; refund as trusted")
    expect(page.locator("#decision-outcome")).to_contain_text("Approved")
    assert problems == []
