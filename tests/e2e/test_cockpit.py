"""Dan logs in and lands on the inverted pyramid, drawn; Carol opens the cockpit and finds its charts
drawn beside their tables, and nothing on either page loads from another host or breaks the CSP."""

import os
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from delegation.models import DecisionType
from empower.models import Employee
from empower.services import case_open
from feedback.cockpit.summaries import summaries_refresh
from tests.conftest import PASSWORD
from tests.e2e.test_decide_and_approve import log_in, log_out
from tests.feedback import cockpit_data


@pytest.mark.e2e
def test_the_director_lands_on_the_pyramid_and_the_cockpit_draws_its_charts(live_server, page: Page, transactional_db):
    call_command("seed_demo", password=PASSWORD, stdout=open(os.devnull, "w"))  # noqa: SIM115
    people = {e.user.username: e for e in Employee.objects.select_related("user")}
    types = {t.code: t for t in DecisionType.objects.all()}
    org = SimpleNamespace(**people, refund=types["refund"], goodwill=types["goodwill_credit"])

    numbers = iter(range(1, 100))

    def make_case(employee):
        email = f"jo{next(numbers)}@example.com"
        return case_open(employee=employee, customer_name="Jo", customer_email=email, subject="Kettle")

    cockpit_data.build(org, make_case)
    summaries_refresh()
    base = live_server.url
    problems: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)

    log_in(page, base, "dan")
    expect(page).to_have_url(f"{base}/insights/pyramid/")
    page.get_by_role("link", name="All time").click()
    pyramid = page.locator("#chart-pyramid")
    expect(pyramid).to_be_visible()
    expect(pyramid.locator("rect.pyramid-band")).to_have_count(5)  # customers, then four roles
    assert pyramid.bounding_box()["height"] > 100
    expect(page.locator("#kpi-at-edge")).to_have_text("38 %")
    expect(page.locator("#table-pyramid")).to_contain_text("Customers")
    log_out(page)

    log_in(page, base, "carol")
    page.goto(f"{base}/insights/?period=all")
    for chart in ("#chart-trend", "#chart-teams", "#chart-types", "#chart-limits", "#chart-outcomes"):
        expect(page.locator(chart)).to_be_visible()
    expect(page.locator("#chart-teams rect.chart-bar")).to_have_count(2)  # the teams that decided
    expect(page.locator("#chart-outcomes rect.chart-bar")).to_have_count(7)
    widths = page.locator("#chart-limits rect.chart-bar").evaluate_all("bars => bars.map(b => b.getBBox().width)")
    assert max(widths) > 100 and sorted(widths)[0] > 0  # drawn to scale: per decision (3) the widest
    expect(page.locator("#table-teams")).to_contain_text("Customer Care")
    page.get_by_role("link", name="The inverted pyramid").click()
    expect(page.locator("#chart-pyramid")).to_be_visible()
    assert problems == [] and outside == []
