"""The loop closed in a real browser: Alice resolves a case, the customer answers 1 with a comment from
the e-mailed link (no account, no JavaScript needed), Alice sees the follow-up and replies, and the
customer's page shows what was done.
"""

import os
import re

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import Browser, Page, expect

from empower.models import Employee
from empower.services import case_open
from feedback.models import FollowUp
from tests.conftest import PASSWORD


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def watch_for_errors(page: Page, problems: list[str]) -> None:
    # A CSP violation or a script error shows up as a console error.
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))


@pytest.mark.e2e
def test_the_customer_says_it_went_badly_and_sees_what_was_done(
    live_server, page: Page, browser: Browser, transactional_db, settings
):
    call_command("seed_demo", password=PASSWORD, stdout=open(os.devnull, "w"))  # noqa: SIM115
    base = live_server.url
    settings.SITE_URL = base  # the e-mailed link points at this server
    alice = Employee.objects.get(user__username="alice")
    case = case_open(
        employee=alice, customer_name="Jo Kettle", customer_email="jo.kettle@example.com", subject="Kettle leaks"
    )
    problems: list[str] = []
    watch_for_errors(page, problems)

    # Alice resolves the case on its page; the customer is e-mailed a survey link.
    log_in(page, base, "alice")
    page.goto(f"{base}/cases/{case.pk}/")
    page.get_by_label("How was it resolved?").fill("Sent a replacement kettle")
    page.get_by_role("button", name="Resolve case").click()
    expect(page.get_by_text("Resolved by")).to_be_visible()
    survey_mail = next(m for m in mail.outbox if m.to == ["jo.kettle@example.com"])
    link = re.search(r"https?://\S+/feedback/\S+/", survey_mail.body).group(0)
    assert link.startswith(base)

    # The customer opens the link in their own browser: no account, no cookies of Alice's.
    customer_context = browser.new_context()
    customer = customer_context.new_page()
    watch_for_errors(customer, problems)
    customer.goto(link)
    expect(customer.get_by_role("heading", level=1)).to_have_text("Hello Jo, how did it go?")
    expect(customer.get_by_text("Kettle leaks")).to_be_visible()
    expect(customer.locator("html")).to_have_attribute("lang", "en")
    # The language switcher is a plain link: it works without JavaScript.
    customer.get_by_role("link", name="Íslenska").click()
    expect(customer.locator("html")).to_have_attribute("lang", "is")
    customer.get_by_role("link", name="English").click()

    customer.get_by_text("Very dissatisfied").click()
    expect(customer.get_by_label("Very dissatisfied")).to_be_checked()
    customer.get_by_label("Anything you would like to tell us?").fill("The new one <b>leaks</b> too!")
    customer.get_by_role("button", name="Send my answer").click()
    expect(customer.get_by_text("Thank you for your answer.")).to_be_visible()
    expect(customer.get_by_text("A person will look into it")).to_be_visible()
    expect(customer.locator(".you-said")).to_contain_text("The new one <b>leaks</b> too!")  # shown as text

    # Alice sees the follow-up in her list and replies.
    page.goto(f"{base}/feedback/follow-ups/")
    page.get_by_role("link", name=f"#{case.pk} Kettle leaks").click()
    expect(page.locator("#survey-comment")).to_have_text("The new one <b>leaks</b> too!")
    page.get_by_label("What was done").fill("Called Jo; refunded in full and collected both kettles")
    page.get_by_label("Reply to the customer").fill(
        "Sorry about that! We refunded you in full and collect both kettles."
    )
    page.get_by_role("button", name="Send the reply").click()
    expect(page.get_by_text("Your reply is on its way to the customer.")).to_be_visible()
    expect(page.locator("#reply-text")).to_contain_text("We refunded you in full")
    assert FollowUp.objects.get(case=case).status == FollowUp.Status.DONE

    # The customer's page shows what was done ("you said, we did"), and the e-mail says it too.
    customer.goto(link)
    expect(customer.locator(".we-did")).to_contain_text("We refunded you in full and collect both kettles.")
    expect(customer.locator(".we-did")).not_to_contain_text("Called Jo")  # the internal note stays internal
    assert any("We refunded you in full" in m.body for m in mail.outbox if m.to == ["jo.kettle@example.com"])
    customer_context.close()
    assert problems == []
