"""Alice decides in the browser; beyond her authority it goes to Bob, who approves; Alice sees it."""

import os
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#id_username")).to_be_visible()


def decide(page: Page, amount: str, rationale: str) -> None:
    page.select_option("#id_decision_type", "refund")
    page.fill("#id_amount", amount)
    page.fill("#id_rationale", rationale)
    page.get_by_role("button", name="Decide").click()


@pytest.mark.e2e
def test_alice_decides_bob_approves_alice_sees_it(live_server, page: Page, transactional_db):
    call_command("seed_demo", password=PASSWORD, stdout=open(os.devnull, "w"))  # noqa: SIM115
    base = live_server.url
    problems: list[str] = []  # a CSP violation or a script error shows up as a console error

    def on_console(message) -> None:
        # The one 400 is the bad amount entered on purpose below.
        if message.type == "error" and "status of 400" not in message.text:
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))

    # Alice opens a case for a customer.
    log_in(page, base, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New case").click()
    page.get_by_label("Customer name").fill("Jo Kettle")
    page.get_by_label("Customer e-mail").fill("jo.kettle@example.com")
    page.get_by_label("Subject").fill("Kettle arrived broken")
    page.get_by_role("button", name="Open case").click()
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case_url = page.url
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kettle arrived broken")

    # Within her authority: approved in place, without a reload.
    page.evaluate("window.stillTheSamePage = true")
    decide(page, "50.00", "Kettle arrived broken; customer has the receipt")
    expect(page.locator("#decision-outcome")).to_contain_text("Approved")
    expect(page.locator("#decisions")).to_contain_text("Refund €50.00")
    expect(page.locator("#authority-refund")).to_contain_text("€250.00")  # the panel refreshed too
    assert page.evaluate("window.stillTheSamePage") is True
    assert page.url == case_url

    # A bad amount: the error shows beside the field, still without a reload.
    decide(page, "12.345", "Typo")
    expect(page.locator("#id_amount_error")).to_have_text("Use at most two decimal places.")
    assert page.evaluate("window.stillTheSamePage") is True

    # Beyond it: escalated to Bob, named in the answer.
    decide(page, "150.00", "Second kettle broke as well")
    expect(page.locator("#decision-outcome")).to_contain_text("Escalated to Bob")
    expect(page.locator("#decisions")).to_contain_text("waiting for Bob")
    assert page.evaluate("window.stillTheSamePage") is True
    log_out(page)

    # Bob approves from his inbox, with a note; the row answers in place.
    log_in(page, base, "bob")
    expect(page.locator("#nav-escalations .badge")).to_contain_text("1")
    page.get_by_role("link", name=re.compile("^Escalations")).click()
    row = page.locator("article.escalation").filter(has_text="Refund €150.00")
    expect(row).to_contain_text("Jo Kettle")
    row.get_by_label("Note to the employee").fill("Good call: keep this customer")
    page.evaluate("window.stillTheSamePage = true")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("article.escalation-approved")).to_contain_text("Approved: Refund of €150.00 for Alice")
    assert page.evaluate("window.stillTheSamePage") is True
    log_out(page)

    # Alice sees the outcome and Bob's note on the case, and is told about it.
    log_in(page, base, "alice")
    expect(page.locator("#nav-notifications .badge")).to_contain_text("1")
    page.goto(case_url)
    decisions = page.locator("#decisions")
    expect(decisions).to_contain_text("approved by Bob")
    expect(decisions).to_contain_text("Good call: keep this customer")

    assert problems == []
